"""The numpy DTW (callscan.asr.dtw.dtw_numpy) gives whisper's word-alignment path to the bit,
so a one-call ``callscan transcribe`` aligns words without loading numba's CPU target
(about 0.5 s per process), and a long batch switches to the compiled DTW unnoticed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from callscan.asr import dtw

# whisper's shapes: (text tokens, audio frames); a 15 s window has 750 frames
SHAPES = [(1, 1), (1, 7), (7, 1), (2, 2), (3, 40), (25, 300), (60, 750), (120, 1500)]


def _costs(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> np.ndarray:
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "ties":  # equal costs exercise whisper's tie-breaking
        return rng.integers(0, 3, size=shape).astype(np.float64)
    return np.zeros(shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["normal", "ties", "flat"])
def test_numpy_dtw_is_the_compiled_dtw(shape, kind):
    """Against the compiled copy of whisper's dtw_cpu (numba's float64 costs included: a
    float32 cost matrix chose another path on a random 150 x 1500 matrix)."""
    rng = np.random.default_rng(sum(shape))
    for _ in range(3):
        x = _costs(rng, shape, kind)
        want = dtw.compiled_dtw()(x.copy())
        got = dtw.dtw_numpy(x.copy())
        assert got.shape == want.shape == (2, got.shape[1])
        np.testing.assert_array_equal(got, want)
        assert tuple(got[:, 0]) == (0, 0) and tuple(got[:, -1]) == (shape[0] - 1, shape[1] - 1)


@pytest.mark.slow  # needs the Whisper weights
def test_numpy_dtw_on_whispers_own_alignment_matrices(base_model, data_dir, monkeypatch):
    """Real cost matrices (the base model's cross-attention on sample.wav), as whisper's
    find_alignment hands them to the DTW during a transcription: the numpy DTW ran on them
    and its paths are the compiled DTW's."""
    import whisper.timing

    from callscan.asr import TranscribeOptions, transcribe
    from callscan.audio.decode import load

    seen: list[np.ndarray] = []
    numpy_dtw = dtw.dtw_numpy

    def spy(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return numpy_dtw(x)

    monkeypatch.setattr(dtw, "dtw_numpy", spy)
    monkeypatch.setattr(dtw.adaptive_dtw, "diagonals", 0)  # a fresh process's budget
    audio = load(data_dir / "sample.wav")
    result = transcribe(base_model, audio, TranscribeOptions(language="en"), regions=[[(0, 30)]])
    assert whisper.timing.dtw_cpu is dtw.adaptive_dtw
    assert sum(len(s.words) for s in result.segments) > 20
    assert seen and all(x.dtype == np.float64 and x.shape[1] > 100 for x in seen)
    for x in seen:
        np.testing.assert_array_equal(numpy_dtw(x.copy()), dtw.compiled_dtw()(x.copy()))


def test_adaptive_dtw_switches_to_the_compiled_one_after_its_numpy_budget():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 90))
    adaptive = dtw.AdaptiveDTW(numpy_diagonals=150)
    want = dtw.compiled_dtw()(x.copy())
    np.testing.assert_array_equal(adaptive(x.copy()), want)  # numpy: 100 diagonals
    assert adaptive.diagonals == 100
    np.testing.assert_array_equal(adaptive(x.copy()), want)  # numpy: 200 now, over budget
    np.testing.assert_array_equal(adaptive(x.copy()), want)  # the compiled one
    assert adaptive.diagonals == 200


def test_one_call_word_alignment_does_not_load_numba():
    """Aligning a process's first windows must not load numba's CPU target (its numpy and
    BLAS registries): that is what cost a one-call process 0.5 s. (whisper imports the numba
    package itself; here, without whisper, numba is not imported at all.)"""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from callscan.asr import dtw\n"
        "path = dtw.adaptive_dtw(np.random.default_rng(0).random((40, 750)))\n"
        "assert path.shape[0] == 2 and path.shape[1] >= 750\n"
        "print(any(m.split('.')[0] == 'numba' for m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
