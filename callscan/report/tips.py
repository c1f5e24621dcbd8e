"""The agent's three most useful tips, drawn from a report's findings, in the call's language.

Every finding that suggests a change is a candidate: a missing or late stage, a failed conduct
rule (quoting what was said), the agent's interruptions and longest monologue, a weak opening
measure, and a missed match of the caller's sensory modality. Each gets a priority (the
finding's playbook or profile weight times how far off it is, times how much the kind matters
to the caller); the highest come first, at most :data:`MAX_PER_KIND` of one kind, so three tips
cover different things. Each tip names the moment in the call when there is one, and quotes
the words said there.

Tips agree with the scores: an opening measure scoring :data:`PRAISE_MIN` or more is praised,
never corrected, and one gives a tip only below :data:`MIN_SUB_SCORE`. A finding whose status
is ``unclear`` (the words where it belongs were not heard well enough) is not known, so it
gives no tip. :func:`strengths` lists what went well, which the agent's page opens with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from callscan.report.data import (
    Labels,
    clock,
    fmt_num,
    fmt_range,
    note_text,
    stage_evidence,
    talk_metrics,
    turn_start,
    turns,
    ui_language,
    unit,
)

N_TIPS = 3  # tips shown first on the agent's page
N_STRENGTHS = 3  # things that went well, shown before the tips
MAX_PER_KIND = 2  # at most this many tips of one kind among them
# An opening measure below this sub-score gives a tip. The profile's anchors put 60 at the edge
# of the ordinary range (e.g. intonation: Hincks' least lively speaker); between 60 and 80 the
# measure table still shows the measure's own advice.
MIN_SUB_SCORE = 60.0
PRAISE_MIN = 80.0  # a measure scoring this or more is praised, never corrected
UNCLEAR = "unclear"  # a finding that is not known: never the ground of a tip
QUOTE_CHARS = 90  # a quoted moment is cut to this many characters
# The moment a failed "required" rule is about: the agent's first or last turn
RULE_MOMENT = {"scripted_greeting": "first", "farewell": "last"}
MONOLOGUE_S = 60.0  # s, an agent monologue this long gives a tip
# How much each kind of finding matters, before its own weight (relative, unitless)
KIND_WEIGHT = {
    "conduct": 1.3,  # something said that should not have been
    "stage": 1.0,  # a missing required step
    "rapport": 0.7,
    "interruption": 0.6,
    "opening": 0.9,
    "stage_order": 0.5,
    "monologue": 0.4,
}


@dataclass
class Tip:
    """One piece of advice for the agent."""

    kind: (
        str  # "conduct", "stage", "stage_order", "opening", "interruption", "monologue", "rapport"
    )
    source: str  # the stage, rule or measure id it comes from
    text: str  # the advice, in the call's language
    priority: float  # higher first
    at_s: float | None = None  # the moment in the call, when there is one
    turn: int | None = None  # the turn it refers to, when there is one
    quote: str = ""  # the words said at that moment, when there are some

    def to_dict(self) -> dict:
        d = asdict(self)
        d["priority"] = round(self.priority, 3)
        return d


@dataclass
class Strength:
    """One thing that went well, for the top of the agent's page."""

    kind: str  # "stage", "conduct", "opening", "rapport"
    source: str  # the stage, rule or measure id it comes from
    text: str  # the praise, in the call's language
    score: float  # 0-100, higher first
    at_s: float | None = None
    turn: int | None = None
    quote: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["score"] = round(self.score, 1)
        return d


def _cut(text: str | None) -> str:
    """``text`` on one line, at most ``QUOTE_CHARS`` long: a longer one cut after its last
    whole word that fits, with "…" (a word cut in half reads as another word: "s…")."""
    text = " ".join(str(text or "").split())
    if len(text) <= QUOTE_CHARS:
        return text
    head = text[: QUOTE_CHARS - 1]
    if not text[QUOTE_CHARS - 1].isspace() and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + "…"


def _turn(report: dict, index: int | None) -> dict | None:
    if index is None:
        return None
    return next((t for t in turns(report) if t.get("index") == index), None)


def _agent_turn(report: dict, which: str) -> dict | None:
    """The agent's first or last turn."""
    mine = [t for t in turns(report) if t.get("role") == "agent"]
    if not mine:
        return None
    return mine[0] if which == "first" else mine[-1]


def _agent_turn_at(report: dict, at_s: float | None) -> dict | None:
    """The agent's turn that covers (or starts nearest after) ``at_s``."""
    if at_s is None:
        return None
    mine = [t for t in turns(report) if t.get("role") == "agent" and t.get("start_s") is not None]
    for t in mine:
        if t["start_s"] - 0.05 <= at_s <= (t.get("end_s") or t["start_s"]) + 0.05:
            return t
    later = [t for t in mine if t["start_s"] >= at_s]
    return later[0] if later else None


def _moment(turn: dict | None) -> tuple[float | None, int | None, str]:
    if turn is None:
        return None, None, ""
    return turn.get("start_s"), turn.get("index"), _cut(turn.get("text"))


def _missing_stage_moment(report: dict, stages: list[dict], i: int) -> dict | None:
    """Where a missing stage belonged: the agent's first turn for the first stage of its group,
    the last for the last one, else the turn of what was heard of it (none: no moment)."""
    group = stages[i].get("group")
    same = [s for s in stages if s.get("group") == group]
    if same and same[0] is stages[i]:
        return _agent_turn(report, "first")
    if same and same[-1] is stages[i]:
        return _agent_turn(report, "last")
    heard = stage_evidence(stages[i])
    return _turn(report, heard[0].get("turn")) if heard else None


def _stage_tips(report: dict, L: Labels) -> list[Tip]:
    out = []
    stages = list((report.get("stages") or {}).get("stages") or [])
    for i, s in enumerate(stages):
        if s.get("status") == UNCLEAR:
            continue  # not known: no tip
        name, advice = L("stages", s["id"]), L("stage_advice", s["id"])
        w = float(s.get("weight") or 1.0)
        if s["status"] == "absent" and s.get("required"):
            at, turn, quote = _moment(_missing_stage_moment(report, stages, i))
            out.append(Tip("stage", s["id"], L("tips", "stage_missing", stage=name, advice=advice),
                           w * KIND_WEIGHT["stage"], at, turn, quote))  # fmt: skip
        elif s["status"] in ("out_of_order", "late"):
            turn = s.get("turn")
            text = L("tips", "stage_order", stage=name, turn=(turn or 0) + 1, advice=advice)
            _, _, quote = _moment(_turn(report, turn))
            out.append(Tip("stage_order", s["id"], text, w * KIND_WEIGHT["stage_order"],
                           turn_start(report, turn), turn, quote))  # fmt: skip
    return out


def _rule_tips(report: dict, L: Labels) -> list[Tip]:
    out = []
    for r in (report.get("stages") or {}).get("rules") or []:
        if r.get("status") != "fail":
            continue  # pass, n/a, or unclear (not known): no tip
        name, advice = L("rules", r["id"]), L("rule_advice", r["id"])
        w = float(r.get("weight") or 1.0) * KIND_WEIGHT["conduct"]
        hits = [h for h in r.get("hits") or [] if h.get("speaker") in ("agent", None, "")]
        hits = hits or list(r.get("hits") or [])
        if hits and r.get("kind") in ("forbidden", "max_count", "before"):
            h = hits[-1] if r.get("kind") == "max_count" else hits[0]
            at = h.get("start_s")
            if at is None:
                at = turn_start(report, h.get("turn"))
            where = clock(at) if at is not None else f"{L('ui', 'turn')} {(h.get('turn') or 0) + 1}"
            text = L("tips", "rule_hit", rule=name, at=where, text=h.get("text", ""), advice=advice)
            out.append(Tip("conduct", r["id"], text, w, at, h.get("turn"), _cut(h.get("text"))))
        else:
            w *= 0.8  # something missing weighs a little less than something said
            status = note_text(L, r.get("note")) or L("status", "absent")
            text = L("tips", "rule_fail", rule=name, status=status, advice=advice)
            which = RULE_MOMENT.get(r["id"])
            at, turn, quote = _moment(_agent_turn(report, which) if which else None)
            out.append(Tip("conduct", r["id"], text, w, at, turn, quote))
    return out


def _opening_tips(report: dict, L: Labels) -> list[Tip]:
    opening = report.get("opening") or {}
    if opening.get("status") != "ok":
        return []
    start = (opening.get("window") or {}).get("start_s")
    at, turn, quote = _moment(_agent_turn_at(report, start) or _agent_turn(report, "first"))
    out = []
    for group in ("tone", "clarity"):
        for m in (opening.get(group) or {}).get("measures") or []:
            sub = m.get("sub_score")
            if sub is None or sub >= min(MIN_SUB_SCORE, PRAISE_MIN) or not m.get("tip"):
                continue
            value = f"{fmt_num(m.get('value'))} {unit(L, m.get('unit'))}".strip()
            text = L("tips", "opening_measure", name=m["name"].lower(), value=value,
                     target=fmt_range(m.get("target_range")), tip=m["tip"])  # fmt: skip
            # a measure's weight is its share of a 0-100 score: scale to a stage's ~1.0
            prio = 4.0 * float(m.get("weight") or 0) * (100.0 - sub) / 100.0
            out.append(Tip("opening", m["id"], text, prio * KIND_WEIGHT["opening"],
                           at if at is not None else start, turn, quote))  # fmt: skip
    return out


def _talk_tips(report: dict, L: Labels) -> list[Tip]:
    metrics = talk_metrics(report) or {}
    out = []
    mine = [
        i
        for i in (metrics.get("interruptions") or {}).get("instances") or []
        if i.get("interrupter") == "agent"
    ]
    if mine:
        first = mine[0]
        text = L("tips", "interruption", at=clock(first["start_s"]),
                 overlap=fmt_num(first.get("overlap_s")))  # fmt: skip
        prio = KIND_WEIGHT["interruption"] * (1.0 + 0.25 * (len(mine) - 1))
        _, turn, quote = _moment(_agent_turn_at(report, first["start_s"]))
        out.append(Tip("interruption", "interruptions", text, prio, first["start_s"], turn, quote))
    agent = (metrics.get("parties") or {}).get("agent") or {}
    mono = agent.get("longest_monologue_s") or 0.0
    if mono >= MONOLOGUE_S:
        start = _monologue_start(report, mono)
        text = L("tips", "monologue", s=fmt_num(mono, 0), at=clock(start))
        _, turn, quote = _moment(_agent_turn_at(report, start))
        out.append(Tip("monologue", "longest_monologue", text,
                       KIND_WEIGHT["monologue"] * mono / MONOLOGUE_S, start, turn, quote))  # fmt: skip
    return out


def _monologue_start(report: dict, length_s: float) -> float | None:
    """Start of the agent's run of turns whose span is closest to ``length_s``."""
    best, best_err = None, None
    ts = [
        t
        for t in (report.get("conversation") or {}).get("turns", [])
        if t.get("start_s") is not None
    ]
    for i, t in enumerate(ts):
        if t["role"] != "agent" or (i and ts[i - 1]["role"] == "agent"):
            continue
        j = i
        while j + 1 < len(ts) and ts[j + 1]["role"] == "agent":
            j += 1
        err = abs((ts[j]["end_s"] - t["start_s"]) - length_s)
        if best_err is None or err < best_err:
            best, best_err = t["start_s"], err
    return best


def _rapport_tips(report: dict, L: Labels) -> list[Tip]:
    modality = report.get("modality") or {}
    rapport = modality.get("rapport") or {}
    advice = list(modality.get("advice") or [])
    if rapport.get("matched") is False and advice:
        turn = rapport.get("caller_first_turn")
        conf = float((modality.get("caller") or {}).get("confidence") or 0.0)
        evidence = [e for e in (modality.get("caller") or {}).get("evidence") or []
                    if not e.get("negated")]  # fmt: skip
        quote = _cut(evidence[0].get("text")) if evidence else _moment(_turn(report, turn))[2]
        return [Tip("rapport", "modality", L("tips", "modality", advice=advice[0]),
                    KIND_WEIGHT["rapport"] * (0.5 + conf), turn_start(report, turn), turn, quote)]  # fmt: skip
    return []


def all_tips(report: dict) -> list[Tip]:
    """Every candidate tip of a report, highest priority first."""
    L = Labels(ui_language(report))
    tips = (
        _rule_tips(report, L)
        + _stage_tips(report, L)
        + _opening_tips(report, L)
        + _talk_tips(report, L)
        + _rapport_tips(report, L)
    )
    return sorted(tips, key=lambda t: -t.priority)


def top_tips(report: dict, n: int = N_TIPS) -> list[Tip]:
    """The ``n`` most useful tips, at most :data:`MAX_PER_KIND` of one kind (kind order kept)."""
    out: list[Tip] = []
    count: dict[str, int] = {}
    for tip in all_tips(report):
        kind = "stage" if tip.kind == "stage_order" else tip.kind
        if count.get(kind, 0) >= MAX_PER_KIND:
            continue
        count[kind] = count.get(kind, 0) + 1
        out.append(tip)
        if len(out) == n:
            break
    return out


def _stage_strengths(report: dict, L: Labels) -> list[Strength]:
    out = []
    for s in (report.get("stages") or {}).get("stages") or []:
        if s.get("status") != "present":
            continue
        ev = stage_evidence(s)
        first = ev[0] if ev else {}
        at = first.get("start_s")
        if at is None:
            at = turn_start(report, first.get("turn", s.get("turn")))
        quote = _cut(first.get("text"))
        shown = f" — “{quote}”" if quote else ""
        text = L("praise", "stage", stage=L("stages", s["id"]), quote=shown)
        score = 100.0 if s.get("required") else 90.0
        out.append(
            Strength("stage", s["id"], text, score, at, first.get("turn", s.get("turn")), quote)
        )
    return out


def _conduct_strengths(report: dict, L: Labels) -> list[Strength]:
    rules = [r for r in (report.get("stages") or {}).get("rules") or []
             if r.get("status") in ("pass", "fail")]  # fmt: skip
    if not rules or any(r["status"] == "fail" for r in rules):
        return []
    return [Strength("conduct", "conduct", L("praise", "conduct", n=len(rules)), 100.0)]


def _ok_tip(report: dict, group: str, measure_id: str, fallback: str) -> str:
    """A measure's praise from its profile (a stored report may carry an older tip)."""
    from pathlib import Path

    from callscan.analysis.opening.profile import load_profile

    opening = report.get("opening") or {}
    path = opening.get("profile") or None
    try:
        profile = load_profile(path if path and Path(path).is_file() else None)
        return profile.measures[group][measure_id].tip("ok", ui_language(report)) or fallback
    except Exception:  # a profile that cannot be read: the report's own words
        return fallback


def _opening_strengths(report: dict, L: Labels) -> list[Strength]:
    opening = report.get("opening") or {}
    if opening.get("status") != "ok":
        return []
    start = (opening.get("window") or {}).get("start_s")
    at, turn, _ = _moment(_agent_turn_at(report, start) or _agent_turn(report, "first"))
    out = []
    for group in ("tone", "clarity"):
        measures = (opening.get(group) or {}).get("measures") or []
        for m in sorted(measures, key=lambda m: -float(m.get("weight") or 0)):
            sub = m.get("sub_score")
            if sub is None or sub < PRAISE_MIN:
                continue
            value = f"{fmt_num(m.get('value'))} {unit(L, m.get('unit'))}".strip()
            tip = _ok_tip(report, group, m["id"], m.get("tip") or "")
            text = L("praise", "opening_measure", name=m["name"], value=value, tip=tip)
            score = float(sub)
            out.append(Strength("opening", m["id"], text, score,
                                at if at is not None else start, turn))  # fmt: skip
    return out


def _rapport_strengths(report: dict, L: Labels) -> list[Strength]:
    modality = report.get("modality") or {}
    caller = modality.get("caller") or {}
    if (modality.get("rapport") or {}).get("matched") is not True or not caller.get("leading"):
        return []
    text = L("praise", "rapport", modality=L("modality", caller["leading"]))
    return [Strength("rapport", "modality", text, 100.0 * float(caller.get("confidence") or 0))]


KIND_ORDER = ("stage", "conduct", "opening", "rapport")  # ties: a stage before a measure


def all_strengths(report: dict) -> list[Strength]:
    """Everything that went well: stages heard, no conduct slip, opening measures scoring
    :data:`PRAISE_MIN` or more, a matched modality; highest score first."""
    L = Labels(ui_language(report))
    found = (
        _stage_strengths(report, L)
        + _conduct_strengths(report, L)
        + _opening_strengths(report, L)
        + _rapport_strengths(report, L)
    )
    return sorted(found, key=lambda s: (-round(s.score), KIND_ORDER.index(s.kind)))


def strengths(report: dict, n: int = N_STRENGTHS) -> list[Strength]:
    """The ``n`` things that went best, of as many different kinds as there are."""
    ranked = all_strengths(report)
    out: list[Strength] = []
    for pick_new_kind in (True, False):
        for s in ranked:
            if len(out) == n:
                return out
            if s in out or (pick_new_kind and any(o.kind == s.kind for o in out)):
                continue
            out.append(s)
    return out
