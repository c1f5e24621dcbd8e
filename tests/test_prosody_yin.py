"""The numpy YIN of callscan.audio.prosody gives librosa.yin's F0 on real speech (to within
0.001 Hz: numpy's FFT where librosa's is scipy's, whose import costs 0.08 s of a one-call
process), without importing librosa (about 1.3 s of every ``callscan transcribe`` and
``analyze``) or scipy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from callscan.audio.decode import load
from callscan.audio.prosody import (
    F0_FRAME_LENGTH,
    F0_SR,
    FMAX_HZ,
    FMIN_HZ,
    HOP_LENGTH,
    f0_track,
    frame_signal,
    next_fast_len,
    to_f0_rate,
    yin,
)
from callscan.errors import CallscanError

CLIPS = [
    "sample.wav",
    "hvb_agent_0091_20s.flac",
    "cv_id_19059577.flac",
    "fw_stereo_diarization.wav",
    "opening/en_lively.flac",
    "opening/id_monotone.flac",
]
# the first pass's search range and a speaker's own range, as f0_track's second pass picks it
RANGES = [(FMIN_HZ, FMAX_HZ), (90.3, 311.7)]


def _speech(data_dir, name: str) -> np.ndarray:
    return to_f0_rate(load(data_dir / name).channel(0), sr=16000)


def test_yin_is_librosas_yin_on_real_speech(data_dir):
    import librosa  # only here: the library itself never imports it for F0

    voiced_frames = 0
    for name in CLIPS:
        x = _speech(data_dir, name)
        for fmin, fmax in RANGES:
            want = librosa.yin(
                x,
                fmin=fmin,
                fmax=fmax,
                sr=F0_SR,
                frame_length=F0_FRAME_LENGTH,
                hop_length=HOP_LENGTH,
                center=True,
            )
            got = yin(x, fmin=fmin, fmax=fmax, sr=F0_SR)
            assert got.shape == want.shape and got.dtype == want.dtype, name
            # the same trough in every frame, the same interpolated period to 1e-5 of it
            assert np.abs(got - want).max() < 1e-3, (name, fmin, np.abs(got - want).max())
            assert np.abs(got / want - 1).max() < 1e-5, (name, fmin)
        frames = librosa.util.frame(
            np.pad(x, F0_FRAME_LENGTH // 2),
            frame_length=F0_FRAME_LENGTH,
            hop_length=HOP_LENGTH,
            axis=0,
        )
        assert np.array_equal(
            frame_signal(x, frame_length=F0_FRAME_LENGTH, hop_length=HOP_LENGTH), frames
        )
        voiced_frames += int(f0_track(x, sr=F0_SR).voiced.sum())
    assert voiced_frames > 2000  # the comparison covered plenty of real voicing


def test_the_fft_length_is_scipys_fast_length_for_a_real_transform():
    import scipy.fft

    for n in [*range(1, 2100), 4095, 4097, 10007, 65537]:
        assert next_fast_len(n) == scipy.fft.next_fast_len(n, real=True), n


def test_yin_finds_the_pitch_of_a_harmonic_voice():
    t = np.arange(2 * F0_SR) / F0_SR
    f0 = 120.0 + 20.0 * t  # a gliding 120-160 Hz voice with harmonics
    phase = 2 * np.pi * np.cumsum(f0) / F0_SR
    x = sum(np.sin(k * phase) / k for k in range(1, 6)).astype(np.float32) * 0.3
    got = yin(x, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=F0_SR)
    want = np.interp(np.arange(got.size) * HOP_LENGTH / F0_SR, t, f0)
    inner = slice(5, -5)  # the zero-padded edge frames aside
    assert np.max(np.abs(got[inner] - want[inner])) < 1.0


def test_yin_rejects_a_range_the_frame_cannot_hold():
    x = np.zeros(F0_SR, dtype=np.float32)
    with pytest.raises(CallscanError, match="fmin"):
        yin(x, fmin=300.0, fmax=200.0, sr=F0_SR)
    with pytest.raises(CallscanError, match="period"):
        yin(x, fmin=10.0, fmax=200.0, sr=F0_SR)  # 800-sample period, 512-sample frame


def test_f0_track_never_imports_librosa(data_dir):
    code = (
        "import sys\n"
        "from callscan.audio.decode import load\n"
        "from callscan.audio.prosody import f0_track\n"
        f"y = load({str(data_dir / 'sample.wav')!r}).channel(0)\n"
        "track = f0_track(y, sr=16000)\n"
        "assert track.voiced.sum() > 100, track.voiced.sum()\n"
        "print(','.join(m for m in ('librosa', 'numba', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
