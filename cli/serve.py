"""``callscan serve``: a resident worker (HTTP) that keeps the model loaded between calls."""

from __future__ import annotations

from typing import Annotated

import typer

from callscan.cli.common import library_errors
from callscan.cli.options import (
    AgentPattern,
    BeamSize,
    CallType,
    CallTypeOption,
    ClassifierOption,
    Engine,
    EngineOption,
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
    Threads,
    analyze_options,
    speakers_options,
)


@library_errors
def serve(
    host: Annotated[
        str,
        typer.Option(help="Address to listen on (127.0.0.1: this machine only)."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    max_upload_mb: Annotated[
        float,
        typer.Option("--max-upload-mb", min=1.0, help="Largest call file accepted (MB)."),
    ] = 2048.0,
    language: Language = "auto",
    languages: Languages = "id,en",
    model: Model = "base",
    engine: EngineOption = Engine.openai_whisper,
    model_path: ModelPath = None,
    threads: Threads = 0,
    beam_size: BeamSize = None,
    max_duration: MaxDuration = 4.0,
    n_speakers: NSpeakers = 2,
    agent_pattern: AgentPattern = None,
    playbook: PlaybookPath = None,
    profile: ProfilePath = None,
    opening_seconds: OpeningSeconds = None,
    call_type: CallTypeOption = CallType("auto"),
    classifier: ClassifierOption = True,
    redact: Redact = None,
) -> None:
    """Serve analyses over HTTP with the model loaded once: POST a call's file to
    /analyze?name=CALL.wav for its report (JSON), or run 'callscan analyze CALL --server URL'.
    The options here are every call's; language, call type and agent channel may be given
    per call. Stop it with Ctrl-C."""
    from callscan.qa.server import Worker
    from callscan.qa.server import serve as run_server

    options = analyze_options(
        speakers=speakers_options(n_speakers=n_speakers, agent_pattern=agent_pattern),
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
    worker = Worker(options)
    typer.echo(f"callscan serve: loading the {engine.value} model '{model}'", err=True)
    try:
        run_server(
            worker,
            host=host,
            port=port,
            max_upload_mb=max_upload_mb,
            ready=lambda: typer.echo(
                f"callscan serve: ready at http://{host}:{port} (Ctrl-C stops it)", err=True
            ),
        )
    except KeyboardInterrupt:  # uvicorn passes Ctrl-C on once it has shut down: a clean stop
        pass
    typer.echo(f"callscan serve: stopped after {worker.calls} calls", err=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
