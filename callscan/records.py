"""Small records kept from one process to the next in callscan's cache folder.

A :class:`Record` is one file in ``$CALLSCAN_CACHE_DIR`` (else the user cache folder,
``platformdirs``) holding ``{"salt": ..., "patterns": {key: value}}``: what a process learnt
about the data files' patterns (:mod:`callscan.checked_patterns`,
:mod:`callscan.compiled_patterns`), for the next process. The salt says what the values are
only valid with (the Python version, the code or package that made them); a file of another
salt is ignored. The file is read on first use, merged with what is in it at the time and
rewritten atomically on :meth:`Record.flush`. Best effort throughout: a missing, unreadable,
damaged, foreign or read-only file only means the work is done again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """``$CALLSCAN_CACHE_DIR``, else the user cache folder (``~/.cache/callscan`` on Linux)."""
    env = os.environ.get("CALLSCAN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("callscan"))


def pattern_key(text: str, flags: int) -> str:
    """A pattern's key in a record: its text and flags, hashed."""
    h = hashlib.sha256(f"{flags}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:40]


class Record:
    """One record file (see the module docstring).

    ``load(bytes)`` and ``dump(object)`` read and write the file's content; ``salt()`` is
    what its values are valid with; ``valid(value)`` keeps only values of the right kind.
    """

    def __init__(
        self,
        file_name: str,
        *,
        salt: Callable[[], str],
        load: Callable[[bytes], Any],
        dump: Callable[[Any], bytes],
        valid: Callable[[Any], bool],
        max_entries: int,
    ) -> None:
        self.file_name = file_name
        self._salt, self._load, self._dump, self._valid = salt, load, dump, valid
        self.max_entries = max_entries  # past it the record starts again
        self._lock = threading.Lock()
        self._known: dict[str, Any] | None = None  # read from the file on first use
        self._new: dict[str, Any] = {}  # learnt in this process, not yet written

    def path(self) -> Path:
        return cache_dir() / self.file_name

    def _read(self) -> dict[str, Any]:
        try:
            data = self._load(self.path().read_bytes())
        except Exception:  # missing, unreadable, damaged or refused: as if empty
            return {}
        if not isinstance(data, dict) or data.get("salt") != self._salt():
            return {}
        found = data.get("patterns")
        if not isinstance(found, dict):
            return {}
        return {k: v for k, v in found.items() if isinstance(k, str) and self._valid(v)}

    def get(self, key: str) -> Any:
        """The value recorded under ``key`` (None when there is none)."""
        with self._lock:
            if self._known is None:
                self._known = self._read()
            return self._new.get(key, self._known.get(key))

    def put(self, key: str, value: Any) -> None:
        """Record ``value`` under ``key`` (written by :meth:`flush`)."""
        with self._lock:
            self._new[key] = value

    def forget(self) -> None:
        """Drop what this process knows (tests; the file is read again on the next lookup)."""
        with self._lock:
            self._known = None
            self._new.clear()

    def flush(self) -> None:
        """Write what this process learnt, merged with the file as it is now (another process
        may have added to it). Best effort: an error leaves the file as it was."""
        with self._lock:
            if not self._new:
                return
            merged = {**self._read(), **self._new}
            if len(merged) > self.max_entries:
                merged = dict(self._new)
            try:
                from callscan.util import atomic_write

                path = self.path()
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, self._dump({"salt": self._salt(), "patterns": merged}))
            except OSError:
                return
            self._known = merged
            self._new.clear()
