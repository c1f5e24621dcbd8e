"""Transcript result types: words, segments and the whole transcript, JSON-native.

Times are seconds from the start of the file (3 decimals in JSON). ``channel`` is the
recording channel a segment was heard on (0 = left/mono, 1 = right), so a stereo call keeps
one party per channel.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"
MAX_TIME_S = 24 * 3600.0  # s, latest time a stored transcript may name (a call is far shorter)
MAX_COUNT = 10_000_000  # largest integer field (id, index) accepted from a stored transcript
MAX_SCORE = 1e6  # largest magnitude of a stored score (log-probability, compression ratio, ...)


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


@dataclass
class Word:
    """One recognised word."""

    text: str  # as Whisper wrote it, leading space stripped
    start_s: float  # start time in the file
    end_s: float  # end time in the file
    probability: float  # Whisper's probability of the word's tokens (0-1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start_s": _r(self.start_s),
            "end_s": _r(self.end_s),
            "probability": _r(self.probability, 4),
        }


@dataclass
class Segment:
    """One decoded segment (a phrase), with its words and Whisper's quality figures."""

    id: int  # position in the transcript, 0-based
    channel: int  # recording channel (0 = left or mono, 1 = right)
    start_s: float  # start time in the file
    end_s: float  # end time in the file
    text: str  # the segment's text, stripped
    words: list[Word] = field(default_factory=list)  # word timestamps
    avg_logprob: float = 0.0  # mean token log-probability (Whisper fails a decode below -1.0)
    no_speech_prob: float = 0.0  # probability that the window held no speech
    compression_ratio: float = 0.0  # gzip ratio of the text (> 2.4 suggests a repetition loop)
    temperature: float = 0.0  # sampling temperature that produced it (0 = greedy)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "start_s": _r(self.start_s),
            "end_s": _r(self.end_s),
            "text": self.text,
            "avg_logprob": _r(self.avg_logprob, 4),
            "no_speech_prob": _r(self.no_speech_prob, 4),
            "compression_ratio": _r(self.compression_ratio, 4),
            "temperature": _r(self.temperature, 2),
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], key: str = "") -> Segment:
        """A segment from its :meth:`to_dict` form, checked (``ValueError`` naming the key)."""
        d = check_fields(d, key, cls)
        out: dict[str, Any] = {
            "id": check_int(d.get("id", 0), f"{key}.id"),
            "channel": check_int(d.get("channel", 0), f"{key}.channel", maximum=7),
            "text": check_text(d.get("text", ""), f"{key}.text"),
            "words": words_from_dicts(d.get("words", []), f"{key}.words"),
        }
        out["start_s"], out["end_s"] = check_span(d, key)
        for name in ("avg_logprob", "no_speech_prob", "compression_ratio", "temperature"):
            if name in d:
                out[name] = check_number(d[name], f"{key}.{name}", -MAX_SCORE, MAX_SCORE)
        return cls(**out)


@dataclass
class Transcript:
    """A call's transcript: every channel's segments in time order, and how it was made."""

    segments: list[Segment]  # all channels, sorted by start time
    language: str  # ISO 639-1 code used for decoding, e.g. "id"
    language_probability: float  # detection probability among the allowed languages (1.0 if forced)
    language_probs: dict[str, float]  # probability of each allowed language (empty if forced)
    model: str  # Whisper model name or checkpoint path
    engine: str  # "openai-whisper" or "faster-whisper"
    audio: dict[str, Any]  # AudioInfo.to_dict() of the source file
    n_channels: int  # channels transcribed separately (1 or 2)
    duration_s: float  # of the audio
    schema_version: str = SCHEMA_VERSION

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)

    def channel_text(self, channel: int) -> str:
        """Text heard on one channel."""
        return " ".join(s.text for s in self.segments if s.channel == channel and s.text)

    def words(self, channel: int | None = None) -> list[Word]:
        """All words (of one channel, or all) in time order."""
        out = [w for s in self.segments if channel is None or s.channel == channel for w in s.words]
        return sorted(out, key=lambda w: w.start_s)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["segments"] = [s.to_dict() for s in self.segments]
        d["language_probability"] = _r(self.language_probability, 4)
        d["language_probs"] = {k: _r(v, 4) for k, v in self.language_probs.items()}
        d["duration_s"] = _r(self.duration_s)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        """A transcript from its :meth:`to_dict` form, checked: ``ValueError`` (one line naming
        the key, e.g. ``segments[3].end_s: ...``) for a missing key, a wrong type, a time that is
        not a finite number of seconds in 0 .. 24 h, or a segment that ends before it starts."""
        d = check_fields(d, "", cls)
        missing = [k for k in ("segments", "language") if k not in d]
        if missing:
            raise ValueError(f"{missing[0]}: missing")
        segments = [
            Segment.from_dict(s, f"segments[{i}]")
            for i, s in enumerate(check_list(d["segments"], "segments"))
        ]
        probs = d.get("language_probs") or {}
        if not isinstance(probs, dict):
            raise ValueError(f"language_probs: must be a mapping, not {type(probs).__name__}")
        audio = d.get("audio") or {}
        if not isinstance(audio, dict):
            raise ValueError(f"audio: must be a mapping, not {type(audio).__name__}")
        return cls(
            segments=segments,
            language=check_text(d["language"], "language"),
            language_probability=check_number(
                d.get("language_probability", 1.0), "language_probability", 0.0, 1.0
            ),
            language_probs={
                str(k): check_number(v, f"language_probs.{k}", 0.0, 1.0) for k, v in probs.items()
            },
            model=check_text(d.get("model", ""), "model"),
            engine=check_text(d.get("engine", ""), "engine"),
            audio=audio,
            n_channels=check_int(d.get("n_channels", 1), "n_channels", maximum=8),
            duration_s=check_number(d.get("duration_s", 0.0), "duration_s", 0.0, MAX_TIME_S),
            schema_version=check_text(d.get("schema_version", SCHEMA_VERSION), "schema_version"),
        )


# ---- checks of stored (JSON) transcripts: each raises ValueError("KEY: what is wrong")


def check_number(value: Any, key: str, minimum: float, maximum: float) -> float:
    """``value`` as a float if it is a finite number in ``minimum .. maximum``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and not (math.isfinite(value) and minimum <= value <= maximum):
        ok = False
    if not ok:
        raise ValueError(
            f"{key}: must be a finite number between {minimum:g} and {maximum:g}, not {value!r:.40}"
        )
    return float(value)


def check_time(value: Any, key: str) -> float:
    """A time in seconds: a finite number in 0 .. :data:`MAX_TIME_S`."""
    return check_number(value, key, 0.0, MAX_TIME_S)


def check_span(d: dict[str, Any], key: str) -> tuple[float, float]:
    """``d["start_s"]``, ``d["end_s"]``: times with start <= end."""
    dot = f"{key}." if key else ""
    start = check_time(d.get("start_s"), f"{dot}start_s")
    end = check_time(d.get("end_s"), f"{dot}end_s")
    if end < start:
        raise ValueError(f"{dot}end_s: {end:g} is before start_s {start:g}")
    return start, end


def check_int(value: Any, key: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    """An integer in ``minimum .. maximum``."""
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise ValueError(
            f"{key}: must be an integer between {minimum} and {maximum}, not {value!r:.40}"
        )
    return value


def check_text(value: Any, key: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise ValueError(f"{key}: must be text (a string), not {type(value).__name__}")
    return value


def check_list(value: Any, key: str) -> list:
    """A list."""
    if not isinstance(value, list):
        raise ValueError(f"{key}: must be a list, not {type(value).__name__}")
    return value


def check_fields(d: Any, key: str, cls: type) -> dict[str, Any]:
    """``d`` if it is a mapping whose keys are all fields of the dataclass ``cls``."""
    if not isinstance(d, dict):
        raise ValueError(f"{key or 'top level'}: must be a mapping, not {type(d).__name__}")
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    for k in d:
        if k not in fields:
            dot = f"{key}." if key else ""
            raise ValueError(f"{dot}{k}: unknown key (valid: {', '.join(fields)})")
    return d


def words_from_dicts(items: Any, key: str) -> list[Word]:
    """Words from their :meth:`Word.to_dict` forms, checked."""
    out = []
    for i, w in enumerate(check_list(items, key)):
        k = f"{key}[{i}]"
        w = check_fields(w, k, Word)
        start, end = check_span(w, k)
        out.append(
            Word(
                text=check_text(w.get("text", ""), f"{k}.text"),
                start_s=start,
                end_s=end,
                probability=check_number(w.get("probability", 1.0), f"{k}.probability", 0.0, 1.0),
            )
        )
    return out
