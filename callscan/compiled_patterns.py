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
(a :class:`callscan.records.Record`), rewritten atomically and read with an
unpickler that builds nothing but ``regex`` patterns, frozensets and plain data (anything
else in the file is refused and the pattern compiled afresh). It is trusted as Python
trusts the bytecode in ``__pycache__``: it lives in the user's own cache folder. Best effort:
a missing, damaged, foreign or read-only file only means the patterns are compiled as before.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
from typing import Any

from callscan.records import Record, pattern_key

FILE_NAME = "compiled-patterns.pickle"
MAX_ENTRIES = 5_000  # past it the record starts again (a team editing patterns for years)


@functools.cache
def _salt() -> str:
    """What a record is only valid with: the Python version and the ``regex`` package's."""
    import regex

    return f"{sys.version_info[0]}.{sys.version_info[1]}:regex {regex.__version__}"


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


_RECORD = Record(
    FILE_NAME,
    salt=_salt,
    load=_load,
    dump=lambda record: pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL),
    valid=lambda data: type(data) is bytes,
    max_entries=MAX_ENTRIES,
)


def compile(text: str, flags: int) -> Any:
    """``regex.compile(text, flags)``, loaded from the record when an earlier process compiled
    the same pattern with the same flags (and recorded for the next one when not)."""
    import regex

    key = pattern_key(text, flags)
    data = _RECORD.get(key)
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
    _RECORD.put(key, data)
    return pattern


def forget() -> None:
    """Drop what this process knows (tests; the file is read again on the next lookup)."""
    _RECORD.forget()


def flush() -> None:
    """Write what this process compiled, merged with the file as it is now (another process
    may have added to it). Best effort: an error leaves the file as it was."""
    _RECORD.flush()
