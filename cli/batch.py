"""``callscan batch INPUTS... -o DIR``: many calls, a summary table and per-agent rollups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from callscan.cli.common import batch_progress, library_errors, print_json
from callscan.cli.options import (
    AgentChannel,
    AgentPattern,
    AgentSpeaker,
    Audience,
    AudienceOption,
    BeamSize,
    CallType,
    CallTypeOption,
    ClassifierOption,
    EmbedAudio,
    Engine,
    EngineOption,
    Executor,
    Format,
    Language,
    Languages,
    MaxDuration,
    Model,
    ModelPath,
    NSpeakers,
    OpeningSeconds,
    PlaybookPath,
    ProfilePath,
    Redact,
    SwapRoles,
    analyze_options,
    speakers_options,
)


@library_errors
def batch(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Recordings, transcripts, folders (searched for audio), globs "
            "('calls/**/*.wav') or a manifest CSV.",
        ),
    ],
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-o", help="Folder for the reports and the summary."),
    ],
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="Per-call files besides JSON: json, html, md, all."),
    ] = Format.json,
    audience: AudienceOption = Audience.supervisor,
    embed_audio: EmbedAudio = False,
    workers: Annotated[
        int, typer.Option(min=1, help="Calls analysed at once (processes, one model each).")
    ] = 1,
    executor: Annotated[
        Executor,
        typer.Option(
            help="local: this machine's processes; ray: --workers actors on a Ray cluster "
            "(the 'ray' extra; RAY_ADDRESS or --ray-address, else a local Ray).",
        ),
    ] = Executor.local,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster address for --executor ray."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--no-resume", help="Skip calls an earlier run of DIR already analysed."
        ),
    ] = True,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the batch summary (counts, files, rows) as JSON."),
    ] = False,
    language: Language = "auto",
    languages: Languages = "id,en",
    model: Model = "base",
    engine: EngineOption = Engine.openai_whisper,
    model_path: ModelPath = None,
    threads: Annotated[
        int, typer.Option(min=0, help="Torch threads per worker (0 = the CPUs shared out).")
    ] = 0,
    beam_size: BeamSize = None,
    max_duration: MaxDuration = 4.0,
    agent_channel: AgentChannel = None,
    agent_speaker: AgentSpeaker = None,
    swap_roles: SwapRoles = False,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    team_pattern: Annotated[
        str | None,
        typer.Option(
            "--team-pattern",
            help="Regex on each call's folder path (below its input) with a named group team.",
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            help="CSV of calls: path (relative to the CSV), optional call_id, agent_id, team, "
            "date, language, agent_channel, call_type (these three override the flags).",
        ),
    ] = None,
    playbook: PlaybookPath = None,
    profile: ProfilePath = None,
    opening_seconds: OpeningSeconds = None,
    call_type: CallTypeOption = CallType("auto"),
    classifier: ClassifierOption = True,
    redact: Redact = None,
) -> None:
    """Analyse many calls into DIR: NAME.callscan.json per call, summary.csv (one row per
    call, failures included), agents.csv (per agent id from --agent-pattern) and batch.jsonl
    (the resumable log). Metadata (agent, team, call id, date) comes from a manifest CSV,
    --agent-pattern and --team-pattern. On a terminal, progress shows calls done, failed and
    skipped, audio hours, throughput and an ETA by audio duration. A bad file is reported
    and skipped; the others go on. One batch at a time per DIR. Exit status 1 when any call
    failed."""
    from callscan import report as reports
    from callscan.qa.runner import run_batch

    options = analyze_options(
        speakers=speakers_options(
            agent_channel=agent_channel,
            agent_speaker=agent_speaker,
            swap_roles=swap_roles,
            n_speakers=n_speakers,
            agent_pattern=agent_pattern,
        ),
        language=language,
        languages=languages,
        model=model,
        model_path=model_path,
        engine=engine,
        threads=threads,
        beam_size=beam_size,
        max_duration_h=max_duration,
        playbook=playbook,
        profile=profile,
        call_type=call_type,
        opening_seconds=opening_seconds,
        classifier=classifier,
        redact=redact,
    )
    formats = reports.FORMATS if fmt is Format.all else (fmt.value,)
    progress, on_progress = with_stages(*batch_progress())
    with progress:
        result = run_batch(
            inputs,
            output_dir,
            options,
            formats=formats,
            render_options=reports.ReportOptions(audience=audience.value),
            workers=workers,
            executor=executor.value,
            ray_address=ray_address,
            resume=resume,
            embed_audio=embed_audio,
            on_call=print_call,
            on_progress=on_progress,
            manifest=manifest,
            team_pattern=team_pattern,
        )
    n = len(result.rows)
    typer.echo(
        f"{n} call{'' if n == 1 else 's'}: {result.done} analysed, {result.skipped} already done, "
        f"{len(result.errors)} failed",
        err=True,
    )
    typer.echo(f"wrote {result.summary_path}", err=True)
    typer.echo(f"wrote {result.agents_path}", err=True)
    if as_json:
        print_json(result.to_dict())
    if result.errors:
        raise typer.Exit(1)


def print_call(entry: dict[str, Any]) -> None:
    """One line on stderr per finished call: ``ok``/``done``/``FAILED`` and its file or error."""
    if entry["skipped"]:
        status = "done"
    elif entry["status"] == "ok":
        status = "ok"
    else:
        status = "FAILED"
    line = f"{status:6s} " + (entry["file"] if entry["status"] == "ok" else entry["error"])
    typer.echo(line, err=True)


def with_stages(progress: Any, on_progress: Any) -> tuple[Any, Any]:
    """The batch progress line with, at its end, each call being analysed and its stage
    (``A17_0001: transcribing 1/2 · A17_0002: analysing``)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class StageColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(task.fields.get("stages", ""), no_wrap=True, overflow="ellipsis")

    progress.columns = (*progress.columns, StageColumn())

    def show(state: Any) -> None:
        on_progress(state)
        if progress.task_ids:
            progress.update(progress.task_ids[0], stages=stages_text(state))

    return progress, show


def stages_text(state: Any, shown: int = 2, width: int = 24) -> str:
    """The calls in progress of a ``BatchProgress`` and their stages, the first ``shown``
    of them (names cut to ``width`` characters), then how many more."""
    items = list(state.in_progress.items())
    parts = [
        f"{name if len(name) <= width else name[: width - 1] + '…'}: {stage}"
        for name, stage in items[:shown]
    ]
    if len(items) > shown:
        parts.append(f"+{len(items) - shown} more")
    return " · ".join(parts)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
