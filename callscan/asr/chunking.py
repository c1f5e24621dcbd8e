"""Pack speech regions into Whisper windows and map times back.

Whisper decodes 30-second windows. Decoding a channel end to end spends most of its time on
silence (in a stereo call each channel is silent while the other party talks) and invents
text there. Instead, the speech regions found by voice activity detection are packed, in
order, into windows of at most ``max_window_s`` with a short silent spacer between regions;
each window is decoded once and every word time is mapped back to the original file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WINDOW_S = 15.0  # packed speech per window: base drops or merges fewer words than at 29 s
SPACER_S = 0.4  # silence between packed regions, so Whisper sees a pause
PAD_S = 0.2  # audio kept around each region: Whisper drops a word that starts the audio cold


@dataclass(frozen=True)
class Piece:
    """One speech region's place in a packed window."""

    src_start_s: float  # start in the original channel
    src_end_s: float  # end in the original channel
    dst_start_s: float  # start in the packed window

    @property
    def dst_end_s(self) -> float:
        return self.dst_start_s + (self.src_end_s - self.src_start_s)


@dataclass(frozen=True)
class Window:
    """A packed window: pieces of speech laid end to end with spacers."""

    pieces: tuple[Piece, ...]  # in time order

    @property
    def duration_s(self) -> float:
        return self.pieces[-1].dst_end_s if self.pieces else 0.0

    def to_source(self, t: float) -> float:
        """Map a time in the window to the original channel (spacer times snap to a piece)."""
        best = self.pieces[0]
        for piece in self.pieces:
            if t >= piece.dst_start_s:
                best = piece
            else:
                break
        offset = min(max(t - best.dst_start_s, 0.0), best.src_end_s - best.src_start_s)
        return best.src_start_s + offset

    def span_to_source(self, start: float, end: float) -> tuple[float, float]:
        """Map a word's ``(start, end)`` in the window to the original channel.

        A word that starts in a spacer starts with the piece after it, and one that ends in a
        spacer ends with the piece before it (Whisper's word edges spill into the silence
        between pieces; snapping a start back to the piece before moved an agent's one-word
        reply, "Tidak.", into the caller's speech). A word wholly inside a spacer goes to the
        nearer piece, and a word across a spacer to the piece holding most of it.
        """
        pieces = self.pieces
        for before, after in zip(pieces, pieces[1:], strict=False):
            lo, hi = before.dst_end_s, after.dst_start_s
            start_in = lo < start < hi
            end_in = lo < end < hi
            if start_in and end_in:  # wholly in this spacer
                if (start + end) / 2 - lo <= hi - (start + end) / 2:
                    return before.src_end_s, before.src_end_s
                return after.src_start_s, after.src_start_s
            if start_in:
                start = hi
            if end_in:
                end = lo
        # a word across a spacer lies in two speech regions: keep it in the one holding
        # most of it (Whisper stretched a last word over the pause into the next region)
        shares = [min(end, p.dst_end_s) - max(start, p.dst_start_s) for p in pieces]
        if sum(x > 0 for x in shares) > 1:
            p = pieces[int(np.argmax(shares))]
            start, end = max(start, p.dst_start_s), min(end, p.dst_end_s)
        a, b = self.to_source(start), self.to_source(end)
        return a, max(a, b)


def pad_regions(
    regions, pad_s: float = PAD_S, pad_after_s: float | None = None
) -> list[tuple[float, float]]:
    """Widen each ``(start_s, end_s)`` region by up to ``pad_s`` before it and
    ``pad_after_s`` (default: ``pad_s``) after it.

    A region never grows past the middle of the pause to its neighbour (nor before 0), so
    regions never merge: the spacers between them stay (Whisper base decodes synthetic and
    telephone speech better with a pause at every gap than as one long stretch).
    """
    regions = list(regions)
    tail = pad_s if pad_after_s is None else pad_after_s
    out: list[tuple[float, float]] = []
    for i, (start, end) in enumerate(regions):
        before = pad_s if i == 0 else min(pad_s, (start - regions[i - 1][1]) / 2)
        after = tail if i + 1 == len(regions) else min(tail, (regions[i + 1][0] - end) / 2)
        out.append((max(0.0, start - max(before, 0.0)), end + max(after, 0.0)))
    return out


def split_long(regions, max_s: float = MAX_WINDOW_S) -> list[tuple[float, float]]:
    """Cut regions longer than ``max_s`` into equal parts no longer than ``max_s``."""
    out = []
    for start, end in regions:
        n = max(1, int(np.ceil((end - start) / max_s)))
        step = (end - start) / n
        out += [(start + i * step, start + (i + 1) * step) for i in range(n)]
    return out


def pack(
    regions,
    *,
    max_window_s: float = MAX_WINDOW_S,
    spacer_s: float = SPACER_S,
    pad_s: float = PAD_S,
    pad_after_s: float | None = None,
) -> list[Window]:
    """Pack ``(start_s, end_s)`` speech regions, in order, into windows.

    Parameters
    ----------
    regions : iterable of (float, float)
        Speech regions of one channel, seconds, sorted and non-overlapping.
    max_window_s : float
        Longest packed window.
    spacer_s : float
        Silence inserted between two regions in a window.
    pad_s : float
        Audio kept before and after each region (see :func:`pad_regions`); a region that
        starts its window cold loses its first word.
    pad_after_s : float, optional
        Audio kept after each region (default: ``pad_s``).
    """
    windows: list[Window] = []
    pieces: list[Piece] = []
    cursor = 0.0
    for start, end in split_long(pad_regions(regions, pad_s, pad_after_s), max_window_s):
        length = end - start
        if pieces and cursor + spacer_s + length > max_window_s:
            windows.append(Window(tuple(pieces)))
            pieces, cursor = [], 0.0
        dst = cursor + spacer_s if pieces else 0.0
        pieces.append(Piece(start, end, dst))
        cursor = dst + length
    if pieces:
        windows.append(Window(tuple(pieces)))
    return windows


def render(window: Window, y: np.ndarray, sr: int) -> np.ndarray:
    """The window's audio: its pieces of ``y`` (1-D) with silent spacers, float32."""
    out = np.zeros(int(round(window.duration_s * sr)) + 1, dtype=np.float32)
    for p in window.pieces:
        src = y[int(round(p.src_start_s * sr)) : int(round(p.src_end_s * sr))]
        at = int(round(p.dst_start_s * sr))
        n = min(len(src), len(out) - at)
        out[at : at + n] = src[:n]
    return out
