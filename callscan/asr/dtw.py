"""Whisper's CPU dynamic time warping (word timestamps): numpy first, then compiled and cached.

A one-call process aligns a few windows, and loading even a cached numba build costs about
0.5 s (numba's CPU target, its numpy and BLAS registries), more than the whole alignment:
:func:`dtw_numpy` computes the same path with numpy, one anti-diagonal of the cost matrix at a
time (a few ms per 15 s window). :data:`adaptive_dtw` uses it until a process has aligned
:data:`NUMPY_DIAGONALS` anti-diagonals (about 0.5 s of numpy DTW, some 80 windows), then the
compiled one below; both give whisper's path to the bit.

openai-whisper aligns words to audio with ``whisper.timing.dtw_cpu``, a numba function
declared ``@numba.jit(nopython=True, parallel=True)`` without ``cache=True``: every new
process compiles it again on its first call (about 1.5-2 s of CPU, a large share of a
one-call ``callscan transcribe``). :func:`dtw_cpu` and :func:`backtrace` here are copies of
whisper's (``whisper/timing.py``, openai-whisper 20250625, MIT licence, Copyright (c) 2022
OpenAI), compiled with ``cache=True`` so that only the first process ever compiles them.
``parallel=True`` is dropped: the function has no ``prange`` loop, so it only made the
compile slower (its array fills ran no faster on one or two threads).

:func:`use_cached_dtw` installs the cached copy in place of whisper's: ``whisper.timing.dtw``
looks ``dtw_cpu`` up in its module at call time, so replacing the module attribute is enough.

Where numba keeps the cache: next to this file (``callscan/asr/__pycache__``) when that is
writable, else numba's user-wide cache (``~/.cache/numba``, or ``$NUMBA_CACHE_DIR`` when the
user sets it). When no location is writable the functions are compiled per process, as in
whisper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

import numpy as np

logger = logging.getLogger("callscan")


def backtrace(trace: np.ndarray) -> np.ndarray:
    """The DTW path from a trace matrix: ``(2, path_length)`` int array of (row, column) indices.

    Copied from ``whisper.timing.backtrace`` (MIT). Compiled by :func:`compiled_dtw`.
    """
    i = trace.shape[0] - 1
    j = trace.shape[1] - 1
    trace[0, :] = 2
    trace[:, 0] = 1

    result = []
    while i > 0 or j > 0:
        result.append((i - 1, j - 1))

        if trace[i, j] == 0:
            i -= 1
            j -= 1
        elif trace[i, j] == 1:
            i -= 1
        elif trace[i, j] == 2:
            j -= 1
        else:
            raise ValueError("Unexpected trace[i, j]")

    path = np.array(result)
    return path[::-1, :].T


def dtw_cpu(x: np.ndarray) -> np.ndarray:
    """Minimum-cost monotonic path through a cost matrix ``x`` (N text tokens, M frames).

    Copied from ``whisper.timing.dtw_cpu`` (MIT). Returns ``(2, path_length)`` indices, as
    whisper's. Compiled by :func:`compiled_dtw` (this plain-Python body is the source).
    """
    N, M = x.shape
    cost = np.ones((N + 1, M + 1), dtype=np.float32) * np.inf
    trace = -np.ones((N + 1, M + 1), dtype=np.float32)

    cost[0, 0] = 0
    for j in range(1, M + 1):
        for i in range(1, N + 1):
            c0 = cost[i - 1, j - 1]
            c1 = cost[i - 1, j]
            c2 = cost[i, j - 1]

            if c0 < c1 and c0 < c2:
                c, t = c0, 0
            elif c1 < c0 and c1 < c2:
                c, t = c1, 1
            else:
                c, t = c2, 2

            cost[i, j] = x[i - 1, j - 1] + c
            trace[i, j] = t

    return backtrace(trace)


def _jit(func: Callable) -> Callable:
    """``numba.jit(nopython=True, cache=True)``, or uncached where numba finds no cache dir."""
    import numba

    try:
        return numba.jit(nopython=True, cache=True)(func)
    except RuntimeError as exc:  # "cannot cache function ...: no locator available"
        logger.debug("DTW compiled without a disk cache: %s", exc)
        return numba.jit(nopython=True)(func)


@cache
def compiled_dtw() -> Callable[[np.ndarray], np.ndarray]:
    """The disk-cached numba build of :func:`dtw_cpu` (made once per process).

    ``dtw_cpu`` calls ``backtrace`` through this module's globals, which numba reads when it
    compiles: the compiled ``backtrace`` is installed there first.
    """
    global backtrace
    backtrace = _jit(backtrace)
    return _jit(dtw_cpu)


def dtw_numpy(x: np.ndarray) -> np.ndarray:
    """:func:`dtw_cpu` in numpy, vectorised along the anti-diagonals of the cost matrix.

    Cell ``(i, j)`` depends on ``(i-1, j-1)``, ``(i-1, j)`` and ``(i, j-1)``, all on the two
    previous anti-diagonals, so each anti-diagonal is one vector step (strided views of the
    flat matrices). The costs are float64, as in the compiled function (numba types whisper's
    ``float32 array * inf`` as float64), and whisper's tie-breaking is kept (the diagonal,
    then the upper cell on a strict minimum, else the left one), so the path is the same to
    the bit. The trace is rebuilt from the finished costs and walked back as :func:`backtrace`.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    n, m = x.shape
    width = m + 1
    cost = np.full((n + 1) * width, np.inf)  # (n + 1, m + 1), flat
    cost[0] = 0.0
    flat_x = x.ravel()
    diagonals = range(2, n + m + 1) if n and m else range(0)  # an empty matrix has none
    for d in diagonals:  # cells (i, d - i), 1 <= i <= n, 1 <= d - i <= m
        first, last = max(1, d - m), min(n, d - 1)
        start = first * width + d - first  # flat index of (first, d - first)
        stop = start + (last - first) * m + 1  # one past (last, d - last); cells m apart
        diag = cost[start - width - 1 : stop - width - 1 : m]  # (i - 1, j - 1)
        up = cost[start - width : stop - width : m]  # (i - 1, j)
        left = cost[start - 1 : stop - 1 : m]  # (i, j - 1)
        xs = (first - 1) * m + d - first - 1  # flat index of x[first - 1, d - first - 1]
        step = max(m - 1, 1)
        xd = flat_x[xs : xs + (last - first) * step + 1 : step]
        take_diag = (diag < up) & (diag < left)
        take_up = (up < diag) & (up < left)
        cost[start:stop:m] = xd + np.where(take_diag, diag, np.where(take_up, up, left))
    grid = cost.reshape(n + 1, width)
    diag, up, left = grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1]
    take_diag = (diag < up) & (diag < left)
    take_up = (up < diag) & (up < left)
    trace = np.full((n + 1, width), -1.0, dtype=np.float32)
    trace[1:, 1:] = np.where(take_diag, 0, np.where(take_up, 1, 2))
    return _backtrace_python(trace)


def _backtrace_python(trace: np.ndarray) -> np.ndarray:
    """:func:`backtrace` run as Python on a list copy of ``trace`` (the compiled one may not
    be loaded, and indexing a numpy array one cell at a time is slow)."""
    i, j = trace.shape[0] - 1, trace.shape[1] - 1
    trace[0, :] = 2
    trace[:, 0] = 1
    cells = trace.tolist()
    result = []
    while i > 0 or j > 0:
        result.append((i - 1, j - 1))
        move = cells[i][j]
        if move == 0:
            i -= 1
            j -= 1
        elif move == 1:
            i -= 1
        elif move == 2:
            j -= 1
        else:
            raise ValueError("Unexpected trace[i, j]")
    path = np.array(result)
    return path[::-1, :].T


NUMPY_DIAGONALS = 80_000  # anti-diagonals aligned with numpy per process before the compiled
# DTW is loaded: at about 6 us each, some 0.5 s, what loading the cached numba build costs


class AdaptiveDTW:
    """Whisper's DTW, with :func:`dtw_numpy` until :data:`NUMPY_DIAGONALS` anti-diagonals were
    aligned in this process and the compiled :func:`dtw_cpu` (:func:`compiled_dtw`) after:
    a one-call process never loads numba's CPU target, a long batch soon has the faster build.
    Both give the same path, so which one ran never shows in a transcript."""

    def __init__(self, numpy_diagonals: int = NUMPY_DIAGONALS) -> None:
        self.numpy_diagonals = numpy_diagonals
        self.diagonals = 0  # aligned with numpy so far

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.diagonals >= self.numpy_diagonals:
            return compiled_dtw()(x)
        self.diagonals += sum(x.shape)
        return dtw_numpy(x)


adaptive_dtw = AdaptiveDTW()  # the one instance whisper is given (:func:`use_fast_dtw`)


def whisper_dtw():
    """openai-whisper's own ``dtw_cpu`` (its numba dispatcher), also after :func:`use_fast_dtw`
    or :func:`use_cached_dtw` replaced it in ``whisper.timing``."""
    import whisper.timing

    return getattr(whisper.timing, "_whisper_dtw_cpu", whisper.timing.dtw_cpu)


def _replace_whisper_dtw(fn) -> None:
    import whisper.timing

    if not hasattr(whisper.timing, "_whisper_dtw_cpu"):  # keep whisper's own, once
        whisper.timing._whisper_dtw_cpu = whisper.timing.dtw_cpu
    whisper.timing.dtw_cpu = fn


def use_fast_dtw() -> None:
    """Make openai-whisper's word timestamps use :data:`adaptive_dtw` (numpy, then the cached
    compiled DTW). Idempotent. Call it before the first ``add_word_timestamps`` of a process."""
    _replace_whisper_dtw(adaptive_dtw)


def use_cached_dtw() -> None:
    """Make openai-whisper's word timestamps use the cached DTW (``whisper.timing.dtw_cpu``).

    Idempotent. Call it before the first ``whisper.timing.add_word_timestamps`` of a process.
    """
    _replace_whisper_dtw(compiled_dtw())


def warm_cache() -> None:
    """Compile the DTW now (and write numba's cache), e.g. at model-install time."""
    compiled_dtw()(np.zeros((2, 3), dtype=np.float64))
