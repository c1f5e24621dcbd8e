"""``callscan rescore REPORT.json | DIR``: re-run stages and conduct rules on stored calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from callscan.cli.common import library_errors, print_json, write_output
from callscan.cli.options import (
    Audience,
    AudienceOption,
    CallType,
    CallTypeOption,
    ClassifierOption,
    Output,
    ProfilePath,
    Redact,
)

if TYPE_CHECKING:
    from callscan.qa.rescore import RescoredCall, RescoreResult


@library_errors
def rescore(
    report: Annotated[
        Path,
        typer.Argument(
            help="Report JSON with a 'conversation' (or a transcript file), or a batch "
            "output folder (every call's report in it)."
        ),
    ],
    playbook: Annotated[
        Path | None,
        typer.Option(
            "--playbook",
            help="A team's playbook YAML (default: bundled, by language; for a folder, the "
            "one each call was scored with).",
        ),
    ] = None,
    call_type: CallTypeOption = CallType("auto"),
    profile: ProfilePath = None,
    output: Output = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the re-scored report on stdout (also with --output); for a folder, "
            "what was done (counts, timing, each call's changed findings).",
        ),
    ] = False,
    redact: Redact = None,
    audience: AudienceOption = Audience.supervisor,
    classifier: ClassifierOption = True,
) -> None:
    """Re-score a stored call with a (changed) playbook or profile, without transcribing
    again. Given a batch output folder, re-score every call in it from its stored
    transcript (no audio is decoded): each call's reports (JSON, and the HTML and Markdown
    already there) are rewritten, summary.csv, agents.csv, the QA store and index.html
    updated; --playbook and --profile default to the ones each call was scored with, and
    --call-type auto keeps a type the batch was given. Says how many calls were re-scored,
    which findings changed, and how long it took. The turn classifier (--classifier, on by
    default) scores the stored turns' text, so it needs no audio either. Exit status 1 when
    any call failed."""
    if report.is_dir():
        if output is not None:
            raise typer.BadParameter(
                "not with a folder (its reports are rewritten in place)", param_hint="--output"
            )
        _rescore_folder(report, playbook, call_type, profile, redact, audience, as_json, classifier)
        return
    from callscan.pipeline import rescore as rescore_call

    data = rescore_call(
        report,
        playbook=playbook,
        call_type=call_type.value,
        profile=profile,
        redact=redact,
        classifier=classifier,
    )
    if output is not None:
        write_output(json.dumps(data, ensure_ascii=False, indent=2) + "\n", output)
    if output is None or as_json:
        print_json(data)


def _rescore_folder(
    folder: Path,
    playbook: Path | None,
    call_type: CallType,
    profile: Path | None,
    redact: bool | None,
    audience: Audience,
    as_json: bool,
    classifier: bool = True,
) -> None:
    from callscan.qa.rescore import rescore_folder
    from callscan.report import ReportOptions

    result = rescore_folder(
        folder,
        playbook=playbook,
        profile=profile,
        call_type=call_type.value,
        redact=redact,
        render_options=ReportOptions(audience=audience.value),
        on_call=print_call,
        classifier=classifier,
    )
    typer.echo(summary_line(result), err=True)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        print_json(result.to_dict())
    if result.failed:
        raise typer.Exit(1)


def print_call(call: RescoredCall) -> None:
    """One line on stderr per call: ``same``/``changed``/``FAILED``, its name (or error),
    then each changed finding."""
    if call.status != "ok":
        typer.echo(f"FAILED  {call.error}", err=True)
        return
    status = "changed" if call.changed or call.scores else "same"
    typer.echo(f"{status:7s} {call.name} ({call.seconds * 1000:.0f} ms)", err=True)
    for change in (*call.changes, *call.scores):
        typer.echo(f"          {change}", err=True)


def summary_line(result: RescoreResult) -> str:
    """``12 calls re-scored, 2 with changed findings (3 findings), 1 failed, in 0.9 s
    (75 ms a call)``."""
    n = result.rescored
    text = (
        f"{n} call{'' if n == 1 else 's'} re-scored, {result.changed_calls} with changed "
        f"findings ({result.changed_findings} finding{'' if result.changed_findings == 1 else 's'})"
    )
    if result.failed:
        text += f", {result.failed} failed"
    text += f", in {result.seconds:.2f} s"
    if result.per_call_s is not None:
        text += f" ({result.per_call_s * 1000:.0f} ms a call)"
    return text


def register(app: typer.Typer) -> None:
    app.command("rescore")(rescore)
