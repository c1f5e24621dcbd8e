"""``callscan rescore REPORT.json``: re-run stages and conduct rules on a stored call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, print_json, write_output
from callscan.cli.options import CallType, CallTypeOption, Output, ProfilePath, Redact


@library_errors
def rescore(
    report: Annotated[
        Path, typer.Argument(help="Report JSON with a 'conversation' (or a transcript file).")
    ],
    playbook: Annotated[
        Path | None,
        typer.Option("--playbook", help="A team's playbook YAML (default: bundled, by language)."),
    ] = None,
    call_type: CallTypeOption = CallType("auto"),
    profile: ProfilePath = None,
    output: Output = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the re-scored report on stdout (also with --output)."),
    ] = False,
    redact: Redact = None,
) -> None:
    """Re-score a stored call with a (changed) playbook, without transcribing again."""
    from callscan.pipeline import rescore as rescore_call

    data = rescore_call(
        report, playbook=playbook, call_type=call_type.value, profile=profile, redact=redact
    )
    if output is not None:
        write_output(json.dumps(data, ensure_ascii=False, indent=2) + "\n", output)
    if output is None or as_json:
        print_json(data)


def register(app: typer.Typer) -> None:
    app.command("rescore")(rescore)
