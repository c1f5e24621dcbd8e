"""``--redact-audio``: an audio copy with each masked span silenced (callscan.audio.silence)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from callscan.audio.decode import load
from callscan.audio.silence import (
    MARGIN_S,
    SilencedSpan,
    masked_spans,
    silence_spans,
    write_redacted,
)
from callscan.cli.app import app
from callscan.errors import CallscanError
from callscan.pipeline import AnalyzeOptions, analyze
from callscan.redact import redact_transcript
from callscan.transcript import Segment, Transcript, Word

ROOT = Path(__file__).resolve().parent.parent
HVB = ROOT.parent / "shared" / "data" / "audio-real" / "harper-valley-bank" / "audio"
PHONE_CALL = "01cefd6f5c044a6f"  # the caller spells a phone number, 32-40 s, right channel
runner = CliRunner()


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def transcript_with(words: list[tuple[int, str, float, float]], n_channels: int) -> Transcript:
    segments = [
        Segment(i, ch, a, b, text, [Word(text, a, b, 0.9)], -0.2, 0.01, 1.2, 0.0)
        for i, (ch, text, a, b) in enumerate(words)
    ]
    return Transcript(segments, "en", 1.0, {}, "base", "openai-whisper", {}, n_channels, 10.0)


def test_masked_words_give_spans_on_their_channel_with_a_margin():
    t = transcript_with(
        [(1, "[PHONE]", 2.0, 2.5), (1, "[PHONE]", 2.55, 3.0), (0, "hello", 0.0, 0.5)], 2
    )
    assert masked_spans(t, n_channels=2, margin_s=0.1) == [SilencedSpan(1, 1.9, 3.1)]
    # decoded once for a two-channel file (a mono call saved as stereo): every channel
    t.n_channels = 1
    assert masked_spans(t, n_channels=2, margin_s=0.1) == [SilencedSpan(None, 1.9, 3.1)]
    y = np.ones((2, 16000 * 4), np.float32)
    silence_spans(y, 16000, [SilencedSpan(1, 1.9, 3.1)])
    assert rms(y[1, 31000:49000]) == 0.0 and rms(y[0]) == 1.0
    assert rms(y[1, :30000]) == 1.0 and rms(y[1, 50000:]) == 1.0


def test_redact_audio_needs_a_recording_and_redaction(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text("agent: halo\ncaller: iya\n", encoding="utf-8")
    with pytest.raises(CallscanError) as err:
        analyze(call, AnalyzeOptions(redact=True, redact_audio=str(tmp_path / "x.wav")))
    assert err.value.option == "redact_audio" and "recording" in str(err.value)
    wav = tmp_path / "call.wav"
    sf.write(wav, np.zeros(16000, np.float32), 16000)
    with pytest.raises(CallscanError) as err:  # before any decoding or transcribing
        analyze(wav, AnalyzeOptions(redact=False, redact_audio=str(tmp_path / "x.wav")))
    assert "redaction on" in str(err.value)
    result = runner.invoke(app, ["analyze", str(wav), "--redact-audio"])
    assert result.exit_code != 0 and "--redact-audio" in result.stderr
    assert not (tmp_path / "call.redacted.wav").exists()


def test_embedded_audio_is_never_the_unmasked_speech(tmp_path):
    """A page with redaction on plays the silenced copy or nothing: embedding the recording
    itself is refused, by analyze (unless --redact-audio) and by batch, before any work."""
    from callscan.qa.runner import run_batch

    wav = tmp_path / "call.wav"
    sf.write(wav, np.zeros(16000, np.float32), 16000)
    result = runner.invoke(app, ["analyze", str(wav), "--redact", "--embed-audio", "-f", "html"])
    assert result.exit_code != 0 and "--redact-audio" in result.stderr
    assert not list(tmp_path.glob("*.html"))
    with pytest.raises(CallscanError) as err:
        run_batch([wav], tmp_path / "out", AnalyzeOptions(redact=True), formats=("html",),
                  embed_audio=True)  # fmt: skip
    assert err.value.option == "embed_audio" and "unmasked" in str(err.value)
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_a_spoken_phone_number_is_silenced_and_the_rest_kept(tmp_path):
    """Real speech: the caller of HVB call 01cefd6f5c044a6f spells a phone number at
    32.2-39.6 s (segments.tsv). Its words (times spread over the human segments' spans) are
    masked by the real redactor, then silenced in the decoded call and written."""
    agent, _ = sf.read(HVB / "agent" / f"{PHONE_CALL}.wav", dtype="float32")
    caller, sr = sf.read(HVB / "caller" / f"{PHONE_CALL}.wav", dtype="float32")
    n = max(agent.size, caller.size)
    stereo = np.zeros((n, 2), np.float32)
    stereo[: agent.size, 0], stereo[: caller.size, 1] = agent, caller
    call = tmp_path / "phone.wav"
    sf.write(call, stereo, sr, subtype="PCM_16")
    pieces = [  # (channel, text, start_s, end_s) from segments.tsv
        (0, "okay what is your phone number", 28.89, 30.27),
        (1, "seven one five", 32.22, 33.72),
        (1, "one three nine", 34.59, 36.00),
        (1, "zero seven eight seven", 36.88, 39.55),
    ]
    words: dict[int, list[Word]] = {0: [], 1: []}
    for ch, text, a, b in pieces:
        tokens = text.split()
        step = (b - a) / len(tokens)
        words[ch] += [Word(w, a + k * step, a + (k + 1) * step, 0.9) for k, w in enumerate(tokens)]
    segments = [  # the caller's digits as one segment, as Whisper writes a spelled number
        Segment(0, 0, 28.89, 30.27, pieces[0][1], words[0]),
        Segment(1, 1, 32.22, 39.55, " ".join(w.text for w in words[1]), words[1]),
    ]
    t = Transcript(segments, "en", 1.0, {}, "base", "openai-whisper", {}, 2, n / sr)
    redact_transcript(t)
    masked = [w for s in t.segments for w in s.words if "[PHONE]" in w.text]
    assert len(masked) == 10  # every spoken digit, none of the agent's question
    audio = load(call)
    original = audio.y.copy()  # the test's own reference copy
    out = tmp_path / "phone.redacted.wav"
    spans = write_redacted(audio, t, out)
    expected = [(a - MARGIN_S, b + MARGIN_S) for _, _, a, b in pieces[1:]]  # gaps > 2 margins
    assert [s.channel for s in spans] == [1, 1, 1]
    assert np.allclose([(s.start_s, s.end_s) for s in spans], expected)
    silenced, rate = sf.read(out, dtype="float32", always_2d=True)
    assert rate == 16000 and silenced.shape == original.T.shape
    keep = np.ones(original.shape[1], bool)
    for _, _, a, b in pieces[1:]:
        i, j = int(a * rate), int(b * rate)
        assert rms(original[1, i:j]) > 0.003  # the caller speaks there
        assert rms(silenced[i:j, 1]) < 1e-6  # ~0 now
        keep[int((a - MARGIN_S) * rate) - 1 : int((b + MARGIN_S) * rate) + 2] = False
    assert rms(original[1, keep]) > 0.003
    quantum = 1.0 / 32768 + 1e-6  # the 16-bit WAV's rounding only
    assert np.abs(silenced[keep, 1] - original[1, keep]).max() <= quantum
    assert np.abs(silenced[:, 0] - original[0]).max() <= quantum  # the agent channel kept
