"""The agent's three most useful tips, drawn from a report's findings, in the call's language.

Every finding that suggests a change is a candidate: a missing or late stage, a failed conduct
rule (quoting what was said), the agent's interruptions and longest monologue, a weak opening
measure, and a missed match of the caller's sensory modality. Each gets a priority (the
finding's playbook or profile weight times how far off it is, times how much the kind matters
to the caller); the highest come first, at most :data:`MAX_PER_KIND` of one kind, so three tips
cover different things. Each tip names the moment in the call when there is one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from callscan.report.data import (
    Labels,
    clock,
    fmt_num,
    fmt_range,
    talk_metrics,
    turn_start,
    ui_language,
)

N_TIPS = 3  # tips shown first on the agent's page
MAX_PER_KIND = 2  # at most this many tips of one kind among them
MIN_SUB_SCORE = 70.0  # an opening measure below this sub-score gives a tip
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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["priority"] = round(self.priority, 3)
        return d


def _stage_tips(report: dict, L: Labels) -> list[Tip]:
    out = []
    for s in (report.get("stages") or {}).get("stages") or []:
        name, advice = L("stages", s["id"]), L("stage_advice", s["id"])
        w = float(s.get("weight") or 1.0)
        if s["status"] == "absent" and s.get("required"):
            at = None
            if s["id"] == "contact":
                at = 0.0
            out.append(Tip("stage", s["id"], L("tips", "stage_missing", stage=name, advice=advice),
                           w * KIND_WEIGHT["stage"], at, None))  # fmt: skip
        elif s["status"] in ("out_of_order", "late"):
            turn = s.get("turn")
            text = L("tips", "stage_order", stage=name, turn=(turn or 0) + 1, advice=advice)
            out.append(Tip("stage_order", s["id"], text, w * KIND_WEIGHT["stage_order"],
                           turn_start(report, turn), turn))  # fmt: skip
    return out


def _rule_tips(report: dict, L: Labels) -> list[Tip]:
    out = []
    for r in (report.get("stages") or {}).get("rules") or []:
        if r.get("status") != "fail":
            continue
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
            out.append(Tip("conduct", r["id"], text, w, at, h.get("turn")))
        else:
            w *= 0.8  # something missing weighs a little less than something said
            text = L("tips", "rule_fail", rule=name, status=L("status", "absent"), advice=advice)
            out.append(Tip("conduct", r["id"], text, w))
    return out


def _opening_tips(report: dict, L: Labels) -> list[Tip]:
    opening = report.get("opening") or {}
    if opening.get("status") != "ok":
        return []
    at = (opening.get("window") or {}).get("start_s")
    out = []
    for group in ("tone", "clarity"):
        for m in (opening.get(group) or {}).get("measures") or []:
            sub = m.get("sub_score")
            if sub is None or sub >= MIN_SUB_SCORE or not m.get("tip"):
                continue
            value = f"{fmt_num(m.get('value'))} {m.get('unit', '')}".strip()
            text = L("tips", "opening_measure", name=m["name"].lower(), value=value,
                     target=fmt_range(m.get("target_range")), tip=m["tip"])  # fmt: skip
            # a measure's weight is its share of a 0-100 score: scale to a stage's ~1.0
            prio = 4.0 * float(m.get("weight") or 0) * (100.0 - sub) / 100.0
            out.append(Tip("opening", m["id"], text, prio * KIND_WEIGHT["opening"], at))
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
        out.append(Tip("interruption", "interruptions", text, prio, first["start_s"]))
    agent = (metrics.get("parties") or {}).get("agent") or {}
    mono = agent.get("longest_monologue_s") or 0.0
    if mono >= MONOLOGUE_S:
        start = _monologue_start(report, mono)
        text = L("tips", "monologue", s=fmt_num(mono, 0), at=clock(start))
        out.append(Tip("monologue", "longest_monologue", text,
                       KIND_WEIGHT["monologue"] * mono / MONOLOGUE_S, start))  # fmt: skip
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
        return [Tip("rapport", "modality", L("tips", "modality", advice=advice[0]),
                    KIND_WEIGHT["rapport"] * (0.5 + conf), turn_start(report, turn), turn)]  # fmt: skip
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
