"""``callscan batch INPUTS... -o DIR``: many calls, a summary table and per-agent rollups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.analyze import Audience, Engine, Format
from callscan.cli.common import library_errors, progress_hook
from callscan.cli.speaker_options import (
    AgentChannel,
    AgentPattern,
    CallType,
    Language,
    Languages,
    Model,
    ModelPath,
    NSpeakers,
    PlaybookPath,
    analyze_options,
    speakers_options,
)


def batch(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Recordings, transcripts, or folders (searched for audio)."),
    ],
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-o", help="Folder for the reports and the summary."),
    ],
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="Per-call files besides JSON: json, html, md, all."),
    ] = Format.json,
    audience: Annotated[Audience, typer.Option(help="HTML/Markdown audience.")] = (
        Audience.supervisor
    ),
    workers: Annotated[
        int, typer.Option(min=1, help="Calls analysed at once (processes, one model each).")
    ] = 1,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--no-resume", help="Skip calls an earlier run of DIR already analysed."
        ),
    ] = True,
    language: Language = "auto",
    languages: Languages = "id,en",
    model: Model = "base",
    engine: Annotated[Engine, typer.Option(help="ASR engine.")] = Engine.openai_whisper,
    model_path: ModelPath = None,
    agent_channel: AgentChannel = None,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    playbook: PlaybookPath = None,
    call_type: CallType = "auto",
) -> None:
    """Analyse many calls into DIR: NAME.callscan.json per call, summary.csv (one row per
    call, failures included), agents.csv (per agent id from --agent-pattern) and batch.jsonl
    (the resumable log). A bad file is reported and skipped; the others go on. Exit status 1
    when any call failed."""
    _run(**locals())


@library_errors
def _run(
    inputs,
    output_dir,
    fmt,
    audience,
    workers,
    resume,
    language,
    languages,
    model,
    engine,
    model_path,
    agent_channel,
    n_speakers,
    agent_pattern,
    playbook,
    call_type,
):
    from callscan import report as reports
    from callscan.qa.runner import run_batch

    options = analyze_options(
        language=language,
        languages=languages,
        model=model,
        model_path=model_path,
        engine=engine,
        speakers=speakers_options(agent_channel, None, False, n_speakers, agent_pattern),
        playbook=playbook,
        call_type=call_type,
    )
    formats = reports.FORMATS if fmt is Format.all else (fmt.value,)

    def on_call(entry: dict) -> None:
        if entry["skipped"]:
            status = "done"
        elif entry["status"] == "ok":
            status = "ok"
        else:
            status = "FAILED"
        line = f"{status:6s} " + (entry["file"] if entry["status"] == "ok" else entry["error"])
        typer.echo(line, err=True)

    progress, hook = progress_hook()
    with progress:
        result = run_batch(
            inputs,
            output_dir,
            options,
            formats=formats,
            render_options=reports.ReportOptions(audience=audience.value),
            workers=workers,
            resume=resume,
            hook=hook,
            on_call=on_call,
        )
    n = len(result.rows)
    typer.echo(
        f"{n} call{'' if n == 1 else 's'}: {result.done} analysed, {result.skipped} already done, "
        f"{len(result.errors)} failed",
        err=True,
    )
    typer.echo(f"wrote {result.summary_path}", err=True)
    typer.echo(f"wrote {result.agents_path}", err=True)
    if result.errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
