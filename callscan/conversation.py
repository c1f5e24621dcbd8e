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
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.config import printable
from callscan.errors import TranscriptError
from callscan.transcript import (
    Transcript,
    Word,
    check_fields,
    check_int,
    check_list,
    check_span,
    check_text,
    words_from_dicts,
)

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
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark
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


ROLES = (AGENT, CALLER, UNKNOWN)
MAX_FILE_BYTES = 64 * 1024 * 1024  # a transcript file larger than this is refused
MAX_JSON_DEPTH = 32  # nesting of a transcript JSON (callscan's own reach about 6)
MAX_JSON_DIGITS = 18  # digits of an integer in a transcript JSON


def _turn_from_dict(t: Any, key: str) -> Turn:
    t = check_fields(t, key, Turn)
    role = t.get("role", UNKNOWN)
    if role not in ROLES:
        raise ValueError(f"{key}.role: {role!r:.40} is not valid (valid: {', '.join(ROLES)})")
    channel = t.get("channel")
    start = end = None
    if t.get("start_s") is not None or t.get("end_s") is not None:
        start, end = check_span(t, key)
    return Turn(
        index=0,
        role=role,
        text=check_text(t.get("text", ""), f"{key}.text"),
        speaker=check_text(t.get("speaker", ""), f"{key}.speaker"),
        channel=None if channel is None else check_int(channel, f"{key}.channel", maximum=7),
        start_s=start,
        end_s=end,
        words=words_from_dicts(t.get("words", []), f"{key}.words"),
    )


def _from_json(data: Any, source: str) -> Conversation:
    """A conversation from parsed JSON; ``ValueError("KEY: what is wrong")`` when malformed."""
    if not isinstance(data, dict):
        raise ValueError(f"top level: must be a mapping, not {type(data).__name__}")
    if isinstance(data.get("conversation"), dict):  # a callscan report: its turns
        data = data["conversation"]
    elif isinstance(data.get("transcript"), dict):  # a report without turns
        data = data["transcript"]
    if "turns" in data:  # a conversation dump
        turns = []
        for i, t in enumerate(check_list(data["turns"], "turns")):
            turn = _turn_from_dict(t, f"turns[{i}]")
            turn.index = i
            turns.append(turn)
        language = check_text(data.get("language", "id"), "language")
        return Conversation(turns=turns, language=language, source=source)
    if "segments" in data:
        return from_transcript(Transcript.from_dict(data), source=source)
    raise ValueError("holds neither 'segments' nor 'turns'")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise ValueError(f"integer {text[:20]}... has more than {MAX_JSON_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"number {text[:20]} is out of range")
    return x


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number (NaN and Infinity are not valid JSON)")


def _depth(data: Any) -> int:
    """Nesting depth of parsed JSON (iterative: no recursion limit)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, d)
            if d > MAX_JSON_DEPTH:
                break
            stack.extend((v, d + 1) for v in node if isinstance(v, (dict, list)))
    return deepest


def parse_json(text: str, source: str) -> Any:
    """Parse transcript JSON strictly: no NaN/Infinity, bounded integers and nesting.

    Raises
    ------
    TranscriptError
        One line naming ``source``.
    """
    try:
        data = json.loads(
            text,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as e:
        raise TranscriptError(f"'{source}': invalid JSON (line {e.lineno}: {e.msg})") from None
    except RecursionError:
        raise TranscriptError(
            f"'{source}': JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        ) from None
    except ValueError as e:
        raise TranscriptError(f"'{source}': invalid JSON ({e})") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise TranscriptError(
            f"'{source}': JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        )
    return data


def load(path: str | Path, *, language: str | None = None) -> Conversation:
    """Read a transcript file (callscan JSON or labelled text) as a conversation.

    See :func:`read` (this is it, with every message on one line, whatever the file holds).
    """
    try:
        return read(path, language=language)
    except TranscriptError as e:
        if str(e).isprintable():
            raise
        raise TranscriptError(printable(str(e))) from None


def read(path: str | Path, *, language: str | None = None) -> Conversation:
    """Read a transcript file (callscan JSON or labelled text) as a conversation.

    Raises
    ------
    TranscriptError
        One line naming the file (and the key or line): missing, a folder, too large, not
        UTF-8, empty, invalid JSON, or JSON whose turns/segments are malformed (a time that
        is not a finite number of seconds in 0 .. 24 h, an end before its start, text that is
        not a string, ...). A UTF-8 byte-order mark is accepted.
    """
    p = Path(path)
    if p.is_dir():
        raise TranscriptError(f"'{path}': is a folder, not a transcript file")
    if not p.is_file():
        raise TranscriptError(f"'{path}': no such file")
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TranscriptError(
                f"'{path}': too large for a transcript ({size / 2**20:.0f} MB; "
                f"limit {MAX_FILE_BYTES // 2**20} MB)"
            )
        raw = p.read_bytes()
    except OSError as e:
        raise TranscriptError(f"'{path}': cannot read ({e.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is dropped
    except UnicodeDecodeError as e:
        raise TranscriptError(f"'{path}': not UTF-8 text") from e
    if not text.strip():
        raise TranscriptError(f"'{path}': file is empty")
    if text.lstrip().startswith(("{", "[")):
        data = parse_json(text, str(path))
        try:
            conv = _from_json(data, str(path))
        except (TypeError, KeyError, ValueError) as e:
            raise TranscriptError(f"'{path}': not a callscan transcript: {e}") from None
    else:
        conv = parse_text(text, language=language, source=str(path))
    if language:
        conv.language = language
    return conv


TEXT_SUFFIXES = (".txt", ".json", ".md")


def is_transcript_path(path: str | Path) -> bool:
    """True when ``path`` names a transcript rather than a recording."""
    return Path(path).suffix.lower() in TEXT_SUFFIXES
