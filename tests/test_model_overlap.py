"""The model's load and the call's language detection run on a thread while speech detection
runs (about 1 s less per 5-minute stereo call on 2 cores, bench/bench_vs_whisperx.py); a load
error is still the one-line error it was, and the detected language is the one
``transcribe`` would have found."""

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
    assert seen["language thread"].startswith("callscan-model")
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


def test_language_found_beside_speech_detection_is_the_one_transcribe_finds(data_dir, base_model):
    from callscan.audio.decode import load
    from callscan.pipeline import process_recording

    recording = load(data_dir / "cv_id_19059577.flac")
    options = asr.TranscribeOptions(languages="id,en")
    alone = asr.transcribe(base_model, recording, options)
    transcript, _ = process_recording(recording, base_model, options)
    assert transcript.language == alone.language == "id"
    assert transcript.language_probs == alone.language_probs
    assert transcript.language_probability == alone.language_probability
