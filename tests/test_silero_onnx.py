"""callscan's torch-free port of silero-vad's sequence front-end gives silero-vad's own
probabilities and regions (``callscan.audio.silero_onnx``), and loading it imports no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from callscan.audio import silero_onnx
from callscan.audio.decode import load

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
CLIPS = [
    ROOT / "tests" / "data" / "sample.wav",
    ROOT / "samples" / "id_sales_stereo.wav",
    ROOT / "samples" / "en_complaint_mono_8k.wav",
    SHARED / "audio-real" / "common-voice-id" / "common_voice_id_19059577.wav",
]
SETTINGS = [
    dict(threshold=0.5, min_speech_ms=250, min_silence_ms=100, speech_pad_ms=30),  # callscan's
    dict(threshold=0.35, min_speech_ms=100, min_silence_ms=300, speech_pad_ms=200),
    dict(threshold=0.8, min_speech_ms=500, min_silence_ms=50, speech_pad_ms=0),
]


@pytest.fixture(scope="module")
def silero_sequence():
    from silero_vad import load_silero_vad

    return load_silero_vad(sequence=True)


@pytest.mark.parametrize("path", CLIPS, ids=lambda p: p.name)
def test_probabilities_and_regions_are_silero_vads(path, silero_sequence):
    from silero_vad import get_speech_timestamps_from_probs

    ours = silero_onnx.SequenceVad(silero_onnx.model_path())
    recording = load(str(path))
    for c in range(recording.n_channels):
        y = np.ascontiguousarray(recording.channel(c), dtype=np.float32)
        probs = ours.audio_forward(y)
        assert np.array_equal(probs, silero_sequence.audio_forward(y, 16000))
        for s in SETTINGS:
            theirs = get_speech_timestamps_from_probs(
                probs,
                audio_length_samples=y.size,
                threshold=s["threshold"],
                min_speech_duration_ms=s["min_speech_ms"],
                min_silence_duration_ms=s["min_silence_ms"],
                speech_pad_ms=s["speech_pad_ms"],
            )
            spans = silero_onnx.speech_spans(probs, y.size, **s)
            assert spans == [(t["start"], t["end"]) for t in theirs]
            assert spans  # every clip has speech


def test_regions_from_crafted_probabilities_are_silero_vads():
    from silero_vad import get_speech_timestamps_from_probs

    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(0, 400))
        probs = np.clip(np.cumsum(rng.normal(0, 0.2, n)) % 1.0, 0, 1).astype(np.float32)
        for s in SETTINGS:
            theirs = get_speech_timestamps_from_probs(
                probs,
                audio_length_samples=n * 512,
                threshold=s["threshold"],
                min_speech_duration_ms=s["min_speech_ms"],
                min_silence_duration_ms=s["min_silence_ms"],
                speech_pad_ms=s["speech_pad_ms"],
            )
            assert silero_onnx.speech_spans(probs, n * 512, **s) == [
                (t["start"], t["end"]) for t in theirs
            ]


def test_speech_detection_imports_no_torch():
    # so that it overlaps with the model's load on another thread (callscan.pipeline)
    code = (
        "import sys\n"
        "from callscan.audio.decode import load\n"
        "from callscan.audio.vad import load_vad, speech_regions\n"
        f"regions = speech_regions(load({str(CLIPS[1])!r}), model=load_vad())\n"
        "assert any(regions), regions\n"
        "print('torch' in sys.modules, 'silero_vad' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
