"""Every engine and setting on real speech: the same WER checks as the default path.

The default path (voice activity regions packed into 15 s windows, batched decoding) and
``--engine faster-whisper`` both run the real base model here; so does openai-whisper with
dynamic int8 linear layers. sample.wav is the real two-party telephone excerpt with its human
transcript (sample.stm); sequential whole-file decoding loops there (about 0.59 WER).
"""

from __future__ import annotations

import pytest
from references import JFK, LEFT, RIGHT

from callscan import asr
from callscan.asr.wer import wer
from callscan.audio.decode import load
from callscan.pipeline import process_recording


@pytest.fixture(scope="module")
def fw_model():
    return asr.load_model("base", engine="faster-whisper", threads=1)


@pytest.fixture(scope="module")
def models(base_model, fw_model):
    return {"openai-whisper": base_model, "faster-whisper": fw_model}


def sample_reference(data_dir) -> str:
    lines = (data_dir / "sample.stm").read_text().splitlines()
    return " ".join(line.split(None, 5)[-1] for line in lines if line.strip())


def run(model, path, engine: str, **kwargs):
    options = asr.TranscribeOptions(language="en", engine=engine, threads=1, **kwargs)
    transcript, _ = process_recording(load(str(path)), model, options)
    return transcript


@pytest.mark.slow
def test_every_engine_implements_the_engine_protocol(models):
    from callscan.asr.engine import Engine

    for name, model in models.items():
        assert isinstance(model, Engine) and model.name == name


@pytest.mark.parametrize("engine", ["openai-whisper", "faster-whisper"])
def test_real_phone_excerpt_wer_at_most_0_15_on_every_engine(engine, models, data_dir):
    transcript = run(models[engine], data_dir / "sample.wav", engine)
    assert transcript.engine == engine
    hypothesis = " ".join(w.text for w in transcript.words())
    assert wer(sample_reference(data_dir), hypothesis, "en") <= 0.15


@pytest.mark.slow
def test_faster_whisper_transcribes_jfk_with_ordered_word_times(fw_model, data_dir):
    transcript = run(fw_model, data_dir / "fw_jfk.flac", "faster-whisper")
    assert wer(JFK, transcript.text, "en") <= 0.10
    words = transcript.words()
    assert all(w.start_s <= w.end_s for w in words)
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:], strict=False))
    assert words[0].start_s >= 0.0 and words[-1].end_s <= 11.1


@pytest.mark.slow
def test_faster_whisper_keeps_stereo_channels_apart(fw_model, data_dir):
    transcript = run(fw_model, data_dir / "fw_stereo_diarization.wav", "faster-whisper")
    assert wer(LEFT, transcript.channel_text(0), "en") <= 0.15
    assert wer(RIGHT, transcript.channel_text(1), "en") <= 0.15


@pytest.mark.slow
def test_int8_quantised_openai_whisper_still_transcribes(data_dir):
    model = asr.load_model("base", quantize=True)
    transcript = run(model, data_dir / "fw_jfk.flac", "openai-whisper")
    assert wer(JFK, transcript.text, "en") <= 0.10


@pytest.mark.slow
def test_beam_search_on_the_default_path(base_model, data_dir):
    # --beam-size 5: every window with beam search, a batch at a time (callscan's grouped
    # beam search); measured 0.161 here, whisper.transcribe with beam 5 0.161-0.287
    transcript = run(base_model, data_dir / "sample.wav", "openai-whisper", beam_size=5)
    hypothesis = " ".join(w.text for w in transcript.words())
    assert wer(sample_reference(data_dir), hypothesis, "en") <= 0.20


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, language",
    [
        ("id_complaint_mono", "id"),
        ("id_flat_missing_mono", "id"),
        ("id_sales_stereo", "id"),
        ("en_complaint_mono_8k", "en"),
    ],
)
def test_faster_whisper_detects_the_call_language(name, language, fw_model, samples_dir):
    # Whisper's language token alone calls these synthetic Indonesian calls English (0.62-0.80);
    # the decode check (both candidate languages decoded, the fluent one wins) runs on this
    # engine too
    from callscan.asr.language import detect_language

    recording = load(str(samples_dir / f"{name}.wav"))
    channels = [recording.channel(i) for i in range(recording.n_channels)]
    detected, probability, _ = detect_language(fw_model, channels, ("id", "en"), sr=16000)
    assert detected == language and probability >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize(
    ("clip", "language"),
    [
        ("data/cv_id_19059577.flac", "id"),  # real Indonesian (Common Voice)
        ("data/hvb_agent_0091_20s.flac", "en"),  # real English, 8 kHz telephone
        ("data/fw_stereo_diarization.wav", "en"),  # real English, two channels
        ("samples/id_sales_stereo.wav", "id"),  # synthetic Indonesian: the decode check decides
    ],
)
def test_default_engine_detects_the_language_from_15_s_as_from_30_s(clip, language, base_model):
    # the base model reads 15 s of speech through half of the encoder's input (2.3x cheaper);
    # the language and its share must be those of Whisper's whole 30 s input
    from pathlib import Path

    from callscan.asr.language import detect_language

    root = Path(__file__).resolve().parent
    path = root / clip if clip.startswith("data/") else root.parent / clip
    recording = load(str(path))
    channels = [recording.channel(i) for i in range(recording.n_channels)]
    assert base_model.detect_window_s == 15.0
    shares = {}
    try:
        for window in (15.0, 30.0):
            base_model.detect_window_s = window
            shares[window] = detect_language(base_model, channels, ("id", "en"), sr=16000)
    finally:
        base_model.detect_window_s = 15.0
    assert shares[15.0][0] == shares[30.0][0] == language
    assert shares[15.0][1] == pytest.approx(shares[30.0][1], abs=0.02)
