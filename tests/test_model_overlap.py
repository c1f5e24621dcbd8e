"""The model's load runs on a thread while speech detection runs (about 1 s less per 5-minute
stereo call on 2 cores, bench/bench_vs_whisperx.py); the call's language is read as the
transcription encodes its first windows, or, for an engine that cannot, checked on that thread
after the load; a load error is still the one-line error it was, and the language is the one
the check on the audio finds."""

from __future__ import annotations

import threading

import pytest

from callscan import asr
from callscan.errors import CallscanError
from callscan.pipeline import AnalyzeOptions, transcribe_recording


def test_model_loads_on_a_thread_during_speech_detection(data_dir, base_model, monkeypatch):
    seen = {}
    loaded = threading.Event()

    def load_model(*args, **kwargs):
        seen["thread"] = threading.current_thread().name
        loaded.set()
        return base_model

    import callscan.audio.vad as vad

    real_regions = vad.speech_regions

    def speech_regions(*args, **kwargs):
        # speech detection starts while the model is loading (or already loaded)
        assert loaded.wait(30), "the model load did not start before speech detection ended"
        return real_regions(*args, **kwargs)

    real_language = asr.call_language

    def call_language(*args, **kwargs):
        seen["language thread"] = threading.current_thread().name
        return real_language(*args, **kwargs)

    monkeypatch.setattr(asr, "load_model", load_model)
    monkeypatch.setattr(asr, "call_language", call_language)
    monkeypatch.setattr(vad, "speech_regions", speech_regions)
    events = []
    result = transcribe_recording(
        data_dir / "hvb_agent_0091_20s.flac",
        AnalyzeOptions(languages="id,en"),
        hook=lambda step, done, total: events.append((step, done)),
    )
    assert seen["thread"].startswith("callscan-model")
    assert "language thread" not in seen  # read from the windows as they are encoded
    assert result.transcript.language == "en" and result.transcript.language_probability > 0.9
    assert "bank" in " ".join(s.text.lower() for s in result.transcript.segments)
    steps = [e for e in events if e[0] in ("model", "speech")]
    assert steps.index(("model", 0)) < steps.index(("speech", 0))
    assert steps.index(("speech", 1)) < steps.index(("model", 1))


def test_a_model_that_fails_to_load_is_still_its_own_error(data_dir, tmp_path):
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(CallscanError) as err:
        transcribe_recording(
            data_dir / "hvb_agent_0091_20s.flac", AnalyzeOptions(model_path=str(missing))
        )
    assert "nowhere.pt" in str(err.value) and "\n" not in str(err.value)


def test_an_engine_that_cannot_read_the_language_in_windows_checks_it_beside_speech(
    data_dir, base_model, monkeypatch
):
    seen = {}
    real_language = asr.call_language

    def call_language(*args, **kwargs):
        seen["language thread"] = threading.current_thread().name
        return real_language(*args, **kwargs)

    monkeypatch.setattr(base_model, "reads_language_in_windows", False, raising=False)
    monkeypatch.setattr(asr, "load_model", lambda *a, **k: base_model)
    monkeypatch.setattr(asr, "call_language", call_language)
    result = transcribe_recording(
        data_dir / "cv_id_19059577.flac", AnalyzeOptions(languages="id,en")
    )
    assert seen["language thread"].startswith("callscan-model")
    assert result.transcript.language == "id"


def test_language_read_in_the_windows_is_the_one_the_check_on_the_audio_finds(data_dir, base_model):
    from callscan.audio.decode import load
    from callscan.pipeline import process_recording

    recording = load(data_dir / "cv_id_19059577.flac")
    options = asr.TranscribeOptions(languages="id,en")
    checked = asr.call_language(base_model, recording, options)
    transcript, _ = process_recording(recording, base_model, options)
    assert transcript.language == checked[0] == "id"
    assert transcript.language_probability == pytest.approx(checked[1], abs=0.02)
