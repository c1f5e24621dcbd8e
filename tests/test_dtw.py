"""The cached DTW (callscan.asr.dtw) gives whisper's own paths and is what whisper then uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from callscan.asr import dtw

ROOT = Path(__file__).resolve().parent.parent


SHAPES = [(1, 1), (1, 7), (7, 1), (3, 40), (25, 300)]


@pytest.mark.parametrize("shape", SHAPES)
def test_same_path_as_whispers_source_on_random_costs(shape):
    """Against whisper's own dtw_cpu body (``py_func``: run as Python, not compiled again)."""

    rng = np.random.default_rng(sum(shape))
    for _ in range(3):
        x = rng.standard_normal(shape)
        expected = dtw.whisper_dtw().py_func(x.copy())
        got = dtw.compiled_dtw()(x.copy())
        assert got.shape == expected.shape == (2, got.shape[1])
        np.testing.assert_array_equal(got, expected)
        # a monotonic path from (0, 0) to (N-1, M-1): what word timestamps are read from
        assert tuple(got[:, 0]) == (0, 0) and tuple(got[:, -1]) == (shape[0] - 1, shape[1] - 1)
        assert np.all(np.diff(got, axis=1) >= 0)


@pytest.mark.slow
@pytest.mark.parametrize("shape", [*SHAPES, (60, 750)])
def test_same_path_as_whispers_compiled_dtw(shape):
    """Against whisper's numba build itself (compiling it takes seconds: slow)."""

    rng = np.random.default_rng(sum(shape) + 1)
    for _ in range(3):
        x = rng.standard_normal(shape)
        expected = dtw.whisper_dtw()(x.copy())
        got = dtw.compiled_dtw()(x.copy())
        assert got.shape == expected.shape == (2, got.shape[1])
        np.testing.assert_array_equal(got, expected)
        # a monotonic path from (0, 0) to (N-1, M-1): what word timestamps are read from
        assert tuple(got[:, 0]) == (0, 0) and tuple(got[:, -1]) == (shape[0] - 1, shape[1] - 1)
        assert np.all(np.diff(got, axis=1) >= 0)


def test_same_path_with_ties():
    """Equal costs exercise whisper's tie-breaking (strict comparisons, then left move)."""

    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=(12, 80)).astype(np.float64)
    whispers = dtw.whisper_dtw().py_func
    np.testing.assert_array_equal(dtw.compiled_dtw()(x.copy()), whispers(x.copy()))
    flat = np.zeros((9, 30))
    np.testing.assert_array_equal(dtw.compiled_dtw()(flat.copy()), whispers(flat.copy()))


def test_plain_python_copy_matches_compiled():
    """The module's Python source is the compiled function's source (same results)."""
    rng = np.random.default_rng(3)
    x = rng.random((5, 17))
    compiled = dtw.compiled_dtw()(x.copy())
    # backtrace is now the compiled one; dtw_cpu's Python body still runs as plain Python
    np.testing.assert_array_equal(dtw.dtw_cpu(x.copy()), compiled)


def test_use_cached_dtw_replaces_whispers_and_word_timestamps_use_it():
    import torch
    import whisper.timing

    dtw.use_cached_dtw()
    assert whisper.timing.dtw_cpu is dtw.compiled_dtw()
    dtw.use_cached_dtw()  # idempotent
    assert whisper.timing.dtw_cpu is dtw.compiled_dtw()
    # whisper.timing.dtw (called by find_alignment) looks dtw_cpu up at call time
    x = torch.rand(6, 50)
    np.testing.assert_array_equal(
        whisper.timing.dtw(x), whisper.timing.backtrace.py_func(_trace(x.double().numpy()))
    )


def _trace(x: np.ndarray) -> np.ndarray:
    """whisper's DTW trace matrix, written out plainly (reference for the tests)."""
    n, m = x.shape
    cost = np.full((n + 1, m + 1), np.inf, dtype=np.float32)
    trace = np.full((n + 1, m + 1), -1.0, dtype=np.float32)
    cost[0, 0] = 0
    for j in range(1, m + 1):
        for i in range(1, n + 1):
            c0, c1, c2 = cost[i - 1, j - 1], cost[i - 1, j], cost[i, j - 1]
            c, t = (c0, 0) if c0 < c1 and c0 < c2 else (c1, 1) if c1 < c0 and c1 < c2 else (c2, 2)
            cost[i, j] = x[i - 1, j - 1] + c
            trace[i, j] = t
    return trace


@pytest.mark.slow
def test_second_process_loads_from_disk_cache(tmp_path):
    """A new process finds the compiled DTW in numba's cache instead of compiling it."""
    code = (
        "import numpy as np\n"
        "from numba.core import dispatcher\n"
        "from callscan.asr.dtw import compiled_dtw\n"
        "f = compiled_dtw()\n"
        "f(np.zeros((2, 3)))\n"
        "print(f.stats.cache_hits.get(f.signatures[0], 0), f.stats.cache_misses.get(f.signatures[0], 0))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
        )
        for _ in range(2)
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr
    assert runs[0].stdout.split() == ["0", "1"]  # compiled and saved
    assert runs[1].stdout.split() == ["1", "0"]  # loaded, not compiled
    assert any(p.suffix == ".nbi" for p in tmp_path.rglob("*"))


def test_warm_cache_compiles_the_signature_whisper_calls():
    """whisper.timing.dtw passes a C-contiguous float64 matrix: warm_cache compiles exactly
    that signature, so the first word timestamps of a call compile nothing."""
    import torch

    dtw.warm_cache()
    f = dtw.compiled_dtw()
    signatures = list(f.signatures)
    x = torch.rand(4, 9).double().cpu().numpy()  # what whisper.timing.dtw hands over
    f(x)
    assert list(f.signatures) == signatures and len(signatures) == 1
