"""The ``callscan`` command: one Typer app composed of one module per command.

Every command validates its input, builds the library's options, calls one library function
and renders the result. Library errors (:class:`callscan.CallscanError`) become one line,
``Error: <message>``, on stderr with exit status 1; never a traceback (see ``common.py``).
"""

from __future__ import annotations

import logging
import sys

import typer

from callscan import __version__

app = typer.Typer(
    name="callscan",
    help="Turn recorded customer-service calls into QA findings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"callscan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details to stderr."),
) -> None:
    """Turn recorded customer-service calls into QA findings."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _register() -> None:
    from callscan.cli import (
        analyze,
        batch,
        config,
        models,
        playbook,
        qa,
        rescore,
        speakers,
        transcribe,
    )

    analyze.register(app)
    batch.register(app)
    transcribe.register(app)
    speakers.register(app)
    rescore.register(app)
    playbook.register(app)
    config.register(app)
    models.register(app)
    qa.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
