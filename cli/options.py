"""Every option and choice the commands share, declared once, and the builders that turn
them into the library's typed options.

An option is a typer ``Annotated`` alias: a command lists ``model: Model = "base"`` and gets
the flag, its help and its checks. The choices (:class:`Format`, :class:`Audience`,
:class:`Engine`, :class:`Channel`, :class:`CallType`) are enums built from the library's own
lists where it has one (call types: :data:`callscan.analysis.playbook.CALL_TYPES`).

:data:`FLAGS` maps the library's parameter names to flags: a library error that names its
parameter (``CallscanError(..., option="max_duration_s")``) is printed with the flag
(see ``common.library_errors``).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from callscan.analysis.playbook import CALL_TYPES

if TYPE_CHECKING:
    from callscan.pipeline import AnalyzeOptions
    from callscan.speakers.assign import SpeakersOptions

# ---- choices ---------------------------------------------------------------------------------


class Format(str, Enum):
    """Report files."""

    json = "json"
    html = "html"
    md = "md"
    all = "all"


class Audience(str, Enum):
    """Who an HTML/Markdown report is for."""

    supervisor = "supervisor"
    agent = "agent"


class Engine(str, Enum):
    """ASR engine (:data:`callscan.asr.ENGINES`)."""

    openai_whisper = "openai-whisper"
    faster_whisper = "faster-whisper"


class Channel(str, Enum):
    """A stereo channel (index 0 = left, 1 = right)."""

    left = "left"
    right = "right"


class Executor(str, Enum):
    """Where a batch runs (:data:`callscan.qa.executors.EXECUTORS`)."""

    local = "local"
    ray = "ray"


# "auto" and the library's call types, in its order (one list: callscan.analysis.playbook)
CallType = Enum(  # type: ignore[misc]
    "CallType", [(name, name) for name in ("auto", *CALL_TYPES)], type=str, module=__name__
)

# ---- options ---------------------------------------------------------------------------------

AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
]

# ASR
Model = Annotated[str, typer.Option(help="Whisper model: tiny, base, small, ... turbo.")]
ModelPath = Annotated[
    Path | None, typer.Option("--model-path", help="A local openai-whisper checkpoint (.pt).")
]
EngineOption = Annotated[
    Engine, typer.Option(help="ASR engine: openai-whisper, or faster-whisper (extra).")
]
Language = Annotated[
    str, typer.Option(help="'auto' (detect among --languages) or a code such as id, en.")
]
Languages = Annotated[
    str, typer.Option(help="Languages auto-detection chooses from, comma-separated.")
]
Threads = Annotated[int, typer.Option(min=0, help="Torch threads (0 = one per two CPUs).")]
BeamSize = Annotated[
    int | None,
    typer.Option(
        "--beam-size",
        min=1,
        help="Beam search width on every window (default: greedy, and beam 5 on the windows "
        "greedy decoding is unsure of; faster-whisper: 5).",
    ),
]
MaxDuration = Annotated[
    float,
    typer.Option("--max-duration", min=0.0, help="Refuse recordings longer than this (hours)."),
]

# speakers and roles
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

# analysis and reports
PlaybookPath = Annotated[
    Path | None,
    typer.Option("--playbook", help="A team's playbook YAML instead of the bundled one."),
]
ProfilePath = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="A team profile YAML: company, agent and competitor names for the checks, and "
        "names and terms for the recogniser.",
    ),
]
CallTypeOption = Annotated[
    CallType,
    typer.Option(
        "--call-type", help=f"Call type ({', '.join(CALL_TYPES)}), or 'auto' to detect it."
    ),
]
OpeningSeconds = Annotated[
    float | None,
    typer.Option("--opening-seconds", min=0.0, help="Length of the scored opening (default 20 s)."),
]
AudienceOption = Annotated[
    Audience,
    typer.Option(help="HTML/Markdown for a supervisor, or an agent's self-review with tips first."),
]
EmbedAudio = Annotated[
    bool,
    typer.Option(
        "--embed-audio",
        help="Put the call's audio in the HTML page (16 kHz FLAC); evidence clicks play it.",
    ),
]

Redact = Annotated[
    bool | None,
    typer.Option(
        "--redact/--no-redact",
        help="Mask card, NIK, phone and account numbers and e-mail addresses (digits or spoken) "
        "in everything written (default: the profile's 'redact', else off).",
    ),
]

ClassifierOption = Annotated[
    bool,
    typer.Option(
        "--classifier/--no-classifier",
        help="Add the turn classifier's evidence (sentence embeddings of each turn) to the "
        "rules: stages and conduct violations the rules did not hear (default: on).",
    ),
]

RedactAudio = Annotated[
    bool,
    typer.Option(
        "--redact-audio",
        help="With --redact, also write NAME.redacted.wav beside the reports: the call's audio "
        "(16 kHz WAV) with each masked span silenced on the channel that spoke it.",
    ),
]

# library parameter -> flag, for errors that name their parameter
FLAGS = {
    "redact": "--redact",
    "redact_audio": "--redact-audio",
    "model": "--model",
    "model_path": "--model-path",
    "engine": "--engine",
    "language": "--language",
    "languages": "--languages",
    "threads": "--threads",
    "beam_size": "--beam-size",
    "max_duration_s": "--max-duration",
    "agent_channel": "--agent-channel",
    "agent_speaker": "--agent-speaker",
    "swap_roles": "--swap-roles",
    "n_speakers": "--speakers",
    "agent_pattern": "--agent-pattern",
    "playbook": "--playbook",
    "profile": "--profile",
    "call_type": "--call-type",
    "classifier": "--classifier",
    "opening_seconds": "--opening-seconds",
    "embed_audio": "--embed-audio",
    "workers": "--workers",
    "executor": "--executor",
    "ray_address": "--ray-address",
    "silence_threshold_s": "--silence-threshold",
}


def flag_for(option: str) -> str:
    """The flag of a library parameter (``max_duration_s`` -> ``--max-duration``)."""
    if option in FLAGS:
        return FLAGS[option]
    return "--" + option.removesuffix("_s").replace("_", "-")


# ---- builders: flags -> the library's options ------------------------------------------------


def check_number(value: float | None, option: str, unit: str, low: float, high: float) -> None:
    """A numeric flag's value (None: not given) is finite and in ``low < value <= high``;
    else a one-line error naming the flag, before any file is read (``nan``, ``inf`` and
    negative numbers pass Typer's own range checks)."""
    import math

    from callscan.errors import CallscanError

    if value is None or (math.isfinite(value) and low < value <= high):
        return
    raise CallscanError(
        f"must be a number of {unit} above {low:g} and at most {high:g}, not {value!r}",
        option=option,
    )


def speakers_options(
    *,
    agent_channel: Channel | None = None,
    agent_speaker: int | None = None,
    swap_roles: bool = False,
    n_speakers: int = 2,
    agent_pattern: str | None = None,
    silence_threshold_s: float | None = None,
) -> SpeakersOptions:
    """:class:`callscan.speakers.assign.SpeakersOptions` from the speaker flags."""
    from dataclasses import replace

    from callscan.speakers.assign import SpeakersOptions

    check_number(silence_threshold_s, "silence_threshold_s", "seconds", 0.0, 3600.0)
    options = SpeakersOptions(
        n_speakers=n_speakers,
        agent_channel=None if agent_channel is None else list(Channel).index(agent_channel),
        agent_speaker=agent_speaker,
        swap_roles=swap_roles,
        agent_pattern=agent_pattern,
    )
    if silence_threshold_s is not None:
        metrics = replace(options.metrics, silence_threshold_s=silence_threshold_s)
        options = replace(options, metrics=metrics)
    return options


def analyze_options(
    *,
    speakers: SpeakersOptions,
    language: str = "auto",
    languages: str = "id,en",
    model: str = "base",
    model_path: Path | None = None,
    engine: Engine = Engine.openai_whisper,
    threads: int = 0,
    beam_size: int | None = None,
    max_duration_h: float = 4.0,
    playbook: Path | None = None,
    profile: Path | None = None,
    call_type: CallType = CallType("auto"),
    opening_seconds: float | None = None,
    redact: bool | None = None,
    redact_audio: Path | None = None,
    classifier: bool = True,
) -> AnalyzeOptions:
    """:class:`callscan.pipeline.AnalyzeOptions` from the flags (``languages`` as typed:
    comma-separated; ``max_duration_h`` in hours, as ``--max-duration``)."""
    from callscan.asr.language import parse_languages
    from callscan.pipeline import AnalyzeOptions

    check_number(max_duration_h, "max_duration_s", "hours", 0.0, 24.0)
    check_number(opening_seconds, "opening_seconds", "seconds", 0.0, 600.0)
    return AnalyzeOptions(
        language=language,
        languages=parse_languages(languages),
        model=model,
        model_path=str(model_path) if model_path else None,
        engine=engine.value,
        threads=threads,
        beam_size=beam_size,
        speakers=speakers,
        playbook=str(playbook) if playbook else None,
        profile=str(profile) if profile else None,
        call_type=call_type.value,
        classifier=classifier,
        opening_seconds=opening_seconds,
        max_duration_s=max_duration_h * 3600.0,
        redact=redact,
        redact_audio=str(redact_audio) if redact_audio else None,
    )
