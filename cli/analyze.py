"""``callscan analyze CALL``: the whole pipeline on a recording or a transcript."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, progress_hook, write_output
from callscan.cli.speaker_options import (
    AgentChannel,
    AgentPattern,
    AgentSpeaker,
    NSpeakers,
    SwapRoles,
    speakers_options,
)


def analyze(
    call: Annotated[
        Path,
        typer.Argument(help="A recording, or a transcript (.txt 'agent:'/'caller:' lines, .json)."),
    ],
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", "-o", help="Folder for NAME.callscan.json.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report JSON to stdout instead of a file.")
    ] = False,
    language: Annotated[
        str, typer.Option(help="'auto' or a code such as id, en (ASR and text stages).")
    ] = "auto",
    languages: Annotated[
        str, typer.Option(help="Languages auto-detection chooses from, comma-separated.")
    ] = "id,en",
    model: Annotated[str, typer.Option(help="Whisper model for recordings.")] = "base",
    model_path: Annotated[
        Path | None, typer.Option("--model-path", help="A local openai-whisper checkpoint (.pt).")
    ] = None,
    agent_channel: AgentChannel = None,
    agent_speaker: AgentSpeaker = None,
    swap_roles: SwapRoles = False,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    playbook: Annotated[
        Path | None,
        typer.Option("--playbook", help="A team's playbook YAML instead of the bundled one."),
    ] = None,
    opening_seconds: Annotated[
        float | None,
        typer.Option("--opening-seconds", help="Length of the scored opening (default 20 s)."),
    ] = None,
    call_type: Annotated[
        str, typer.Option("--call-type", help="auto, sales, complaint or service.")
    ] = "auto",
) -> None:
    """Analyse a call: speakers and roles, the agent's opening, caller modality and stage
    coverage, as a JSON report."""
    _run(**locals())


@library_errors
def _run(
    call,
    output_dir,
    as_json,
    language,
    languages,
    model,
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
    from callscan.asr.language import parse_languages
    from callscan.pipeline import AnalyzeOptions, analyze

    if call_type not in ("auto", "sales", "complaint", "service"):
        raise CallscanError(
            f"--call-type must be auto, sales, complaint or service, not '{call_type}'"
        )
    options = AnalyzeOptions(
        language=language,
        languages=parse_languages(languages),
        model=model,
        model_path=str(model_path) if model_path else None,
        speakers=speakers_options(
            agent_channel, agent_speaker, swap_roles, n_speakers, agent_pattern
        ),
        playbook=str(playbook) if playbook else None,
        call_type=call_type,
        opening_seconds=opening_seconds,
    )
    progress, hook = progress_hook()
    with progress:
        report = analyze(call, options, hook=hook)
    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if as_json:
        write_output(text, None)
        return
    out = (output_dir or call.parent) / f"{call.stem}.callscan.json"
    write_output(text, out)
    typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
