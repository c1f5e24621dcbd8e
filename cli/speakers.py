"""``callscan speakers CALL``: who is the agent, how sure, and how the two parties talked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, progress_hook
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
) -> None:
    """Separate the parties, decide who is the agent (with confidence and reasons) and print
    the talk metrics: talk time, non-talk time, interruptions, monologues, pace, latency."""
    _run(**locals())


@library_errors
def _run(
    call,
    agent_channel,
    agent_speaker,
    swap_roles,
    n_speakers,
    agent_pattern,
    silence_threshold,
    as_json,
    model,
    model_path,
    language,
    languages,
    threads,
):
    from dataclasses import replace

    from callscan import asr
    from callscan.asr.language import parse_languages
    from callscan.audio import decode as audio_mod
    from callscan.pipeline import process_recording
    from callscan.speakers.assign import check_options

    recording = audio_mod.load(str(call))
    options = speakers_options(agent_channel, agent_speaker, swap_roles, n_speakers, agent_pattern)
    options = replace(
        options, metrics=replace(options.metrics, silence_threshold_s=silence_threshold)
    )
    asr_options = asr.TranscribeOptions(
        model=str(model_path) if model_path else model,
        language=language,
        languages=parse_languages(languages),
        threads=threads,
    )
    check_options(recording, options)  # bad overrides fail before loading the model
    whisper_model = asr.load_model(model, model_path=str(model_path) if model_path else None)
    progress, hook = progress_hook()
    with progress:
        _, result = process_recording(recording, whisper_model, asr_options, options, hook=hook)
    if as_json:
        typer.echo(
            json.dumps({"source": str(call), **result.to_dict()}, ensure_ascii=False, indent=2)
        )
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
