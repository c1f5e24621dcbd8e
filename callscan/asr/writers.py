"""Transcript writers: ``get_writer(fmt)`` returns ``f(transcript, turns=None, extra=None) -> str``.

With speaker turns (``turns=``), each line is one turn labelled with its role
(``[agent]``, ``[caller]``) or speaker; without them, stereo lines carry their channel
(``[L]`` left, ``[R]`` right) and mono lines no label.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from callscan.errors import CallscanError
from callscan.transcript import Transcript

CHANNEL_LABELS = ("L", "R")


def _label(t: Transcript, channel: int) -> str:
    if t.n_channels < 2:
        return ""
    name = CHANNEL_LABELS[channel] if channel < len(CHANNEL_LABELS) else str(channel)
    return f"[{name}] "


def _clock(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _lines(t: Transcript, turns) -> list[tuple[float, float, str, str]]:
    """(start_s, end_s, label, text) per line: one per turn, or one per segment."""
    if turns:
        out = []
        for turn in turns:
            label = turn.role if turn.role in ("agent", "caller") else turn.speaker
            out.append((turn.start_s or 0.0, turn.end_s or 0.0, f"[{label}] ", turn.text))
        return out
    return [(s.start_s, s.end_s, _label(t, s.channel), s.text) for s in t.segments]


def write_json(t: Transcript, turns=None, extra: dict | None = None) -> str:
    data = t.to_dict()
    if turns is not None:
        data["turns"] = [turn.to_dict() for turn in turns]
    data.update(extra or {})
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_txt(t: Transcript, turns=None, extra: dict | None = None) -> str:
    lines = [f"{_clock(a, '.')} {label}{text}" for a, _, label, text in _lines(t, turns)]
    return "\n".join(lines) + "\n"


def write_srt(t: Transcript, turns=None, extra: dict | None = None) -> str:
    blocks = []
    for i, (a, b, label, text) in enumerate(_lines(t, turns), 1):
        blocks.append(f"{i}\n{_clock(a, ',')} --> {_clock(b, ',')}\n{label}{text}\n")
    return "\n".join(blocks)


def write_vtt(t: Transcript, turns=None, extra: dict | None = None) -> str:
    blocks = ["WEBVTT\n"]
    for a, b, label, text in _lines(t, turns):
        blocks.append(f"{_clock(a, '.')} --> {_clock(b, '.')}\n{label}{text}\n")
    return "\n".join(blocks)


WRITERS: dict[str, Callable[..., str]] = {
    "json": write_json,
    "txt": write_txt,
    "srt": write_srt,
    "vtt": write_vtt,
}


def get_writer(fmt: str) -> Callable[..., str]:
    """The writer for ``fmt``; raises CallscanError naming the valid choices."""
    try:
        return WRITERS[fmt]
    except KeyError:
        raise CallscanError(
            f"unknown output format '{fmt}' (choose from: {', '.join(WRITERS)})"
        ) from None
