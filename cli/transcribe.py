"""``callscan transcribe CALL``: segments and word timestamps, per channel."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, progress_hook, write_output
from callscan.cli.options import (
    AgentChannel,
    AgentPattern,
    AgentSpeaker,
    BeamSize,
    Engine,
    EngineOption,
    Language,
    Languages,
    MaxDuration,
    Model,
    ModelPath,
    NSpeakers,
    Output,
    Redact,
    SwapRoles,
    Threads,
    analyze_options,
    speakers_options,
)


class Format(str, Enum):
    """Transcript formats (:mod:`callscan.asr.writers`)."""

    json = "json"
    txt = "txt"
    srt = "srt"
    vtt = "vtt"


@library_errors
def transcribe(
    call: Annotated[Path, typer.Argument(help="Recording: WAV, FLAC, OGG/Opus, MP3, ...")],
    model: Model = "base",
    model_path: ModelPath = None,
    language: Language = "auto",
    languages: Languages = "id,en",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
    output: Output = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the JSON transcript on stdout (as --format json)."),
    ] = False,
    beam_size: BeamSize = None,
    engine: EngineOption = Engine.openai_whisper,
    threads: Threads = 0,
    max_duration: MaxDuration = 4.0,
    agent_channel: AgentChannel = None,
    agent_speaker: AgentSpeaker = None,
    swap_roles: SwapRoles = False,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    redact: Redact = None,
) -> None:
    """Transcribe a call with Whisper: turns (speaker, role, channel), segments, word timestamps."""
    from callscan.asr.writers import get_writer
    from callscan.pipeline import transcribe_recording

    if as_json and (fmt is not Format.json or output is not None):
        raise typer.BadParameter(
            "prints JSON on stdout: drop --format / --output", param_hint="--json"
        )
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
        redact=redact,
    )
    progress, hook = progress_hook()
    with progress:
        result = transcribe_recording(call, options, hook=hook)
    speakers = result.speakers
    extra = {"speakers": {"mode": speakers.mode, "roles": speakers.roles.to_dict()}}
    write_output(get_writer(fmt.value)(result.transcript, speakers.turns, extra), output)


def register(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe)
