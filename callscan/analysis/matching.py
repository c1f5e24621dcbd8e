"""Playbook cue matching and its evidence, shared by the rule checks and the semantic signal.

:func:`prepare` normalises the turns of a call once and computes its time windows (who speaks
in the opening, the closing, the last half); :func:`match` finds every hit of one playbook
:class:`~callscan.analysis.playbook.Cue` in it, as :class:`Evidence` (speaker, turn,
start/end time, the exact words heard, the rule id). Both :mod:`callscan.analysis.stages` and
:mod:`callscan.analysis.semantic` build on it; neither imports the other's internals.

Public API
----------
Evidence
    One matched cue: who said what, where.
PreparedCall
    A conversation prepared once for matching (normalised turns, windows, caches).
prepare
    Build a :class:`PreparedCall` from a conversation and a playbook.
match
    Every hit of one cue in a prepared call (cached per cue id).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from callscan.analysis.fuzzy import approximate_spans
from callscan.analysis.playbook import Cue, Playbook
from callscan.analysis.text import stem
from callscan.config import GuardedPattern, PatternTimeout
from callscan.conversation import Conversation, Turn
from callscan.text import WORD, find_tokens, normalise

__all__ = [
    "CUE_BUDGET_S",
    "TURN_LIMIT_S",
    "Evidence",
    "PreparedCall",
    "match",
    "not_evaluated",
    "prepare",
    "speaker_turns",
]


@dataclass
class Evidence:
    """One matched cue: who said what, where."""

    rule: str  # cue id, e.g. "contact.introduce_self" or "blame_colleague.blame"
    speaker: str  # "agent", "caller" or "unknown"
    turn: int  # turn index in the conversation
    start_s: float | None  # turn start in the call (None for text input)
    end_s: float | None  # turn end in the call
    text: str  # the exact words matched, as written in the turn
    strength: str = "strong"  # "strong", "weak", "semantic" or "semantic_weak"
    offset: int = 0  # character offset in the turn (orders hits inside one turn)
    heard_as: str = ""  # approximate match of unsure words: "bantu heard as 'mantu'"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("offset")
        if not d["heard_as"]:
            d.pop("heard_as")
        for k in ("start_s", "end_s"):
            d[k] = None if d[k] is None else round(d[k], 3)
        return d


@dataclass
class PreparedCall:
    """A conversation prepared once for matching."""

    turns: list[Turn]
    norm: list[str]  # lowercased, fillers and punctuation blanked (same length as the text)
    windows: dict[str, dict[str, frozenset[int]]]  # speaker -> window -> turn indexes
    language: str
    stems: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)  # lazily filled
    cache: dict[str, list[Evidence]] = field(default_factory=dict)  # cue id -> hits
    timed_out: dict[str, str] = field(default_factory=dict)  # cue id -> why not evaluated
    stopwords: frozenset[str] = frozenset()  # words that are not content words (cue `echo`)
    stop_stems: frozenset[str] | None = None  # the stopwords and their stems (lazily filled)

    def turn_stems(self, i: int) -> list[tuple[str, int, int]]:
        """``(stem, start, end)`` of every word of turn ``i`` (computed once)."""
        if i not in self.stems:
            self.stems[i] = [
                (stem(w, self.language), a, b) for a, b, w in find_tokens(self.norm[i], WORD)
            ]
        return self.stems[i]

    def content(self, i: int) -> set[str]:
        """Content stems of turn ``i``: words of three letters or more (digits kept), not in
        the playbook's ``stopwords`` (compared by stem)."""
        if self.stop_stems is None:
            self.stop_stems = self.stopwords | {stem(w, self.language) for w in self.stopwords}
        stop = self.stop_stems
        return {
            s for s, _, _ in self.turn_stems(i) if (len(s) >= 3 or s.isdigit()) and s not in stop
        }

    def echoed(self, i: int) -> int:
        """How many content stems turn ``i`` shares with the caller's turns before it (a
        paraphrase check repeats the caller's words)."""
        said: set[str] = set()
        for t in self.turns[:i]:
            if t.role == "caller":
                said |= self.content(t.index)
        return len(self.content(i) & said)


def speaker_turns(turns: list[Turn], speaker: str) -> list[Turn]:
    """The turns of ``speaker`` ("agent", "caller" or "any"); ``unknown`` turns count for both."""
    if speaker == "any":
        return turns
    return [t for t in turns if t.role in (speaker, "unknown")]


def _windows(turns: list[Turn], pb: Playbook) -> dict[str, dict[str, frozenset[int]]]:
    st = pb.settings
    timed = [t for t in turns if t.start_s is not None and t.end_s is not None]
    t0 = min((t.start_s for t in timed if t.start_s is not None), default=None)
    t1 = max((t.end_s for t in timed if t.end_s is not None), default=None)
    n = len(turns)
    out = {}
    for speaker in ("agent", "caller", "any"):
        own = [t.index for t in speaker_turns(turns, speaker)]
        # short calls: the windows split the turns, so an opening greeting is never a closing
        n_start = min(st.start_turns, (len(own) + 1) // 2)
        n_end = min(st.end_turns, len(own) // 2)
        start = set(own[:n_start])
        end = set(own[len(own) - n_end :])
        if t0 is not None and t1 is not None:
            for t in speaker_turns(turns, speaker):
                if t.start_s is not None and t.start_s - t0 <= st.start_window_s:
                    start.add(t.index)
                if t.end_s is not None and t1 - t.end_s <= st.end_window_s:
                    end.add(t.index)
            end = (end - start) or end
        every = frozenset(own)
        out[speaker] = {
            "any": every,
            "first": frozenset(own[:1]),
            "start": frozenset(start),
            "end": frozenset(end),
            "not_start": every - start,
            "last_half": frozenset(i for i in own if i >= n // 2) | frozenset(end),
        }
    return out


def prepare(conversation: Conversation, playbook: Playbook) -> PreparedCall:
    """Normalise the turns and compute the windows once per call."""
    turns = conversation.turns
    return PreparedCall(
        turns=turns,
        norm=[normalise(t.text, playbook.fillers) for t in turns],
        windows=_windows(turns, playbook),
        language=playbook.language,
        stopwords=playbook.stopwords,
    )


CUE_BUDGET_S = 2.0  # s of CPU, the most one cue's regexes may take on one call, all turns
TURN_LIMIT_S = 1.0  # s, the most one match may take on one turn (ordinary ones take < 1 ms,
# so even a machine loaded 100x leaves them far inside it): the regex engine checks its
# clock only now and then, so a limit per turn stops a runaway pattern on its first bad turn


def not_evaluated(call: PreparedCall, cue_ids: Any) -> str:
    """Why one of ``cue_ids`` could not be evaluated on the call ("" when all were)."""
    return next((call.timed_out[c] for c in cue_ids if c in call.timed_out), "")


def match(call: PreparedCall, cue: Cue) -> list[Evidence]:
    """All hits of ``cue`` in the call, in turn and offset order (cached per cue id).

    The cue's regexes run under a time limit, :data:`CUE_BUDGET_S` for the whole call: a
    pattern that runs past it (catastrophic backtracking) gives no hits and its cue is
    recorded in ``call.timed_out`` with a one-line note (:func:`not_evaluated`), so the rule
    or stage that uses it is reported as not evaluated instead of hanging the analysis.
    """
    if cue.id in call.cache:
        return call.cache[cue.id]
    for pattern in (cue.regex, cue.unless, cue.reply_to):  # compiled before the clock starts
        if isinstance(pattern, GuardedPattern):
            pattern.compiled  # noqa: B018
    try:
        hits = _match(call, cue, time.thread_time() + CUE_BUDGET_S)
    except PatternTimeout as e:
        call.timed_out[cue.id] = (
            f"not evaluated: {e.key} ran past its {CUE_BUDGET_S:g} s limit on this call "
            "(catastrophic backtracking)"
        )
        hits = []
    call.cache[cue.id] = hits
    return hits


def _match(call: PreparedCall, cue: Cue, deadline: float) -> list[Evidence]:
    key = str(getattr(cue.regex or cue.unless, "key", cue.id))

    def left() -> float:
        remaining = deadline - time.thread_time()  # CPU time: a busy machine changes nothing
        if remaining <= 0:
            raise PatternTimeout(key, CUE_BUDGET_S)
        return min(remaining, TURN_LIMIT_S)

    hits: list[Evidence] = []
    for i in sorted(call.windows[cue.speaker][cue.window]):
        text = call.norm[i]
        if cue.unless is not None and _search(cue.unless, text, left()):
            continue
        if cue.echo and call.echoed(i) < cue.echo:
            continue
        if cue.reply_to is not None and not _replies_to(call, i, cue.reply_to, left()):
            continue
        spans: list[tuple[int, int]] = []
        if cue.regex is not None:
            found = _finditer(cue.regex, text, left())
            spans += [evidence_span(m) for m in found if m.end() > m.start()]
        if cue.lemmas:
            stems = call.turn_stems(i)
            words = [s for s, _, _ in stems]
            for seq in cue.lemmas:
                for k in range(len(words) - len(seq) + 1):
                    if tuple(words[k : k + len(seq)]) == seq:
                        span = (stems[k][1], stems[k + len(seq) - 1][2])
                        if not any(a <= span[0] < b for a, b in spans):
                            spans.append(span)
        t = call.turns[i]
        fuzzy = [] if spans or cue.regex is None else approximate_spans(t, text, cue.regex)
        for a, b, heard in sorted([(a, b, "") for a, b in spans] + fuzzy):
            hits.append(
                Evidence(
                    cue.id,
                    t.role,
                    i,
                    t.start_s,
                    t.end_s,
                    t.text[a:b].strip(),
                    cue.strength,
                    a,
                    heard,
                )
            )
    return hits


def excused(call: PreparedCall, cue: Cue, i: int) -> bool:
    """Whether turn ``i`` is one that ``cue``'s ``unless`` excuses (False for a cue without
    one): for another signal of the same thing (the turn classifier's) in that turn. A
    pattern past its time limit excuses nothing."""
    if cue.unless is None:
        return False
    try:
        return bool(_search(cue.unless, call.norm[i], TURN_LIMIT_S))
    except PatternTimeout:
        return False


def _replies_to(call: PreparedCall, i: int, pattern: Any, timeout: float) -> bool:
    """Whether turn ``i`` answers a turn that ``pattern`` matches: the other party's last
    turn before it (False when the other party has not spoken yet)."""
    role = call.turns[i].role
    for j in range(i - 1, -1, -1):
        if call.turns[j].role != role:
            return bool(_search(pattern, call.norm[j], timeout))
    return False


def evidence_span(m: Any) -> tuple[int, int]:
    """The span of a match that is its evidence: the words a pattern marked ``(?P<ev>...)``
    (``ev0_``, ``ev1_``, ... once a cue's patterns are joined, by the pattern's number; the
    first that took part), else the whole match. A pattern that must read its context to
    decide (the words around an organisation's name) shows only the name."""
    for name in m.re.groupindex:
        if name.startswith("ev") and m.end(name) > m.start(name) >= 0:
            return m.span(name)
    return m.span()


def _search(pattern: Any, text: str, timeout: float) -> Any:
    """``pattern.search`` under ``timeout`` (a plain ``re.Pattern`` has no time limit)."""
    if isinstance(pattern, GuardedPattern):
        return pattern.search(text, timeout=timeout)
    return pattern.search(text)


def _finditer(pattern: Any, text: str, timeout: float) -> list[Any]:
    if isinstance(pattern, GuardedPattern):
        return list(pattern.finditer(text, timeout=timeout))
    return list(pattern.finditer(text))
