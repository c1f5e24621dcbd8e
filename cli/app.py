"""The ``callscan`` command: one Typer app composed of one module per command.

Every command validates its input, builds the library's options, calls one library function
and renders the result. Library errors (:class:`callscan.CallscanError`) become one line,
``Error: <message>``, on stderr with exit status 1; never a traceback (see ``common.py``).
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

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
        serve,
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
    serve.register(app)


_register()


FAST_EXIT_COMMANDS = frozenset({"analyze", "transcribe"})  # one call, one process


def main() -> None:
    """Console-script entry point.

    After ``analyze`` and ``transcribe`` the process ends without the interpreter's teardown
    (:func:`leave`): with torch loaded, freeing its module graph took 0.4 s of a 7.5 s
    one-call analysis, after the reports were written. Batch and the other commands (DuckDB
    stores, worker processes) end as usual.
    """
    try:
        app()
    except SystemExit as e:
        words = [a for a in sys.argv[1:] if not a.startswith("-")]
        if words and words[0] in FAST_EXIT_COMMANDS:
            leave(e.code)
        raise


def leave(code: object) -> NoReturn:
    """End the process with ``code`` (a ``SystemExit`` code) at once, as mypy's
    ``--fast-exit`` does: the ``atexit`` functions run (logging's flush among them) and
    stdout and stderr are flushed, then ``os._exit``; objects are not freed one by one and
    threads still running (a model still loading after a bad file's error) are stopped.
    Every file callscan writes is closed by then (reports are written atomically)."""
    import atexit
    import os

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say
            pass
    os._exit(status)
