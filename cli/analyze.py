"""``callscan analyze CALL``: the whole pipeline on a recording or a transcript."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, progress_hook, write_output
from callscan.cli.speaker_options import (
    AgentChannel,
    AgentPattern,
    AgentSpeaker,
    CallType,
    NSpeakers,
    PlaybookPath,
    SwapRoles,
    analyze_options,
    speakers_options,
)


class Format(str, Enum):
    json = "json"
    html = "html"
    md = "md"
    all = "all"


class Audience(str, Enum):
    supervisor = "supervisor"
    agent = "agent"


class Engine(str, Enum):
    openai_whisper = "openai-whisper"
    faster_whisper = "faster-whisper"


def analyze(
    call: Annotated[
        Path,
        typer.Argument(help="A recording, or a transcript (.txt 'agent:'/'caller:' lines, .json)."),
    ],
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir", "-o", help="Folder for NAME.callscan.* (default: the call's)."
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the report JSON to stdout (no files unless --format is given)."
        ),
    ] = False,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format", "-f", help="Files to write: json, html, md or all (default: json and html)."
        ),
    ] = None,
    audience: Annotated[
        Audience,
        typer.Option(
            help="HTML/Markdown for a supervisor, or an agent's self-review with tips first."
        ),
    ] = Audience.supervisor,
    embed_audio: Annotated[
        bool,
        typer.Option(
            "--embed-audio",
            help="Put the call's audio in the HTML page (16 kHz FLAC); evidence clicks play it.",
        ),
    ] = False,
    language: Annotated[
        str, typer.Option(help="'auto' or a code such as id, en (ASR and text stages).")
    ] = "auto",
    languages: Annotated[
        str, typer.Option(help="Languages auto-detection chooses from, comma-separated.")
    ] = "id,en",
    model: Annotated[str, typer.Option(help="Whisper model for recordings.")] = "base",
    engine: Annotated[
        Engine, typer.Option(help="ASR engine: openai-whisper, or faster-whisper (extra).")
    ] = Engine.openai_whisper,
    model_path: Annotated[
        Path | None, typer.Option("--model-path", help="A local openai-whisper checkpoint (.pt).")
    ] = None,
    agent_channel: AgentChannel = None,
    agent_speaker: AgentSpeaker = None,
    swap_roles: SwapRoles = False,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    playbook: PlaybookPath = None,
    opening_seconds: Annotated[
        float | None,
        typer.Option("--opening-seconds", help="Length of the scored opening (default 20 s)."),
    ] = None,
    call_type: CallType = "auto",
) -> None:
    """Analyse a call: speakers and roles, the agent's opening, caller modality, stage coverage
    and talk metrics, as a JSON report and a self-contained HTML page (or Markdown)."""
    _run(**locals())


@library_errors
def _run(
    call,
    output_dir,
    as_json,
    fmt,
    audience,
    embed_audio,
    language,
    languages,
    model,
    engine,
    model_path,
    agent_channel,
    agent_speaker,
    swap_roles,
    n_speakers,
    agent_pattern,
    playbook,
    opening_seconds,
    call_type,
):
    from callscan import CallscanError
    from callscan import report as reports
    from callscan.conversation import is_transcript_path
    from callscan.pipeline import analyze

    if embed_audio and is_transcript_path(call):
        raise CallscanError("--embed-audio needs a recording, not a transcript")
    options = analyze_options(
        language=language,
        languages=languages,
        model=model,
        model_path=model_path,
        engine=engine,
        speakers=speakers_options(
            agent_channel, agent_speaker, swap_roles, n_speakers, agent_pattern
        ),
        playbook=playbook,
        call_type=call_type,
        opening_seconds=opening_seconds,
    )
    progress, hook = progress_hook()
    with progress:
        report = analyze(call, options, hook=hook)
    if fmt is None:
        formats = () if as_json else ("json", "html")
    else:
        formats = reports.FORMATS if fmt is Format.all else (fmt.value,)
    audio_uri = reports.audio_data_uri(call) if embed_audio and "html" in formats else None
    render_options = reports.ReportOptions(audience=audience.value, audio_uri=audio_uri)
    written = reports.write_reports(
        report, reports.report_paths(call, formats, output_dir), render_options
    )
    if as_json:
        write_output(reports.render_json(report), None)
    print_summary(reports.summary(report), written)


def print_summary(lines: list[tuple[str, str]], written: list[Path]) -> None:
    """The report's headline on stderr (rich), then the files written."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False, soft_wrap=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in lines:
        table.add_row(label, value, style="cyan" if label.startswith("tip") else None)
    console.print(table)
    for path in written:
        typer.echo(f"wrote {path}", err=True)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
