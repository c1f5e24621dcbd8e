"""Rollups a QA lead reads: per agent, team, day, week or month, and the weekly complaint report.

Both read the folder's store (:mod:`callscan.qa.store`, brought up to date with the reports
first) with DuckDB's SQL, so 10,000 calls roll up in well under a second.

:func:`rollup` gives, per group: calls (and failed calls), minutes, mean and standard
deviation of the opening's tone and clarity, the mean stages percent, the coverage rate of
every stage and step (heard / applicable) and of stages and steps overall, conduct flags
(failed rules) per 100 calls and the rules flagged most, the caller-modality mix, talk-metric
means, the share of calls needing review; and for ``day``/``week``/``month`` the change
against the period before (``None`` when that period has no calls).

:func:`complaints` is the report the training texts ask of a QA lead each week: complaints by
topic (``complaint_topics.yaml``), how each was handled (the complaint steps heard), and what
remains open (the ``resolve`` step absent or unclear).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.errors import CallscanError

GROUPINGS = ("agent", "team", "day", "week", "month")
TIME_GROUPINGS = ("day", "week", "month")
NO_GROUP = {"agent": "(unknown)", "team": "(no team)"}
NO_DATE = "(no date)"
# measures whose change against the previous period is reported
CHANGE_KEYS = (
    "calls", "minutes", "tone_mean", "clarity_mean", "stages_percent_mean", "stage_coverage",
    "step_coverage", "conduct_flags_per_100", "review_share",
)  # fmt: skip
RESOLVE_STEP = "resolve"  # the complaint step that closes a complaint
OPEN_STATUSES = ("absent", "unclear")
TOP_RULES = 3  # rules listed per group


def group_key_sql(by: str) -> str:
    """The SQL expression giving a call's group (on table ``calls``)."""
    if by == "agent":
        return f"coalesce(nullif(agent_id, ''), '{NO_GROUP['agent']}')"
    if by == "team":
        return f"coalesce(nullif(team, ''), '{NO_GROUP['team']}')"
    fmt = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}.get(by)
    if fmt is None:
        raise CallscanError(
            f"cannot group by '{by}' (choose from {', '.join(GROUPINGS)})", option="by"
        )
    return f"coalesce(strftime(date, '{fmt}'), '{NO_DATE}')"


def previous_period(key: str, by: str) -> str | None:
    """The period before ``key`` (``2024-W02`` -> ``2024-W01``), or None for no date."""
    if key == NO_DATE:
        return None
    if by == "day":
        return (dt.date.fromisoformat(key) - dt.timedelta(days=1)).isoformat()
    if by == "week":
        iso_year, iso_week = key.split("-W")
        prev = dt.date.fromisocalendar(int(iso_year), int(iso_week), 1) - dt.timedelta(days=7)
        y, w, _ = prev.isocalendar()
        return f"{y}-W{w:02d}"
    if by == "month":
        y, m = (int(x) for x in key.split("-"))
        return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
    return None


def _date(value: str | dt.date | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CallscanError(f"'{value}' is not a date (YYYY-MM-DD)", option=option) from None


def date_filter(since, until, column: str = "date") -> tuple[str, list]:
    """A SQL condition (on ``calls``) for calls dated within ``[since, until]`` and its
    parameters; calls without a date fall outside any range."""
    since, until = _date(since, "since"), _date(until, "until")
    if since and until and since > until:
        raise CallscanError(f"--since {since} is after --until {until}", option="since")
    parts, params = [], []
    if since:
        parts.append(f"{column} >= ?")
        params.append(since)
    if until:
        parts.append(f"{column} <= ?")
        params.append(until)
    return (" AND ".join(parts) or "TRUE"), params


@dataclass
class Rollup:
    """Groups of calls and their figures (see the module docstring)."""

    by: str
    since: dt.date | None = None
    until: dt.date | None = None
    groups: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "groups": self.groups,
        }


def _round(x: Any, digits: int = 1) -> Any:
    return None if x is None else round(float(x), digits)


def _stats(con, key: str, where: str, params: list) -> dict[str, dict[str, Any]]:
    """Per group of ok calls: counts, means and spreads, coverage, flags, modality mix."""
    from callscan.qa.store import COVERED, query

    base = f"SELECT *, {key} AS grp FROM calls WHERE status = 'ok' AND {where}"
    rows = query(
        con,
        f"""WITH c AS ({base})
        SELECT grp, count(*) AS calls, sum(duration_s) / 60 AS minutes,
          avg(tone) AS tone_mean, stddev_samp(tone) AS tone_sd,
          avg(clarity) AS clarity_mean, stddev_samp(clarity) AS clarity_sd,
          avg(stages_percent) AS stages_percent_mean,
          sum(conduct_failed) * 100.0 / count(*) AS conduct_flags_per_100,
          avg(needs_review::INTEGER) AS review_share,
          sum(roles_low_confidence::INTEGER) AS low_confidence_roles,
          avg(agent_talk_pct) AS agent_talk_pct_mean, avg(talk_ratio) AS talk_ratio_mean,
          avg(non_talk_s) AS non_talk_s_mean, avg(interruptions) AS interruptions_mean,
          avg(agent_longest_monologue_s) AS agent_longest_monologue_s_mean,
          count(*) FILTER (WHERE complaint) AS complaints
        FROM c GROUP BY grp""",
        params,
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        g = r.pop("grp")
        out[g] = {
            "group": g,
            "calls": r["calls"],
            "failed": 0,
            "minutes": _round(r["minutes"], 2),
            "tone_mean": _round(r["tone_mean"]),
            "tone_sd": _round(r["tone_sd"]),
            "clarity_mean": _round(r["clarity_mean"]),
            "clarity_sd": _round(r["clarity_sd"]),
            "stages_percent_mean": _round(r["stages_percent_mean"]),
            "stage_coverage": None,
            "step_coverage": None,
            "coverage": {},
            "conduct_flags_per_100": _round(r["conduct_flags_per_100"]),
            "rules_flagged": {},
            "caller_modality": {},
            "talk": {
                "agent_talk_pct_mean": _round(r["agent_talk_pct_mean"]),
                "talk_ratio_mean": _round(r["talk_ratio_mean"], 2),
                "non_talk_s_mean": _round(r["non_talk_s_mean"]),
                "interruptions_mean": _round(r["interruptions_mean"], 2),
                "agent_longest_monologue_s_mean": _round(r["agent_longest_monologue_s_mean"]),
            },
            "low_confidence_roles": int(r["low_confidence_roles"] or 0),
            "complaints": r["complaints"],
            "review_share": _round(r["review_share"], 3),
        }
    covered = ", ".join(f"'{s}'" for s in COVERED)
    coverage = query(
        con,
        f"""WITH c AS ({base})
        SELECT c.grp, f.kind, f.id,
          count(*) FILTER (WHERE f.status IN ({covered})) AS heard,
          count(*) FILTER (WHERE f.status <> 'n/a') AS applicable
        FROM findings f JOIN c ON f.name = c.name
        WHERE f.kind IN ('stage', 'step') GROUP BY ALL ORDER BY ALL""",
        params,
    )
    totals: dict[tuple[str, str], list[int]] = {}
    for r in coverage:
        g = out.get(r["grp"])
        if g is None:
            continue
        if r["applicable"]:
            g["coverage"][f"{r['kind']}:{r['id']}"] = round(r["heard"] / r["applicable"], 3)
        t = totals.setdefault((r["grp"], r["kind"]), [0, 0])
        t[0] += r["heard"]
        t[1] += r["applicable"]
    for (grp, kind), (heard, applicable) in totals.items():
        if applicable:
            out[grp][f"{kind}_coverage"] = round(heard / applicable, 3)
    for r in query(
        con,
        f"""WITH c AS ({base})
        SELECT c.grp, f.id, count(*) AS n FROM findings f JOIN c ON f.name = c.name
        WHERE f.kind = 'rule' AND f.status = 'fail' GROUP BY ALL ORDER BY grp, n DESC, id""",
        params,
    ):
        flagged = out[r["grp"]]["rules_flagged"]
        if len(flagged) < TOP_RULES:
            flagged[r["id"]] = r["n"]
    for r in query(
        con,
        f"""WITH c AS ({base})
        SELECT grp, coalesce(caller_modality, 'undetermined') AS m, count(*) AS n
        FROM c GROUP BY ALL ORDER BY grp, n DESC, m""",
        params,
    ):
        g = out[r["grp"]]
        g["caller_modality"][r["m"]] = round(r["n"] / g["calls"], 3)
    for r in query(
        con,
        f"SELECT {key} AS grp, count(*) AS n FROM calls WHERE status <> 'ok' AND {where} "
        "GROUP BY ALL",
        params,
    ):
        g = out.setdefault(r["grp"], {"group": r["grp"], "calls": 0})
        g["failed"] = r["n"]
    return out


def rollup(
    output_dir: str | Path | None,
    by: str = "agent",
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    con=None,
) -> Rollup:
    """Roll the folder's calls up by ``by`` (agent, team, day, week, month), within
    ``[since, until]`` (dates, inclusive; calls without a date are left out of a range).

    ``con``: an open store connection (the store is then not synced first).
    """
    from callscan.qa.store import opened, sync

    key = group_key_sql(by)
    where, params = date_filter(since, until)
    result = Rollup(by, _date(since, "since"), _date(until, "until"))
    if con is None:
        if output_dir is None:
            raise CallscanError("rollup needs a folder or an open store")
        sync(output_dir)
        with opened(output_dir, read_only=True) as own:
            return rollup(output_dir, by, since=since, until=until, con=own)
    stats = _stats(con, key, where, params)
    every = _stats(con, key, "TRUE", []) if by in TIME_GROUPINGS and params else stats
    for g in sorted(stats):
        group = stats[g]
        if by in TIME_GROUPINGS:
            prev_key = previous_period(g, by)
            prev = every.get(prev_key) if prev_key else None
            group["previous"] = prev_key
            group["change"] = {
                k: (
                    None
                    if prev is None or group.get(k) is None or prev.get(k) is None
                    else round(group[k] - prev[k], 3)
                )
                for k in CHANGE_KEYS
            }
        result.groups.append(group)
    return result


def trend(con, key: str, by: str = "week", measure: str = "stages_percent") -> dict[str, list]:
    """Per group (``key``: agent or team SQL), the mean of ``measure`` per period, oldest
    first: ``{group: [(period, mean, calls), ...]}`` (for small trend charts)."""
    from callscan.qa.store import query

    period = group_key_sql(by)
    rows = query(
        con,
        f"""SELECT {key} AS grp, {period} AS period, avg({measure}) AS m, count(*) AS n
        FROM calls WHERE status = 'ok' AND date IS NOT NULL GROUP BY ALL ORDER BY grp, period""",
    )
    out: dict[str, list] = {}
    for r in rows:
        out.setdefault(r["grp"], []).append((r["period"], _round(r["m"]), r["n"]))
    return out


# ---- the weekly complaint report -------------------------------------------------------------


@dataclass
class ComplaintReport:
    """Complaints by topic, how each was handled, what remains open."""

    since: dt.date | None
    until: dt.date | None
    topics: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["open"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "complaints": len(self.calls),
            "open": len(self.open),
            "topics": self.topics,
            "calls": self.calls,
        }


def complaints(
    output_dir: str | Path | None,
    *,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    con=None,
) -> ComplaintReport:
    """The complaint report of the folder's calls within ``[since, until]``: every call where
    the caller raised a grievance (or typed ``complaint``), its topic, the complaint steps heard
    and missed, and whether it remains open (``resolve`` absent or unclear)."""
    from callscan.qa.store import COVERED, opened, query, sync

    if con is None:
        if output_dir is None:
            raise CallscanError("the complaint report needs a folder or an open store")
        sync(output_dir)
        with opened(output_dir, read_only=True) as own:
            return complaints(output_dir, since=since, until=until, con=own)
    where, params = date_filter(since, until)
    c_where, _ = date_filter(since, until, "c.date")
    calls = query(
        con,
        f"""SELECT name, agent_id, team, date, call_type, complaint_topic, html, report,
          stages_percent, conduct_failed
        FROM calls WHERE status = 'ok' AND complaint AND {where} ORDER BY date, name""",
        params,
    )
    steps = query(
        con,
        f"""SELECT f.name, f.id, f.status, f.evidence, f.kind FROM findings f
        JOIN calls c ON f.name = c.name
        WHERE c.status = 'ok' AND c.complaint AND {c_where}
          AND f.kind IN ('step', 'grievance') ORDER BY f.name""",
        params,
    )
    by_call: dict[str, list[dict]] = {}
    for s in steps:
        by_call.setdefault(s["name"], []).append(s)
    report = ComplaintReport(_date(since, "since"), _date(until, "until"))
    topics: dict[str, dict[str, Any]] = {}
    for c in calls:
        items = by_call.get(c["name"], [])
        grievance = next((s["evidence"] for s in items if s["kind"] == "grievance"), "")
        handled = [s["id"] for s in items if s["kind"] == "step" and s["status"] in COVERED]
        missed = [s["id"] for s in items if s["kind"] == "step" and s["status"] in OPEN_STATUSES]
        resolve = next((s["status"] for s in items if s["id"] == RESOLVE_STEP), None)
        is_open = resolve is None or resolve in OPEN_STATUSES
        topic = c["complaint_topic"] or "other"
        row = {
            "name": c["name"],
            "agent_id": c["agent_id"],
            "team": c["team"],
            "date": None if c["date"] is None else c["date"].isoformat(),
            "topic": topic,
            "grievance": grievance,
            "steps_heard": handled,
            "steps_missed": missed,
            "open": is_open,
            "link": c["html"] or c["report"],
        }
        report.calls.append(row)
        t = topics.setdefault(topic, {"topic": topic, "complaints": 0, "open": 0, "steps": {}})
        t["complaints"] += 1
        t["open"] += is_open
        for step in handled:
            t["steps"][step] = t["steps"].get(step, 0) + 1
    for t in topics.values():
        n = t["complaints"]
        t["steps"] = {k: round(v / n, 3) for k, v in sorted(t["steps"].items())}
        t["open_share"] = round(t["open"] / n, 3)
    report.topics = sorted(topics.values(), key=lambda t: (-t["complaints"], t["topic"]))
    return report
