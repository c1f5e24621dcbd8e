"""Honest statuses: a stage not heard where the recogniser was unsure is ``unclear``, not absent.

A recording's turns carry Whisper's word probabilities. When a stage or complaint step is
``absent`` and the part of the call where it belongs was transcribed with low word confidence,
the missing cue may simply have been garbled ("Nusantara terlegum ... saya mantu"), so the
finding is ``unclear`` and the call is flagged for review:

* where a stage belongs comes from its playbook elements' windows: the agent's opening turns
  for a stage whose elements look at the ``start`` (contact), the last turns for ``end`` /
  ``last_half`` (closing), the speaker's whole call otherwise;
* that part is unclear when at least :data:`MIN_WORDS` of its words carry probabilities and
  a share of at least :data:`UNSURE_SHARE` of them lie below
  :data:`callscan.analysis.fuzzy.UNSURE_PROBABILITY`.

Text transcripts have no word probabilities and never become unclear by it. A stage or step
that applies only because the turn classifier read a caller's turn as a grievance or an
objection (the cues heard none), and was then not heard, is ``unclear`` too: the call may have
had no grievance at all, so its absence is no finding against the agent. An unclear required
stage leaves the scorecard's potential (it is not known, so it is not counted against the
agent); the stages result gets ``needs_review`` and one reason per unclear stage. A
forbidden-words rule (conduct) never fails on words matched only approximately
(:mod:`callscan.analysis.fuzzy`): approximate matches give credit, never blame.

Public API
----------
UNCLEAR
    The status string.
UNSURE_SHARE, MIN_WORDS
    The thresholds.
unsure_share
    Share of unsure words (and their count) in a set of turns.
review
    Turn absent stages in low-confidence parts (or opened only by the classifier) into
    ``unclear`` and flag the result.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from callscan.analysis.fuzzy import UNSURE_PROBABILITY
from callscan.analysis.matching import PreparedCall
from callscan.analysis.playbook import Playbook, Stage
from callscan.conversation import Turn

__all__ = ["MIN_WORDS", "UNCLEAR", "UNSURE_SHARE", "review", "unsure_share"]

UNCLEAR = "unclear"
UNSURE_SHARE = 0.35  # this share of unsure words makes a part of the call unclear
MIN_WORDS = 3  # fewer words with probabilities: nothing to judge
_ABSENT, _PASS, _FAIL = "absent", "pass", "fail"
_END_WINDOWS = ("end", "last_half")


class _Reviewed(Protocol):
    stages: list[Any]
    rules: list[Any]
    score: float
    potential: float
    needs_review: bool
    review_reasons: list[str]


R = TypeVar("R", bound=_Reviewed)


def unsure_share(turns: list[Turn]) -> tuple[float, int]:
    """Share of the turns' words below the unsure probability, and how many words have one."""
    words = [w for t in turns for w in t.words]
    if not words:
        return 0.0, 0
    low = sum(w.probability < UNSURE_PROBABILITY for w in words)
    return low / len(words), len(words)


def _part(call: PreparedCall, stage: Stage) -> tuple[str, list[Turn]]:
    """Where a stage belongs: ("opening" | "end" | "call", its turns)."""
    cues = list(stage.elements.values())
    speaker = cues[0].speaker if cues else "agent"
    windows = {c.window for c in cues} - {"any"}
    found = call.windows[speaker]
    if windows and windows <= {"start"}:
        name, idx = "opening", found["start"]
    elif windows and windows <= set(_END_WINDOWS):
        name, idx = "end", found["end"] | found["last_half"]
    else:
        name, idx = "call", found["any"]
    return name, [call.turns[i] for i in sorted(idx)]


def _unclear(result: _Reviewed, status: Any, reason: str) -> None:
    """An absent stage made ``unclear``: out of the scorecard's potential (it earned nothing
    and is not counted against the agent), the call flagged for review with ``reason``."""
    status.status = UNCLEAR
    if status.required:
        result.potential -= status.weight
    result.needs_review = True
    result.review_reasons.append(f"{status.id}: {reason}")


def review(result: R, call: PreparedCall, playbook: Playbook) -> R:
    """Mark absent stages whose part of the call was transcribed with low confidence as
    ``unclear``, take them out of the scorecard's potential, and flag the result for review.

    Parameters
    ----------
    result : StageResult
        The checked call (changed in place and returned).
    call : PreparedCall
        The prepared call it was checked on (turns with words, windows).
    playbook : Playbook
        The playbook (stage elements give each stage's place in the call).
    """
    spec = {s.id: s for s in playbook.stages}
    for status in result.stages:
        stage = spec.get(status.id)
        if status.status != _ABSENT or stage is None:
            continue
        if status.opened_by is not None:  # it applies only by the classifier's reading
            _unclear(
                result,
                status,
                f"not heard, and only the turn classifier read the caller's turn "
                f"{status.opened_by} as raising it",
            )
            continue
        where, turns = _part(call, stage)
        share, n = unsure_share(turns)
        if n < MIN_WORDS or share < UNSURE_SHARE:
            continue
        heard = f"{share:.0%} of {n} words in the {where} were unsure (probability < "
        heard += f"{UNSURE_PROBABILITY:g})"
        status.note = f"not heard, but {heard}"
        _unclear(result, status, heard)
    _no_fault_from_guesses(result)
    return result


def _no_fault_from_guesses(result: _Reviewed) -> None:
    """A forbidden-words rule never fails on words only matched approximately: a garbled
    "mantu" may be "bantu" as well as the slang "mantul", and a finding against the agent
    must rest on words actually heard."""
    for rule in result.rules:
        guessed = [e for e in rule.hits if e.heard_as]
        if rule.kind != "forbidden" or not guessed:
            continue
        rule.hits = [e for e in rule.hits if not e.heard_as]
        rule.count = max(0, rule.count - len(guessed))
        if rule.status == _FAIL and not rule.count:
            rule.status = _PASS
            rule.note = "only heard approximately: " + "; ".join(e.heard_as for e in guessed)
            result.score += rule.weight
