"""The data files' regexes as the ``regex`` package compiled them, kept from one process to the next.

Every data-file regex is matched through the ``regex`` package (its matches can be stopped
after a time limit, :class:`callscan.config.GuardedPattern`). That package parses and compiles
a pattern in Python: a call's analysis compiles about 150 playbook patterns, 0.33 s of the
main thread in every process, after the transcription and before the report. The package
pickles a compiled pattern as its compiled program (``regex._regex.compile`` and the
program's data, the package's own ``copyreg`` entry), and unpickling it runs no parser:
the same 150 patterns load in 0.01 s.

So a compiled pattern is recorded here, as that pickle, under a key made of its text and
flags; the record is valid only with the Python and ``regex`` versions that wrote it. The
next process that compiles the same pattern with the same flags loads it instead. The
record is one file, ``compiled-patterns.pickle``, beside ``checked-patterns.json``
(:func:`callscan.checked_patterns.cache_path`), rewritten atomically and read with an
unpickler that builds nothing but ``regex`` patterns, frozensets and plain data (anything
else in the file is refused and the pattern compiled afresh). It is trusted as Python
trusts the bytecode in ``__pycache__``: it lives in the user's own cache folder. Best effort:
a missing, damaged, foreign or read-only file only means the patterns are compiled as before.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import sys
import threading
from typing import Any

FILE_NAME = "compiled-patterns.pickle"
MAX_ENTRIES = 5_000  # past it the record starts again (a team editing patterns for years)

_lock = threading.Lock()
_known: dict[str, bytes] | None = None  # key -> pickled pattern, read from the file on first use
_new: dict[str, bytes] = {}  # compiled in this process, not yet written


def cache_path():
    """``compiled-patterns.pickle`` in the folder of the checked-pattern record."""
    from callscan.checked_patterns import cache_path as checked

    return checked().with_name(FILE_NAME)


@functools.cache
def _salt() -> str:
    """What a record is only valid with: the Python version and the ``regex`` package's."""
    import regex

    return f"{sys.version_info[0]}.{sys.version_info[1]}:regex {regex.__version__}"


def _key(text: str, flags: int) -> str:
    h = hashlib.sha256(f"{flags}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:40]


class _Loader(pickle.Unpickler):
    """Builds plain data, frozensets and ``regex`` patterns (``regex._regex.compile``), nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("regex._regex", "compile"):
            from regex import _regex

            return _regex.compile
        if (module, name) in (("builtins", "frozenset"), ("builtins", "set")):
            return frozenset if name == "frozenset" else set
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a compiled pattern")


def _load(data: bytes) -> Any:
    return _Loader(io.BytesIO(data)).load()


def _read() -> dict[str, bytes]:
    try:
        data = _load(cache_path().read_bytes())
    except Exception:  # missing, unreadable, damaged or refused: compile as before
        return {}
    if not isinstance(data, dict) or data.get("salt") != _salt():
        return {}
    found = data.get("patterns")
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and type(v) is bytes}


def _recorded(key: str) -> bytes | None:
    global _known
    with _lock:
        if _known is None:
            _known = _read()
        return _new.get(key, _known.get(key))


def compile(text: str, flags: int) -> Any:
    """``regex.compile(text, flags)``, loaded from the record when an earlier process compiled
    the same pattern with the same flags (and recorded for the next one when not)."""
    import regex

    key = _key(text, flags)
    data = _recorded(key)
    if data is not None:
        try:
            pattern = _load(data)
        except Exception:
            pattern = None
        if isinstance(pattern, regex.Pattern) and pattern.pattern == text:
            return pattern
    pattern = regex.compile(text, flags)
    try:
        data = pickle.dumps(pattern, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a pattern the package cannot pickle is simply not recorded
        return pattern
    with _lock:
        _new[key] = data
    return pattern


def forget() -> None:
    """Drop what this process knows (tests; the file is read again on the next lookup)."""
    global _known
    with _lock:
        _known = None
        _new.clear()


def flush() -> None:
    """Write what this process compiled, merged with the file as it is now (another process
    may have added to it). Best effort: an error leaves the file as it was."""
    global _known
    with _lock:
        if not _new:
            return
        merged = {**_read(), **_new}
        if len(merged) > MAX_ENTRIES:
            merged = dict(_new)
        try:
            from callscan.util import atomic_write

            path = cache_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            record = {"salt": _salt(), "patterns": merged}
            atomic_write(path, pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            return
        _known = merged
        _new.clear()
