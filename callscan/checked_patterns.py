"""The data files' regexes that passed their checks, remembered from one process to the next.

Every regex of a data file is parsed and checked when the file loads
(:meth:`callscan.config.Checker.regex`: the syntax, fixed-width look-behinds, nested repeats
that could backtrack without bound). That is Python code walking each pattern's parse tree:
0.15 s of CPU per bundled playbook, paid by every process that analyses a call, for patterns
that have not changed since the last one. A pattern that passed is recorded here under a key
made of its text, its flags, the Python version and the checking code itself (the bytes of
``callscan/config.py``); the next process that meets the same pattern takes its flags from the
record instead of checking it again. A pattern that failed is never recorded, so it fails
again; an edited pattern has another key and is checked.

The record is one small JSON file, ``checked-patterns.json`` in ``$CALLSCAN_CACHE_DIR`` or the
user cache folder (``platformdirs``), rewritten atomically. It is best effort: a missing,
unreadable, foreign or read-only file only means the checks run as before. Every match still
runs under its time limit (:class:`callscan.config.GuardedPattern`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path

from callscan.records import Record, pattern_key

FILE_NAME = "checked-patterns.json"
MAX_ENTRIES = 20_000  # past it the record starts again (a team editing patterns for years)


@functools.cache
def _salt() -> str:
    """What a record is only valid with: the Python version (its regex parser) and the
    checking code."""
    code = Path(__file__).with_name("config.py").read_bytes()  # callscan.config, unimported
    return f"{sys.version_info[0]}.{sys.version_info[1]}:{hashlib.sha256(code).hexdigest()}"


_RECORD = Record(
    FILE_NAME,
    salt=_salt,
    load=lambda data: json.loads(data.decode("utf-8")),
    dump=lambda record: json.dumps(record).encode("utf-8"),
    valid=lambda flags: type(flags) is int,
    max_entries=MAX_ENTRIES,
)


def flags_of(text: str, flags: int) -> int | None:
    """The flags a pattern that passed its checks before compiles with (``re.compile``'s,
    inline flags included), or None when it has to be checked."""
    found = _RECORD.get(pattern_key(text, flags))
    return int(found) if isinstance(found, int) and not isinstance(found, bool) else None


def remember(text: str, flags: int, compiled_flags: int) -> None:
    """Record that ``text`` with ``flags`` passed its checks (written by :func:`flush`)."""
    _RECORD.put(pattern_key(text, flags), int(compiled_flags))


def forget() -> None:
    """Drop what this process knows (tests; the file is read again on the next lookup)."""
    _RECORD.forget()


def flush() -> None:
    """Write what this process recorded, merged with the file as it is now (another process
    may have added to it). Best effort: an error leaves the file as it was."""
    _RECORD.flush()
