"""The QA store: every call of a batch output folder in one embedded DuckDB file.

``DIR/callscan.duckdb`` holds two tables, built from the per-call JSON reports
(``NAME.callscan.json``), so it can be made for any batch folder, old or new:

``calls``
    One row per call (``name``: the report's name, unique in the folder): metadata (agent,
    team, date, call id), language, duration, call type, the headline scores (opening tone and
    clarity, stages percent), conduct counts, caller modality, talk metrics, ``needs_review``
    and its reasons, the agent's top tips, processing time, callscan version, the options'
    fingerprint, the batch's resume keys (the call file's ``sha256`` and ``size_bytes``, the
    log entry's ``logged_at``) and its ``summary`` row (JSON, what summary.csv shows); and one
    column per stage (``stage_<id>``), step (``step_<id>``) and conduct
    rule (``rule_<id>``) holding its status. Failed calls (no report) have ``status = 'error'``.
``findings``
    One row per finding: ``name``, ``kind`` (``stage``, ``step``, ``rule``, ``modality``,
    ``grievance``), ``id``, ``section`` (the playbook group), ``status``, ``required``,
    ``start_s``/``end_s``/``turn``/``speaker`` of its first evidence, ``evidence`` (the words
    heard, up to three quotes) and the check's ``note``.

Writes are transactional: :func:`record` replaces one call's rows (calls and findings) in one
transaction, so a process killed at any moment leaves the store as it was before or after
that call; a re-run of a call replaces its rows. :func:`rebuild` makes the store from the
reports on disk (idempotent); :func:`sync` brings it up to date with them (new, changed or
removed reports only), which every reader calls first. For a batch, the store is the source
of truth (resume and summary.csv read it: :func:`resume_state`, :func:`summary_rows`) and the
batch log its crash-safe journal: :func:`reconcile` makes the two agree after a SIGKILL.

Metadata comes from, first to last: the ``meta`` given to :func:`record`, the report's
``speakers.metadata`` (the ``--agent-pattern`` groups), the batch log (``batch.jsonl``) and an
optional manifest CSV (columns ``path`` or ``call_id``, and ``agent_id``, ``team``, ``date``,
``call_type``, ``language``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.errors import CallscanError, ConfigError

logger = logging.getLogger(__name__)

STORE = "callscan.duckdb"
REPORT_SUFFIX = ".callscan.json"
HTML_SUFFIX = ".callscan.html"
TOPICS_FILE = "complaint_topics.yaml"
N_QUOTES = 3  # evidence quotes kept per finding
QUOTE_CHARS = 200  # each cut to this many characters
COVERED = ("present", "late", "out_of_order")  # a stage or step that was heard
LOCK_WAIT_S = 10.0  # how long to wait for another process holding the store

# (column, DuckDB type): the fixed columns of ``calls``, in order
CALL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "VARCHAR NOT NULL"),  # the report's name (NAME.callscan.json), unique
    ("status", "VARCHAR"),  # ok, error
    ("error", "VARCHAR"),
    ("call_id", "VARCHAR"),
    ("file", "VARCHAR"),  # the call's recording or transcript
    ("report", "VARCHAR"),  # the JSON report, relative to the folder
    ("html", "VARCHAR"),  # the HTML report, relative to the folder (None if not written)
    ("agent_id", "VARCHAR"),
    ("team", "VARCHAR"),
    ("date", "DATE"),
    ("language", "VARCHAR"),
    ("input", "VARCHAR"),  # audio, transcript
    ("duration_s", "DOUBLE"),
    ("call_type", "VARCHAR"),
    ("call_type_source", "VARCHAR"),
    ("complaint", "BOOLEAN"),  # the caller raised a grievance
    ("complaint_topic", "VARCHAR"),  # complaint_topics.yaml
    ("roles_confidence", "DOUBLE"),
    ("roles_low_confidence", "BOOLEAN"),
    ("opening_status", "VARCHAR"),
    ("tone", "DOUBLE"),
    ("clarity", "DOUBLE"),
    ("stages_percent", "DOUBLE"),
    ("stages_missing", "VARCHAR[]"),
    ("conduct_checked", "INTEGER"),
    ("conduct_failed", "INTEGER"),
    ("conduct_failed_rules", "VARCHAR[]"),
    ("caller_modality", "VARCHAR"),
    ("caller_modality_confidence", "DOUBLE"),
    ("agent_modality", "VARCHAR"),
    ("rapport_matched", "BOOLEAN"),
    ("agent_talk_pct", "DOUBLE"),
    ("caller_talk_pct", "DOUBLE"),
    ("talk_ratio", "DOUBLE"),
    ("non_talk_s", "DOUBLE"),
    ("interruptions", "INTEGER"),
    ("agent_longest_monologue_s", "DOUBLE"),
    ("agent_words_per_minute", "DOUBLE"),
    ("agent_response_latency_s", "DOUBLE"),  # median
    ("needs_review", "BOOLEAN"),
    ("review_reasons", "VARCHAR[]"),
    ("tips", "VARCHAR[]"),  # the agent's top tips, in the call's language
    ("tip_sources", "VARCHAR[]"),  # the stage, rule or measure each tip comes from
    ("processing_s", "DOUBLE"),
    ("callscan_version", "VARCHAR"),
    ("schema_version", "VARCHAR"),
    ("options", "VARCHAR"),  # the batch options' fingerprint
    ("sha256", "VARCHAR"),  # the call file's SHA-256 when analysed (None: not vouched for)
    ("size_bytes", "BIGINT"),  # the call file's size when analysed
    ("logged_at", "VARCHAR"),  # the batch log entry's ``finished`` stamp
    ("summary", "VARCHAR"),  # the call's summary.csv row (JSON) as the batch computed it
    ("playbook", "VARCHAR"),
    ("report_mtime_ns", "BIGINT"),  # the JSON report's modification time when stored
    ("stored_at", "TIMESTAMP"),
)
FINDING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "VARCHAR NOT NULL"),
    ("kind", "VARCHAR"),  # stage, step, rule, modality, grievance
    ("id", "VARCHAR"),
    ("section", "VARCHAR"),  # the playbook group: stages, complaint_steps, conduct, hold, ...
    ("status", "VARCHAR"),
    ("required", "BOOLEAN"),
    ("start_s", "DOUBLE"),
    ("end_s", "DOUBLE"),
    ("turn", "INTEGER"),
    ("speaker", "VARCHAR"),
    ("evidence", "VARCHAR"),
    ("note", "VARCHAR"),
)
STATUS_PREFIXES = ("stage_", "step_", "rule_")  # the per-call status columns
META_KEYS = ("agent_id", "team", "date", "call_id", "call_type", "language")


def store_path(output_dir: str | Path) -> Path:
    """Where a folder's store lives: ``DIR/callscan.duckdb``."""
    return Path(output_dir) / STORE


# ---- connecting ------------------------------------------------------------------------------


def connect(output_dir: str | Path, *, read_only: bool = False):
    """A DuckDB connection to the folder's store, its tables created (unless ``read_only``).

    Another process writing the store holds DuckDB's file lock; this waits up to
    :data:`LOCK_WAIT_S` for it, then raises :class:`CallscanError`.
    """
    import duckdb

    path = store_path(output_dir)
    if read_only and not path.exists():
        raise CallscanError(f"'{path}': no QA store in this folder")
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                raise CallscanError(f"'{path}': cannot open the QA store ({_first_line(e)})") from e
            time.sleep(0.05)
        except duckdb.Error as e:
            raise CallscanError(f"'{path}': cannot open the QA store ({_first_line(e)})") from e
    if not read_only:
        _create(con)
    return con


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _create(con) -> None:
    """Create both tables, and add the fixed columns a store made by an older callscan lacks."""
    for table, columns in (("calls", CALL_COLUMNS), ("findings", FINDING_COLUMNS)):
        cols = ", ".join(f'"{c}" {t}' for c, t in columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
        known = set(_columns(con, table))
        for c, t in columns:
            if c not in known:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{c}" {t.replace(" NOT NULL", "")}')


@contextmanager
def opened(output_dir: str | Path, *, read_only: bool = False) -> Iterator[Any]:
    """``with opened(dir) as con:`` a connection that is closed afterwards."""
    con = connect(output_dir, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


# ---- one call -> rows -----------------------------------------------------------------------


def status_column(kind: str, item_id: str) -> str:
    """The ``calls`` column holding a stage's, step's or rule's status (``stage_contact``)."""
    return f"{kind}_" + re.sub(r"[^0-9a-z_]", "_", str(item_id).lower())


def _compile_topics(where: Path) -> tuple[tuple[str, re.Pattern[str]], ...]:
    from callscan.config import read_yaml

    data = read_yaml(where)
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict) or not topics:
        raise ConfigError(f"'{where}': key 'topics' must map topic ids to lists of keywords")
    out = []
    for topic, words in topics.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise ConfigError(f"'{where}': topics.{topic} must be a list of keywords (text)")
        alts = "|".join(
            re.escape(" ".join(w.lower().split())).replace(r"\ ", r"\s+") for w in words
        )
        out.append((str(topic), re.compile(rf"\b(?:{alts})", re.IGNORECASE)))
    return tuple(out)


def complaint_topic(text: str) -> str:
    """What a complaint is about: the topic of ``complaint_topics.yaml`` whose keywords the
    caller's words match most often (``other`` when none).

    Examples
    --------
    >>> complaint_topic("my bill is too high, you charged me twice")
    'billing'
    """
    from callscan.config import cached
    from callscan.resources import data_path

    path = data_path(TOPICS_FILE)
    if path is None:
        raise ConfigError(f"'{TOPICS_FILE}': no such data file in callscan.models")
    best, best_n = "other", 0
    for topic, rx in cached("complaint_topics", path, lambda: _compile_topics(path)):
        n = len(rx.findall(text))
        if n > best_n:
            best, best_n = topic, n
    return best


def _num(x: Any, digits: int = 3) -> float | None:
    from callscan.util import is_finite

    return round(float(x), digits) if is_finite(x) else None


def _parse_date(value: Any) -> dt.date | None:
    """A date from metadata: ``2024-11-04``, ``20241104``, ``2024/11/04`` (else None)."""
    if isinstance(value, dt.date):
        return value
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) >= 8:
        try:
            return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
        except ValueError:
            return None
    return None


def _quotes(items: list[dict]) -> tuple[str, dict]:
    """Up to :data:`N_QUOTES` evidence texts joined by `` | `` and the first item."""
    texts, seen = [], set()
    for e in items:
        text = " ".join(str(e.get("text") or "").split())[:QUOTE_CHARS]
        if text and text not in seen:
            seen.add(text)
            texts.append(text)
        if len(texts) == N_QUOTES:
            break
    return " | ".join(texts), (items[0] if items else {})


def _finding(name: str, kind: str, item: dict, evidence: list[dict], status: str) -> dict:
    text, first = _quotes(evidence)
    turn = first.get("turn", first.get("turn_index"))
    return {
        "name": name,
        "kind": kind,
        "id": str(item.get("id") or ""),
        "section": item.get("group"),
        "status": status,
        "required": item.get("required"),
        "start_s": _num(first.get("start_s")),
        "end_s": _num(first.get("end_s")),
        "turn": turn if isinstance(turn, int) else None,
        "speaker": first.get("speaker") or first.get("role"),
        "evidence": text,
        "note": item.get("note") or "",
    }


def findings_of(name: str, report: dict) -> list[dict]:
    """The ``findings`` rows of one report."""
    from callscan.report.data import stage_evidence

    stages = report.get("stages") or {}
    rows = []
    for s in stages.get("stages") or []:
        kind = "stage" if s.get("group") == "stages" else "step"
        rows.append(_finding(name, kind, s, stage_evidence(s), str(s.get("status"))))
    for r in stages.get("rules") or []:
        rows.append(_finding(name, "rule", r, list(r.get("hits") or []), str(r.get("status"))))
    grievance = stages.get("grievance") or {}
    if grievance.get("raised"):
        item = {"id": "grievance", "group": "triggers"}
        rows.append(
            _finding(name, "grievance", item, list(grievance.get("evidence") or []), "raised")
        )
    modality = report.get("modality") or {}
    for who in ("caller", "agent"):
        m = modality.get(who) or {}
        if not m:
            continue
        leading = m.get("leading") or "undetermined"
        evidence = [e for e in m.get("evidence") or [] if e.get("modality") == leading]
        item = {"id": who, "group": "modality"}
        rows.append(_finding(name, "modality", item, evidence, str(leading)))
    return rows


def _meta_value(meta: Mapping[str, Any], key: str) -> Any:
    aliases = {"agent_id": ("agent_id", "agent"), "call_id": ("call_id", "call")}
    for k in aliases.get(key, (key,)):
        if meta.get(k) not in (None, ""):
            return meta[k]
    return None


def call_row(
    name: str,
    report: dict,
    meta: Mapping[str, Any] | None = None,
    *,
    output_dir: Path | None = None,
) -> dict[str, Any]:
    """The ``calls`` row of one report (fixed columns and ``stage_``/``step_``/``rule_``
    status columns). ``meta``: metadata that overrides the report's own."""
    from callscan.report.data import conduct_rules, duration_s, overall, roles, talk_metrics
    from callscan.report.tips import top_tips

    meta = dict(meta or {})
    speakers = report.get("speakers") or {}
    own = speakers.get("metadata") or {}

    def pick(key: str) -> Any:
        value = _meta_value(meta, key)
        return value if value is not None else _meta_value(own, key)

    ov, r = overall(report), roles(report)
    stages = report.get("stages") or {}
    metrics = talk_metrics(report) or {}
    parties = metrics.get("parties") or {}
    agent = parties.get("agent") or {}
    caller = parties.get("caller") or {}
    modality = report.get("modality") or {}
    opening = report.get("opening") or {}
    failed = [x["id"] for x in conduct_rules(report) if x["status"] == "fail"]
    grievance = bool((stages.get("grievance") or {}).get("raised"))
    call_type = pick("call_type") or ov["call_type"]
    complaint = grievance or call_type == "complaint"
    topic = None
    if complaint:
        caller_text = " ".join(
            t.get("text") or ""
            for t in (report.get("conversation") or {}).get("turns") or []
            if t.get("role") == "caller"
        )
        topic = complaint_topic(caller_text)
    tips = top_tips(report)
    html = f"{name}{HTML_SUFFIX}"
    out = output_dir
    row: dict[str, Any] = {
        "name": name,
        "status": "ok",
        "error": "",
        "call_id": pick("call_id"),
        "file": meta.get("file") or report.get("source"),
        "report": f"{name}{REPORT_SUFFIX}",
        "html": html if out is not None and (out / html).exists() else None,
        "agent_id": pick("agent_id"),
        "team": pick("team"),
        "date": _parse_date(pick("date")),
        "language": pick("language") or report.get("language"),
        "input": report.get("input"),
        "duration_s": _num(duration_s(report)),
        "call_type": call_type,
        "call_type_source": stages.get("call_type_source"),
        "complaint": complaint,
        "complaint_topic": topic,
        "roles_confidence": _num(r["confidence"]),
        "roles_low_confidence": bool(r["low_confidence"]),
        "opening_status": opening.get("status"),
        "tone": _num(ov["tone"], 1),
        "clarity": _num(ov["clarity"], 1),
        "stages_percent": _num(ov["stages_percent"], 1),
        "stages_missing": [
            s["id"] for s in stages.get("stages") or [] if s.get("status") == "absent"
        ],
        "conduct_checked": ov["conduct_checked"],
        "conduct_failed": ov["conduct_failed"],
        "conduct_failed_rules": failed,
        "caller_modality": ov["caller_modality"],
        "caller_modality_confidence": _num(ov["caller_modality_confidence"]),
        "agent_modality": (modality.get("agent") or {}).get("leading"),
        "rapport_matched": (modality.get("rapport") or {}).get("matched"),
        "agent_talk_pct": _num(agent.get("talk_pct"), 1),
        "caller_talk_pct": _num(caller.get("talk_pct"), 1),
        "talk_ratio": _num(metrics.get("talk_ratio")),
        "non_talk_s": _num((metrics.get("non_talk") or {}).get("total_s")),
        "interruptions": (metrics.get("interruptions") or {}).get("count"),
        "agent_longest_monologue_s": _num(agent.get("longest_monologue_s")),
        "agent_words_per_minute": _num(agent.get("words_per_minute"), 1),
        "agent_response_latency_s": _num(agent.get("response_latency_median_s")),
        "needs_review": bool(stages.get("needs_review")),
        "review_reasons": [str(x) for x in stages.get("review_reasons") or []],
        "tips": [t.text for t in tips],
        "tip_sources": [f"{t.kind}:{t.source}" for t in tips],
        "processing_s": _num(_meta_value(meta, "processing_s"), 2),
        "callscan_version": report.get("callscan_version"),
        "schema_version": report.get("schema_version"),
        "options": meta.get("options"),
        **_batch_columns(meta),
        "playbook": stages.get("playbook"),
        "report_mtime_ns": None,
        "stored_at": dt.datetime.now().replace(microsecond=0),
    }
    if out is not None:
        try:
            row["report_mtime_ns"] = (out / row["report"]).stat().st_mtime_ns
        except OSError:
            pass
    for s in stages.get("stages") or []:
        kind = "stage" if s.get("group") == "stages" else "step"
        row[status_column(kind, s["id"])] = s.get("status")
    for x in stages.get("rules") or []:
        row[status_column("rule", x["id"])] = x.get("status")
    return row


def error_row(name: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The ``calls`` row of a call that failed (no report): its metadata and error."""
    return {
        "name": name,
        "status": "error",
        "error": str(meta.get("error") or "failed"),
        "call_id": _meta_value(meta, "call_id"),
        "file": meta.get("file"),
        "agent_id": _meta_value(meta, "agent_id"),
        "team": _meta_value(meta, "team"),
        "date": _parse_date(_meta_value(meta, "date")),
        "processing_s": _num(_meta_value(meta, "processing_s"), 2),
        "options": meta.get("options"),
        **_batch_columns(meta),
        "stored_at": dt.datetime.now().replace(microsecond=0),
    }


def _batch_columns(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The columns a batch's resume and summary read, from its log entry (see :func:`record`)."""
    size = meta.get("size_bytes", meta.get("size"))
    summary = meta.get("summary_row")
    return {
        "sha256": meta.get("sha256") or None,
        "size_bytes": size if isinstance(size, int) and size >= 0 else None,
        "logged_at": meta.get("finished") or None,
        "summary": json.dumps(summary, ensure_ascii=False, default=str) if summary else None,
    }


# ---- writing --------------------------------------------------------------------------------


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _ensure_columns(con, row: Mapping[str, Any], known: set[str]) -> None:
    for col in row:
        if col not in known and col.startswith(STATUS_PREFIXES):
            con.execute(f'ALTER TABLE calls ADD COLUMN IF NOT EXISTS "{col}" VARCHAR')
            known.add(col)


def _insert(con, table: str, rows: list[dict]) -> None:
    """Insert ``rows`` in one statement: one list parameter per column, unnested together
    (binding each value on its own is twenty times slower)."""
    if not rows:
        return
    types = con.execute(f"DESCRIBE {table}").fetchall()  # (column, type, ...)
    names = ", ".join(f'"{c}"' for c, *_ in types)
    select = ", ".join(f'unnest(?::{t}[]) AS "{c}"' for c, t, *_ in types)
    params = [[row.get(c) for row in rows] for c, *_ in types]
    con.execute(f"INSERT INTO {table} ({names}) SELECT {select}", params)


def _delete(con, names: list[str]) -> None:
    """Delete the rows of ``names`` from both tables (inside the caller's transaction)."""
    for table in ("calls", "findings"):
        con.execute(f"DELETE FROM {table} WHERE list_contains(?, name)", [names])


def write_rows(con, calls: list[dict], findings: list[dict]) -> None:
    """Replace the rows of the calls named in ``calls`` (and their findings) in one
    transaction; new status columns are added first."""
    if not calls:
        return
    known = set(_columns(con, "calls"))
    con.execute("BEGIN TRANSACTION")
    try:
        for row in calls:
            _ensure_columns(con, row, known)
        _delete(con, [row["name"] for row in calls])
        _insert(con, "calls", calls)
        _insert(con, "findings", findings)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _name_of(report: dict | None, path: Path | None, meta: Mapping[str, Any]) -> str:
    from callscan.report import report_stem

    if meta.get("name"):
        return str(meta["name"])
    if path is not None:
        return report_stem(path)
    if report is not None and report.get("source"):
        return report_stem(str(report["source"]))
    raise CallscanError("cannot name the call: give meta['name'] or the report's path")


def _flat_meta(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """The runner's log entry (``{"name", "file", "options", "row": {...}}``) or plain
    metadata, as one flat mapping (top-level keys win)."""
    meta = dict(meta or {})
    row = meta.pop("row", None) or {}
    flat = {**{k: v for k, v in row.items() if v not in (None, "")}, **meta}
    if row:
        flat["summary_row"] = row  # kept whole: summary.csv is made from it
    return flat


def record(
    output_dir: str | Path,
    report: dict | str | Path | None,
    meta: Mapping[str, Any] | None = None,
    *,
    con: Any = None,
) -> str:
    """Store one finished call: its ``calls`` row and findings, replacing earlier ones, in one
    transaction. Returns the call's name.

    Parameters
    ----------
    output_dir : the batch output folder (the store is ``DIR/callscan.duckdb``).
    report : the report dictionary, or the path of its JSON (read and checked), or None for a
        call that failed (``meta["error"]`` says why).
    meta : metadata for the row: ``name`` (the report name; else taken from the report's
        path), ``agent_id``/``agent``, ``team``, ``date``, ``call_id``/``call``, ``file``,
        ``processing_s``, ``options`` (the fingerprint), ``status``/``error``; from a batch:
        ``sha256``, ``size`` and ``finished`` (the resume keys) and ``row`` (the call's
        summary.csv row, kept whole). The batch log entry can be passed as is.
    con : an open connection to the folder's store (from :func:`connect`) to write through
        instead of opening one for this call (a writer storing many calls keeps one).
    """
    out = Path(output_dir)
    flat = _flat_meta(meta)
    path = None
    if isinstance(report, (str, Path)):
        path = Path(report)
        if not path.is_absolute() and not path.exists():
            path = out / path
        report = _load(path)
    name = _name_of(report, path, flat)
    if report is None:
        calls, findings = [error_row(name, flat)], []
    else:
        calls, findings = [call_row(name, report, flat, output_dir=out)], findings_of(name, report)
    if con is not None:
        write_rows(con, calls, findings)
        return name
    with opened(out) as own:
        write_rows(own, calls, findings)
    return name


def _load(path: Path) -> dict:
    from callscan.report import load_report

    return load_report(path)


# ---- from the reports on disk ---------------------------------------------------------------


@dataclass
class SyncResult:
    """What :func:`sync` or :func:`rebuild` did."""

    store: Path
    calls: int = 0  # rows in calls after the run
    written: int = 0  # calls (re)stored
    removed: int = 0  # rows whose report is gone
    errors: list[str] = field(default_factory=list)  # reports that could not be read

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": str(self.store),
            "calls": self.calls,
            "written": self.written,
            "removed": self.removed,
            "errors": self.errors,
        }


def report_files(output_dir: str | Path) -> dict[str, Path]:
    """The folder's per-call JSON reports by name (``NAME.callscan.json`` -> ``NAME``)."""
    out = Path(output_dir)
    return {
        p.name[: -len(REPORT_SUFFIX)]: p
        for p in sorted(out.glob(f"*{REPORT_SUFFIX}"))
        if not p.name.startswith(".")
    }


def read_manifest_csv(path: str | Path) -> dict[str, dict[str, str]]:
    """A manifest CSV's rows keyed by resolved ``path`` and by ``call_id`` (both when given);
    relative paths resolve against the manifest's folder."""
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise CallscanError(f"'{p}': cannot read the manifest ({e.strerror})") from e
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if clean.get("path"):
            out[str((p.parent / clean["path"]).resolve())] = clean
        if clean.get("call_id"):
            out.setdefault(f"call:{clean['call_id']}", clean)
    return out


def _log_entries(out: Path) -> dict[str, dict[str, Any]]:
    from callscan.qa.files import read_manifest

    try:
        return read_manifest(out)
    except (OSError, UnicodeDecodeError) as e:
        logger.warning("'%s': cannot read the batch log (%s)", out, e)
        return {}


def _manifest_meta(manifest: dict[str, dict[str, str]], file: Any, call_id: Any) -> dict:
    if not manifest:
        return {}
    if file:
        hit = manifest.get(str(Path(str(file)).resolve()))
        if hit:
            return hit
    return manifest.get(f"call:{call_id}", {}) if call_id else {}


def sync(
    output_dir: str | Path, *, manifest: str | Path | None = None, full: bool = False
) -> SyncResult:
    """Bring the folder's store up to date with its reports: store new and changed reports
    (by modification time), drop rows whose report is gone, add failed calls from the batch
    log. ``full``: re-store every report. A ``manifest`` CSV re-stores every call with its
    metadata. Reports that cannot be read are listed in the result, not raised.
    """
    out = Path(output_dir)
    if not out.is_dir():
        raise CallscanError(f"'{out}': no such folder")
    files = report_files(out)
    log = _log_entries(out)
    rows = read_manifest_csv(manifest) if manifest else {}
    full = full or bool(rows)
    result = SyncResult(store_path(out))
    with opened(out) as con:
        stored = dict(
            con.execute(
                "SELECT name, coalesce(report_mtime_ns, -1) FROM calls WHERE status = 'ok'"
            ).fetchall()
        )
        failed = {
            r[0] for r in con.execute("SELECT name FROM calls WHERE status <> 'ok'").fetchall()
        }
        gone = [n for n in stored if n not in files]
        calls: list[dict] = []
        findings: list[dict] = []
        for name, path in files.items():
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                continue
            if not full and stored.get(name) == mtime:
                continue
            try:
                report = _load(path)
            except CallscanError as e:
                result.errors.append(str(e))
                continue
            entry = _vouched(_flat_meta(log.get(name)), mtime)
            meta = {
                **_manifest_meta(rows, entry.get("file") or report.get("source"),
                                 entry.get("call_id")),
                **entry,
            }  # fmt: skip
            calls.append(call_row(name, report, meta, output_dir=out))
            findings += findings_of(name, report)
        for name, entry in log.items():  # failed calls: no report, one row from the log
            if name in files or entry.get("status") == "ok":
                continue
            if full or name not in failed:
                flat = _flat_meta(entry)
                meta = {**_manifest_meta(rows, flat.get("file"), flat.get("call_id")), **flat}
                calls.append(error_row(name, meta))
        _replace_rows(con, gone, calls, findings)
        result.written = len(calls)
        result.removed = len(gone)
        result.calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    return result


def rebuild(output_dir: str | Path, *, manifest: str | Path | None = None) -> SyncResult:
    """Make the store anew from the folder's reports and batch log (idempotent: the same
    reports give the same rows)."""
    out = Path(output_dir)
    if not out.is_dir():
        raise CallscanError(f"'{out}': no such folder")
    with opened(out) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM calls")
        con.execute("DELETE FROM findings")
        con.execute("COMMIT")
    return sync(out, manifest=manifest, full=True)


# ---- a batch's journal: resume and summary -------------------------------------------------


def _vouched(flat: dict[str, Any], mtime_ns: int | None) -> dict[str, Any]:
    """``flat`` (a log entry's metadata) without its ``sha256`` unless the entry vouches for
    the report on disk: an ``ok`` entry logged for this very file (its ``report_mtime_ns``,
    when the entry has one, is the report's modification time). A report rewritten by a run
    killed before it logged the call keeps no resume key, so the call is done again."""
    logged = flat.get("report_mtime_ns")
    if flat.get("status", "ok") != "ok" or (logged is not None and logged != mtime_ns):
        return {**flat, "sha256": None}
    return flat


@dataclass
class ReconcileResult:
    """What :func:`reconcile` changed."""

    from_log: int = 0  # calls stored from their log entry (killed between log and store)
    unlogged: int = 0  # reports stored that no log entry vouches for (redone on resume)
    removed: int = 0  # rows whose report is gone (redone on resume)
    errors: list[str] = field(default_factory=list)  # reports that could not be read


def reconcile(output_dir: str | Path, entries: Mapping[str, Mapping[str, Any]]) -> ReconcileResult:
    """Make the store agree with a batch's log and the reports on disk, after a run that may
    have been killed at any moment (the batch calls it before deciding what to resume).

    A batch writes each call's reports (atomically), then its log line (``batch.jsonl``, the
    crash-safe journal), then its store rows (one transaction), so a SIGKILL leaves one of:

    * reports, no log line, no row: the report is stored without a resume key (no
      ``sha256``), so the store has a row per report and the call is done again;
    * reports and a log line, no row (or an older row): the row is stored from the log
      entry and the JSON report, so the call is not done twice;
    * a row whose JSON report is gone (removed by hand): the row is deleted and the call
      done again.

    ``entries``: the last log entry of each call (:func:`callscan.qa.files.read_manifest`).
    Afterwards every report on disk has exactly one ``ok`` row and every ``ok`` row its
    report; a failed call keeps its ``error`` row.
    """
    out = Path(output_dir)
    files = report_files(out)
    result = ReconcileResult()
    with opened(out) as con:
        stored = {
            r[0]: tuple(r[1:])
            for r in con.execute(
                "SELECT name, status, logged_at, options, sha256 FROM calls"
            ).fetchall()
        }
        gone = [n for n, (status, *_) in stored.items() if status == "ok" and n not in files]
        calls: list[dict] = []
        findings: list[dict] = []

        def add(name: str, path: Path, meta: dict[str, Any]) -> bool:
            try:
                mtime = path.stat().st_mtime_ns
                report = _load(path)
            except (OSError, CallscanError) as e:
                result.errors.append(str(e))
                return False
            calls.append(call_row(name, report, _vouched(meta, mtime), output_dir=out))
            findings.extend(findings_of(name, report))
            return True

        for name, entry in entries.items():
            # an unvouched row (no sha256) differs from its entry: it is looked at again
            key = tuple(entry.get(k) for k in ("status", "finished", "options", "sha256"))
            if name in stored and name not in gone and stored[name] == key:
                continue  # the store has the log's last word on this call
            flat = _flat_meta(entry)
            if entry.get("status") != "ok":
                calls.append(error_row(name, flat))
                result.from_log += 1
            elif name in files and add(name, files[name], flat):
                result.from_log += 1
        for name, path in files.items():  # written, then killed before the log line
            if name not in stored and name not in entries and add(name, path, {}):
                result.unlogged += 1
        _replace_rows(con, gone, calls, findings)
        result.removed = len(gone)
    return result


def _replace_rows(con, gone, calls: list[dict], findings: list[dict]) -> None:
    """Drop the rows of the calls ``gone``, then write ``calls`` and their ``findings``."""
    if gone:  # first: a gone call may come back as a failed call's row
        con.execute("BEGIN TRANSACTION")
        _delete(con, gone)
        con.execute("COMMIT")
    write_rows(con, calls, findings)


def resume_state(output_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Per stored call, what a batch's resume checks: ``status``, ``options``, ``sha256``,
    ``size_bytes``, ``report_mtime_ns`` and ``summary`` (the summary.csv row, a dict)."""
    if not store_path(output_dir).exists():
        return {}
    with opened(output_dir) as con:
        rows = query(
            con,
            "SELECT name, status, options, sha256, size_bytes, report_mtime_ns, summary FROM calls",
        )
    out = {}
    for r in rows:
        r["summary"] = json.loads(r["summary"]) if r["summary"] else None
        out[r.pop("name")] = r
    return out


def summary_rows(output_dir: str | Path, names: list[str]) -> list[dict[str, Any]]:
    """The summary.csv rows of ``names`` (in that order) from the store; a call without a
    stored summary row is left out."""
    with opened(output_dir) as con:
        found = dict(
            con.execute(
                "SELECT name, summary FROM calls WHERE summary IS NOT NULL "
                "AND list_contains(?, name)",
                [names],
            ).fetchall()
        )
    return [json.loads(found[n]) for n in names if n in found]


# ---- reading and exporting ------------------------------------------------------------------


def query(con, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dictionaries."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


EXPORT_FORMATS = ("csv", "parquet", "jsonl")


def export(output_dir: str | Path, fmt: str = "csv", dest: str | Path | None = None) -> list[Path]:
    """Write both tables as ``calls.FMT`` and ``findings.FMT`` into ``dest`` (default: the
    folder). CSV joins list cells with ``;`` and guards formula-like text cells with a leading
    ``'`` (like ``summary.csv``); Parquet keeps the types; JSON lines one object a row."""
    from callscan.qa.files import csv_cell
    from callscan.util import atomic_writer

    if fmt not in EXPORT_FORMATS:
        raise CallscanError(
            f"unknown export format '{fmt}' (choose from {', '.join(EXPORT_FORMATS)})",
            option="format",
        )
    out = Path(output_dir)
    sync(out)
    target = Path(dest) if dest is not None else out
    target.mkdir(parents=True, exist_ok=True)
    written = []
    with opened(out, read_only=True) as con:
        for table in ("calls", "findings"):
            path = target / f"{table}.{fmt}"
            order = "name" if table == "calls" else "name, kind, id"
            # the summary.csv row (JSON) repeats the typed columns: summary.csv has it
            select = "* EXCLUDE (summary)" if table == "calls" else "*"
            if fmt == "parquet":
                part = path.with_name(f".{path.name}.part")
                con.execute(
                    f"COPY (SELECT {select} FROM {table} ORDER BY {order}) TO '{_sql_text(part)}' "
                    "(FORMAT parquet)"
                )
                os.replace(part, path)
            else:
                rows = query(con, f"SELECT {select} FROM {table} ORDER BY {order}")
                with atomic_writer(path, "w", newline="", errors="backslashreplace") as f:
                    if fmt == "jsonl":
                        for row in rows:
                            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                    else:
                        fields = (
                            list(rows[0])
                            if rows
                            else [c for c in _columns(con, table) if c != "summary"]
                        )
                        writer = csv.DictWriter(f, fieldnames=fields)
                        writer.writeheader()
                        for row in rows:
                            writer.writerow({k: csv_cell(_cell(v)) for k, v in row.items()})
            written.append(path)
    return written


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
