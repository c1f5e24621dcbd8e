"""Pieces every command shares: error handling, output, progress."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from callscan import CallscanError

F = TypeVar("F", bound=Callable)


def library_errors(func: F) -> F:
    """Turn a :class:`CallscanError` into ``Error: <one line>`` on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CallscanError as e:
            typer.echo(f"Error: {e}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def write_output(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` (atomically) or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
    except OSError as e:
        raise CallscanError(f"'{output}': cannot write ({e.strerror})") from e


def progress_hook():
    """A rich progress bar on stderr, driven by the library's ``hook(step, completed, total)``."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    # only on a terminal: piped or captured stderr gets messages, not bar redraws
    progress = Progress(console=console, transient=True, disable=not console.is_terminal)
    tasks: dict[str, int] = {}

    def hook(step: str, completed: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(step, total=total)
        progress.update(tasks[step], completed=completed, total=total)

    return progress, hook
