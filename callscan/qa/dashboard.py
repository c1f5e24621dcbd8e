"""The QA dashboard: ``DIR/index.html``, one self-contained page for a batch output folder.

:func:`write` renders the folder's store (:mod:`callscan.qa.store`, synced with the reports
first) into a page that works offline like the per-call reports: inline CSS and one inline
script allowed by its hash in a strict Content-Security-Policy (nothing from the network, no
other script can run), inline SVG. It shows

* headline figures (calls, failed, minutes, mean scores, conduct flags per 100 calls, share
  needing review, complaints and those open);
* the review queue (:mod:`callscan.qa.review`), each call with its reasons;
* every call in a table, sortable (click a heading) and filterable by agent, team, call type,
  flag and date, shown :data:`PAGE_ROWS` calls a page (previous / next, page count): filters
  and sort apply to every call, then the page's script keeps only the current page's rows in
  the document, so 10,000 calls stay quick; the filters, sort and page can be set in the
  address (``index.html#agent=A17&flag=review&from=2024-11-01&sort=tone&dir=asc&page=2``),
  so a link can share a view;
* per-agent and per-team rollups (:mod:`callscan.qa.rollups`) with a small trend chart of
  the weekly mean stages percent;
* complaints by topic.

Every call links to its HTML report (its JSON report when no HTML was written) by a
relative link, so the folder can be moved or zipped. The page is rendered by Jinja2 with
autoescaping: metadata from file names and manifests (agent ids, teams) is untrusted text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

from callscan.resources import read_asset

INDEX = "index.html"
ASSETS = (
    "report_assets/dashboard.html.j2",
    "report_assets/dashboard.css",
    "report_assets/dashboard.js",
)
QUEUE_SHOWN = 100  # review-queue rows on the page
PAGE_ROWS = 100  # calls-table rows a page (the page's script pages after filters and sort)
SPARK_W, SPARK_H = 120, 28  # px, trend chart
FLAGS = (
    ("review", "needs review"),
    ("conduct", "conduct flag"),
    ("roles", "roles unsure"),
    ("complaint", "complaint"),
    ("open", "open complaint"),
    ("queue", "in review queue"),
    ("failed", "failed"),
)
# (data key, heading, "num"|"text"), after the five text columns and before modality
NUM_COLUMNS = (
    ("duration", "min", 1),
    ("stages", "stages %", 1),
    ("tone", "tone", 1),
    ("clarity", "clarity", 1),
    ("conduct", "flags", 0),
    ("agent_talk", "agent talk %", 0),
)
COLUMNS = (
    ("name", "call", "text"),
    ("date", "date", "text"),
    ("agent", "agent", "text"),
    ("team", "team", "text"),
    ("type", "call type", "text"),
    *((key, text, "num") for key, text, _ in NUM_COLUMNS),
    ("modality", "caller modality", "text"),
)


def csp() -> str:
    """Content policy: nothing from the network; only the dashboard's own script runs (by
    its hash), so metadata that slipped past escaping could not run code."""
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(read_asset(ASSETS[2]).encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    text = f"{float(x):.{digits}f}"
    return text[:-2] if digits == 1 and text.endswith(".0") else text


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * float(x):.0f}%"


def href(link: str | None) -> str | None:
    """A relative link to a file in the folder, with its name %-encoded (``#``, ``?``,
    spaces and ``%`` in call names stay part of the path)."""
    return quote(link) if link else None


def sparkline(points: list[tuple[str, float | None, int]]) -> str:
    """A small inline SVG polyline of ``(period, value 0-100, calls)``, oldest first."""
    from callscan.report.data import esc

    pts = [(p, v) for p, v, _ in points if v is not None]
    if not pts:
        return ""
    n = len(pts)
    step = (SPARK_W - 6) / max(n - 1, 1)
    coords = [
        (3 + i * step, SPARK_H - 3 - (SPARK_H - 6) * max(0.0, min(100.0, v)) / 100.0)
        for i, (_, v) in enumerate(pts)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    last_x, last_y = coords[-1]
    title = "; ".join(f"{p}: {_fmt(v)}" for p, v in pts[-8:])
    return (
        f'<svg class="spark" width="{SPARK_W}" height="{SPARK_H}" viewBox="0 0 {SPARK_W} '
        f'{SPARK_H}" role="img"><title>{esc(title)}</title><polyline points="{line}"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2"/></svg>'
    )


def _headline(con) -> dict[str, Any]:
    from callscan.qa.store import query

    return query(
        con,
        """SELECT count(*) FILTER (WHERE status = 'ok') AS calls,
          count(*) FILTER (WHERE status <> 'ok') AS failed,
          sum(duration_s) / 60 AS minutes, avg(stages_percent) AS stages, avg(tone) AS tone,
          avg(clarity) AS clarity, sum(conduct_failed) * 100.0 / nullif(count(*) FILTER
          (WHERE status = 'ok'), 0) AS flags, avg(needs_review::INTEGER) AS review,
          count(*) FILTER (WHERE complaint) AS complaints,
          min(date) AS first_date, max(date) AS last_date
        FROM calls""",
    )[0]


def _call_rows(con, queued: set[str], open_complaints: set[str]) -> list[dict[str, Any]]:
    from callscan.qa.store import query

    rows = query(
        con,
        """SELECT name, status, error, date, agent_id, team, call_type, duration_s,
          stages_percent, tone, clarity, conduct_failed, agent_talk_pct, caller_modality,
          needs_review, roles_low_confidence, complaint, html, report
        FROM calls ORDER BY date NULLS LAST, name""",
    )
    out = []
    for r in rows:
        flags = []
        if r["status"] != "ok":
            flags.append("failed")
        if r["needs_review"]:
            flags.append("review")
        if r["conduct_failed"]:
            flags.append("conduct")
        if r["roles_low_confidence"]:
            flags.append("roles")
        if r["complaint"]:
            flags.append("complaint")
        if r["name"] in open_complaints:
            flags.append("open")
        if r["name"] in queued:
            flags.append("queue")
        values = {
            "duration": None if r["duration_s"] is None else r["duration_s"] / 60.0,
            "stages": r["stages_percent"],
            "tone": r["tone"],
            "clarity": r["clarity"],
            "conduct": r["conduct_failed"],
            "agent_talk": r["agent_talk_pct"],
        }
        out.append(
            {
                "name": r["name"],
                "href": href(r["html"] or r["report"]),
                "date": "" if r["date"] is None else r["date"].isoformat(),
                "agent": r["agent_id"] or "",
                "team": r["team"] or "",
                "type": r["call_type"] or "",
                "nums": [
                    ("" if values[k] is None else f"{float(values[k]):.3f}", _fmt(values[k], d))
                    for k, _, d in NUM_COLUMNS
                ],
                "modality": r["caller_modality"] or "",
                "flags": flags,
                "error": r["error"] if r["status"] != "ok" else "",
            }
        )
    return out


def _rollup_block(con, block_id: str, title: str, by: str, key_sql: str) -> dict[str, Any]:
    from markupsafe import Markup

    from callscan.qa.rollups import rollup, trend

    groups = rollup(None, by, con=con).groups
    trends = trend(con, key_sql)
    for g in groups:
        g["minutes_text"] = _fmt(g.get("minutes"))
        g["stages_text"] = _fmt(g.get("stages_percent_mean"))
        g["tone_text"] = (
            f"{_fmt(g.get('tone_mean'))} ({_fmt(g.get('tone_sd'))})"
            if g.get("tone_mean") is not None
            else "–"
        )
        g["clarity_text"] = (
            f"{_fmt(g.get('clarity_mean'))} ({_fmt(g.get('clarity_sd'))})"
            if g.get("clarity_mean") is not None
            else "–"
        )
        g["stage_cov_text"] = _pct(g.get("stage_coverage"))
        g["step_cov_text"] = _pct(g.get("step_coverage"))
        g["flags_text"] = _fmt(g.get("conduct_flags_per_100"))
        g["review_text"] = _pct(g.get("review_share"))
        mix = g.get("caller_modality") or {}
        g["modality_text"] = ", ".join(f"{m} {_pct(v)}" for m, v in mix.items())
        g["spark"] = Markup(sparkline(trends.get(g["group"], [])))  # numbers and escaped text
    label = {"agent": "agent", "team": "team"}[by]
    return {"id": block_id, "title": title, "label": label, "groups": groups}


def render(output_dir: str | Path, *, con=None, sync: bool = True) -> str:
    """The dashboard page of the folder (see the module docstring).

    ``con``: an open store connection; ``sync``: bring the store up to date with the reports
    on disk first (when no connection is given)."""
    from jinja2 import Environment
    from markupsafe import Markup

    from callscan import __version__
    from callscan.qa.review import review_queue
    from callscan.qa.rollups import NO_GROUP, complaints
    from callscan.qa.store import opened, store_path
    from callscan.qa.store import sync as sync_store

    out = Path(output_dir)
    if con is None:
        if sync:
            sync_store(out)
        with opened(out, read_only=True) as own:
            return render(out, con=own)
    queue = review_queue(out, con=con)
    for q in queue:
        q["href"] = href(q["link"])
    complaint_report = complaints(out, con=con)
    open_names = {c["name"] for c in complaint_report.open}
    calls = _call_rows(con, {q["name"] for q in queue}, open_names)
    h = _headline(con)
    tiles = [
        ("calls", str(h["calls"])),
        ("failed", str(h["failed"])),
        ("minutes of calls", _fmt(h["minutes"], 0)),
        ("mean stages %", _fmt(h["stages"])),
        ("mean opening tone", _fmt(h["tone"])),
        ("mean opening clarity", _fmt(h["clarity"])),
        ("conduct flags / 100 calls", _fmt(h["flags"])),
        ("need review", _pct(h["review"])),
        ("in review queue", str(len(queue))),
        ("complaints (open)", f"{h['complaints']} ({len(open_names)})"),
    ]
    h["first_date"] = h["first_date"].isoformat() if h["first_date"] else None
    h["last_date"] = h["last_date"].isoformat() if h["last_date"] else None
    choices = {
        "agent": sorted({c["agent"] for c in calls if c["agent"]}),
        "team": sorted({c["team"] for c in calls if c["team"]}),
        "type": sorted({c["type"] for c in calls if c["type"]}),
    }
    rollups = [
        _rollup_block(
            con, "agents", "Agents", "agent",
            f"coalesce(nullif(agent_id, ''), '{NO_GROUP['agent']}')",
        ),
        _rollup_block(
            con, "teams", "Teams", "team", f"coalesce(nullif(team, ''), '{NO_GROUP['team']}')"
        ),
    ]  # fmt: skip
    env = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
    template = env.from_string(read_asset(ASSETS[0]))
    return template.render(
        csp=csp(),
        css=Markup(read_asset(ASSETS[1])),
        js=Markup(read_asset(ASSETS[2])),
        folder=out.resolve().name,
        h=h,
        tiles=tiles,
        queue=queue[:QUEUE_SHOWN],
        queue_total=len(queue),
        calls=calls,
        page_rows=PAGE_ROWS,
        columns=COLUMNS,
        choices=choices,
        flags=FLAGS,
        flag_text=dict(FLAGS),
        rollups=rollups,
        complaints=complaint_report,
        version=__version__,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        store=store_path(out).name,
    )


def write(output_dir: str | Path, *, sync: bool = True) -> Path:
    """Write the folder's dashboard, ``DIR/index.html`` (atomically), and return its path.

    ``sync``: bring the store up to date with the reports on disk first (a batch that has
    just recorded every call may skip it)."""
    from callscan.errors import CallscanError
    from callscan.util import atomic_write

    out = Path(output_dir)
    page = render(out, sync=sync)
    path = out / INDEX
    try:
        atomic_write(path, page)
    except OSError as e:
        raise CallscanError(f"'{path}': cannot write ({e.strerror})") from e
    return path
