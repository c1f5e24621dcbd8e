"""``callscan rescore REPORT.json``: re-run stages and conduct rules on a stored call."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from callscan.cli.common import library_errors, write_output


class CallType(str, Enum):
    auto = "auto"
    sales = "sales"
    complaint = "complaint"
    service = "service"


def rescore(
    report: Annotated[
        Path, typer.Argument(help="Report JSON with a 'conversation' (or a transcript file).")
    ],
    playbook: Annotated[
        Path | None,
        typer.Option("--playbook", help="A team's playbook YAML (default: bundled, by language)."),
    ] = None,
    call_type: Annotated[
        CallType, typer.Option("--call-type", help="Call type, or 'auto' to detect it.")
    ] = CallType.auto,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Re-score a stored call with a (changed) playbook, without transcribing again."""
    _run(report, playbook, call_type, output)


@library_errors
def _run(report: Path, playbook: Path | None, call_type: CallType, output: Path | None) -> None:
    from callscan import CallscanError
    from callscan.analysis.playbook import load_playbook
    from callscan.analysis.stages import StageOptions, check
    from callscan.conversation import load

    conversation = load(report)
    pb = load_playbook(playbook, language=conversation.language)
    result = check(conversation, pb, StageOptions(call_type=call_type.value))
    data: dict = {}
    if report.suffix.lower() == ".json":
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:  # load() above already parsed it; be safe anyway
            raise CallscanError(f"'{report}': cannot read JSON ({e})") from e
    if not isinstance(data, dict) or "conversation" not in data:
        data = {**(data if isinstance(data, dict) else {}), "conversation": conversation.to_dict()}
    data["stages"] = result.to_dict()
    write_output(json.dumps(data, ensure_ascii=False, indent=2) + "\n", output)


def register(app: typer.Typer) -> None:
    app.command("rescore")(rescore)
