"""Transcript result types: words, segments and the whole transcript, JSON-native.

Times are seconds from the start of the file (3 decimals in JSON). ``channel`` is the
recording channel a segment was heard on (0 = left/mono, 1 = right), so a stereo call keeps
one party per channel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"


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
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        words = [Word(**w) for w in d.get("words", [])]
        return cls(**{**d, "words": words})


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
        segments = [Segment.from_dict(s) for s in d["segments"]]
        return cls(**{**d, "segments": segments})
