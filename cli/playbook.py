"""``callscan playbook validate FILE``: check a team's playbook before using it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors
from callscan.cli.options import AsJson

playbook_app = typer.Typer(
    help="Check stage / conduct playbooks (YAML) before using them.", no_args_is_help=True
)


@playbook_app.command("validate")
@library_errors
def validate(
    file: Annotated[Path, typer.Argument(help="Playbook YAML to check.")],
    as_json: AsJson = False,
) -> None:
    """Validate a playbook: prints 'OK: FILE (N stages, M conduct rules)' or one error line.

    Same as ``callscan config validate --kind playbook FILE``.
    """
    from callscan.config import validate_file

    if as_json:  # the JSON of `callscan config validate --kind playbook`
        from callscan.cli.config import validate as validate_any

        validate_any(file, kind="playbook", as_json=True)
        return
    pb = validate_file(file, kind="playbook")
    typer.echo(f"OK: {file} ({pb.summary()})")


def register(app: typer.Typer) -> None:
    app.add_typer(playbook_app, name="playbook")
