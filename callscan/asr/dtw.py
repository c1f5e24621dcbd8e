"""Whisper's CPU dynamic time warping (word timestamps), compiled once and cached on disk.

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


def use_cached_dtw() -> None:
    """Make openai-whisper's word timestamps use the cached DTW (``whisper.timing.dtw_cpu``).

    Idempotent. Call it before the first ``whisper.timing.add_word_timestamps`` of a process.
    """
    import whisper.timing

    whisper.timing.dtw_cpu = compiled_dtw()


def warm_cache() -> None:
    """Compile the DTW now (and write numba's cache), e.g. at model-install time."""
    compiled_dtw()(np.zeros((2, 3), dtype=np.float64))
