"""``callscan playbook validate FILE``: check a team's playbook before using it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors

playbook_app = typer.Typer(
    help="Check stage / conduct playbooks (YAML) before using them.", no_args_is_help=True
)


@playbook_app.command("validate")
@library_errors
def validate(
    file: Annotated[Path, typer.Argument(help="Playbook YAML to check.")],
) -> None:
    """Validate a playbook: prints 'OK: FILE (N stages, M conduct rules)' or one error line."""
    from callscan.analysis.playbook import validate_file

    pb = validate_file(file)
    typer.echo(f"OK: {file} ({pb.summary()})")


def register(app: typer.Typer) -> None:
    app.add_typer(playbook_app, name="playbook")
