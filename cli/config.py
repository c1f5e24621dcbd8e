"""``callscan config validate FILE``: check any data file (playbook, lexicon, roles, profile)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors

config_app = typer.Typer(
    help="Check data files (playbooks, sensory lexicons, role cues, opening profile).",
    no_args_is_help=True,
)


@config_app.command("validate")
@library_errors
def validate(
    file: Annotated[Path, typer.Argument(help="YAML data file to check.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="playbook, lexicon, roles, opening_profile or profile (a team profile); "
            "default: told by its top-level keys.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary instead of one line.")
    ] = False,
) -> None:
    """Validate a data file: prints 'OK: FILE (KIND: summary)' or one error line (exit 1)."""
    from callscan.config import detect_kind, validate_file
    from callscan.errors import ConfigError

    try:
        found = kind or detect_kind(file)
        loaded = validate_file(file, kind=found)
    except ConfigError as e:
        if not as_json:
            raise
        typer.echo(
            json.dumps({"file": str(file), "ok": False, "error": str(e)}, ensure_ascii=False)
        )
        raise typer.Exit(1) from None
    summary = loaded.summary()
    if as_json:
        data = {"file": str(file), "ok": True, "kind": found, "summary": summary}
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        typer.echo(f"OK: {file} ({found}: {summary})")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
