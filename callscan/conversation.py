"""Conversations: time-ordered turns labelled agent / caller, from audio or from text.

Every text stage (modality, stages, conduct) works on a :class:`Conversation`, so it can be
built from a recording (transcript + speakers) or read from a transcript file:

* callscan's own transcript JSON (``callscan transcribe -f json``), or a report JSON that
  holds one under ``"transcript"``;
* plain text, one turn per line, ``agent: ...`` / ``caller: ...``. Accepted labels (any
  case): agent, a, cs, csr, operator, petugas / caller, c, customer, pelanggan, penelepon,
  client, klien. Lines without a label continue the previous turn; blank lines and lines
  starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.errors import TranscriptError
from callscan.transcript import Transcript, Word

AGENT, CALLER, UNKNOWN = "agent", "caller", "unknown"
AGENT_LABELS = ("agent", "a", "cs", "csr", "operator", "petugas")
CALLER_LABELS = ("caller", "c", "customer", "pelanggan", "penelepon", "client", "klien")
_LABEL = re.compile(
    r"^\s*(" + "|".join(AGENT_LABELS + CALLER_LABELS) + r")\s*[:：]\s*(.*)$", re.IGNORECASE
)


@dataclass
class Turn:
    """One speaker's stretch of speech."""

    index: int  # position in the conversation, 0-based
    role: str  # "agent", "caller" or "unknown"
    text: str  # what was said
    speaker: str = ""  # speaker label: "agent"/"caller" for text input, "ch0"/"S1" from audio
    channel: int | None = None  # recording channel, when the turn comes from a stereo file
    start_s: float | None = None  # start time in the call (None for text input)
    end_s: float | None = None  # end time in the call
    words: list[Word] = field(default_factory=list)  # word timestamps when known

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "role": self.role,
            "speaker": self.speaker,
            "channel": self.channel,
            "start_s": None if self.start_s is None else round(self.start_s, 3),
            "end_s": None if self.end_s is None else round(self.end_s, 3),
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
        }


@dataclass
class Conversation:
    """A call as turns, with its language and where it came from."""

    turns: list[Turn]  # time order
    language: str = "id"  # ISO 639-1 code of the call ("id", "en")
    source: str = ""  # file it was read from
    transcript: Transcript | None = None  # the ASR transcript, when built from audio

    def by_role(self, role: str) -> list[Turn]:
        return [t for t in self.turns if t.role == role]

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "source": self.source,
            "turns": [t.to_dict() for t in self.turns],
        }


_ID_WORDS = frozenset(
    "yang dan saya tidak ini itu dengan untuk ada bisa apa kami anda bapak ibu sudah akan "
    "terima kasih mohon maaf selamat baik ya iya nya pak bu kak".split()
)
_EN_WORDS = frozenset(
    "the and you to is i it that for can what we this your have my be are not with thank "
    "please sorry hello yes no do".split()
)


def guess_language(text: str) -> str:
    """``"id"`` or ``"en"`` from common function words (for text input without a language)."""
    words = re.findall(r"[a-z]+", text.lower())
    n_id = sum(w in _ID_WORDS for w in words)
    n_en = sum(w in _EN_WORDS for w in words)
    return "en" if n_en > n_id else "id"


def parse_text(text: str, *, language: str | None = None, source: str = "<text>") -> Conversation:
    """Parse ``agent: ...`` / ``caller: ...`` lines into a conversation.

    ``language`` defaults to a guess between Indonesian and English from function words.
    """
    turns: list[Turn] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LABEL.match(line)
        if m:
            label = m.group(1).lower()
            role = AGENT if label in AGENT_LABELS else CALLER
            turns.append(Turn(index=len(turns), role=role, speaker=role, text=m.group(2).strip()))
        elif turns:
            turns[-1].text = f"{turns[-1].text} {line}".strip()
        else:
            raise TranscriptError(
                f"'{source}' line {n}: a turn must start with 'agent:' or 'caller:' "
                "(also A:, C:, cs:, pelanggan:, customer:)"
            )
    if not turns:
        raise TranscriptError(f"'{source}': no turns found (expected lines like 'agent: ...')")
    language = language or guess_language(" ".join(t.text for t in turns))
    return Conversation(turns=turns, language=language, source=source)


def from_transcript(transcript: Transcript, *, source: str = "") -> Conversation:
    """One turn per segment, role unknown (the speakers stage assigns roles)."""
    turns = [
        Turn(
            index=i,
            role=UNKNOWN,
            text=s.text,
            speaker=f"ch{s.channel}",
            channel=s.channel,
            start_s=s.start_s,
            end_s=s.end_s,
            words=list(s.words),
        )
        for i, s in enumerate(transcript.segments)
    ]
    return Conversation(
        turns=turns, language=transcript.language, source=source, transcript=transcript
    )


def _from_json(data: dict, source: str) -> Conversation:
    if isinstance(data.get("conversation"), dict):  # a callscan report: its turns
        data = data["conversation"]
    elif isinstance(data.get("transcript"), dict):  # a report without turns
        data = data["transcript"]
    if "turns" in data:  # a conversation dump
        turns = []
        for i, t in enumerate(data["turns"]):
            words = [Word(**w) for w in t.get("words", [])]
            turns.append(Turn(**{**t, "index": i, "words": words}))
        return Conversation(turns=turns, language=data.get("language", "id"), source=source)
    if "segments" in data:
        return from_transcript(Transcript.from_dict(data), source=source)
    raise TranscriptError(f"'{source}': JSON holds neither 'segments' nor 'turns'")


def load(path: str | Path, *, language: str | None = None) -> Conversation:
    """Read a transcript file (callscan JSON or labelled text) as a conversation."""
    p = Path(path)
    if not p.is_file():
        raise TranscriptError(f"'{path}': no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise TranscriptError(f"'{path}': not UTF-8 text") from e
    if not text.strip():
        raise TranscriptError(f"'{path}': file is empty")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TranscriptError(f"'{path}': invalid JSON (line {e.lineno}: {e.msg})") from e
        try:
            conv = _from_json(data, str(path))
        except (TypeError, KeyError, ValueError) as e:
            raise TranscriptError(f"'{path}': not a callscan transcript ({e})") from e
    else:
        conv = parse_text(text, language=language, source=str(path))
    if language:
        conv.language = language
    return conv


TEXT_SUFFIXES = (".txt", ".json", ".md")


def is_transcript_path(path: str | Path) -> bool:
    """True when ``path`` names a transcript rather than a recording."""
    return Path(path).suffix.lower() in TEXT_SUFFIXES
