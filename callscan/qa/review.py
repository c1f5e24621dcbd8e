"""The review queue: a folder's calls ordered by how much a human reviewer is needed.

Each call collects points from what puts it in the queue, and every point comes with its
reason, so each row says why it is there:

* the analysis asked for review (``stages.needs_review``: unsure words where a finding
  belongs): :data:`W_NEEDS_REVIEW` points, its reasons quoted;
* the agent/caller roles are unsure (``low_confidence`` or confidence below
  :data:`LOW_ROLE_CONFIDENCE`): :data:`W_ROLES`;
* the lowest scores: stages percent, opening tone or clarity in the lowest
  :data:`LOW_QUANTILE` of the folder's calls: :data:`W_LOW_SCORE` each;
* conduct flags (failed rules): :data:`W_CONDUCT` each, at most :data:`MAX_CONDUCT`;
* the agent drifts from their team: the agent's mean stages percent, tone or clarity is more
  than :data:`DRIFT_SD` standard errors below the rest of the team's calls (or the agent's
  conduct flags per call that much above): :data:`W_DRIFT` on each of the agent's calls.
  Calls without a team count as one team;
* the call failed to analyse: :data:`W_FAILED`.

Calls with no points are not in the queue. Ties go to the lower stages percent.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

W_NEEDS_REVIEW = 3.0
W_ROLES = 2.0
W_LOW_SCORE = 1.5
W_CONDUCT = 1.0
MAX_CONDUCT = 3
W_DRIFT = 1.0
W_FAILED = 1.0
LOW_ROLE_CONFIDENCE = 0.6
LOW_QUANTILE = 0.10  # the lowest tenth of the folder's calls on a score
MIN_CALLS_FOR_QUANTILE = 10  # below this many scored calls, no "lowest" reason
DRIFT_SD = 2.0
MIN_AGENT_CALLS = 3  # drift needs this many of the agent's calls ...
MIN_REST_CALLS = 5  # ... and this many of the rest of the team's
SCORES = (("stages_percent", "stages"), ("tone", "tone"), ("clarity", "clarity"))
NO_TEAM = "(no team)"


def _quantile(values: list[float], q: float) -> float | None:
    if len(values) < MIN_CALLS_FOR_QUANTILE:
        return None
    values = sorted(values)
    return values[max(0, math.ceil(q * len(values)) - 1)]


def _mean_sd(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var)


def drifts(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per agent id, the reasons it drifts from its team (see the module docstring)."""
    teams: dict[str, dict[str, list[dict]]] = {}
    for r in rows:
        if r.get("agent_id"):
            team = r.get("team") or NO_TEAM
            teams.setdefault(team, {}).setdefault(r["agent_id"], []).append(r)
    out: dict[str, list[str]] = {}
    measures = (*SCORES, ("conduct_failed", "conduct flags"))
    for team, agents in teams.items():
        for agent, own in agents.items():
            rest = [r for a, calls in agents.items() if a != agent for r in calls]
            for column, label in measures:
                mine = [float(r[column]) for r in own if r.get(column) is not None]
                others = [float(r[column]) for r in rest if r.get(column) is not None]
                if len(mine) < MIN_AGENT_CALLS or len(others) < MIN_REST_CALLS:
                    continue
                m_mean, _ = _mean_sd(mine)
                o_mean, o_sd = _mean_sd(others)
                if o_sd <= 0:
                    continue
                z = (m_mean - o_mean) / (o_sd / math.sqrt(len(mine)))
                worse = z > DRIFT_SD if column == "conduct_failed" else z < -DRIFT_SD
                if worse:
                    side = "above" if z > 0 else "below"
                    out.setdefault(agent, []).append(
                        f"agent {agent} drifts {side} team {team} on {label} "
                        f"({m_mean:.1f} vs {o_mean:.1f}, {abs(z):.1f} SD)"
                    )
    return out


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The queue from ``calls`` rows (dictionaries of the store's columns), most needed first."""
    ok = [r for r in rows if r.get("status") == "ok"]
    cut = {
        column: _quantile([float(r[column]) for r in ok if r.get(column) is not None], LOW_QUANTILE)
        for column, _ in SCORES
    }
    drift = drifts(ok)
    queue = []
    for r in rows:
        points, reasons = 0.0, []
        if r.get("status") != "ok":
            points += W_FAILED
            reasons.append(f"analysis failed: {r.get('error') or 'unknown error'}")
        else:
            if r.get("needs_review"):
                points += W_NEEDS_REVIEW
                why = "; ".join(r.get("review_reasons") or [])
                reasons.append(f"needs review: {why}" if why else "needs review")
            conf = r.get("roles_confidence")
            if r.get("roles_low_confidence") or (conf is not None and conf < LOW_ROLE_CONFIDENCE):
                points += W_ROLES
                shown = "" if conf is None else f" (confidence {conf:.2f})"
                reasons.append(f"agent/caller roles unsure{shown}")
            for column, label in SCORES:
                value, limit = r.get(column), cut[column]
                if value is not None and limit is not None and value <= limit:
                    points += W_LOW_SCORE
                    reasons.append(f"{label} {value:g} (lowest {LOW_QUANTILE:.0%} of the calls)")
            rules = list(r.get("conduct_failed_rules") or [])
            if rules:
                points += W_CONDUCT * min(len(rules), MAX_CONDUCT)
                reasons.append(f"conduct flags: {', '.join(rules)}")
            if r.get("agent_id") in drift:
                points += W_DRIFT
                reasons += drift[r["agent_id"]]
        if points > 0:
            queue.append(
                {
                    "name": r["name"],
                    "priority": round(points, 2),
                    "reasons": reasons,
                    "agent_id": r.get("agent_id"),
                    "team": r.get("team"),
                    "date": None if r.get("date") is None else str(r["date"]),
                    "call_type": r.get("call_type"),
                    "stages_percent": r.get("stages_percent"),
                    "tone": r.get("tone"),
                    "clarity": r.get("clarity"),
                    "conduct_failed": r.get("conduct_failed"),
                    "link": r.get("html") or r.get("report"),
                }
            )
    queue.sort(
        key=lambda q: (
            -q["priority"],
            q["stages_percent"] if q["stages_percent"] is not None else math.inf,
            q["name"],
        )
    )
    return queue


QUEUE_COLUMNS = (
    "name, status, error, agent_id, team, date, call_type, needs_review, review_reasons, "
    "roles_confidence, roles_low_confidence, stages_percent, tone, clarity, conduct_failed, "
    "conduct_failed_rules, html, report"
)


def review_queue(
    output_dir: str | Path, *, limit: int | None = None, con=None
) -> list[dict[str, Any]]:
    """The folder's review queue (see the module docstring), at most ``limit`` rows.

    ``con``: an open store connection (the store is then not synced first).
    """
    from callscan.qa.store import opened, query, sync

    if con is None:
        sync(output_dir)
        with opened(output_dir, read_only=True) as own:
            return review_queue(output_dir, limit=limit, con=own)
    queue = rank(query(con, f"SELECT {QUEUE_COLUMNS} FROM calls ORDER BY name"))
    return queue if limit is None else queue[:limit]
