"""``callscan transcribe CALL``: segments and word timestamps, per channel."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.analyze import Engine
from callscan.cli.common import library_errors, progress_hook, write_output
from callscan.cli.speaker_options import (
    AgentChannel,
    AgentPattern,
    AgentSpeaker,
    Language,
    Languages,
    Model,
    ModelPath,
    NSpeakers,
    SwapRoles,
    Threads,
    speakers_options,
)


class Format(str, Enum):
    json = "json"
    txt = "txt"
    srt = "srt"
    vtt = "vtt"


def transcribe(
    call: Annotated[Path, typer.Argument(help="Recording: WAV, FLAC, OGG/Opus, MP3, ...")],
    model: Model = "base",
    model_path: ModelPath = None,
    language: Language = "auto",
    languages: Languages = "id,en",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    beam_size: Annotated[
        int | None,
        typer.Option("--beam-size", help="Beam search width (default: greedy; faster-whisper: 5)."),
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="ASR engine: openai-whisper, or faster-whisper (extra).")
    ] = Engine.openai_whisper,
    threads: Threads = 0,
    max_duration: Annotated[
        float, typer.Option("--max-duration", help="Refuse files longer than this (hours).")
    ] = 4.0,
    agent_channel: AgentChannel = None,
    agent_speaker: AgentSpeaker = None,
    swap_roles: SwapRoles = False,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
) -> None:
    """Transcribe a call with Whisper: turns (speaker, role, channel), segments, word timestamps."""
    _run(**locals())


@library_errors
def _run(
    call,
    model,
    model_path,
    language,
    languages,
    fmt,
    output,
    beam_size,
    engine,
    threads,
    max_duration,
    agent_channel,
    agent_speaker,
    swap_roles,
    n_speakers,
    agent_pattern,
):
    from callscan import asr
    from callscan.asr.language import parse_languages
    from callscan.asr.writers import get_writer
    from callscan.audio import decode as audio_mod
    from callscan.pipeline import process_recording
    from callscan.speakers.assign import check_options

    options = asr.TranscribeOptions(
        model=str(model_path) if model_path else model,
        language=language,
        languages=parse_languages(languages),
        beam_size=beam_size,
        threads=threads,
        engine=engine.value,
    )
    speakers = speakers_options(agent_channel, agent_speaker, swap_roles, n_speakers, agent_pattern)
    recording = audio_mod.load(str(call), max_duration_s=max_duration * 3600.0)
    check_options(recording, speakers)
    whisper_model = asr.load_model(
        model,
        model_path=str(model_path) if model_path else None,
        engine=engine.value,
        threads=threads,
    )
    progress, hook = progress_hook()
    with progress:
        transcript, result = process_recording(
            recording, whisper_model, options, speakers, hook=hook
        )
    extra = {"speakers": {"mode": result.mode, "roles": result.roles.to_dict()}}
    write_output(get_writer(fmt.value)(transcript, result.turns, extra), output)


def register(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe)
