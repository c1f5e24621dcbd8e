"""The files a batch leaves in its output folder that other QA modules read.

Public API
----------
MANIFEST
    The resumable log, one JSON line per finished call (``batch.jsonl``).
read_manifest
    The last log entry of each call.
csv_cell
    A value made safe for a spreadsheet cell.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["FORMULA_STARTS", "MANIFEST", "csv_cell", "read_manifest"]

MANIFEST = "batch.jsonl"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads these as formulas


def read_manifest(output_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The last ``batch.jsonl`` entry of each call (by report name); torn lines are ignored."""
    entries: dict[str, dict[str, Any]] = {}
    path = Path(output_dir) / MANIFEST
    if not path.exists():
        return entries
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
                entries[entry["name"]] = entry
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut short by a crash
    return entries


def csv_cell(value: Any) -> Any:
    """A value safe to put in a CSV cell: None as ``""``, and text that a spreadsheet would
    run as a formula (``=HYPERLINK(...)``, ``+1``, ``@SUM``) led by ``'``. Numbers are kept.

    Examples
    --------
    >>> csv_cell("=1+2"), csv_cell(-1.5), csv_cell(None), csv_cell("A17")
    ("'=1+2", -1.5, '', 'A17')
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
