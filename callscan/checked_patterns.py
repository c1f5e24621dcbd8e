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
import os
import sys
import threading
from pathlib import Path

FILE_NAME = "checked-patterns.json"
MAX_ENTRIES = 20_000  # past it the record starts again (a team editing patterns for years)

_lock = threading.Lock()
_known: dict[str, int] | None = None  # key -> flags, read from the file on first use
_new: dict[str, int] = {}  # recorded in this process, not yet written


def cache_path() -> Path:
    """``$CALLSCAN_CACHE_DIR/checked-patterns.json``, else the user cache folder's."""
    env = os.environ.get("CALLSCAN_CACHE_DIR")
    if env:
        return Path(env).expanduser() / FILE_NAME
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("callscan")) / FILE_NAME


@functools.cache
def _salt() -> str:
    """What a record is only valid with: the Python version (its regex parser) and the
    checking code."""
    code = Path(__file__).with_name("config.py").read_bytes()  # callscan.config, unimported
    return f"{sys.version_info[0]}.{sys.version_info[1]}:{hashlib.sha256(code).hexdigest()}"


def _key(text: str, flags: int) -> str:
    h = hashlib.sha256(f"{flags}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:40]


def _read() -> dict[str, int]:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("salt") != _salt():
        return {}
    found = data.get("patterns")
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and type(v) is int}


def flags_of(text: str, flags: int) -> int | None:
    """The flags a pattern that passed its checks before compiles with (``re.compile``'s,
    inline flags included), or None when it has to be checked."""
    global _known
    with _lock:
        if _known is None:
            _known = _read()
        key = _key(text, flags)
        return _new.get(key, _known.get(key))


def remember(text: str, flags: int, compiled_flags: int) -> None:
    """Record that ``text`` with ``flags`` passed its checks (written by :func:`flush`)."""
    with _lock:
        _new[_key(text, flags)] = compiled_flags


def forget() -> None:
    """Drop what this process knows (tests; the file is read again on the next lookup)."""
    global _known
    with _lock:
        _known = None
        _new.clear()


def flush() -> None:
    """Write what this process recorded, merged with the file as it is now (another process
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
            atomic_write(path, json.dumps({"salt": _salt(), "patterns": merged}))
        except OSError:
            return
        _known = merged
        _new.clear()
