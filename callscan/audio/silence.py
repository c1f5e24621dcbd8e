"""An audio copy of a call with the masked personal data silenced (``--redact-audio``).

After :mod:`callscan.redact` has masked a transcript's words (``[CARD]``, ``[PHONE]``, ...),
:func:`masked_spans` reads where those words were spoken (the words' own timestamps, on the
channel that spoke them, plus a small margin) and :func:`silence_spans` sets the samples of
those spans to zero. :func:`write_redacted` does both and writes a 16-bit WAV.

Only what the recogniser heard and the masker recognised is silenced: a number Whisper
misheard as ordinary words stays audible, and on a stereo call the other channel's
crosstalk of the same words is not silenced (only the speaking channel is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from callscan.errors import CallscanError
from callscan.redact import MASKS
from callscan.util import merge_spans

if TYPE_CHECKING:
    from callscan.audio.decode import Audio
    from callscan.transcript import Transcript

__all__ = ["MARGIN_S", "SilencedSpan", "masked_spans", "silence_spans", "write_redacted"]

MARGIN_S = 0.15  # s added before and after each masked word (word timestamps are approximate)


@dataclass(frozen=True)
class SilencedSpan:
    """A stretch of one channel to silence."""

    channel: int | None  # the channel that spoke it (None: every channel)
    start_s: float
    end_s: float


def _is_masked(text: str) -> bool:
    return any(mask in text for mask in MASKS.values())


def masked_spans(
    transcript: Transcript, *, n_channels: int = 1, margin_s: float = MARGIN_S
) -> list[SilencedSpan]:
    """Where the masked words of ``transcript`` were spoken, merged per channel.

    A word holding a mask (as :func:`callscan.redact.redact_transcript` leaves it) gives its
    ``start_s - margin_s`` to ``end_s + margin_s`` (never below 0). On a recording of
    ``n_channels`` channels that the transcript decoded one by one, each span is on its
    segment's channel; when the transcript decoded fewer channels than the recording has (a
    mono call saved as stereo is decoded once), the span covers every channel.
    """
    per_channel = getattr(transcript, "n_channels", n_channels) == n_channels > 1
    raw: dict[int | None, list[tuple[float, float]]] = {}
    for seg in transcript.segments:
        channel = seg.channel if per_channel else None
        for w in seg.words:
            if _is_masked(w.text):
                span = (max(0.0, w.start_s - margin_s), w.end_s + margin_s)
                raw.setdefault(channel, []).append(span)
    out = []
    for channel, spans in raw.items():
        for a, b in merge_spans(spans):
            out.append(SilencedSpan(channel, a, b))
    return sorted(out, key=lambda s: (s.start_s, -1 if s.channel is None else s.channel))


def silence_spans(y: np.ndarray, sr: int, spans: Sequence[SilencedSpan]) -> np.ndarray:
    """Zero the samples of ``spans`` in ``y`` (shape ``(channels, n)``), in place; returns
    ``y``. Spans past the end are cut at it."""
    if y.ndim != 2:
        raise CallscanError(f"audio must be (channels, samples), not shape {y.shape}")
    n = y.shape[1]
    for s in spans:
        a = min(n, max(0, int(np.floor(s.start_s * sr))))
        b = min(n, max(a, int(np.ceil(s.end_s * sr))))
        if s.channel is None:
            y[:, a:b] = 0.0
        elif 0 <= s.channel < y.shape[0]:
            y[s.channel, a:b] = 0.0
    return y


def write_redacted(
    audio: Audio,
    transcript: Transcript,
    path: str | Path,
    *,
    margin_s: float = MARGIN_S,
) -> list[SilencedSpan]:
    """Write ``audio`` with the masked words of ``transcript`` silenced, as a 16-bit WAV at
    the audio's rate (16 kHz as decoded), its channels kept. ``audio`` is changed in place
    (no second copy of a long call); call this last. Returns the spans silenced.

    Raises
    ------
    CallscanError
        The file cannot be written (one line naming it).
    """
    import soundfile as sf

    from callscan.util import atomic_write

    spans = masked_spans(transcript, n_channels=audio.n_channels, margin_s=margin_s)
    silence_spans(audio.y, audio.sr, spans)
    y, sr = audio.y, audio.sr

    def write(tmp: Path) -> None:
        with sf.SoundFile(
            str(tmp), "w", samplerate=sr, channels=y.shape[0], subtype="PCM_16", format="WAV"
        ) as f:
            block = 1 << 18
            for i in range(0, y.shape[1], block):  # a block at a time: no second copy
                f.write(y[:, i : i + block].T)

    try:
        atomic_write(path, write)
    except (OSError, sf.SoundFileError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise CallscanError(f"'{path}': cannot write the redacted audio ({why})") from e
    return spans
