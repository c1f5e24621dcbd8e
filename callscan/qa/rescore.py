"""Re-score a whole batch output folder from its stored reports, without the audio.

A QA team changes its playbook or team profile and wants the calls it has already analysed
scored again. :func:`rescore_folder` does it from each call's JSON report (the stored
conversation; no recording is decoded and no model is loaded):

* takes the folder's batch lock (:func:`callscan.qa.runner.lock_folder`): a batch or another
  rescore on the same folder is refused at once;
* re-runs stage coverage and the conduct rules on every ``NAME.callscan.json`` of the folder
  (:func:`callscan.pipeline.rescore`) with the playbook, profile and call type given, or, for
  each one not given, the one that call was scored with (its report names it; a call type the
  batch was given per call is kept, a detected one is detected again);
* rewrites each call's reports: the JSON and the other formats already there (HTML, Markdown),
  each atomically;
* appends the call's updated entry to the batch log (``batch.jsonl``: same file, content
  fingerprint and options, so a later batch resumes past it), replaces its rows in the QA
  store (:func:`callscan.qa.store.record`, the writer the batch uses), then rewrites
  ``summary.csv`` and ``agents.csv`` and the dashboard (``index.html``);
* one report that cannot be read or re-scored fails that call with a one-line error and
  leaves its files as they were; the rest go on.

The result (:class:`RescoreResult`) says how many calls were re-scored, which findings
changed in each (a stage, step or rule whose status or first evidence moved), and how long it
took, per call and in all.

An HTML report that carried the call's audio is rewritten without it (the audio is not read).
"""

from __future__ import annotations

import csv
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.errors import CallscanError

logger = logging.getLogger(__name__)

STOPPED = "the calls before it are re-scored; free space or fix the folder and run it again"

__all__ = ["RescoreResult", "RescoredCall", "rescore_folder", "scored_with", "stored_file"]


@dataclass
class RescoredCall:
    """One call of a folder rescore."""

    name: str  # the report's name (NAME.callscan.json)
    status: str = "ok"  # ok, error
    error: str = ""  # one line, for a call that failed (its files are left as they were)
    changes: list[str] = field(default_factory=list)  # "rule slang_jargon: pass -> fail"
    # the call's headline results that moved: "call_type: service -> complaint",
    # "stages_percent: 80.0 -> 72.5", "needs_review: False -> True"
    scores: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall seconds: read, re-score, write reports, log and store

    @property
    def changed(self) -> int:
        """Findings whose status or first evidence changed (or that came or went)."""
        return len(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "error": self.error,
            "changed": self.changed,
            "changes": list(self.changes),
            "scores": list(self.scores),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class RescoreResult:
    """What :func:`rescore_folder` did."""

    output_dir: Path
    calls: list[RescoredCall] = field(default_factory=list)
    seconds: float = 0.0  # wall seconds in all (lock to dashboard)
    summary_path: Path | None = None  # summary.csv, when the folder has one
    dashboard_path: Path | None = None  # index.html, when it could be written
    warnings: list[str] = field(default_factory=list)  # the store or dashboard not updated

    @property
    def rescored(self) -> int:
        return sum(c.status == "ok" for c in self.calls)

    @property
    def failed(self) -> int:
        return sum(c.status != "ok" for c in self.calls)

    @property
    def changed_calls(self) -> int:
        """Calls with at least one finding changed."""
        return sum(c.changed > 0 for c in self.calls if c.status == "ok")

    @property
    def changed_findings(self) -> int:
        return sum(c.changed for c in self.calls if c.status == "ok")

    @property
    def per_call_s(self) -> float | None:
        """Mean wall seconds per call re-scored (None when none was)."""
        ok = [c.seconds for c in self.calls if c.status == "ok"]
        return sum(ok) / len(ok) if ok else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-native: counts, timing, files and every call."""
        per_call = self.per_call_s
        return {
            "output_dir": str(self.output_dir),
            "calls": len(self.calls),
            "rescored": self.rescored,
            "failed": self.failed,
            "changed_calls": self.changed_calls,
            "changed_findings": self.changed_findings,
            "seconds": round(self.seconds, 3),
            "per_call_s": None if per_call is None else round(per_call, 4),
            "summary": None if self.summary_path is None else str(self.summary_path),
            "dashboard": None if self.dashboard_path is None else str(self.dashboard_path),
            "warnings": list(self.warnings),
            "rows": [c.to_dict() for c in self.calls],
        }


def stored_file(text: str | None, call: str | Path | None = None) -> Path | None:
    """The file a report names (the inverse of :func:`callscan.pipeline.portable_path`):
    ``bundled:NAME`` in callscan's models, ``models-dir:NAME`` in ``$CALLSCAN_MODELS_DIR``,
    else a path relative to the call's folder (or as written); None when it does not exist."""
    from importlib import resources

    if not text:
        return None
    prefix, sep, rest = text.partition(":")
    path: Path | None
    if sep and prefix == "bundled":
        path = Path(str(resources.files("callscan.models"))) / rest
    elif sep and prefix == "models-dir":
        folder = os.environ.get("CALLSCAN_MODELS_DIR")
        path = Path(folder) / rest if folder else None
    else:
        path = Path(text)
        if not path.is_absolute() and call:  # ".." taken off by name, as relpath wrote it
            path = Path(os.path.normpath(Path(call).resolve().parent / path))
    return path if path is not None and path.is_file() else None


def scored_with(
    report: dict,
    *,
    playbook: str | Path | None = None,
    profile: str | Path | None = None,
    call_type: str = "auto",
) -> dict[str, Any]:
    """The ``playbook``, ``profile`` and ``call_type`` to re-score ``report`` with: each one
    given, else the one the report was scored with (a bundled playbook is read by language,
    as the analysis did; a call type that was given is kept, a detected one detected again).

    Raises
    ------
    CallscanError
        The report names a playbook or profile file that is no longer there (one line,
        ``option`` naming the parameter that would replace it).
    """
    stages = report.get("stages") or {}
    call = str(report.get("source") or "")
    if playbook is None:
        named = stages.get("playbook")
        if isinstance(named, str) and not named.startswith(("bundled:", "models-dir:")):
            playbook = _scored_with(named, call, "playbook", "playbook")
    if profile is None:
        named = (report.get("profile") or {}).get("path")
        if isinstance(named, str):
            profile = _scored_with(named, call, "team profile", "profile")
    if call_type == "auto" and stages.get("call_type_source") == "given":
        call_type = str(stages.get("call_type") or "auto")
    return {"playbook": playbook, "profile": profile, "call_type": call_type}


def _scored_with(named: str, call: str, what: str, option: str) -> Path | None:
    """The file a call was scored with, found again (None when the report names none)."""
    if not named:
        return None
    found = stored_file(named, call)
    if found is None:
        raise CallscanError(
            f"the {what} this call was scored with ('{named[:120]}') is not found; "
            f"give the {what} to use",
            option=option,
        )
    return found


def _findings(name: str, report: dict) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(kind, id) -> (status, first evidence time, words) of a report's findings."""
    from callscan.qa.store import findings_of

    return {
        (f["kind"], f["id"]): (f["status"], f["start_s"], f["evidence"])
        for f in findings_of(name, report)
    }


def _changes(before: dict, after: dict) -> list[str]:
    """The findings that differ, as ``kind id: old -> new`` lines."""
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        was = "-" if old is None else str(old[0])
        now = "-" if new is None else str(new[0])
        if was == now:
            now += " (other evidence)"
        out.append(f"{key[0]} {key[1]}: {was} -> {now}")
    return out


def _score_changes(old: dict, new: dict) -> list[str]:
    """The headline results that differ: call type, stages percent, needs review."""
    from callscan.report.data import overall

    before, after = overall(old), overall(new)
    pairs = [
        ("call_type", before["call_type"], after["call_type"]),
        ("stages_percent", before["stages_percent"], after["stages_percent"]),
        (
            "needs_review",
            bool((old.get("stages") or {}).get("needs_review")),
            bool((new.get("stages") or {}).get("needs_review")),
        ),
    ]
    return [f"{key}: {was} -> {now}" for key, was, now in pairs if was != now]


def _check_given(playbook, profile) -> None:
    """A playbook or profile given for every call fails once, before any call."""
    from callscan.analysis.playbook import load_playbook
    from callscan.errors import ConfigError
    from callscan.pipeline import AnalyzeOptions, team_profile

    if playbook is not None:
        try:
            load_playbook(playbook)
        except ConfigError as e:
            raise ConfigError(str(e), option="playbook") from None
    if profile is not None:
        team_profile(AnalyzeOptions(profile=str(profile)))


def rescore_folder(
    output_dir: str | Path,
    *,
    playbook: str | Path | None = None,
    profile: str | Path | None = None,
    call_type: str = "auto",
    redact: bool | None = None,
    render_options=None,
    on_call: Callable[[RescoredCall], None] | None = None,
    classifier: bool = True,
) -> RescoreResult:
    """Re-score every call report of a batch output folder (see the module docstring).

    Parameters
    ----------
    output_dir : a ``callscan batch`` output folder.
    playbook, profile : the files to score with; None: each call's own (see
        :func:`scored_with`).
    call_type : ``auto`` (each call's given type, else detected) or one type for every call.
    redact : mask personal data (None: the profile's ``redact``).
    render_options : :class:`callscan.report.ReportOptions` for the HTML and Markdown reports.
    on_call : called with each call's :class:`RescoredCall` as it finishes.
    classifier : add the turn classifier's evidence (it scores the stored turns' text).

    Raises
    ------
    CallscanError
        No such folder, no call reports in it, a batch holds it, a playbook or profile given
        that cannot be read, or the folder cannot be written (one line each).
    """
    from callscan.qa.runner import lock_folder, unlock_folder
    from callscan.qa.store import report_files

    start = time.perf_counter()
    out = Path(output_dir)
    if not out.is_dir():
        raise CallscanError(f"'{out}': no such folder")
    files = report_files(out)
    if not files:
        raise CallscanError(f"'{out}': no call reports (NAME.callscan.json) in this folder")
    _check_given(playbook, profile)
    settings = {"playbook": playbook, "profile": profile, "call_type": call_type}
    fd = lock_folder(out)
    try:
        result = _rescore_locked(out, files, settings, redact, render_options, on_call, classifier)
    finally:
        unlock_folder(fd)
    result.seconds = time.perf_counter() - start
    return result


def _rescore_locked(
    out, files, settings, redact, render_options, on_call, classifier=True
) -> RescoreResult:
    from callscan.qa.files import MANIFEST, read_manifest
    from callscan.qa.runner import BatchLog

    result = RescoreResult(out)
    entries = read_manifest(out)
    log = BatchLog(out / MANIFEST) if (out / MANIFEST).exists() else None
    writer = StoreWriter(out)
    try:
        for name, path in files.items():
            call = _rescore_one(out, name, path, entries.get(name), settings, redact,
                                render_options, log, result.warnings, writer,
                                classifier)  # fmt: skip
            result.calls.append(call)
            if on_call is not None:
                on_call(call)
    finally:
        writer.close()
        if log is not None:
            log.close()
    result.summary_path = _write_summaries(out)
    result.dashboard_path = _dashboard(out, result.warnings)
    return result


class StoreWriter:
    """Writes calls to the folder's store through one connection, released after
    :data:`HOLD_S` so that a reader (``callscan export``, a rollup) waiting for DuckDB's file
    lock gets its turn; opening a connection per call cost about 70% of a call's rescore."""

    HOLD_S = 1.0

    def __init__(self, out: Path) -> None:
        self.out = out
        self.con: Any = None
        self.opened_at = 0.0

    def record(self, report: dict, meta: dict) -> None:
        from callscan.qa import store

        if self.con is not None and time.monotonic() - self.opened_at > self.HOLD_S:
            self.close()
        if self.con is None:
            self.con = store.connect(self.out)
            self.opened_at = time.monotonic()
        try:
            store.record(self.out, report, meta, con=self.con)
        except BaseException:
            self.close()  # a failed write leaves no connection in an unknown state
            raise

    def close(self) -> None:
        if self.con is not None:
            con, self.con = self.con, None
            con.close()


class _FolderFailed(CallscanError):
    """The output folder cannot be written: the rescore stops (a call is not at fault)."""


def _rescore_one(
    out: Path,
    name: str,
    path: Path,
    entry: dict | None,
    settings: dict,
    redact: bool | None,
    render_options,
    log,
    warnings: list[str],
    writer: StoreWriter,
    classifier: bool = True,
) -> RescoredCall:
    """Re-score one stored call and write everything that holds it; errors in the call
    (not in the folder) fail it alone."""
    from callscan import report as reports
    from callscan.pipeline import rescore

    start = time.perf_counter()
    call = RescoredCall(name)
    try:
        old = _read(path)  # checked against the schema once, as the re-scored report
        with_ = scored_with(old, **settings)
        new = rescore(path, redact=redact, classifier=classifier, **with_)
        call.changes = _changes(_findings(name, old), _findings(name, new))
        call.scores = _score_changes(old, new)
        formats = [f for f in reports.FORMATS if (out / f"{name}{reports.SUFFIX}.{f}").exists()]
        paths = reports.report_paths(path, formats, out, name=name)
        try:
            reports.write_reports(new, paths, render_options)
        except reports.ReportError as e:
            if isinstance(e.__cause__, OSError):  # the folder, not the call: stop
                raise _FolderFailed(f"{e}; {STOPPED}") from e
            raise
        meta: dict[str, Any] = {"name": name}
        if entry:
            entry = _updated_entry(entry, new, str(paths["json"]))
            entry["report_mtime_ns"] = Path(paths["json"]).stat().st_mtime_ns  # vouched for
            if log is not None:
                try:
                    log.append(entry)
                except CallscanError as e:
                    raise _FolderFailed(f"'{out}': cannot write the batch log; {STOPPED}") from e
            meta = {**entry, "name": name}
        try:
            writer.record(new, meta)
        except CallscanError as e:
            warnings.append(f"'{name}': QA store not updated ({e})")
            logger.warning("QA store not updated for %s: %s", name, e)
    except _FolderFailed:
        raise
    except CallscanError as e:
        call.status, call.error = "error", f"'{name}': {str(e).splitlines()[0]}"
    except Exception as e:  # one bad report must not stop the rest
        logger.exception("'%s': unexpected error", name)
        call.status = "error"
        call.error = f"'{name}': internal error: {type(e).__name__}: {e}".splitlines()[0]
    call.seconds = time.perf_counter() - start
    return call


def _read(path: Path) -> dict:
    """A stored report as a dictionary (one line when it cannot be read)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CallscanError(f"cannot read the report ({e.strerror})") from e
    except ValueError as e:
        raise CallscanError(f"the report is not valid JSON ({e})") from e
    if not isinstance(data, dict):
        raise CallscanError("the report is not a JSON object")
    return data


def _updated_entry(entry: dict, report: dict, report_path: str) -> dict:
    """The batch-log entry of a re-scored call: its summary row from the new report, the
    rest (file, content fingerprint, options, analysis time) as it was."""
    from callscan.qa.runner import summary_row

    row = entry.get("row") or {}
    metadata = {
        "agent": row.get("agent_id") or "",
        "team": row.get("team") or "",
        "call": row.get("call_id") or "",
        "date": row.get("date") or "",
    }
    new_row = summary_row(
        report,
        file=str(entry.get("file") or row.get("file") or ""),
        report_path=str(row.get("report") or report_path),
        seconds=float(row.get("processing_s") or 0.0),
        metadata=metadata,
    )
    for key in ("team", "agent_id", "call_id", "date"):  # the batch's metadata stays
        if row.get(key) and not new_row.get(key):
            new_row[key] = row[key]
    return {
        **entry,
        "status": "ok",
        "error": "",
        "row": new_row,
        "rescored": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _plain(value: Any) -> str:
    """A summary.csv cell as written (the leading ``'`` that guards a formula removed)."""
    from callscan.qa.files import FORMULA_STARTS

    text = "" if value is None else str(value)
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


def _write_summaries(out: Path) -> Path | None:
    """Rewrite ``summary.csv`` (the same calls in the same order, each row as the QA store
    now holds it) and ``agents.csv`` from it; None when the folder has no summary."""
    from callscan.qa.runner import (
        AGENT_FIELDS,
        AGENTS,
        SUMMARY,
        SUMMARY_FIELDS,
        agent_rollup,
        write_csv,
    )
    from callscan.qa.store import REPORT_SUFFIX, resume_state

    path = out / SUMMARY
    if not path.exists():
        return None
    try:
        with open(path, newline="", encoding="utf-8") as f:
            old_rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise CallscanError(f"'{path}': cannot read the summary ({e})") from e
    try:
        stored = resume_state(out)
    except CallscanError as e:
        raise CallscanError(f"'{path}': not rewritten, the QA store cannot be read ({e})") from e
    rows = []
    for old in old_rows:  # a failed call (no report) keeps its row
        name = Path(_plain(old.get("report"))).name.removesuffix(REPORT_SUFFIX)
        rows.append((stored.get(name) or {}).get("summary") or old)
    try:
        write_csv(path, SUMMARY_FIELDS, rows)
        if (out / AGENTS).exists():
            write_csv(out / AGENTS, AGENT_FIELDS, agent_rollup(rows))
    except OSError as e:
        raise CallscanError(f"'{out}': cannot write the summary ({e.strerror or e})") from e
    return path


def _dashboard(out: Path, warnings: list[str]) -> Path | None:
    from callscan.qa import dashboard

    try:
        return dashboard.write(out, sync=False)
    except CallscanError as e:
        warnings.append(f"dashboard not written: {e}")
        logger.warning("dashboard not written: %s", e)
        return None
