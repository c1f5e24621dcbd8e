"""Options shared by the commands: model, language, speakers, playbook, call type."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

Model = Annotated[str, typer.Option(help="Whisper model: tiny, base, small, ... turbo.")]
ModelPath = Annotated[
    Path | None, typer.Option("--model-path", help="A local openai-whisper checkpoint (.pt).")
]
Language = Annotated[
    str, typer.Option(help="'auto' (detect among --languages) or a code such as id, en.")
]
Languages = Annotated[
    str, typer.Option(help="Languages auto-detection chooses from, comma-separated.")
]
Threads = Annotated[int, typer.Option(help="Torch threads (0 = one per two CPUs).")]


class Channel(str, Enum):
    left = "left"
    right = "right"


AgentChannel = Annotated[
    Channel | None,
    typer.Option("--agent-channel", help="Stereo: the agent's channel (skips detection)."),
]
AgentSpeaker = Annotated[
    int | None,
    typer.Option("--agent-speaker", help="Mono: the agent is speaker N (1 = first to talk)."),
]
SwapRoles = Annotated[
    bool, typer.Option("--swap-roles", help="Swap agent and caller after deciding.")
]
NSpeakers = Annotated[
    int, typer.Option("--speakers", min=1, max=8, help="Mono: number of speakers.")
]
AgentPattern = Annotated[
    str | None,
    typer.Option(
        "--agent-pattern", help="Regex on the file name with named groups agent, call, date."
    ),
]


def speakers_options(agent_channel, agent_speaker, swap_roles, n_speakers, agent_pattern):
    """Build :class:`callscan.speakers.assign.SpeakersOptions` from the shared flags."""
    from callscan.speakers.assign import SpeakersOptions

    return SpeakersOptions(
        n_speakers=n_speakers,
        agent_channel=None
        if agent_channel is None
        else ("left", "right").index(agent_channel.value),
        agent_speaker=agent_speaker,
        swap_roles=swap_roles,
        agent_pattern=agent_pattern,
    )


PlaybookPath = Annotated[
    Path | None,
    typer.Option("--playbook", help="A team's playbook YAML instead of the bundled one."),
]
CallType = Annotated[str, typer.Option("--call-type", help="auto, sales, complaint or service.")]


def analyze_options(
    *, language, languages, model, model_path, engine, speakers, playbook, call_type, **extra
):
    """Build :class:`callscan.pipeline.AnalyzeOptions` from ``analyze``/``batch`` flags."""
    from callscan import CallscanError
    from callscan.asr.language import parse_languages
    from callscan.pipeline import AnalyzeOptions

    if call_type not in ("auto", "sales", "complaint", "service"):
        raise CallscanError(
            f"--call-type must be auto, sales, complaint or service, not '{call_type}'"
        )
    return AnalyzeOptions(
        language=language,
        languages=parse_languages(languages),
        model=model,
        model_path=str(model_path) if model_path else None,
        engine=engine.value,
        speakers=speakers,
        playbook=str(playbook) if playbook else None,
        call_type=call_type,
        **extra,
    )
