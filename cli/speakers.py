"""``callscan speakers CALL``: who is the agent, how sure, and how the two parties talked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, print_json, progress_hook
from callscan.cli.options import (
    AgentChannel,
    AgentPattern,
    AgentSpeaker,
    Language,
    Languages,
    MaxDuration,
    Model,
    ModelPath,
    NSpeakers,
    SwapRoles,
    Threads,
    analyze_options,
    speakers_options,
)


@library_errors
def speakers(
    call: Annotated[Path, typer.Argument(help="Recording: WAV, FLAC, OGG/Opus, MP3, ...")],
    agent_channel: AgentChannel = None,
    agent_speaker: AgentSpeaker = None,
    swap_roles: SwapRoles = False,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    silence_threshold: Annotated[
        float, typer.Option("--silence-threshold", help="Non-talk: silences of at least N s.")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    model: Model = "base",
    model_path: ModelPath = None,
    language: Language = "auto",
    languages: Languages = "id,en",
    threads: Threads = 0,
    max_duration: MaxDuration = 4.0,
) -> None:
    """Separate the parties, decide who is the agent (with confidence and reasons) and print
    the talk metrics: talk time, non-talk time, interruptions, monologues, pace, latency."""
    from callscan.pipeline import transcribe_recording

    options = analyze_options(
        speakers=speakers_options(
            agent_channel=agent_channel,
            agent_speaker=agent_speaker,
            swap_roles=swap_roles,
            n_speakers=n_speakers,
            agent_pattern=agent_pattern,
            silence_threshold_s=silence_threshold,
        ),
        language=language,
        languages=languages,
        model=model,
        model_path=model_path,
        threads=threads,
        max_duration_h=max_duration,
    )
    progress, hook = progress_hook()
    with progress:
        result = transcribe_recording(call, options, hook=hook).speakers
    if as_json:
        print_json({"source": str(call), **result.to_dict()})
    else:
        typer.echo(render(result, str(call)))


def _fmt(x, unit: str = "", nd: int = 1) -> str:
    return "-" if x is None else f"{x:.{nd}f}{unit}"


def _clock(s: float) -> str:
    return f"{int(s // 60):02d}:{s % 60:04.1f}"


def render(result, source: str) -> str:
    """The role decision, the metrics table and the turns, as plain text."""
    roles, m = result.roles, result.metrics
    lines = [f"{source}: {result.mode}, {m.duration_s:.1f} s"]
    who = roles.agent or "nobody"
    if result.mode == "stereo" and roles.agent:
        who = f"{('left', 'right')[int(roles.agent[2:])]} channel ({roles.agent})"
    flag = "  LOW CONFIDENCE: check the roles" if roles.low_confidence else ""
    lines.append(f"agent: {who}, confidence {roles.confidence:.2f} ({roles.method}){flag}")
    lines += [f"  - {r}" for r in roles.reasons]
    if result.metadata:
        lines.append("file: " + ", ".join(f"{k}={v}" for k, v in result.metadata.items()))
    parties = list(m.parties)
    rows = [
        ("talk time (s)", lambda p: _fmt(p.talk_time_s)),
        ("talk time (%)", lambda p: _fmt(p.talk_pct)),
        ("turns", lambda p: str(p.n_turns)),
        ("words per minute", lambda p: _fmt(p.words_per_minute, nd=0)),
        ("syllables per s", lambda p: _fmt(p.syllables_per_s)),
        ("longest monologue (s)", lambda p: _fmt(p.longest_monologue_s)),
        ("interruptions made", lambda p: f"{p.interruptions} ({p.interruption_time_s:.1f} s)"),
        ("response latency (s)", lambda p: _fmt(p.response_latency_median_s, nd=2)),
    ]
    lines.append("")
    lines.append(f"{'':24}" + "".join(f"{p:>14}" for p in parties))
    for name, get in rows:
        lines.append(f"{name:24}" + "".join(f"{get(m.parties[p]):>14}" for p in parties))
    lines.append("")
    lines.append(f"talk ratio (agent/caller): {_fmt(m.talk_ratio, nd=2)}")
    threshold = m.options.silence_threshold_s
    lines.append(
        f"non-talk time (silences >= {threshold:g} s): {len(m.non_talk)}, "
        f"{m.non_talk_time_s:.1f} s ({m.non_talk_pct:.1f}%)"
    )
    lines.append(f"interruptions: {len(m.interruptions)}, {m.interruption_time_s:.1f} s")
    lines.append(
        f"response latency: median {_fmt(m.response_latency_median_s, ' s', 2)}, "
        f"mean {_fmt(m.response_latency_mean_s, ' s', 2)}"
    )
    lines.append("")
    for t in result.turns:
        lines.append(f"[{_clock(t.start_s)}-{_clock(t.end_s)}] {t.role} ({t.speaker}): {t.text}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command("speakers")(speakers)
