"""Analyse many calls: one report per call, a summary table, per-agent rollups, resumable.

A QA team points callscan at a folder of thousands of recordings. :func:`run_batch`

* finds the calls (folders are searched recursively for audio files; files named directly
  may also be transcripts), sorted, each with a unique report name (``sub__dir__name``);
* loads the Whisper model once per worker and analyses the calls one by one;
* writes each call's reports (``NAME.callscan.json`` and the formats asked for) atomically,
  then appends one JSON line to ``batch.jsonl`` in the output folder: the call's file, size,
  modification time, the options' fingerprint, its status, error and summary row;
* never stops on a bad call: a :class:`CallscanError` (corrupt, empty, silent or non-audio
  file) or any other exception is recorded as that call's one-line error, and the batch goes
  on; a worker process that dies is replaced and only its call is marked failed;
* resumes: a call whose last ``batch.jsonl`` line says ``ok`` for the same file (size and
  modification time), the same options and whose report still exists is skipped; failed calls
  are tried again;
* writes ``summary.csv`` (one row per call, failures included) and ``agents.csv`` (per agent
  id from the agent pattern's ``agent`` group: calls, failures, minutes, mean scores, the
  stage most often missed, conduct failures per call).

The library never prints: progress goes through ``hook(step, completed, total)``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from callscan.errors import CallscanError
from callscan.util import atomic_writer

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = (
    ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3",
    ".m4a", ".aac", ".mp4", ".amr", ".gsm", ".wma", ".webm",
)  # fmt: skip
MANIFEST = "batch.jsonl"
SUMMARY = "summary.csv"
AGENTS = "agents.csv"

SUMMARY_FIELDS = (
    "file", "status", "error", "agent_id", "call_id", "date", "language", "duration_s",
    "call_type", "roles_confidence", "roles_low_confidence", "tone", "clarity",
    "stages_percent", "stages_missing", "conduct_failed", "conduct_failed_rules",
    "caller_modality", "agent_talk_pct", "talk_ratio", "non_talk_s", "interruptions",
    "processing_s", "report",
)  # fmt: skip
AGENT_FIELDS = (
    "agent_id", "calls", "failed", "minutes", "tone_mean", "clarity_mean",
    "stages_percent_mean", "conduct_failed_per_call", "most_missed_stage",
    "low_confidence_roles",
)  # fmt: skip


@dataclass(frozen=True)
class BatchCall:
    """One call of a batch: its file and the name its reports get."""

    path: Path
    name: str  # report stem, unique in the batch


@dataclass
class BatchResult:
    """What a batch run did."""

    output_dir: Path
    done: int = 0  # analysed in this run
    skipped: int = 0  # already done by an earlier run (resumed)
    failed: int = 0  # errors in this run
    rows: list[dict[str, Any]] = field(default_factory=list)  # summary rows, every call
    summary_path: Path | None = None
    agents_path: Path | None = None

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] != "ok"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-native: counts, the summary and rollup files, and the summary rows."""
        return {
            "output_dir": str(self.output_dir),
            "calls": len(self.rows),
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "summary": None if self.summary_path is None else str(self.summary_path),
            "agents": None if self.agents_path is None else str(self.agents_path),
            "rows": self.rows,
        }


def find_calls(inputs: Iterable[str | Path]) -> list[BatchCall]:
    """The calls named by ``inputs`` (files, or folders searched recursively for audio).

    Raises :class:`CallscanError` for an input that does not exist or a folder without audio.
    """
    found: list[tuple[Path, Path]] = []  # (file, the folder its name is relative to)
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES
            )
            if not files:
                raise CallscanError(
                    f"'{p}': no audio files in this folder ({', '.join(AUDIO_SUFFIXES[:6])}, ...)"
                )
            found += [(f, p) for f in files]
        elif p.exists():
            found.append((p, p.parent))
        else:
            raise CallscanError(f"'{p}': no such file or folder")
    calls, seen, names = [], set(), set()
    for f, root in found:
        key = f.resolve()
        if key in seen:
            continue
        seen.add(key)
        rel = f.relative_to(root).with_suffix("")
        name = "__".join(rel.parts)
        base, i = name, 2
        while name in names:  # same stem in two inputs
            name, i = f"{base}-{i}", i + 1
        names.add(name)
        calls.append(BatchCall(f, name))
    return calls


def options_fingerprint(options, formats: tuple[str, ...], embed_audio: bool = False) -> str:
    """A short hash of everything that changes a report (a resumed run with other options
    redoes the calls)."""
    parts: list[Any] = [asdict(options), sorted(formats)]
    if embed_audio:  # only when on, so runs without it keep their earlier fingerprints
        parts.append("embed_audio")
    data = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
        return st.st_size, st.st_mtime_ns
    except OSError:
        return -1, -1


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


def summary_row(
    report: dict, *, file: str, report_path: str, seconds: float, metadata: dict | None = None
) -> dict[str, Any]:
    """The summary-table row of one analysed call (``metadata``: the file name's agent, call
    and date, when the report has none, e.g. for a transcript)."""
    from callscan.report.data import conduct_rules, duration_s, overall, roles

    ov, r = overall(report), roles(report)
    speakers = report.get("speakers") or {}
    meta = speakers.get("metadata") or metadata or {}
    metrics = speakers.get("metrics") or {}
    agent = (metrics.get("parties") or {}).get("agent") or {}
    stages = (report.get("stages") or {}).get("stages") or []
    failed_rules = [x["id"] for x in conduct_rules(report) if x["status"] == "fail"]

    def rnd(x, nd=1):
        return None if x is None else round(float(x), nd)

    return {
        "file": file,
        "status": "ok",
        "error": "",
        "agent_id": meta.get("agent", ""),
        "call_id": meta.get("call", ""),
        "date": meta.get("date", ""),
        "language": report.get("language"),
        "duration_s": rnd(duration_s(report)),
        "call_type": ov["call_type"],
        "roles_confidence": rnd(r["confidence"], 2),
        "roles_low_confidence": bool(speakers.get("roles", {}).get("low_confidence", False)),
        "tone": rnd(ov["tone"]),
        "clarity": rnd(ov["clarity"]),
        "stages_percent": rnd(ov["stages_percent"]),
        "stages_missing": ";".join(s["id"] for s in stages if s.get("status") == "absent"),
        "conduct_failed": ov["conduct_failed"],
        "conduct_failed_rules": ";".join(failed_rules),
        "caller_modality": ov["caller_modality"] or "",
        "agent_talk_pct": rnd(agent.get("talk_pct")),
        "talk_ratio": rnd(metrics.get("talk_ratio"), 2),
        "non_talk_s": rnd((metrics.get("non_talk") or {}).get("total_s")),
        "interruptions": (metrics.get("interruptions") or {}).get("count"),
        "processing_s": rnd(seconds),
        "report": report_path,
    }


def error_row(file: str, error: str, seconds: float, metadata: dict | None = None) -> dict:
    row: dict[str, Any] = {k: None for k in SUMMARY_FIELDS}
    meta = metadata or {}
    row.update(
        file=file,
        status="error",
        error=error,
        agent_id=meta.get("agent", ""),
        call_id=meta.get("call", ""),
        date=meta.get("date", ""),
        processing_s=round(seconds, 1),
        report="",
    )
    return row


def agent_rollup(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per agent id (``""`` shown as ``(unknown)``): counts, minutes and mean scores."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row.get("agent_id") or "(unknown)", []).append(row)

    def mean(values):
        values = [float(v) for v in values if v is not None and v != ""]
        return round(sum(values) / len(values), 1) if values else None

    out = []
    for agent_id in sorted(groups):
        calls = groups[agent_id]
        ok = [r for r in calls if r["status"] == "ok"]
        missed = Counter(s for r in ok for s in (r.get("stages_missing") or "").split(";") if s)
        out.append(
            {
                "agent_id": agent_id,
                "calls": len(calls),
                "failed": len(calls) - len(ok),
                "minutes": round(sum(float(r["duration_s"] or 0) for r in ok) / 60.0, 2),
                "tone_mean": mean(r["tone"] for r in ok),
                "clarity_mean": mean(r["clarity"] for r in ok),
                "stages_percent_mean": mean(r["stages_percent"] for r in ok),
                "conduct_failed_per_call": (
                    round(sum(int(r["conduct_failed"] or 0) for r in ok) / len(ok), 2)
                    if ok
                    else None
                ),
                "most_missed_stage": missed.most_common(1)[0][0] if missed else "",
                "low_confidence_roles": sum(bool(r.get("roles_low_confidence")) for r in ok),
            }
        )
    return out


def _write_csv(path: Path, fields: tuple[str, ...], rows: list[dict]) -> None:
    with atomic_writer(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in fields})


# ---- the work of one call (in this process or in a worker process) -------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(options) -> None:
    """Set up a worker with its options (the model loads on first need)."""
    _WORKER.clear()
    _WORKER.update(options=options, model=None, model_error=None)


def _model():
    """The worker's Whisper model, loaded once; a load failure is raised for every call."""
    from callscan import asr

    if _WORKER["model"] is None and _WORKER["model_error"] is None:
        options = _WORKER["options"]
        try:
            _WORKER["model"] = asr.load_model(
                options.model,
                model_path=options.model_path,
                engine=options.engine,
                threads=options.threads,
            )
        except CallscanError as e:
            _WORKER["model_error"] = str(e)
    if _WORKER["model_error"] is not None:
        raise CallscanError(_WORKER["model_error"])
    return _WORKER["model"]


def _analyze_one(
    path: str, report_paths: dict[str, str], render_options, embed_audio: bool = False
) -> dict[str, Any]:
    """Analyse one call and write its reports; returns ``{"status", "error", "row"}``.

    ``embed_audio``: put a recording's audio in its HTML report (transcripts have none).
    """
    from callscan import report as reports
    from callscan.conversation import is_transcript_path
    from callscan.pipeline import analyze
    from callscan.speakers.assign import file_metadata

    options = _WORKER["options"]
    start = time.perf_counter()
    metadata: dict = {}
    try:
        metadata = file_metadata(path, options.speakers.agent_pattern)
        model = None if is_transcript_path(path) else _model()
        report = analyze(path, options, model=model)
        if embed_audio and "html" in report_paths and not is_transcript_path(path):
            uri = reports.audio_data_uri(path, max_duration_s=options.max_duration_s)
            render_options = replace(render_options or reports.ReportOptions(), audio_uri=uri)
        reports.write_reports(report, {k: Path(v) for k, v in report_paths.items()}, render_options)
        main = report_paths.get("json") or next(iter(report_paths.values()))
        seconds = time.perf_counter() - start
        row = summary_row(report, file=path, report_path=main, seconds=seconds, metadata=metadata)
        return {"status": "ok", "error": "", "row": row}
    except CallscanError as e:
        error = str(e)
    except MemoryError:
        error = "out of memory while analysing this call"
    except Exception as e:  # one bad call must not stop the batch
        logger.exception("'%s': unexpected error", path)
        error = f"internal error: {type(e).__name__}: {e}".splitlines()[0]
    return {
        "status": "error",
        "error": error,
        "row": error_row(path, error, time.perf_counter() - start, metadata),
    }


def run_batch(
    inputs: Iterable[str | Path],
    output_dir: str | Path,
    options=None,
    *,
    formats: tuple[str, ...] = ("json",),
    render_options=None,
    workers: int = 1,
    resume: bool = True,
    embed_audio: bool = False,
    hook: Callable[[str, int, int], None] | None = None,
    on_call: Callable[[dict[str, Any]], None] | None = None,
) -> BatchResult:
    """Analyse every call of ``inputs`` into ``output_dir`` (see the module docstring).

    Parameters
    ----------
    options : callscan.pipeline.AnalyzeOptions, optional
    formats : report formats per call; ``json`` is always written (the summary reads it).
    workers : processes analysing calls at once, each with its own model and
        ``cpu_count // (2 * workers)`` torch threads (at least one).
    resume : skip calls an earlier run finished with the same options.
    embed_audio : put each recording's audio in its HTML report (with ``html`` in formats).
    on_call : called with each finished call's ``{"name", "file", "status", "error",
        "skipped", "row"}`` (for a CLI to print).
    """
    from callscan.pipeline import AnalyzeOptions
    from callscan.report import report_paths

    options = options or AnalyzeOptions()
    formats = tuple(dict.fromkeys(("json", *formats)))
    out = Path(output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CallscanError(f"'{out}': cannot create the output folder ({e.strerror})") from e
    if workers < 1:
        raise CallscanError(f"workers must be at least 1, not {workers}", option="workers")
    calls = find_calls(inputs)
    fingerprint = options_fingerprint(options, formats, embed_audio)
    previous = read_manifest(out) if resume else {}
    result = BatchResult(out)
    rows: dict[str, dict] = {}
    todo: list[tuple[BatchCall, dict[str, str]]] = []
    for call in calls:
        paths = {k: str(v) for k, v in report_paths(call.name, formats, out).items()}
        size, mtime = _stat(call.path)
        old = previous.get(call.name)
        if (
            old
            and old.get("status") == "ok"
            and old.get("options") == fingerprint
            and old.get("size") == size
            and old.get("mtime_ns") == mtime
            and all(Path(p).exists() for p in paths.values())
        ):
            rows[call.name] = old["row"]
            result.skipped += 1
            if on_call:
                on_call({**old, "skipped": True})
            continue
        todo.append((call, paths))

    if not options.threads:  # each worker's share of the CPUs (transcription sets them)
        options = replace(options, threads=max(1, (os.cpu_count() or 2) // (2 * workers)))
    total = len(calls)
    completed = result.skipped
    if hook:
        hook("calls", completed, total)
    manifest = open(out / MANIFEST, "a", encoding="utf-8")
    try:

        def record(call: BatchCall, outcome: dict) -> None:
            nonlocal completed
            size, mtime = _stat(call.path)
            entry = {
                "name": call.name,
                "file": str(call.path),
                "size": size,
                "mtime_ns": mtime,
                "options": fingerprint,
                "status": outcome["status"],
                "error": outcome["error"],
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "row": outcome["row"],
            }
            manifest.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
            manifest.flush()
            rows[call.name] = outcome["row"]
            if outcome["status"] == "ok":
                result.done += 1
            else:
                result.failed += 1
            completed += 1
            if on_call:
                on_call({**entry, "skipped": False})
            if hook:
                hook("calls", completed, total)

        if todo and workers == 1:
            _init_worker(options)
            for call, paths in todo:
                record(call, _analyze_one(str(call.path), paths, render_options, embed_audio))
        elif todo:
            _run_pool(todo, options, workers, render_options, record, embed_audio)
    finally:
        manifest.close()
        _WORKER.clear()

    result.rows = [rows[c.name] for c in calls if c.name in rows]
    result.summary_path = out / SUMMARY
    result.agents_path = out / AGENTS
    _write_csv(result.summary_path, SUMMARY_FIELDS, result.rows)
    _write_csv(result.agents_path, AGENT_FIELDS, agent_rollup(result.rows))
    return result


def _run_pool(todo, options, workers, render_options, record, embed_audio=False) -> None:
    """Analyse ``todo`` in ``workers`` processes; a dead worker fails only its own call."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    pending = list(todo)
    while pending:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(options,)
        ) as pool:
            futures = {}
            for call, paths in pending:
                job = pool.submit(_analyze_one, str(call.path), paths, render_options, embed_audio)
                futures[job] = (call, paths)
            pending = []
            broken = False
            for future in as_completed(futures):
                call, paths = futures[future]
                try:
                    record(call, future.result())
                except BrokenProcessPool:
                    if not broken:  # the first casualty is blamed; the rest are retried
                        broken = True
                        error = "the worker analysing this call died (out of memory?)"
                        record(call, {"status": "error", "error": error,
                                      "row": error_row(str(call.path), error, 0.0)})  # fmt: skip
                    else:
                        pending.append((call, paths))
