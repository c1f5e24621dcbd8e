"""``callscan analyze CALL``: the whole pipeline on a recording or a transcript."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, progress_hook, write_output
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
    RedactAudio,
    SwapRoles,
    Threads,
    analyze_options,
    speakers_options,
)


@library_errors
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
    audience: AudienceOption = Audience.supervisor,
    embed_audio: EmbedAudio = False,
    language: Language = "auto",
    languages: Languages = "id,en",
    model: Model = "base",
    engine: EngineOption = Engine.openai_whisper,
    model_path: ModelPath = None,
    threads: Threads = 0,
    beam_size: BeamSize = None,
    max_duration: MaxDuration = 4.0,
    agent_channel: AgentChannel = None,
    agent_speaker: AgentSpeaker = None,
    swap_roles: SwapRoles = False,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    playbook: PlaybookPath = None,
    profile: ProfilePath = None,
    opening_seconds: OpeningSeconds = None,
    call_type: CallTypeOption = CallType("auto"),
    classifier: ClassifierOption = True,
    redact: Redact = None,
    redact_audio: RedactAudio = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="CALLSCAN_SERVER",
            show_envvar=True,
            help="Send the call to a running 'callscan serve' at this URL (model loaded "
            "there once); the reports are written here. The analysis options are the "
            "server's, except --language, --call-type and --agent-channel.",
        ),
    ] = None,
) -> None:
    """Analyse a call: speakers and roles, the agent's opening, caller modality, stage coverage
    and talk metrics, as a JSON report and a self-contained HTML page (or Markdown)."""
    from callscan import CallscanError
    from callscan import report as reports
    from callscan.conversation import is_transcript_path

    if embed_audio and is_transcript_path(call):
        raise CallscanError("--embed-audio needs a recording, not a transcript")
    if server is not None:
        refuse_server_side(locals())
        overrides = {
            "language": None if language in ("", "auto") else language,
            "call_type": None if call_type.value == "auto" else call_type.value,
            "agent_channel": None if agent_channel is None else agent_channel.value,
        }
        write_remote(server, call, overrides, output_dir, as_json, fmt, audience, embed_audio)
        return
    from callscan.pipeline import analyze as analyze_call
    from callscan.pipeline import redaction_on

    folder = output_dir if output_dir is not None else call.parent
    silenced = folder / f"{reports.report_stem(call)}.redacted.wav" if redact_audio else None
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
        redact_audio=silenced,
    )
    formats = report_formats(as_json, fmt)
    paths = reports.report_paths(call, formats, output_dir)
    refuse_overwriting_input(call, paths)
    if embed_audio and silenced is None and redaction_on(options):
        raise CallscanError(
            "--embed-audio with redaction would put the unmasked speech in the page: "
            "add --redact-audio (the page then plays the silenced copy)"
        )
    progress, hook = progress_hook()
    with progress:
        report = analyze_call(call, options, hook=hook)
    audio_uri = None
    if embed_audio and "html" in formats:
        played = silenced if silenced is not None else call  # never the unmasked speech
        audio_uri = reports.audio_data_uri(played, max_duration_s=options.max_duration_s)
    render_options = reports.ReportOptions(audience=audience.value, audio_uri=audio_uri)
    written = reports.write_reports(report, paths, render_options)
    if silenced is not None:
        written.append(silenced)
    if as_json:
        write_output(reports.render_json(report), None)
    print_summary(reports.summary(report), written)


def write_remote(
    server: str,
    call: Path,
    overrides: dict,
    output_dir: Path | None,
    as_json: bool,
    fmt: Format | None,
    audience: Audience,
    embed_audio: bool,
) -> None:
    """``analyze --server``: the call analysed by the server, its reports written here as
    ``analyze`` writes them (nothing is written when the server refuses the call)."""
    from callscan import report as reports
    from callscan.qa.server import analyze_remote

    formats = report_formats(as_json, fmt)
    paths = reports.report_paths(call, formats, output_dir)
    refuse_overwriting_input(call, paths)
    report = analyze_remote(server, call, overrides)
    audio_uri = reports.audio_data_uri(call) if embed_audio and "html" in formats else None
    render_options = reports.ReportOptions(audience=audience.value, audio_uri=audio_uri)
    written = reports.write_reports(report, paths, render_options)
    if as_json:
        write_output(reports.render_json(report), None)
    print_summary(reports.summary(report), written)


def report_formats(as_json: bool, fmt: Format | None) -> tuple[str, ...]:
    """The report files to write: ``--format``'s, else JSON and HTML unless ``--json``."""
    from callscan import report as reports

    if fmt is None:
        return () if as_json else ("json", "html")
    return reports.FORMATS if fmt is Format.all else (fmt.value,)


SERVER_SIDE = (
    ("--languages", "languages"),
    ("--model", "model"),
    ("--engine", "engine"),
    ("--model-path", "model_path"),
    ("--threads", "threads"),
    ("--beam-size", "beam_size"),
    ("--max-duration", "max_duration"),
    ("--agent-speaker", "agent_speaker"),
    ("--swap-roles", "swap_roles"),
    ("--speakers", "n_speakers"),
    ("--agent-pattern", "agent_pattern"),
    ("--playbook", "playbook"),
    ("--profile", "profile"),
    ("--opening-seconds", "opening_seconds"),
    ("--no-classifier", "classifier"),
    ("--redact/--no-redact", "redact"),
    ("--redact-audio", "redact_audio"),
)  # (flag, parameter of `analyze`) that `callscan serve` decides, not a call sent to it


def refuse_server_side(given: dict) -> None:
    """A one-line error when a flag the server decides (:data:`SERVER_SIDE`) is set away from
    its default with ``--server``; ``given``: ``analyze``'s parameters and their values."""
    import inspect

    from callscan import CallscanError

    defaults = inspect.signature(analyze).parameters
    for flag, name in SERVER_SIDE:
        if given[name] != defaults[name].default:
            raise CallscanError(
                f"{flag} is the server's setting: give it to 'callscan serve' "
                "(with --server only --language, --call-type and --agent-channel go with a call)"
            )


def refuse_overwriting_input(call: Path, paths: dict) -> None:
    """A one-line error, before any work, when a report would be written over ``call`` itself
    (``analyze NAME.callscan.json`` writes ``NAME.callscan.json``)."""
    from callscan import CallscanError

    for path in paths.values():
        if path.exists() and call.exists() and path.samefile(call):
            raise CallscanError(
                f"'{call}': the report would be written over this input; write it elsewhere "
                "with --output-dir DIR, print it with --json, or re-score it with "
                "'callscan rescore'"
            )


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
