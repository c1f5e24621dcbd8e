"""Inline SVG figures of the HTML report: the talk timeline and the opening plot.

Plain strings, no plotting library: a figure is a few hundred elements, drawn in a fixed
``viewBox`` and scaled by the browser. All text is escaped here (it may come from a transcript).
"""

from __future__ import annotations

import math

from callscan.report.data import Labels, clock, esc, fmt_num, is_timed, talk_metrics, turns
from callscan.util import is_finite

TIMELINE_W = 1000  # viewBox units
LANE_X0 = 70  # left margin for the lane names
PLOT_W, PLOT_H = 1000, 230  # opening plot viewBox
NICE_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800)  # axis tick spacing choices
MAX_TIMELINE_S = 24 * 3600.0  # s, the timeline never spans more (times beyond are clamped)


def _step(span_s: float, n_ticks: int = 10) -> float:
    for s in NICE_STEPS_S:
        if span_s / s <= n_ticks:
            return float(s)
    hours = math.ceil(span_s / n_ticks / 3600.0) if math.isfinite(span_s) else 1
    return 3600.0 * max(1, hours)  # whole hours: at most n_ticks ticks on any span


def _axis(x_of, t0: float, t1: float, y: float, fmt=clock) -> list[str]:
    out = [f'<line class="axis" x1="{x_of(t0):.1f}" y1="{y}" x2="{x_of(t1):.1f}" y2="{y}"/>']
    step = _step(t1 - t0)
    t = (int(t0 // step) + (t0 % step > 1e-9)) * step
    while t <= t1 + 1e-9:
        x = x_of(t)
        out.append(f'<line class="tick" x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}"/>')
        out.append(
            f'<text class="tl" x="{x:.1f}" y="{y + 15}" text-anchor="middle">{esc(fmt(t))}</text>'
        )
        t += step
    return out


def timeline_svg(report: dict, L: Labels, duration: float | None) -> str:
    """Two lanes (agent, caller) of turns, stage markers, interruptions and long silences."""
    if not is_timed(report):
        return ""
    ts = [t for t in turns(report) if is_finite(t.get("start_s")) and is_finite(t.get("end_s"))]
    if is_finite(duration) and duration > 0:  # type: ignore[operator]
        end = float(duration)  # type: ignore[arg-type]
    else:
        end = max([0.0] + [t["end_s"] for t in ts])
    end = min(end, MAX_TIMELINE_S) or 1.0  # a time beyond the call is drawn at its end
    scale = (TIMELINE_W - LANE_X0 - 10) / end

    def x_of(t: float) -> float:
        t = t if is_finite(t) else 0.0
        return LANE_X0 + min(max(t, 0.0), end) * scale

    lanes = {"agent": 30, "caller": 62}
    lane_h = 24
    h = 120
    out = [f'<svg class="timeline" viewBox="0 0 {TIMELINE_W} {h}" role="img" '
           f'aria-label="{esc(L("ui", "timeline"))}" preserveAspectRatio="none">']  # fmt: skip
    for role, y in lanes.items():
        out.append(
            f'<rect class="lane" x="{LANE_X0}" y="{y}" width="{TIMELINE_W - LANE_X0 - 10}" height="{lane_h}"/>'
        )
        out.append(
            f'<text class="lane-name" x="{LANE_X0 - 6}" y="{y + 16}" text-anchor="end">{esc(L("ui", role))}</text>'
        )
    metrics = talk_metrics(report) or {}
    for s in (metrics.get("non_talk") or {}).get("instances") or []:
        x0, x1 = x_of(s["start_s"]), x_of(s["end_s"])
        tip = f"{L('ui', 'silence')} {clock(s['start_s'])}–{clock(s['end_s'])}"
        out.append(f'<rect class="silence" x="{x0:.1f}" y="24" width="{max(1.0, x1 - x0):.1f}" '
                   f'height="{lanes["caller"] + lane_h - 18}"><title>{esc(tip)}</title></rect>')  # fmt: skip
    for t in ts:
        y = lanes.get(t["role"], lanes["caller"])
        x0, x1 = x_of(t["start_s"]), x_of(t["end_s"])
        title = f"{clock(t['start_s'])} {L('ui', t['role']) if t['role'] in lanes else t.get('speaker', '')}: {t['text'][:120]}"
        out.append(f'<rect class="seg {esc(t["role"])}" x="{x0:.1f}" y="{y + 2}" width="{max(1.0, x1 - x0):.1f}" '
                   f'height="{lane_h - 4}" data-turn="{int(t["index"])}" data-t="{t["start_s"]:.3f}">'
                   f'<title>{esc(title)}</title></rect>')  # fmt: skip
    marks = 0
    for s in (report.get("stages") or {}).get("stages") or []:
        start = _turn_time(ts, s.get("turn"))
        if s.get("status") in ("absent", "n/a") or start is None:
            continue
        x = x_of(start)
        y_text = 10 if marks % 2 == 0 else 21  # alternate rows so neighbours do not overlap
        anchor = ' text-anchor="end"' if x > TIMELINE_W - 80 else ""
        tx = x - 2 if anchor else x + 2
        marks += 1
        out.append(f'<g class="stage-mark {esc(s["status"])}" data-turn="{int(s["turn"])}" data-t="{start:.3f}">'
                   f'<line x1="{x:.1f}" y1="{y_text - 9}" x2="{x:.1f}" y2="{lanes["caller"] + lane_h}"/>'
                   f'<text x="{tx:.1f}" y="{y_text}"{anchor}>{esc(L("stages", s["id"]).split(" (")[0])}</text>'
                   f'<title>{esc(L("stages", s["id"]))}: {esc(L("status", s["status"]))} ({clock(start)})</title></g>')  # fmt: skip
    for i in (metrics.get("interruptions") or {}).get("instances") or []:
        y = lanes.get(i.get("interrupter"), lanes["caller"])
        x = x_of(i["start_s"])
        tip = f"{L('ui', 'interruption')}: {L('ui', i.get('interrupter', ''))} {clock(i['start_s'])} ({fmt_num(i.get('overlap_s'))} {L('ui', 'seconds')})"
        out.append(f'<path class="intr" d="M{x:.1f} {y - 1} l-5 -8 h10 z" data-t="{i["start_s"]:.3f}">'
                   f'<title>{esc(tip)}</title></path>')  # fmt: skip
    out += _axis(x_of, 0.0, end, lanes["caller"] + lane_h + 4)
    out.append("</svg>")
    return "\n".join(out)


def _turn_time(ts: list[dict], index) -> float | None:
    for t in ts:
        if t["index"] == index:
            return t["start_s"]
    return None


def _path(points: list[tuple[float, float | None]]) -> str:
    """An SVG path through the points, broken where y is None."""
    parts, pen = [], False
    for x, y in points:
        if y is None:
            pen = False
            continue
        parts.append(f"{'L' if pen else 'M'}{x:.1f} {y:.1f}")
        pen = True
    return " ".join(parts)


def opening_plot_svg(plot: dict | None, L: Labels) -> str:
    """Waveform envelope, loudness (dB, right axis) and pitch (semitones re median, left axis)."""
    if not plot or not plot.get("t_s"):
        return ""
    t = plot["t_s"]
    hop = float(plot.get("hop_s") or 0.05)
    t0, t1 = t[0], t[-1] + hop
    x0, x1, y0, y1 = 50, PLOT_W - 50, 14, PLOT_H - 40  # plotting area
    sx = (x1 - x0) / max(t1 - t0, hop)

    def x_of(x: float) -> float:
        return x0 + (x - t0) * sx

    mid, half = (y0 + y1) / 2, (y1 - y0) / 2
    env = plot.get("envelope") or []
    peak = max([max(abs(a), abs(b)) for a, b in env] + [1e-3])
    top = [(x_of(ti + hop / 2), mid - half * b / peak) for ti, (_, b) in zip(t, env, strict=False)]
    bottom = [
        (x_of(ti + hop / 2), mid - half * a / peak) for ti, (a, _) in zip(t, env, strict=False)
    ]
    wave = " ".join(f"{x:.1f},{y:.1f}" for x, y in top + bottom[::-1])
    st = [v for v in plot.get("f0_st") or [] if v is not None]
    st_max = max(6.0, min(12.0, max([abs(v) for v in st] + [0.0])))
    db_lo, db_hi = -70.0, 0.0

    def y_st(v):
        return None if v is None else mid - half * max(-st_max, min(st_max, v)) / st_max

    def y_db(v):
        return y1 - (y1 - y0) * (max(db_lo, min(db_hi, v)) - db_lo) / (db_hi - db_lo)

    level = [
        (x_of(ti + hop / 2), y_db(v)) for ti, v in zip(t, plot.get("level_db") or [], strict=False)
    ]
    pitch = [
        (x_of(ti + hop / 2), y_st(v)) for ti, v in zip(t, plot.get("f0_st") or [], strict=False)
    ]
    out = [f'<svg class="oplot" viewBox="0 0 {PLOT_W} {PLOT_H}" role="img" aria-label="{esc(L("ui", "plot_title"))}">',
           f'<rect class="frame" x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}"/>',
           f'<polygon class="wave" points="{wave}"><title>{esc(L("ui", "plot_wave"))}</title></polygon>',
           f'<line class="zero" x1="{x0}" y1="{mid:.1f}" x2="{x1}" y2="{mid:.1f}"/>',
           f'<path class="level" d="{_path(level)}"><title>{esc(L("ui", "plot_level"))}</title></path>',
           f'<path class="pitch" d="{_path(pitch)}"><title>{esc(L("ui", "plot_pitch"))}</title></path>']  # fmt: skip
    for v in (-st_max, -st_max / 2, 0.0, st_max / 2, st_max):
        y = y_st(v)
        out.append(
            f'<text class="tl pitch-t" x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{v:+.0f}</text>'
        )
    for v in (0, -20, -40, -60):
        out.append(f'<text class="tl level-t" x="{x1 + 4}" y="{y_db(v) + 4:.1f}">{v}</text>')
    out += _axis(x_of, t0, t1, y1, fmt=lambda s: f"{s:.0f} {L('ui', 'seconds')}")
    median = plot.get("f0_median_hz")
    legend = [("pitch", L("ui", "plot_pitch") + (f", {L('ui', 'median')} {fmt_num(median, 0)} Hz" if median else "")),
              ("level", L("ui", "plot_level")), ("wave", L("ui", "plot_wave"))]  # fmt: skip
    x = x0
    for cls, text in legend:
        out.append(f'<rect class="key {cls}" x="{x}" y="{PLOT_H - 14}" width="14" height="8"/>'
                   f'<text class="tl" x="{x + 18}" y="{PLOT_H - 6}">{esc(text)}</text>')  # fmt: skip
        x += 40 + 7 * len(text)
    out.append("</svg>")
    return "\n".join(out)
