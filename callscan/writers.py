"""Transcript writers: ``get_writer("json" | "txt" | "srt" | "vtt")`` returns ``f(transcript) -> str``.

Stereo transcripts label each line with its channel (``[L]`` left, ``[R]`` right); mono ones
carry no label.
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


def write_json(t: Transcript) -> str:
    return json.dumps(t.to_dict(), ensure_ascii=False, indent=2) + "\n"


def write_txt(t: Transcript) -> str:
    lines = [f"{_clock(s.start_s, '.')} {_label(t, s.channel)}{s.text}" for s in t.segments]
    return "\n".join(lines) + "\n"


def write_srt(t: Transcript) -> str:
    blocks = []
    for i, s in enumerate(t.segments, 1):
        span = f"{_clock(s.start_s, ',')} --> {_clock(s.end_s, ',')}"
        blocks.append(f"{i}\n{span}\n{_label(t, s.channel)}{s.text}\n")
    return "\n".join(blocks)


def write_vtt(t: Transcript) -> str:
    blocks = ["WEBVTT\n"]
    for s in t.segments:
        span = f"{_clock(s.start_s, '.')} --> {_clock(s.end_s, '.')}"
        blocks.append(f"{span}\n{_label(t, s.channel)}{s.text}\n")
    return "\n".join(blocks)


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "json": write_json,
    "txt": write_txt,
    "srt": write_srt,
    "vtt": write_vtt,
}


def get_writer(fmt: str) -> Callable[[Transcript], str]:
    """The writer for ``fmt``; raises CallscanError naming the valid choices."""
    try:
        return WRITERS[fmt]
    except KeyError:
        raise CallscanError(
            f"unknown output format '{fmt}' (choose from: {', '.join(WRITERS)})"
        ) from None
