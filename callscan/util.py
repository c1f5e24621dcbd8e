"""Small helpers shared by every stage: atomic file writes and time-span arithmetic.

Public API
----------
atomic_write
    Write a file through a ``.part`` sibling renamed into place, so a reader (or a resumed
    batch) never sees half a file.
is_finite
    True for a real, finite number (not None, NaN, infinity or a bool).
pattern_groups
    The named groups a user-given regular expression finds in a text (file-name metadata).
merge_spans
    Union of ``(start_s, end_s)`` spans, optionally bridging gaps up to ``gap_s``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_writer", "is_finite", "merge_spans", "pattern_groups"]


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open ``path.part`` for writing and rename it onto ``path`` once the block succeeds.

    The folder is created if missing. On an exception the partial file is removed and the
    exception propagates (the caller words the error). ``OSError`` keeps its ``strerror``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
    try:
        with open(tmp, mode, **open_kwargs) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(
    path: str | Path, data: str | bytes | Callable[[Path], object], **open_kwargs: Any
) -> Path:
    """Write ``data`` (text, bytes, or a function that writes the given temporary path) atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a" / "x.txt"
    >>> atomic_write(p, "hello").read_text()
    'hello'
    """
    path = Path(path)
    if callable(data):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        try:
            data(tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path
    mode = "wb" if isinstance(data, bytes) else "w"
    with atomic_writer(path, mode, **open_kwargs) as f:
        f.write(data)
    return path


def merge_spans(
    spans: Iterable[tuple[float, float]], gap_s: float = 0.0, *, drop_empty: bool = True
) -> list[tuple[float, float]]:
    """Union of time spans, sorted; spans closer than ``gap_s`` are joined.

    Empty spans (``end_s <= start_s``) are dropped unless ``drop_empty`` is False (then a
    zero-length span still marks an instant, e.g. a split between two silences).

    Examples
    --------
    >>> merge_spans([(3.0, 4.0), (0.0, 1.0), (0.5, 2.0)])
    [(0.0, 2.0), (3.0, 4.0)]
    >>> merge_spans([(0.0, 1.0), (1.2, 2.0)], gap_s=0.3)
    [(0.0, 2.0)]
    """
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if b <= a and drop_empty:
            continue
        if out and a <= out[-1][1] + gap_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def is_finite(x: object) -> bool:
    """True for a real, finite number (None, NaN, infinities and bools are not).

    Examples
    --------
    >>> is_finite(1.5), is_finite(float("nan")), is_finite(None), is_finite(True)
    (True, False, False, False)
    """
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def pattern_groups(pattern: str, text: str, *, what: str, option: str) -> dict[str, str] | None:
    """Named groups of the user-given regex ``pattern`` searched in ``text`` (None: no match).

    ``what`` names the pattern in the error ("agent pattern"), ``option`` the library option
    behind it (the CLI adds its flag name).

    Examples
    --------
    >>> pattern_groups(r"(?P<agent>A\\d+)_", "A17_0001.wav", what="agent pattern", option="x")
    {'agent': 'A17'}
    """
    import re

    from callscan.errors import CallscanError

    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise CallscanError(
            f"{what} '{pattern}' is not a valid regular expression ({e})", option=option
        ) from e
    m = rx.search(text)
    if m is None:
        return None
    return {k: v for k, v in m.groupdict().items() if v is not None}
