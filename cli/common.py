"""Pieces every command shares: error handling, output, progress."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from callscan import CallscanError
from callscan.util import atomic_write

if TYPE_CHECKING:
    from rich.progress import Progress

F = TypeVar("F", bound=Callable)


def library_errors(func: F) -> F:
    """Turn a :class:`CallscanError` into ``Error: <one line>`` on stderr and exit status 1.

    An error that names the library parameter it is about (``e.option``) is printed with that
    parameter's flag first: ``Error: --max-duration: <message>``.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CallscanError as e:
            typer.echo(f"Error: {error_line(e)}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def error_line(e: CallscanError) -> str:
    """The message of a library error, led by the flag of the parameter it names, if any."""
    from callscan.cli.options import flag_for

    return f"{flag_for(e.option)}: {e}" if e.option else str(e)


def print_json(data: Any) -> None:
    """``data`` as indented JSON (UTF-8, not escaped) on stdout."""
    write_output(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", None)


def write_output(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` (atomically) or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        atomic_write(output, text)
    except OSError as e:
        raise CallscanError(f"'{output}': cannot write ({e.strerror})") from e


def progress_hook() -> tuple[Progress, Callable[[str, int, int], None]]:
    """A live rich progress display on stderr, driven by the library's
    ``hook(step, completed, total)``: one line per step (decode, model, speech, transcribe,
    speakers, analysis, calls), with a spinner and the time spent, redrawn while a long step
    runs. Only on a terminal: piped or captured stderr stays quiet.

    Returns ``(progress, hook)``; run the library inside ``with progress:``.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    progress = Progress(
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("{task.description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def hook(step: str, completed: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(step, total=total)
        progress.update(tasks[step], completed=completed, total=total)

    return progress, hook


def batch_progress() -> tuple[Progress, Callable[[Any], None]]:
    """A live rich progress line for ``callscan batch`` on stderr, driven by the library's
    ``on_progress(BatchProgress)``: calls done / failed / skipped, a bar by audio duration,
    audio hours done of the total, throughput (audio hours per hour) and the ETA by audio
    duration. Only on a terminal: piped or captured stderr stays quiet.

    Returns ``(progress, on_progress)``; run the batch inside ``with progress:``.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("calls {task.fields[calls]}"),
        BarColumn(),
        TextColumn("{task.fields[audio]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[eta]}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task: list[Any] = []

    def on_progress(state: Any) -> None:
        fields = progress_fields(state)
        if not task:
            task.append(progress.add_task("calls", total=state.audio_s_total or 1, **fields))
        progress.update(
            task[0], completed=state.audio_s_done, total=state.audio_s_total or 1, **fields
        )

    return progress, on_progress


def progress_fields(state: Any) -> dict[str, str]:
    """The words of the batch progress line (``calls``, ``audio``, ``eta``) for a
    ``BatchProgress``."""
    calls = f"{state.completed}/{state.total}"
    extra = [f"{n} {what}" for n, what in ((state.failed, "failed"), (state.skipped, "skipped"))]
    extra = [x for x in extra if not x.startswith("0 ")]
    if extra:
        calls += f" ({', '.join(extra)})"
    audio = f"{state.audio_h_done:.2f}/{state.audio_h_total:.2f} audio h"
    if state.throughput is not None:
        audio += f" · {state.throughput:.1f} h/h"
    eta = state.eta_s
    if eta is None:
        text = "ETA after the first call"
    else:
        minutes, seconds = divmod(int(round(eta)), 60)
        hours, minutes = divmod(minutes, 60)
        text = f"ETA {hours}:{minutes:02d}:{seconds:02d}"
    return {"calls": calls, "audio": audio, "eta": text}
