"""openai-whisper imported without importing numba until a numba function is called.

``whisper.timing`` imports numba at its top and decorates its DTW (``dtw_cpu``,
``backtrace``) with ``numba.jit``, so importing openai-whisper imports numba and llvmlite:
0.14 s of CPU, on the thread that loads the model while speech detection runs beside it.
callscan aligns words with its own DTW (:mod:`callscan.asr.dtw`, numpy first), so a
one-call process never calls those functions.

:func:`deferred_numba` is the import of whisper with a stand-in module under the name
``numba``: its ``jit`` and ``njit`` return the function wrapped so that its first call
imports the real numba and compiles it with the decorator's arguments (numba's own ``jit``
compiles at the first call too); any other attribute of the stand-in is the real numba's. The
stand-in is only in ``sys.modules`` for the duration of the import, and only where numba was
not imported already: afterwards ``import numba`` anywhere gives the real package.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.RLock()


def real_numba() -> types.ModuleType:
    """The numba package itself (imported now if it was not), never the stand-in."""
    with _lock:
        module = sys.modules.get("numba")
        if isinstance(module, _StandIn):
            del sys.modules["numba"]
            module = None
        return module if module is not None else importlib.import_module("numba")


class _Deferred:
    """A function decorated by the stand-in's ``jit``: compiled by the real numba on its first
    call, with the decorator's arguments."""

    def __init__(self, decorator: str, func: Callable, args: tuple, kwargs: dict) -> None:
        functools.update_wrapper(self, func)
        self._decorator, self._func, self._args, self._kwargs = decorator, func, args, kwargs
        self._compiled: Callable | None = None

    @property
    def py_func(self) -> Callable:
        """The Python function, as a numba dispatcher's ``py_func``."""
        return self._func

    def compiled(self) -> Callable:
        """The real numba's function. The deferred functions it calls (``dtw_cpu`` calls
        ``backtrace``) are compiled first and put in its module in their place, since
        numba resolves the globals a function calls when it compiles it."""
        with _lock:
            if self._compiled is None:
                module = self._func.__globals__
                for name in self._func.__code__.co_names:  # the globals it reads
                    value = module.get(name)
                    if isinstance(value, _Deferred) and value is not self:
                        module[name] = value.compiled()
                decorate = getattr(real_numba(), self._decorator)
                self._compiled = decorate(*self._args, **self._kwargs)(self._func)
            return self._compiled

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return (self._compiled or self.compiled())(*args, **kwargs)


class _StandIn(types.ModuleType):
    """What ``import numba`` gives while :func:`deferred_numba` is in effect."""

    def __getattr__(self, name: str) -> Any:
        if name in ("jit", "njit"):
            return functools.partial(_decorator, name)
        return getattr(real_numba(), name)


def _decorator(name: str, *args: Any, **kwargs: Any) -> Any:
    if len(args) == 1 and callable(args[0]) and not kwargs:  # bare @numba.jit
        return _Deferred(name, args[0], (), {})
    return lambda func: _Deferred(name, func, args, kwargs)


@contextmanager
def deferred_numba() -> Iterator[None]:
    """Within: ``import numba`` gives the stand-in (see the module docstring), unless numba is
    imported already or not installed."""
    with _lock:
        if "numba" in sys.modules:
            yield
            return
        spec = importlib.util.find_spec("numba")  # locates it; imports nothing
        if spec is None:
            yield
            return
        stand_in = _StandIn("numba")
        # what code scanning sys.modules reads without using the module (inspect.getmodule
        # reads every module's __file__; torch's imports call it)
        stand_in.__spec__, stand_in.__file__ = spec, spec.origin
        stand_in.__loader__, stand_in.__package__ = spec.loader, "numba"
        sys.modules["numba"] = stand_in
    try:
        yield
    finally:
        with _lock:
            if sys.modules.get("numba") is stand_in:
                del sys.modules["numba"]


def import_whisper() -> types.ModuleType:
    """``import whisper``, with numba deferred (:func:`deferred_numba`)."""
    if "whisper" in sys.modules:
        return sys.modules["whisper"]
    with deferred_numba():
        return importlib.import_module("whisper")
