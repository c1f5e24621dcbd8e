"""The report as Markdown, short enough to paste into a ticket.

Headline scores, the top tips, failing stages and conduct flags with quoted evidence, the
opening's weak measures and the talk metrics. Text from the call is untrusted: Markdown and
HTML special characters are escaped (:func:`md_escape`), so a transcript cannot inject links,
images or HTML into the ticket.
"""

from __future__ import annotations

import os
import re

from callscan.report import data as rd
from callscan.report.data import Labels, clock, fmt_num, fmt_range, note_text, seconds, unit
from callscan.report.tips import Strength, Tip, strengths, top_tips

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # emphasis, code, links/images, table cells


def md_escape(text) -> str:
    """Escape ``text`` for Markdown and HTML: entities for ``& < >``, a backslash before the rest."""
    s = str("" if text is None else text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return " ".join(s.split())  # no line breaks inside table cells or list items


def _ev(e: dict, L: Labels, report: dict, turn_key: str = "turn") -> str:
    start = e.get("start_s")
    if start is None:
        start = rd.turn_start(report, e.get(turn_key))
    turn = e.get(turn_key)
    when = (
        clock(start)
        if start is not None
        else (f"{L('ui', 'turn')} {turn + 1}" if isinstance(turn, int) else "")
    )
    return (
        f"“{md_escape(e.get('text'))}” ({md_escape(when)})"
        if when
        else f"“{md_escape(e.get('text'))}”"
    )


def _moment(item: Tip | Strength, L: Labels) -> str:
    """``(0:12, “words said”)`` before a tip or strength, when it has a moment."""
    parts = []
    if item.at_s is not None:
        parts.append(clock(item.at_s))
    elif item.turn is not None:
        parts.append(f"{L('ui', 'turn')} {item.turn + 1}")
    if item.quote and item.quote not in item.text:
        parts.append(f"“{md_escape(item.quote)}”")
    return f"({', '.join(parts)}) " if parts else ""


def render_md(report: dict, *, audience: str = "supervisor") -> str:
    """The report as Markdown (GitHub/Jira-compatible tables)."""
    L = Labels(rd.ui_language(report))
    ov = rd.overall(report)
    r = rd.roles(report)
    dur = rd.duration_s(report)
    name = os.path.basename(str(report.get("source") or ""))
    title = L("ui", "self_review" if audience == "agent" else "title")
    out = [f"## {md_escape(title)}: {md_escape(name)}", ""]
    conf = (
        f", {L('ui', 'role_confidence')} {100 * r['confidence']:.0f}%"
        if r["confidence"] is not None
        else ""
    )
    out.append(f"{md_escape(L('ui', 'duration'))} {clock(dur) or '–'} · {md_escape(L('ui', 'language'))} "
               f"{md_escape(report.get('language'))} · {md_escape(L('ui', 'call_type'))} {md_escape(L('call_types', ov['call_type']))} · "
               f"{md_escape(L('ui', 'agent'))} {md_escape(r['agent'])}, {md_escape(L('ui', 'caller'))} "
               f"{md_escape(r['caller'])}{md_escape(conf)}")  # fmt: skip
    out += ["", f"| {L('ui', 'tone')} | {L('ui', 'clarity')} | {L('ui', 'stages_score')} | "
                f"{L('ui', 'conduct')} | {L('ui', 'caller_modality')} |", "|---|---|---|---|---|",
            f"| {fmt_num(ov['tone'], 0)} | {fmt_num(ov['clarity'], 0)} | {fmt_num(ov['stages_percent'], 0)}% | "
            f"{ov['conduct_checked'] - ov['conduct_failed']}/{ov['conduct_checked']} | "
            f"{md_escape(L('modality', ov['caller_modality'] or 'undetermined'))} |", ""]  # fmt: skip

    if audience == "agent":  # the agent's page opens with what went well
        found = strengths(report)
        out.append(f"### {md_escape(L('ui', 'strengths'))}")
        out += [f"- {_moment(s, L)}{md_escape(s.text)}" for s in found] or [
            md_escape(L("ui", "strengths_none"))
        ]
        out.append("")
    tips = top_tips(report)
    out.append(f"### {md_escape(L('ui', 'tips'))}")
    out += [f"{i}. {_moment(t, L)}{md_escape(t.text)}" for i, t in enumerate(tips, 1)] or [
        md_escape(L("ui", "tips_none"))
    ]
    out.append("")

    stages = (report.get("stages") or {}).get("stages") or []
    out += [
        f"### {md_escape(L('ui', 'stages'))}",
        "",
        f"| {L('ui', 'stage')} | {L('ui', 'status')} | {L('ui', 'evidence')} |",
        "|---|---|---|",
    ]
    for s in stages:
        if s["status"] == "n/a":
            continue
        ev = "; ".join(_ev(e, L, report) for e in rd.stage_evidence(s)[:3])
        out.append(
            f"| {md_escape(L('stages', s['id']))} | {md_escape(L('status', s['status']))} | {ev} |"
        )
    out.append("")

    failed = [x for x in rd.conduct_rules(report) if x["status"] == "fail"]
    out.append(f"### {md_escape(L('ui', 'conduct_flags'))}")
    for x in failed:
        ev = "; ".join(_ev(e, L, report) for e in (x.get("hits") or [])[:3])
        note = md_escape(note_text(L, x.get("note")))
        out.append(f"- **{md_escape(L('rules', x['id']))}**: {note}{' — ' + ev if ev else ''}")
    if not failed:
        out.append(f"- {md_escape(L('status', 'pass'))} ({len(rd.conduct_rules(report))})")
    out.append("")

    opening = report.get("opening") or {}
    if opening.get("status") == "ok":
        out += [f"### {md_escape(L('ui', 'opening'))}", "", f"| {L('ui', 'measure')} | {L('ui', 'value')} | "
                f"{L('ui', 'target')} | {L('ui', 'sub_score')} |", "|---|---|---|---|"]  # fmt: skip
        for group in ("tone", "clarity"):
            for m in (opening.get(group) or {}).get("measures") or []:
                out.append(f"| {md_escape(m['name'])} | {fmt_num(m.get('value'), 2)} {md_escape(unit(L, m.get('unit')))} | "
                           f"{md_escape(fmt_range(m.get('target_range')))} | {fmt_num(m.get('sub_score'), 0)} |")  # fmt: skip
        out.append("")

    mod = report.get("modality") or {}
    caller = mod.get("caller") or {}
    out.append(f"### {md_escape(L('ui', 'modality'))}")
    out.append(f"{md_escape(L('ui', 'leading'))}: **{md_escape(L('modality', caller.get('leading')))}** "
               f"({md_escape(L('ui', 'confidence'))} {100 * float(caller.get('confidence') or 0):.0f}%). "
               + " ".join(md_escape(a) for a in mod.get("advice") or []))  # fmt: skip
    ev = "; ".join(_ev(e, L, report, "turn_index") for e in (caller.get("evidence") or [])[:5])
    if ev:
        out.append(f"{md_escape(L('ui', 'evidence'))}: {ev}")
    out.append("")

    m = rd.talk_metrics(report)
    if m:
        out += [f"### {md_escape(L('ui', 'metrics'))}", "", f"| {L('ui', 'party')} | {L('ui', 'talk_time')} | "
                f"{L('ui', 'talk_pct')} | {L('ui', 'wpm')} | {L('ui', 'monologue')} | {L('ui', 'interruptions')} |",
                "|---|---|---|---|---|---|"]  # fmt: skip
        for party, p in (m.get("parties") or {}).items():
            out.append(f"| {md_escape(L('ui', party) if party in ('agent', 'caller') else party)} | "
                       f"{seconds(L, p.get('talk_time_s'))} | {fmt_num(p.get('talk_pct'))} | "
                       f"{fmt_num(p.get('words_per_minute'), 0)} | {seconds(L, p.get('longest_monologue_s'))} | "
                       f"{p.get('interruptions', 0)} |")  # fmt: skip
        nt = m.get("non_talk") or {}
        out += ["", f"{md_escape(L('ui', 'talk_ratio'))}: {fmt_num(m.get('talk_ratio'), 2)} · "
                    f"{md_escape(L('ui', 'non_talk', s=fmt_num(nt.get('threshold_s', 5))))}: "
                    f"{nt.get('count', 0)} ({seconds(L, nt.get('total_s'))})", ""]  # fmt: skip
    out.append(
        f"_{md_escape(L('ui', 'generated', v=report.get('callscan_version', '?'), s=report.get('schema_version', '?')))}_"
    )
    return "\n".join(out) + "\n"
