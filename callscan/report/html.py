"""The HTML report: one self-contained page (inline CSS, a little vanilla JS, inline SVG).

:func:`render_html` turns a report dictionary into a page a supervisor (``audience=
"supervisor"``: every finding) or the agent (``"agent"``: a self-review that starts with
what went well, then at most three tips) reads offline. Every string that comes from the call
(transcript, evidence, names, file name) is untrusted and goes through :func:`html.escape`; data for the script is embedded as
``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as ``\\u003c`` etc.,
so no transcript can close the element or run code. The page loads nothing from the network.
"""

from __future__ import annotations

import json
import os

from callscan.report import data as rd
from callscan.report.data import Labels, clock, esc, fmt_num, fmt_range, note_text, seconds, unit
from callscan.report.svg import opening_plot_svg, timeline_svg
from callscan.report.tips import Strength, Tip, all_tips, strengths, top_tips
from callscan.resources import read_asset
from callscan.util import is_finite

ASSETS = ("report_assets/report.css", "report_assets/report.js")
MODALITIES = ("visual", "auditory", "kinesthetic", "olfactory", "gustatory")


def _csp() -> str:
    """Content policy: nothing from the network, and only callscan's own script runs.

    The script is allowed by its hash, so even a transcript that slipped past escaping could
    not run an inline handler (``onerror=``) or a ``<script>`` of its own.
    """
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(read_asset(ASSETS[1]).encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
        "img-src data:; media-src data:"
    )


def script_json(data) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` left."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _band(score) -> str:
    if not is_finite(score):
        return "na"
    return "good" if score >= 80 else "mid" if score >= 60 else "bad"


def _pct(x) -> str:
    return "–" if not is_finite(x) else f"{100 * float(x):.0f}%"


def _jump(e: dict, L: Labels, report: dict, turn_key: str = "turn") -> str:
    """An evidence link: the quoted text, who said it and when; a click jumps to the line."""
    turn = e.get(turn_key)
    start = e.get("start_s")
    if start is None:
        start = rd.turn_start(report, turn)
    who = e.get("speaker") or e.get("role") or ""
    who = L("ui", who) if who in ("agent", "caller") else who
    when = (
        clock(start)
        if start is not None
        else (f"{L('ui', 'turn')} {turn + 1}" if isinstance(turn, int) else "")
    )
    attrs = ""
    if isinstance(turn, int):
        attrs += f' href="#t-{turn}" data-turn="{turn}"'
    if start is not None:
        attrs += f' data-t="{float(start):.3f}"'
    meta = " · ".join(x for x in (esc(who), when) if x)
    return f'<a class="ev"{attrs}>“{esc(e.get("text", ""))}”</a><span class="meta">{meta}</span>'


def _header(report: dict, L: Labels, audience: str) -> str:
    ov = rd.overall(report)
    roles = rd.roles(report)
    dur = rd.duration_s(report)
    title = L("ui", "self_review" if audience == "agent" else "title")
    name = os.path.basename(str(report.get("source") or "")) or "–"
    if report.get("speakers"):
        method = L("role_methods", roles["method"])
        conf = f"{L('ui', 'role_confidence')} {_pct(roles['confidence'])} ({esc(method)})"
        low = ' <span class="badge bad">?</span>' if roles["low_confidence"] else ""
    else:
        conf, low = esc(L("ui", "roles_from_text")), ""
    facts = [
        (L("ui", "file"), esc(name)),
        (L("ui", "duration"), clock(dur) if dur is not None else "–"),
        (L("ui", "language"), esc(report.get("language"))),
        (L("ui", "input"), esc(L("inputs", report.get("input")))),
        (L("ui", "call_type"), esc(L("call_types", ov["call_type"]))),
        (L("ui", "roles"), f"{esc(L('ui', 'agent'))}: <b>{esc(roles['agent'] or '–')}</b> · "
                           f"{esc(L('ui', 'caller'))}: <b>{esc(roles['caller'] or '–')}</b> · {conf}{low}"),
    ]  # fmt: skip
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in facts)
    conduct = f"{ov['conduct_checked'] - ov['conduct_failed']}/{ov['conduct_checked']}"
    conduct_band = (
        "good" if ov["conduct_failed"] == 0 else "bad" if ov["conduct_failed"] > 1 else "mid"
    )
    modality = L("modality", ov["caller_modality"] or "undetermined")
    tiles = [
        (L("ui", "tone"), fmt_num(ov["tone"], 0), _band(ov["tone"]), "#opening"),
        (L("ui", "clarity"), fmt_num(ov["clarity"], 0), _band(ov["clarity"]), "#opening"),
        (L("ui", "stages_score"), f"{fmt_num(ov['stages_percent'], 0)}%", _band(ov["stages_percent"]), "#stages"),
        (L("ui", "conduct"), conduct, conduct_band, "#conduct"),
        (L("ui", "caller_modality"), modality, "info", "#modality"),
    ]  # fmt: skip
    tiles_html = "".join(
        f'<a class="tile {b}" href="{h}"><span class="tv{" word" if len(v) > 6 else ""}">{esc(v)}</span><span class="tk">{esc(k)}</span></a>'
        for k, v, b, h in tiles
    )
    return (f'<header id="summary"><h1>{esc(title)}</h1><dl class="facts">{dl}</dl>{_audio_warnings(report, L)}'
            f'<div class="tiles" aria-label="{esc(L("ui", "scores"))}">{tiles_html}</div></header>')  # fmt: skip


def _audio_warnings(report: dict, L: Labels) -> str:
    """The recording's warnings (e.g. a corrupt file of which only the start was decoded), in
    the page's language, under the call's facts; "" when there are none."""
    items = rd.audio_warnings(report)
    if not items:
        return ""
    lis = "".join(f"<li>{esc(rd.audio_warning_text(L, w))}</li>" for w in items)
    return (f'<div id="audio-warnings" role="note"><p class="warn">⚠ {esc(L("ui", "audio_warnings"))}</p>'
            f"<ul>{lis}</ul></div>")  # fmt: skip


def _moment(item: Tip | Strength, L: Labels) -> str:
    """The moment of a tip or strength: its time (a link that plays from there) and the words."""
    when = ""
    if item.at_s is not None or item.turn is not None:
        attrs = f' data-t="{item.at_s:.3f}"' if item.at_s is not None else ""
        if item.turn is not None:
            attrs += f' href="#t-{item.turn}" data-turn="{item.turn}"'
        label = (
            clock(item.at_s)
            if item.at_s is not None
            else f"{L('ui', 'turn')} {(item.turn or 0) + 1}"
        )
        when = f'<a class="ev when"{attrs}>{esc(label)}</a> '
    quote = ""
    if item.quote and item.quote not in item.text:
        quote = f'<q class="said">{esc(item.quote)}</q> '
    return when + quote


def _tips(report: dict, L: Labels, audience: str) -> str:
    tips = top_tips(report) if audience == "agent" else all_tips(report)[:5]
    if not tips:
        body = f"<p>{esc(L('ui', 'tips_none'))}</p>"
    else:
        items = [
            f'<li class="tip {esc(tip.kind)}">{_moment(tip, L)}{esc(tip.text)}</li>' for tip in tips
        ]
        body = f'<ol class="tips">{"".join(items)}</ol>'
    return f'<section id="tips"><h2>{esc(L("ui", "tips"))}</h2>{body}</section>'


def _strengths(report: dict, L: Labels) -> str:
    """What went well: the agent's page opens with it."""
    found = strengths(report)
    if not found:
        body = f'<p class="muted">{esc(L("ui", "strengths_none"))}</p>'
    else:
        items = [
            f'<li class="strength {esc(s.kind)}">{_moment(s, L)}{esc(s.text)}</li>' for s in found
        ]
        body = f'<ul class="strengths">{"".join(items)}</ul>'
    return f'<section id="strengths"><h2>{esc(L("ui", "strengths"))}</h2>{body}</section>'


def _measures(score: dict, title: str, L: Labels, agent: bool) -> str:
    rows = []
    for m in score.get("measures") or []:
        sub = m.get("sub_score")
        bar = (f'<span class="bar {_band(sub)}"><i style="width:{max(0.0, min(100.0, sub)):.0f}%"></i></span>'
               f'{fmt_num(sub, 0)}' if is_finite(sub) else "–")  # fmt: skip
        prov = (
            f' <abbr title="{esc(L("ui", "provisional"))}">*</abbr>' if m.get("provisional") else ""
        )
        src = "" if agent else f' title="{esc(m.get("source"))}"'
        note = f'<div class="note">{esc(m["note"])}</div>' if m.get("note") and not agent else ""
        rows.append(f"<tr><th{src}>{esc(m.get('name'))}</th>"
                    f"<td class='num'>{fmt_num(m.get('value'), 2)} <small>{esc(unit(L, m.get('unit')))}</small></td>"
                    f"<td class='num'>{esc(fmt_range(m.get('target_range')))}{prov}</td><td>{bar}</td>"
                    f"<td>{esc(m.get('tip'))}{note}</td></tr>")  # fmt: skip
    head = "".join(
        f"<th>{esc(L('ui', k))}</th>" for k in ("measure", "value", "target", "sub_score", "tip")
    )
    return (f'<div class="measures"><h3>{esc(title)} <span class="score {_band(score.get("score"))}">'
            f'{fmt_num(score.get("score"), 0)}</span></h3>'
            f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')  # fmt: skip


def _opening(report: dict, L: Labels, agent: bool) -> str:
    opening = report.get("opening")
    h2 = f"<h2>{esc(L('ui', 'opening'))}</h2>"
    if not opening:
        return f'<section id="opening">{h2}<p class="muted">{esc(L("ui", "opening_none"))}</p></section>'
    parts = [h2]
    flags = opening.get("flags") or []
    if opening.get("status") != "ok":
        parts.append(
            f'<p class="warn">{esc(L("ui", "opening_status"))}: {esc(L("status", opening.get("status")))}</p>'
        )
    w = opening.get("window") or {}
    if w.get("start_s") is not None:
        shown = ", ".join(L("flags", f) for f in flags)
        parts.append(f'<p class="muted">{clock(w["start_s"])}–{clock(w.get("end_s"))} · '
                     f'{esc(L("ui", "agent"))} {esc(seconds(L, w.get("agent_speech_s")))}'
                     + (f' · {esc(L("ui", "flags"))}: {esc(shown)}' if flags else "") + "</p>")  # fmt: skip
    plot = opening_plot_svg(opening.get("plot"), L)
    if plot:
        parts.append(
            f'<figure class="plot">{plot}<figcaption>{esc(L("ui", "plot_title"))}</figcaption></figure>'
        )
    grid = [
        _measures(opening[k], L("ui", k), L, agent) for k in ("tone", "clarity") if opening.get(k)
    ]
    if grid:
        parts.append("".join(grid))
    elements = (opening.get("content") or {}).get("elements") or {}
    if elements:
        chips = "".join(
            f'<span class="chip {"good" if v.get("found") else "bad"}">{esc(L("elements", k))}: '
            f"{esc(L('ui', 'found' if v.get('found') else 'missing'))}</span>"
            for k, v in elements.items()
        )
        parts.append(f"<p><b>{esc(L('ui', 'content'))}</b> {chips}</p>")
    return f'<section id="opening">{"".join(parts)}</section>'


def _timeline(report: dict, L: Labels) -> str:
    svg = timeline_svg(report, L, rd.duration_s(report))
    body = svg or f'<p class="muted">{esc(L("ui", "timeline_none"))}</p>'
    key = (f'<p class="legend"><span class="key agent"></span>{esc(L("ui", "agent"))} '
           f'<span class="key caller"></span>{esc(L("ui", "caller"))} '
           f'<span class="key intr"></span>{esc(L("ui", "interruption"))} '
           f'<span class="key silence"></span>{esc(L("ui", "silence"))}</p>') if svg else ""  # fmt: skip
    return f'<section id="timeline"><h2>{esc(L("ui", "timeline"))}</h2>{body}{key}</section>'


def _status(status: str, L: Labels) -> str:
    cls = {"present": "good", "pass": "good", "absent": "bad", "fail": "bad",
           "out_of_order": "mid", "late": "mid", "unclear": "mid"}.get(status, "na")  # fmt: skip
    return f'<span class="badge {cls}">{esc(L("status", status))}</span>'


def _play_from(item: dict, L: Labels, report: dict) -> str:
    """A play-from-here link for an unclear finding: where its part of the call starts."""
    start = item.get("start_s")
    turn = item.get("turn")
    if start is None:
        start = rd.turn_start(report, turn)
    if start is None:
        return ""
    attrs = f' data-t="{float(start):.3f}"'
    if isinstance(turn, int):
        attrs += f' href="#t-{turn}" data-turn="{turn}"'
    return f'<li><a class="ev play"{attrs}>{esc(L("ui", "play_here"))}</a><span class="meta">{clock(start)}</span></li>'


def _stages(report: dict, L: Labels, audio: bool = False) -> str:
    stages = (report.get("stages") or {}).get("stages") or []
    rows, group = [], None
    for s in stages:
        if s.get("group") != group:
            group = s.get("group")
            rows.append(f'<tr class="group"><th colspan="4">{esc(L("groups", group))}</th></tr>')
        ev = "".join(f"<li>{_jump(e, L, report)}</li>" for e in rd.stage_evidence(s))
        if audio and s.get("status") == "unclear":
            ev += _play_from(s, L, report)
        req = "" if s.get("required") else f" <small>{esc(L('ui', 'optional'))}</small>"
        rows.append(f'<tr class="{esc(s["status"]).replace("/", "")}"><th>{esc(L("stages", s["id"]))}{req}</th>'
                    f'<td>{_status(s["status"], L)}</td><td><ul class="evs">{ev}</ul></td>'
                    f'<td class="muted">{esc(note_text(L, s.get("note")))}</td></tr>')  # fmt: skip
    sc = (report.get("stages") or {}).get("scorecard") or {}
    head = "".join(f"<th>{esc(L('ui', k))}</th>" for k in ("stage", "status", "evidence", "note"))
    return (f'<section id="stages"><h2>{esc(L("ui", "stages"))} <span class="score {_band(sc.get("percent"))}">'
            f'{fmt_num(sc.get("score"))}/{fmt_num(sc.get("potential"))}</span></h2>'
            f'<p class="muted">{esc(L("ui", "jump_hint"))}</p>'
            f'<table class="check"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>')  # fmt: skip


def _bars(scores: dict, L: Labels) -> str:
    top = max([float(v) for v in scores.values()] + [1e-9])
    return "".join(
        f'<div class="mbar"><span>{esc(L("modality", m))}</span>'
        f'<span class="bar info"><i style="width:{100 * float(scores.get(m, 0)) / top:.0f}%"></i></span>'
        f'<span class="num">{fmt_num(scores.get(m, 0))}</span></div>'
        for m in MODALITIES
        if m in scores
    )


def _modality(report: dict, L: Labels) -> str:
    mod = report.get("modality") or {}
    caller, agent, rapport = (
        mod.get("caller") or {},
        mod.get("agent") or {},
        mod.get("rapport") or {},
    )
    ev = "".join(f"<li>{_jump(e, L, report, 'turn_index')} <small>{esc(L('modality', e.get('modality')))}"
                 f"{' (' + esc(L('ui', 'negated')) + ')' if e.get('negated') else ''}</small></li>"
                 for e in caller.get("evidence") or [])  # fmt: skip
    advice = "".join(f"<li>{esc(a)}</li>" for a in mod.get("advice") or [])
    matched = rapport.get("matched")
    match = L("ui", "rapport_none" if matched is None else "matched" if matched else "not_matched")
    match_cls = "na" if matched is None else "good" if matched else "bad"
    return (f'<section id="modality"><h2>{esc(L("ui", "modality"))}</h2><div class="grid2"><div class="card">'
            f'<p class="lead">{esc(L("ui", "leading"))}: <b>{esc(L("modality", caller.get("leading")))}</b> '
            f'<small>({esc(L("ui", "confidence"))} {_pct(caller.get("confidence"))})</small></p>'
            f'{_bars(caller.get("scores") or {}, L)}<h3>{esc(L("ui", "evidence"))}</h3><ul class="evs">{ev}</ul></div>'
            f'<div class="card"><h3>{esc(L("ui", "advice"))}</h3><ul>{advice}</ul>'
            f'<h3>{esc(L("ui", "agent_profile"))}: {esc(L("modality", agent.get("leading")))}</h3>{_bars(agent.get("scores") or {}, L)}'
            f'<p>{esc(L("ui", "rapport"))}: <span class="badge {match_cls}">{esc(match)}</span></p></div></div></section>')  # fmt: skip


def _conduct(report: dict, L: Labels, audio: bool = False) -> str:
    rules = rd.conduct_rules(report)
    rules += [
        r for r in (report.get("stages") or {}).get("rules") or [] if r.get("status") == "unclear"
    ]
    rules = sorted(rules, key=lambda r: r["status"] != "fail")
    rows = []
    for r in rules:
        ev = "".join(f"<li>{_jump(e, L, report)}</li>" for e in (r.get("hits") or [])[:6])
        more = len(r.get("hits") or []) - 6
        ev += f"<li class='muted'>+{more}</li>" if more > 0 else ""
        if audio and r.get("status") == "unclear":
            ev += _play_from(r, L, report)
        rows.append(f'<tr class="{esc(r["status"])}"><th>{esc(L("rules", r["id"]))}<br><small>{esc(L("groups", r.get("group")))} · '
                    f'{esc(L("rule_kinds", r.get("kind")))}</small></th><td>{_status(r["status"], L)}</td>'
                    f'<td><ul class="evs">{ev}</ul></td><td class="muted">{esc(note_text(L, r.get("note")))}</td></tr>')  # fmt: skip
    head = "".join(f"<th>{esc(L('ui', k))}</th>" for k in ("rule", "status", "evidence", "note"))
    return (f'<section id="conduct"><h2>{esc(L("ui", "conduct_flags"))}</h2><table class="check">'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>')  # fmt: skip


def _metrics(report: dict, L: Labels) -> str:
    m = rd.talk_metrics(report)
    h2 = f"<h2>{esc(L('ui', 'metrics'))}</h2>"
    if not m:
        return f'<section id="metrics">{h2}<p class="muted">{esc(L("ui", "metrics_none"))}</p></section>'
    cols = [("talk_time", "talk_time_s", lambda v: seconds(L, v)), ("talk_pct", "talk_pct", fmt_num),
            ("turns", "n_turns", fmt_num), ("words", "n_words", fmt_num),
            ("wpm", "words_per_minute", lambda v: fmt_num(v, 0)),
            ("monologue", "longest_monologue_s", lambda v: seconds(L, v)),
            ("interruptions", "interruptions", fmt_num),
            ("latency", "response_latency_median_s", lambda v: seconds(L, v) if is_finite(v) else "–")]  # fmt: skip
    head = f"<th>{esc(L('ui', 'party'))}</th>" + "".join(
        f"<th>{esc(L('ui', k))}</th>" for k, _, _ in cols
    )
    rows = []
    for party, p in (m.get("parties") or {}).items():
        name = L("ui", party) if party in ("agent", "caller") else party
        rows.append(
            f"<tr><th>{esc(name)}</th>"
            + "".join(f"<td class='num'>{esc(f(p.get(k)))}</td>" for _, k, f in cols)
            + "</tr>"
        )
    nt, it = m.get("non_talk") or {}, m.get("interruptions") or {}
    lat = (m.get("response_latency") or {}).get("median_s")
    totals = [(L("ui", "duration"), clock(m.get("duration_s"))),
              (L("ui", "talk_ratio"), fmt_num(m.get("talk_ratio"), 2)),
              (L("ui", "non_talk", s=fmt_num(nt.get("threshold_s", 5))), f"{nt.get('count', 0)} · {seconds(L, nt.get('total_s'))}"),
              (L("ui", "interruptions"), f"{it.get('count', 0)} · {seconds(L, it.get('total_s'))}"),
              (L("ui", "latency"), seconds(L, lat) if is_finite(lat) else "–")]  # fmt: skip
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in totals)
    return (f'<section id="metrics">{h2}<dl class="facts">{dl}</dl><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')  # fmt: skip


def _transcript(report: dict, L: Labels) -> str:
    marks = rd.evidence_by_turn(report)
    items = []
    for t in rd.turns(report):
        i = int(t["index"])
        pieces = rd.highlight_spans(t.get("text") or "", marks.get(i, []))
        text = "".join(f"<mark>{esc(p)}</mark>" if hit else esc(p) for p, hit in pieces)
        role = t.get("role") or "unknown"
        who = L("ui", role) if role in ("agent", "caller") else (t.get("speaker") or role)
        start = t.get("start_s")
        dt = f' data-t="{float(start):.3f}"' if start is not None else ""
        ts = clock(start) if start is not None else f"#{i + 1}"
        items.append(f'<li id="t-{i}" class="turn {esc(role)}" data-turn="{i}"{dt}><span class="ts">{esc(ts)}</span>'
                     f'<span class="who">{esc(who)}</span><span class="text">{text}</span></li>')  # fmt: skip
    return (f'<section id="transcript"><h2>{esc(L("ui", "transcript"))}</h2><p class="muted">{esc(L("ui", "untrusted"))}</p>'
            f'<ol class="transcript">{"".join(items)}</ol></section>')  # fmt: skip


def render_html(report: dict, *, audience: str = "supervisor", audio_uri: str | None = None) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    report : dict
        A report from :func:`callscan.pipeline.analyze` (or read back from its JSON).
    audience : {"supervisor", "agent"}
        ``"supervisor"``: every finding, scores first. ``"agent"``: a self-review in the call's
        language that opens with what went well (up to three things), then at most three tips.
    audio_uri : str, optional
        A ``data:`` URI of the call's audio (:func:`callscan.report.audio_data_uri`): the page
        gets a player, and clicking evidence plays the call from that moment.

    Returns
    -------
    str
        The page, UTF-8 text.
    """
    L = Labels(rd.ui_language(report))
    agent = audience == "agent"
    data = {
        "audience": audience,
        "turns": [[t["index"], t.get("start_s"), t.get("end_s")] for t in rd.turns(report)],
    }
    player = ""
    if audio_uri:
        if not audio_uri.startswith("data:audio/"):
            raise ValueError("audio_uri must be a data:audio/... URI")
        player = f'<div class="player"><audio id="call-audio" controls preload="auto" src="{esc(audio_uri)}"></audio></div>'
    sections = [_header(report, L, audience)]
    audio = bool(audio_uri)
    if agent:
        sections += [_strengths(report, L), _tips(report, L, audience), _opening(report, L, True),
                     _stages(report, L), _modality(report, L), _timeline(report, L),
                     _metrics(report, L)]  # fmt: skip
    else:
        sections += [_opening(report, L, False), _timeline(report, L), _stages(report, L, audio),
                     _modality(report, L), _conduct(report, L, audio), _metrics(report, L),
                     _tips(report, L, audience)]  # fmt: skip
    sections.append(_transcript(report, L))
    footer = esc(
        L(
            "ui",
            "generated",
            v=report.get("callscan_version", "?"),
            s=report.get("schema_version", "?"),
        )
    )
    title = f"{L('ui', 'self_review' if agent else 'title')} – {os.path.basename(str(report.get('source') or ''))}"
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(L.language)}" data-audience="{esc(audience)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">'
        f"<title>{esc(title)}</title><style>{read_asset(ASSETS[0])}</style></head>"
        f'<body class="{esc(audience)}">{player}<main>{"".join(sections)}</main><footer>{footer}</footer>'
        f'<script type="application/json" id="callscan-data">{script_json(data)}</script>'
        f"<script>{read_asset(ASSETS[1])}</script></body></html>\n"
    )
