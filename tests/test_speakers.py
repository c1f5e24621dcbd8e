"""Turns with speakers and roles, from real and synthetic calls."""

from __future__ import annotations

import json

import numpy as np
import pytest

from callscan.audio import decode as audio_mod
from callscan.audio import vad
from callscan.errors import CallscanError
from callscan.speakers import diarize
from callscan.speakers.assign import SpeakersOptions, assign_speakers, file_metadata
from callscan.transcript import Segment, Transcript, Word

SR = 16000
BLEED = 10 ** (-25 / 20)  # each party leaks into the other's channel at -25 dB


@pytest.fixture(scope="module")
def vad_model():
    import torch

    torch.set_num_threads(1)
    return vad.load_vad()


def _transcript(segments, duration_s, language="id", n_channels=2):
    for i, s in enumerate(segments):
        s.id = i
    return Transcript(
        segments=sorted(segments, key=lambda s: s.start_s),
        language=language,
        language_probability=1.0,
        language_probs={},
        model="test",
        engine="openai-whisper",
        audio={},
        n_channels=n_channels,
        duration_s=duration_s,
    )


def _segment(channel, start, end, text):
    """A segment whose words are spread evenly over [start, end], as Whisper times them."""
    words = text.split()
    step = (end - start) / len(words)
    timed = [
        Word(w, start + i * step, start + (i + 1) * step - 0.05, 0.9) for i, w in enumerate(words)
    ]
    return Segment(0, channel, 0.0, end, text, timed)  # segment starts at 0.0, as Whisper's do


@pytest.fixture(scope="module")
def synthetic_call(data_dir, tmp_path_factory, vad_model):
    """Agent on the right, caller on the left, bleed both ways, a 7 s silence and hold music.

    Returns the file, the script [(role, start_s, end_s, text)] and a transcript holding what
    Whisper writes for such a call: each turn on its own channel, a copy heard in the bleed on
    the other channel, and words invented over the hold music.
    """
    import soundfile as sf

    src = audio_mod.load(data_dir / "fw_stereo_diarization.wav")
    # each voice cut to its speech (silero on the clean voice): the script's turn times are exact
    a = vad._silero(src.channel(0), vad_model, vad.VadOptions())
    c = vad._silero(src.channel(1), vad_model, vad.VadOptions())
    (a0, a1), (c0, c1) = (a[0][0], a[-1][1]), (c[0][0], c[-1][1])
    voice_a, voice_c = src.channel(0)[a0:a1], src.channel(1)[c0:c1]  # 4.5 s and 2.3 s
    lines = [
        (
            "agent",
            voice_a,
            "Selamat pagi terima kasih telah menghubungi Bank Sentosa dengan Rina ada yang bisa saya bantu",
        ),
        ("caller", voice_c, "Pagi mbak saya mau tanya soal tagihan saya"),
        ("agent", voice_a, "Baik Bapak boleh saya tahu nomor kartunya mohon ditunggu sebentar"),
        ("caller", voice_c, "Oke terima kasih banyak mbak"),
    ]
    gaps = [0.6, 7.0, 0.8]  # after each line: a reply, a 7 s silence, a reply
    script, t = [], 0.5
    for i, (role, y, text) in enumerate(lines):
        script.append((role, round(t, 3), round(t + y.size / SR, 3), text))
        t += y.size / SR + (gaps[i] if i < len(gaps) else 0.5)
    n = int((t + 4.5) * SR)
    agent, caller = np.zeros(n, np.float32), np.zeros(n, np.float32)
    for (role, start, _, _), (_, y, _) in zip(script, lines, strict=True):
        track = agent if role == "agent" else caller
        track[int(start * SR) : int(start * SR) + y.size] += y
    music_at = t + 0.3  # 4 s of hold music on the agent's line after the last turn
    tt = np.arange(int(4 * SR)) / SR
    f = 262 * 2 ** (np.array([0, 4, 7, 12])[(tt * 3).astype(int) % 4] / 12)
    phase = 2 * np.pi * np.cumsum(f) / SR
    agent[int(music_at * SR) : int(music_at * SR) + tt.size] += 0.1 * (
        np.sin(phase) + 0.5 * np.sin(2 * phase)
    )
    path = tmp_path_factory.mktemp("calls") / "A17_5521_20240131.wav"
    sf.write(path, np.stack([caller + BLEED * agent, agent + BLEED * caller]).T, SR)
    segments = []
    for role, start, end, text in script:
        own = 1 if role == "agent" else 0
        segments.append(_segment(own, start, end, text))
        segments.append(_segment(1 - own, start, end, text))  # Whisper hears the bleed too
    segments.append(_segment(1, music_at + 0.5, music_at + 3.5, "Terima kasih telah menonton"))
    transcript = _transcript(segments, n / SR)
    return path, script, transcript


def test_stereo_turns_roles_and_metrics_follow_the_script(synthetic_call, vad_model):
    path, script, transcript = synthetic_call
    call = audio_mod.load(path)
    options = SpeakersOptions(agent_pattern=r"(?P<agent>A\d+)_(?P<call>\d+)_(?P<date>\d{8})")
    result = assign_speakers(call, transcript, options, vad_model=vad_model)
    assert result.mode == "stereo"
    assert [(t.role, t.channel) for t in result.turns] == [
        ("agent", 1),
        ("caller", 0),
        ("agent", 1),
        ("caller", 0),
    ]  # bleed copies and the words over the music are gone
    for t, (role, start, end, text) in zip(result.turns, script, strict=True):
        assert t.role == role and t.text == text and t.speaker == f"ch{t.channel}"
        assert t.start_s == pytest.approx(start, abs=0.3) and t.end_s == pytest.approx(end, abs=0.3)
    assert result.roles.agent == "ch1" and result.roles.confidence >= 0.8
    m = result.metrics
    for role in ("agent", "caller"):
        expected = sum(e - s for r, s, e, _ in script if r == role)
        assert m.parties[role].talk_time_s == pytest.approx(expected, abs=0.3)
    silence = [(a, b) for a, b in m.non_talk if b - a > 6.0]
    assert len(silence) == 1 and silence[0][1] - silence[0][0] == pytest.approx(7.0, abs=0.3)
    assert m.interruptions == []
    assert result.metadata == {"agent": "A17", "call": "5521", "date": "20240131"}
    d = json.loads(json.dumps(result.to_dict()))
    assert d["roles"]["agent"] == "ch1" and d["turns"][0]["role"] == "agent"


def test_agent_channel_override_and_swap(synthetic_call, vad_model):
    path, _, transcript = synthetic_call
    call = audio_mod.load(path)
    regions = vad.speech_regions(call, model=vad_model)
    forced = assign_speakers(call, transcript, SpeakersOptions(agent_channel=0), regions=regions)
    assert forced.roles.method == "override" and forced.roles.confidence == 1.0
    assert all(t.role == ("agent" if t.channel == 0 else "caller") for t in forced.turns)
    swapped = assign_speakers(call, transcript, SpeakersOptions(swap_roles=True), regions=regions)
    assert swapped.roles.agent == "ch0" and swapped.turns[0].role == "caller"


@pytest.mark.slow
def test_real_stereo_clip_two_turns_one_per_channel(data_dir, base_model, vad_model):
    from callscan.asr import TranscribeOptions, transcribe

    call = audio_mod.load(data_dir / "fw_stereo_diarization.wav")
    transcript = transcribe(base_model, call, TranscribeOptions(language="en", threads=1))
    result = assign_speakers(
        call, transcript, SpeakersOptions(agent_channel=1), vad_model=vad_model
    )
    assert len(result.turns) == 2
    by_channel = {t.channel: t for t in result.turns}
    assert set(by_channel) == {0, 1}
    left, right = by_channel[0], by_channel[1]
    assert "confused complaint against the wizard" in left.text
    assert left.text.startswith("He began") and left.text.rstrip(".").endswith("on the left")
    assert right.text.rstrip(".") == "The horizon seems extremely distant"
    assert (left.role, right.role) == ("caller", "agent")
    # times come from speech and words, not from Whisper's segments (which start at 0.0)
    assert 0.1 < right.start_s < 0.6 and 0.1 < left.start_s < 0.6
    assert left.words and left.words[0].text == "He"


def test_mono_words_go_to_the_reference_speakers(data_dir, vad_model):
    call = audio_mod.load(data_dir / "sample.wav")
    segments = []
    for line in (data_dir / "sample.stm").read_text().splitlines():
        f = line.split(maxsplit=5)
        segments.append(_segment(0, float(f[3]), float(f[4]), f[5]))
        segments[-1].text = f[2]  # remember the reference speaker
    transcript = _transcript(segments, call.duration_s, language="en", n_channels=1)
    speaker_of = {id(w): s.text for s in segments for w in s.words}
    result = assign_speakers(call, transcript, vad_model=vad_model, encoder=diarize.load_encoder())
    assert result.mode == "mono" and {t.speaker for t in result.turns} == {"S1", "S2"}
    pairs = [(speaker_of[id(w)], t.speaker) for t in result.turns for w in t.words]
    agree = max(
        sum((ref == "Diane") == (hyp == "S1") for ref, hyp in pairs),
        sum((ref == "Diane") == (hyp == "S2") for ref, hyp in pairs),
    )
    assert agree / len(pairs) >= 0.85
    assert result.roles.low_confidence  # a chat between two people: no agent cues
    assert "low confidence" in result.roles.reasons[0]
    forced = assign_speakers(
        call,
        transcript,
        SpeakersOptions(agent_speaker=2),
        regions=result.regions,
        encoder=diarize.load_encoder(),
    )
    assert forced.roles.agent == "S2" and {t.role for t in forced.turns if t.speaker == "S2"} == {
        "agent"
    }


def test_overrides_that_do_not_fit_the_recording(data_dir, synthetic_call):
    mono = audio_mod.load(data_dir / "sample.wav")
    stereo = audio_mod.load(synthetic_call[0])
    empty = _transcript([], 1.0)
    cases = [
        (mono, SpeakersOptions(agent_channel=1), "agent channel needs a stereo recording"),
        (stereo, SpeakersOptions(agent_speaker=1), "agent speaker is for mono recordings"),
        (mono, SpeakersOptions(agent_speaker=3), "agent speaker must be between 1 and 2, got 3"),
        (
            stereo,
            SpeakersOptions(agent_pattern="(?P<agent"),
            "agent pattern '(?P<agent' is not a valid",
        ),
    ]
    options_named = ["agent_channel", "agent_speaker", "agent_speaker", "agent_pattern"]
    for (recording, options, message), option in zip(cases, options_named, strict=True):
        with pytest.raises(
            CallscanError, match=message.replace("(", r"\(").replace("?", r"\?")
        ) as caught:
            assign_speakers(recording, empty, options, regions=[[]] * recording.n_channels)
        assert caught.value.option == option  # the CLI names its flag from this


def test_file_metadata():
    pattern = r"(?P<agent>[A-Z]\d+)-(?P<date>\d{4}-\d{2}-\d{2})"
    assert file_metadata("/calls/B7-2024-05-01.wav", pattern) == {
        "agent": "B7",
        "date": "2024-05-01",
    }
    assert file_metadata("/calls/other.wav", pattern) == {}
    assert file_metadata("/calls/other.wav", None) == {}


def test_turn_edges_follow_speech_whisper_left_without_words():
    from callscan.speakers.assign import build_turns

    def word(text, a, b):
        return Word(text=text, start_s=a, end_s=b, probability=0.9)

    # "So," (10.0-10.4) was spoken but not transcribed; "to sum up" follows 0.5 s later
    words = [("ch1", 1, word("to", 10.9, 11.1)), ("ch1", 1, word("sum", 11.1, 11.4))]
    spans = {"ch1": [(5.0, 8.0), (10.0, 10.4), (10.9, 11.5), (11.6, 11.65)]}
    (turn,) = build_turns(words, spans, max_pause_s=1.0)
    assert (turn.start_s, turn.end_s) == (10.0, 11.5)  # not the 5-8 s span (too far), nor the
    # 0.05 s sliver after the turn (a diarization slip, shorter than a word)
    earlier = [("ch1", 1, word("yes", 5.2, 7.9))]
    first, second = build_turns(earlier + words, spans, max_pause_s=3.0)
    assert (first.start_s, first.end_s) == (5.0, 8.0)
    assert second.start_s == 10.0  # a span is never taken from the turn before
