"""QA over a batch output folder: ``callscan export``, ``rollup``, ``review-queue``,
``dashboard``. Each brings the folder's store (``DIR/callscan.duckdb``) up to date with the
reports on disk first, so they work on any batch folder."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from callscan.cli.common import library_errors, print_json

Folder = Annotated[
    Path,
    typer.Argument(help="A batch output folder (NAME.callscan.json reports).", file_okay=False),
]
Manifest = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        help="A manifest CSV (path or call_id, agent_id, team, date, ...): metadata for the store.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


class ExportFormat(str, Enum):
    """Table files (:data:`callscan.qa.store.EXPORT_FORMATS`)."""

    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


class GroupBy(str, Enum):
    """Rollup groups (:data:`callscan.qa.rollups.GROUPINGS`)."""

    agent = "agent"
    team = "team"
    day = "day"
    week = "week"
    month = "month"


def _sync(folder: Path, manifest: Path | None) -> None:
    from callscan.qa.store import sync

    result = sync(folder, manifest=manifest)
    for error in result.errors:
        typer.echo(f"skipped: {error}", err=True)


@library_errors
def export(
    folder: Folder,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="csv, parquet or jsonl.")
    ] = ExportFormat.csv,
    output: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Folder for the files (default: the folder)."),
    ] = None,
    manifest: Manifest = None,
    as_json: AsJson = False,
) -> None:
    """Write the store's tables as calls.FMT (one row per call) and findings.FMT (one row per
    stage, step, rule and modality finding)."""
    from callscan.qa.store import export as export_tables

    _sync(folder, manifest)
    files = export_tables(folder, fmt.value, output)
    if as_json:
        print_json({"files": [str(f) for f in files]})
    else:
        for f in files:
            typer.echo(f"wrote {f}", err=True)


def _num(x: Any, digits: int = 1) -> str:
    return "-" if x is None else f"{float(x):.{digits}f}"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * float(x):.0f}%"


def _print_rollup(data: dict) -> None:
    head = ("group", "calls", "failed", "min", "stages%", "tone", "clarity", "stage cov",
            "step cov", "flags/100", "review", "Δ stages%")  # fmt: skip
    lines = [head]
    for g in data["groups"]:
        change = (g.get("change") or {}).get("stages_percent_mean")
        lines.append(
            (
                str(g["group"]), str(g["calls"]), str(g.get("failed", 0)), _num(g.get("minutes")),
                _num(g.get("stages_percent_mean")), _num(g.get("tone_mean")),
                _num(g.get("clarity_mean")), _pct(g.get("stage_coverage")),
                _pct(g.get("step_coverage")), _num(g.get("conduct_flags_per_100")),
                _pct(g.get("review_share")), "" if change is None else f"{change:+.1f}",
            )
        )  # fmt: skip
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    for row in lines:
        typer.echo("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())  # fmt: skip


def _print_complaints(data: dict) -> None:
    typer.echo(f"{data['complaints']} complaints, {data['open']} open")
    for t in data["topics"]:
        steps = ", ".join(f"{k} {_pct(v)}" for k, v in t["steps"].items()) or "no step heard"
        typer.echo(f"  {t['topic']}: {t['complaints']} ({t['open']} open); steps heard: {steps}")
    open_calls = [c for c in data["calls"] if c["open"]]
    if open_calls:
        typer.echo("open:")
    for c in open_calls:
        who = c["agent_id"] or "?"
        typer.echo(f'  {c["date"] or "-"}  {who}  {c["topic"]}  {c["name"]}  "{c["grievance"]}"')


@library_errors
def rollup(
    folder: Folder,
    by: Annotated[
        GroupBy, typer.Option("--by", help="Group by agent, team, day, week or month.")
    ] = GroupBy.agent,
    since: Annotated[
        str | None, typer.Option("--since", help="Only calls dated on or after (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only calls dated on or before (YYYY-MM-DD).")
    ] = None,
    complaints: Annotated[
        bool,
        typer.Option(
            "--complaints",
            help="The complaint report instead: by topic, how each was handled, what is open.",
        ),
    ] = False,
    manifest: Manifest = None,
    as_json: AsJson = False,
) -> None:
    """Roll the folder's calls up per agent, team, day, week or month: calls, minutes, mean and
    SD of tone and clarity, stage and step coverage, conduct flags per 100 calls, caller
    modality mix, talk metrics, share needing review, and the change against the previous
    period. With --complaints: the weekly complaint report."""
    from callscan.qa import rollups

    _sync(folder, manifest)
    if complaints:
        data = rollups.complaints(folder, since=since, until=until).to_dict()
        if as_json:
            print_json(data)
        else:
            _print_complaints(data)
        return
    data = rollups.rollup(folder, by.value, since=since, until=until).to_dict()
    if as_json:
        print_json(data)
    else:
        _print_rollup(data)


@library_errors
def review_queue(
    folder: Folder,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Show at most this many calls.")
    ] = None,
    manifest: Manifest = None,
    as_json: AsJson = False,
) -> None:
    """Calls ordered by how much a reviewer is needed (needs-review findings, unsure roles,
    lowest scores, conduct flags, agents drifting from their team), each with its reasons."""
    from callscan.qa.review import review_queue as queue_of

    _sync(folder, manifest)
    queue = queue_of(folder, limit=limit)
    if as_json:
        print_json({"calls": queue})
        return
    for i, q in enumerate(queue, 1):
        typer.echo(f"{i:>4}. {q['name']}  ({q['priority']:g} points; {q['agent_id'] or '?'})")
        for reason in q["reasons"]:
            typer.echo(f"        - {reason}")
    if not queue:
        typer.echo("No call needs a reviewer.", err=True)


@library_errors
def dashboard(folder: Folder, manifest: Manifest = None, as_json: AsJson = False) -> None:
    """Write DIR/index.html: headline figures, the review queue, every call (sortable,
    filterable, linked to its report), per-agent and per-team rollups with trend charts;
    self-contained and offline."""
    from callscan.qa.dashboard import write

    _sync(folder, manifest)
    path = write(folder)
    if as_json:
        print_json({"dashboard": str(path)})
    else:
        typer.echo(f"wrote {path}", err=True)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("rollup")(rollup)
    app.command("review-queue")(review_queue)
    app.command("dashboard")(dashboard)
