"""Which speaker is the agent: text cues, who speaks first, and explicit overrides.

Each speaker's turns are matched against the cues of ``models/roles.yaml`` (Indonesian and
English): the agent greets with the time of day and introduces themselves, offers help
("ada yang bisa saya bantu", "how can I help"), asks for identity and needs, asks the caller
to hold; the caller states a request ("saya mau tanya", "I'm calling about") and owns the
problem ("kartu saya", "my account"). A speaker's score is the sum of its agent cues minus
its caller cues (each cue counted once per speaker), plus a point for speaking first (the
agent answers the phone). The highest score is the agent; the confidence is a logistic
function of the lead over the runner-up. Below :data:`LOW_CONFIDENCE` the decision is
flagged, and the reasons say so, instead of guessing silently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from callscan.config import Checker, PatternTimeout, cached, read_yaml
from callscan.conversation import AGENT, CALLER
from callscan.text import WORD_BREAK
from callscan.text import normalise as normalise_text

__all__ = ["LOW_CONFIDENCE", "RoleDecision", "RoleOptions", "decide_roles", "load_cues"]

LOW_CONFIDENCE = 0.6  # below this the role decision is flagged as a guess
ROLES_FILE = "roles.yaml"  # cue file in callscan.models
_WHERE = ("opening", "any")
_LANGS = ("id", "en")
_TOP_KEYS = ("scale", "first_speaker", "opening_s", "cues")
_CUE_KEYS = ("id", "role", "weight", "where", "lang", "pattern")


@dataclass(frozen=True)
class RoleOptions:
    """How roles are decided."""

    language: str | None = None  # "id" or "en": use only that language's cues; None = both
    cues_path: str | None = None  # a roles YAML file instead of the bundled models/roles.yaml
    agent_speaker: str | None = None  # override: this speaker label is the agent
    override_reason: str = ""  # why it was given, e.g. "agent channel set by the user: right"
    swap: bool = False  # swap agent and caller after deciding (two speakers)


@dataclass
class RoleDecision:
    """Who is the agent, how sure, and why."""

    agent: str | None  # speaker label of the agent (None when nobody spoke)
    roles: dict[str, str]  # speaker label -> "agent" | "caller"
    confidence: float  # 0.5 (a coin toss) to 1.0 (certain); 1.0 for an override
    method: str  # "cues" (decided from the text) or "override"
    reasons: list[str] = field(default_factory=list)  # human-readable evidence, strongest first
    scores: dict[str, float] = field(default_factory=dict)  # speaker -> agent score

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "roles": dict(self.roles),
            "confidence": round(self.confidence, 3),
            "low_confidence": self.low_confidence,
            "method": self.method,
            "reasons": list(self.reasons),
            "scores": {k: round(v, 2) for k, v in self.scores.items()},
        }


@dataclass(frozen=True)
class _Cue:
    id: str
    role: str
    weight: float
    where: str
    lang: str
    pattern: re.Pattern


@dataclass(frozen=True)
class _Cues:
    cues: tuple[_Cue, ...]
    scale: float
    first_speaker: float
    opening_s: float

    def summary(self) -> str:
        """``N cues: A agent, C caller`` for messages."""
        agent = sum(1 for c in self.cues if c.role == AGENT)
        return f"{len(self.cues)} cues: {agent} agent, {len(self.cues) - agent} caller"


class _RolesChecker(Checker):
    """Validates one parsed roles cue file; every error names the file and the key."""

    def one_of(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"'{value}' is not one of {', '.join(choices)}")
        return str(value)

    def load(self, data: dict) -> _Cues:
        self.mapping(data, "", _TOP_KEYS)
        raw = data.get("cues")
        if not isinstance(raw, list) or not raw:
            raise self.fail("cues", "must be a non-empty list")
        cues = []
        for i, c in enumerate(raw):
            key = f"cues[{i}]"
            c = self.mapping(c, key, _CUE_KEYS)
            missing = [k for k in ("id", "role", "weight", "pattern") if k not in c]
            if missing:
                raise self.fail(key, f"missing {', '.join(missing)}")
            role = self.one_of(c["role"], f"{key}.role", (AGENT, CALLER))
            where = self.one_of(c.get("where", "any"), f"{key}.where", _WHERE)
            lang = self.one_of(c.get("lang", "id"), f"{key}.lang", _LANGS)
            # the playbooks' check: a valid regex without nested unbounded repeats
            pattern = self.regex(c["pattern"], f"{key}.pattern", flags=0)
            weight = self.number(c["weight"], f"{key}.weight", minimum=None)
            cues.append(_Cue(str(c["id"]), role, weight, where, lang, pattern))
        scale, first, opening = (
            self.number(data.get(k, d), k, minimum=None)
            for k, d in (("scale", 2.0), ("first_speaker", 0.5), ("opening_s", 20.0))
        )
        if scale <= 0:
            raise self.fail("scale", "must be positive")
        return _Cues(tuple(cues), scale, first, opening)


def load_cues(path: str | None = None) -> _Cues:
    """Read and validate a roles cue file (default: the bundled ``models/roles.yaml``).

    Cached per file and modification time.

    Raises
    ------
    ConfigError
        One line naming the file, the key and the valid choices (unknown keys included).
    """
    from callscan.resources import data_path, load_data

    if path:
        where = str(path)
    else:
        found = data_path(ROLES_FILE)
        if found is None:
            load_data(ROLES_FILE)  # raises the ConfigError naming the missing file
        where = str(found)
    return cached("roles", where, lambda: _RolesChecker(where).load(read_yaml(where)))


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, other punctuation as spaces, single spaces (the text
    the role cues match; :func:`callscan.text.normalise` compacted)."""
    return normalise_text(text, blank=WORD_BREAK, fold_apostrophe=True, compact=True)


def _score_speakers(turns, cues: _Cues, language: str | None):
    """Agent score and evidence per speaker label, in order of first appearance."""
    first_start: dict[str, float | None] = {}
    texts: dict[str, list[str]] = {}
    opening: dict[str, list[str]] = {}
    for t in sorted(turns, key=lambda t: t.start_s if t.start_s is not None else 0.0):
        text = normalise(t.text)
        if not text:
            continue
        is_first = t.speaker not in texts
        texts.setdefault(t.speaker, []).append(text)
        first_start.setdefault(t.speaker, t.start_s)
        in_opening = t.start_s is not None and t.start_s < cues.opening_s
        if is_first or in_opening:
            opening.setdefault(t.speaker, []).append(text)
    scores: dict[str, float] = {}
    evidence: dict[str, list[tuple[float, str]]] = {}
    for speaker, parts in texts.items():
        score, found = 0.0, []
        every, start = " | ".join(parts), " | ".join(opening.get(speaker, []))
        for cue in cues.cues:
            if language and cue.lang != language:
                continue
            try:
                m = cue.pattern.search(start if cue.where == "opening" else every)
            except PatternTimeout as e:  # catastrophic backtracking: the cue is left out
                found.append((0.0, f"{speaker} {cue.role} cue {cue.id} not evaluated: {e}"))
                continue
            if m:
                sign = 1.0 if cue.role == AGENT else -1.0
                score += sign * cue.weight
                found.append((cue.weight, f'{speaker} {cue.role} cue {cue.id}: "{m.group(0)}"'))
        scores[speaker] = score
        evidence[speaker] = found
    if texts:
        first = next(iter(texts))  # turns were sorted by start: the first speaker
        scores[first] += cues.first_speaker
        evidence[first].append((cues.first_speaker, f"{first} speaks first (answers the call)"))
    return scores, evidence


def _swap(roles: dict[str, str]) -> dict[str, str]:
    return {s: CALLER if r == AGENT else AGENT for s, r in roles.items()}


def decide_roles(turns, options: RoleOptions | None = None) -> RoleDecision:
    """Decide which speaker is the agent.

    Parameters
    ----------
    turns : list of callscan.conversation.Turn
        Turns with ``speaker``, ``text`` and (for the opening cues) ``start_s``.
    options : RoleOptions, optional
        Cue language, cue file and overrides.

    Returns
    -------
    RoleDecision
        ``roles`` maps every speaker to agent or caller; ``confidence`` and ``reasons`` say
        how sure the decision is and why.
    """
    options = options or RoleOptions()
    cues = load_cues(options.cues_path)
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    scores, evidence = _score_speakers(turns, cues, options.language)
    agent: str | None
    if options.agent_speaker is not None:
        agent = options.agent_speaker
        roles = {s: AGENT if s == agent else CALLER for s in speakers}
        roles.setdefault(agent, AGENT)
        reasons = [f"{agent} is the agent by override ({options.override_reason or 'given'})"]
        decision = RoleDecision(agent, roles, 1.0, "override", reasons, scores)
    elif not scores:
        roles = {s: CALLER for s in speakers}
        reasons = ["nobody said anything recognisable: roles unknown (low confidence)"]
        decision = RoleDecision(None, roles, 0.5, "cues", reasons, scores)
    else:
        ranked = sorted(scores, key=lambda s: -scores[s])  # stable: ties go to the first speaker
        top = ranked[0]
        lead = scores[top] - (scores[ranked[1]] if len(ranked) > 1 else 0.0)
        agent = top
        if len(ranked) == 1:
            lead = abs(scores[top])
            agent = top if scores[top] >= 0 else None
        confidence = 1.0 / (1.0 + math.exp(-lead / cues.scale))
        roles = {s: AGENT if s == agent else CALLER for s in speakers}
        found = sorted((e for s in scores for e in evidence[s]), key=lambda e: -e[0])
        reasons = [text for _, text in found]
        if agent is not None:
            reasons.insert(0, f"{agent} is the agent: score {scores[agent]:+.1f}, lead {lead:.1f}")
        decision = RoleDecision(agent, roles, confidence, "cues", reasons, scores)
        if decision.low_confidence:
            decision.reasons.insert(
                0,
                f"low confidence ({confidence:.2f}): few role cues; check the roles or set the "
                "agent channel / speaker by hand",
            )
    if options.swap:
        decision.roles = _swap(decision.roles)
        agents = [s for s, r in decision.roles.items() if r == AGENT]
        decision.agent = agents[0] if len(agents) == 1 else None
        decision.reasons.insert(0, "roles swapped by the user")
    return decision
