"""How the two parties talked: talk time, silence, interruptions, monologues, pace, latency.

Definitions follow AWS Transcribe Call Analytics (talk time, non-talk time, interruptions,
talk speed) and Google CCAI Insights (silence of 5 s or more); they are written out in the
README ("Speakers, roles and talk metrics"). Everything here is computed from timed turns
(:class:`callscan.conversation.Turn`), so it runs on any conversation with times.

A *party* is a turn's role (agent, caller) when known, else its speaker label.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any

from callscan.util import merge_spans

__all__ = ["TalkMetrics", "TalkMetricsOptions", "PartyMetrics", "count_syllables", "talk_metrics"]

BACKCHANNEL_WORDS = (
    "iya ya yah iyah he eh em hm hmm mm mhm uh huh uhuh oh oke ok okay okey baik sip betul "
    "yes yeah yep right sure"
).split()


@dataclass(frozen=True)
class TalkMetricsOptions:
    """Thresholds of the talk metrics."""

    silence_threshold_s: float = 5.0  # a gap with nobody talking this long is non-talk time
    interruption_min_overlap_s: float = 0.5  # overlap needed for a new turn to interrupt
    mid_utterance_s: float = 0.5  # ... and the other party must have been talking this long
    backchannel_max_s: float = 0.3  # a turn this short never interrupts ("iya", "hmm")
    backchannel_words: tuple[str, ...] = tuple(BACKCHANNEL_WORDS)  # words of feedback turns
    backchannel_words_max_s: float = 1.0  # a turn of only these words up to this long is feedback
    language: str = "id"  # "id" or "en": how syllables are counted


@dataclass
class PartyMetrics:
    """One party's share of the conversation."""

    talk_time_s: float  # union of the party's turns
    talk_pct: float  # talk time as % of the call's duration
    n_turns: int  # turns
    n_words: int  # words spoken
    n_syllables: int  # syllables of those words (see count_syllables)
    words_per_minute: float  # n_words per minute of talk time
    syllables_per_s: float  # n_syllables per second of talk time
    longest_monologue_s: float  # longest run of the party's turns with no reply in between
    interruptions: int  # times this party interrupted another
    interruption_time_s: float  # overlap of those interruptions
    response_latency_median_s: float | None  # median gap before this party replied
    response_latency_mean_s: float | None  # mean gap before this party replied

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


@dataclass
class TalkMetrics:
    """Talk metrics of one call."""

    duration_s: float  # of the call
    parties: dict[str, PartyMetrics]  # party -> its metrics
    talk_ratio: float | None  # agent talk time / caller talk time (None without both)
    non_talk: list[tuple[float, float]]  # (start_s, end_s) of silences >= the threshold
    non_talk_time_s: float  # their total
    interruptions: list[dict[str, Any]] = field(default_factory=list)  # each one, in time order
    interruption_time_s: float = 0.0  # total overlap of all interruptions
    response_latency_median_s: float | None = None  # over every reply, either party
    response_latency_mean_s: float | None = None
    options: TalkMetricsOptions = field(default_factory=TalkMetricsOptions)  # thresholds used

    @property
    def non_talk_pct(self) -> float:
        return 100.0 * self.non_talk_time_s / self.duration_s if self.duration_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        r = _round
        return {
            "duration_s": r(self.duration_s),
            "talk_ratio": r(self.talk_ratio),
            "parties": {k: v.to_dict() for k, v in self.parties.items()},
            "non_talk": {
                "threshold_s": self.options.silence_threshold_s,
                "count": len(self.non_talk),
                "total_s": r(self.non_talk_time_s),
                "pct": r(self.non_talk_pct),
                "instances": [{"start_s": r(a), "end_s": r(b)} for a, b in self.non_talk],
            },
            "interruptions": {
                "min_overlap_s": self.options.interruption_min_overlap_s,
                "count": len(self.interruptions),
                "total_s": r(self.interruption_time_s),
                "instances": [{k: r(v) for k, v in i.items()} for i in self.interruptions],
            },
            "response_latency": {
                "median_s": r(self.response_latency_median_s),
                "mean_s": r(self.response_latency_mean_s),
            },
        }


def _round(x):
    return round(x, 3) if isinstance(x, float) else x


_ID_DIPHTHONG = re.compile(r"ai|au|oi|ei")
_ID_VOWEL = re.compile(r"[aiueo]")
_EN_GROUP = re.compile(r"[aeiouy]+")


def count_syllables(word: str, language: str = "id") -> int:
    """Syllables of one word (0 for a word without letters).

    Indonesian: one per vowel letter, with the diphthongs ai, au, oi, ei counted once
    (spelling maps almost one to one onto syllable nuclei). English: groups of vowel letters,
    less a silent final ``e``, at least one.
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    if language == "en":
        n = len(_EN_GROUP.findall(w))
        if w.endswith("e") and not w.endswith(("le", "ee")) and n > 1:
            n -= 1
        return max(1, n)
    n = len(_ID_VOWEL.findall(w)) - len(_ID_DIPHTHONG.findall(w))
    return max(1, n)


def _party(turn) -> str:
    return turn.role if turn.role in ("agent", "caller") else (turn.speaker or "unknown")


def _words(turn) -> list[str]:
    return [w.text for w in turn.words] if turn.words else turn.text.split()


def _is_backchannel(turn, options: TalkMetricsOptions) -> bool:
    length = turn.end_s - turn.start_s
    if length < options.backchannel_max_s:
        return True
    words = [re.sub(r"[^\w]", "", w.lower()) for w in _words(turn)]
    words = [w for w in words if w]
    feedback = bool(words) and all(w in options.backchannel_words for w in words)
    return feedback and length <= options.backchannel_words_max_s


def _stats(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return float(statistics.median(values)), float(statistics.fmean(values))


def talk_metrics(
    turns, duration_s: float, options: TalkMetricsOptions | None = None
) -> TalkMetrics:
    """Measure how the parties talked.

    Parameters
    ----------
    turns : list of callscan.conversation.Turn
        Timed turns (``start_s``/``end_s`` set; untimed turns are ignored), any order;
        overlaps allowed.
    duration_s : float
        Length of the call, in seconds.
    options : TalkMetricsOptions, optional
        Thresholds.

    Returns
    -------
    TalkMetrics
        Per-party talk time, pace, monologue, interruptions and latency, and call totals.
    """
    options = options or TalkMetricsOptions()
    timed = sorted(
        (t for t in turns if t.start_s is not None and t.end_s is not None and t.end_s > t.start_s),
        key=lambda t: (t.start_s, t.end_s),
    )
    found = list(dict.fromkeys(_party(t) for t in timed))
    parties = [p for p in ("agent", "caller") if p in found] + [
        p for p in found if p not in ("agent", "caller")
    ]
    feedback = {id(t): _is_backchannel(t, options) for t in timed}

    # Non-talk: gaps of the union of everyone's speech, including before the first turn and
    # after the last one.
    talk = merge_spans([(t.start_s, t.end_s) for t in timed], drop_empty=False)
    edges = [0.0] + [x for span in talk for x in span] + [duration_s]
    gaps = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
    non_talk = [(a, b) for a, b in gaps if b - a >= options.silence_threshold_s]

    # Interruptions: a non-feedback turn starting while another party's turn is under way,
    # overlapping it by at least the threshold.
    # One sweep in start order: only the turns still under way when t starts can be cut into
    # (linear in the number of turns for ordinary overlap).
    interruptions = []
    active: list = []  # earlier turns, in start order, not yet ended
    for t in timed:
        active = [u for u in active if u.end_s > t.start_s]
        candidates, active = active, [*active, t]
        if feedback[id(t)]:
            continue
        for u in candidates:
            if _party(u) == _party(t) or not (u.start_s < t.start_s < u.end_s):
                continue
            if t.start_s - u.start_s < options.mid_utterance_s:  # a joint start, not a cut-in
                continue
            overlap = min(t.end_s, u.end_s) - t.start_s
            if overlap >= options.interruption_min_overlap_s:
                interruptions.append(
                    {
                        "interrupter": _party(t),
                        "interrupted": _party(u),
                        "start_s": t.start_s,
                        "overlap_s": overlap,
                    }
                )
                break

    # Response latency: from the end of the latest-ending turn to the start of the next
    # party's turn, when they do not overlap and the party changes.
    latencies: dict[str, list[float]] = {p: [] for p in parties}
    last = None
    for t in timed:
        if feedback[id(t)]:
            continue
        if last is not None and _party(last) != _party(t) and t.start_s >= last.end_s:
            latencies[_party(t)].append(t.start_s - last.end_s)
        if last is None or t.end_s > last.end_s:
            last = t

    result = {}
    for p in parties:
        mine = [t for t in timed if _party(t) == p]
        talk_s = sum(
            b - a for a, b in merge_spans([(t.start_s, t.end_s) for t in mine], drop_empty=False)
        )
        words = [w for t in mine for w in _words(t)]
        syllables = sum(count_syllables(w, options.language) for w in words)
        median, mean = _stats(latencies[p])
        made = [i for i in interruptions if i["interrupter"] == p]
        result[p] = PartyMetrics(
            talk_time_s=talk_s,
            talk_pct=100.0 * talk_s / duration_s if duration_s else 0.0,
            n_turns=len(mine),
            n_words=len(words),
            n_syllables=syllables,
            words_per_minute=60.0 * len(words) / talk_s if talk_s else 0.0,
            syllables_per_s=syllables / talk_s if talk_s else 0.0,
            longest_monologue_s=_longest_monologue(p, timed, feedback, options),
            interruptions=len(made),
            interruption_time_s=float(sum(i["overlap_s"] for i in made)),
            response_latency_median_s=median,
            response_latency_mean_s=mean,
        )
    agent, caller = result.get("agent"), result.get("caller")
    ratio = (
        agent.talk_time_s / caller.talk_time_s if agent and caller and caller.talk_time_s else None
    )
    median, mean = _stats([x for v in latencies.values() for x in v])
    return TalkMetrics(
        duration_s=duration_s,
        parties=result,
        talk_ratio=ratio,
        non_talk=non_talk,
        non_talk_time_s=float(sum(b - a for a, b in non_talk)),
        interruptions=interruptions,
        interruption_time_s=float(sum(i["overlap_s"] for i in interruptions)),
        response_latency_median_s=median,
        response_latency_mean_s=mean,
        options=options,
    )


def _longest_monologue(party: str, timed, feedback, options: TalkMetricsOptions) -> float:
    """Longest run of the party's turns that no other party's (non-feedback) turn starts
    inside, and that no non-talk silence splits; start of its first turn to end of its last."""
    best = 0.0
    start = end = None
    for t in timed:
        if _party(t) == party:
            if start is not None and t.start_s - end >= options.silence_threshold_s:
                start = None
            if start is None:
                start, end = t.start_s, t.end_s
            end = max(end, t.end_s)
            best = max(best, end - start)
        elif not feedback[id(t)] and start is not None:
            start = None  # the other party took the floor
    return best
