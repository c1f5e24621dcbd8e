"""Analyse many calls: one report per call, a summary table, per-agent rollups, resumable.

A QA team points callscan at a folder of thousands of recordings. :func:`run_batch`

* takes a lock on the output folder (``.callscan-batch.lock``): a second batch on the same
  folder is refused at once; the lock goes with the process, so a killed batch never blocks;
* finds the calls (folders are searched recursively for audio files; files named directly
  may also be transcripts; globs are expanded; a manifest CSV lists calls with their
  metadata and per-call options, see :func:`read_batch_manifest`), sorted, each with a unique report name: the path below the input
  folder, sub-folders joined by ``__``, without the file-type suffix and without losing any
  other part (``2024.11/A01_x.wav`` gives ``2024.11__A01_x``); calls that would share a name
  (``x.wav`` and ``x.flac``, the same name under two inputs) each get a short hash of their
  full path (``x-3fa2c1d0``);
* loads the Whisper model once per worker and analyses the calls one by one;
* writes each call's reports (``NAME.callscan.json`` and the formats asked for) atomically,
  then appends one JSON line to ``batch.jsonl`` in the output folder (one ``write`` of the
  whole line, then ``fsync``; a line that cannot be written whole is cut off again): the
  call's file, its SHA-256, size, the options' fingerprint, its status, error and summary row;
* never stops on a bad call: a :class:`CallscanError` (corrupt, empty, silent or non-audio
  file, a file name that is not UTF-8) or any other exception is recorded as that call's
  one-line error, and the batch goes on; a worker process that dies is replaced and only its
  call is marked failed; workers exit when the batch process dies;
* stops with one :class:`CallscanError` line when the output folder cannot be written (disk
  full, read-only): the calls finished so far are logged, the one being written is not, so a
  rerun resumes with it;
* records each call in the QA store (``callscan.duckdb``, :mod:`callscan.qa.store`) after
  its log line, in one transaction: the store is the batch's source of truth, the log its
  crash-safe journal; each run first reconciles the two with the reports on disk (a call
  logged but not stored is stored from its log entry, see :func:`_reconcile`), so after a
  SIGKILL at any moment the store has one row per report;
* resumes from the store: a call whose row says ``ok`` for the same content (SHA-256 of the
  file), the same options, and whose reports still exist (the JSON one as stored) is
  skipped; failed calls are tried again;
* writes ``summary.csv`` from the store (one row per call, failures included) and
  ``agents.csv`` (per agent
  id from the agent pattern's ``agent`` group: calls, failures, minutes, mean scores, the
  stage most often missed, conduct failures per call); a cell that a spreadsheet would read
  as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
  written with a leading ``'``.

The library never prints: progress goes through ``hook(step, completed, total)``.
"""

from __future__ import annotations

import csv
import errno
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
from callscan.qa.executors import check_executor
from callscan.qa.files import MANIFEST, csv_cell, read_manifest
from callscan.util import atomic_writer, pattern_groups

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = (
    ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3",
    ".m4a", ".aac", ".mp4", ".amr", ".gsm", ".wma", ".webm",
)  # fmt: skip
LOCK = ".callscan-batch.lock"
SUMMARY = "summary.csv"
AGENTS = "agents.csv"

SUMMARY_FIELDS = (
    "file", "status", "error", "warnings", "agent_id", "team", "call_id", "date", "language",
    "duration_s",
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
    # agent, call, date, team: from a manifest row or the team pattern
    metadata: dict[str, str] = field(default_factory=dict, compare=False)
    # per-call options from a manifest row: language, agent_channel, call_type
    overrides: dict[str, Any] = field(default_factory=dict, compare=False)


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


def printable(path: str | Path) -> str:
    """``path`` as a string that can be written as UTF-8 (undecodable bytes as ``\\xff``)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def name_error(path: str | Path) -> str | None:
    """Why a call cannot be analysed from its name alone (a name that is not UTF-8), or None."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return (
            f"'{printable(path)}': the file name is not valid UTF-8; rename the file to analyse it"
        )
    return None


GLOB_CHARS = ("*", "?", "[")
MANIFEST_COLUMNS = (
    "path", "call_id", "agent_id", "team", "date", "language", "agent_channel", "call_type",
)  # fmt: skip
CALL_TYPES = ("auto", "sales", "complaint", "service")


def _is_glob(item: str | Path) -> bool:
    return any(c in str(item) for c in GLOB_CHARS)


def _expand_glob(pattern: str) -> list[Path]:
    """The files matching a glob (``**`` spans folders), sorted; folders matched are searched
    like folders named directly."""
    import glob

    return [Path(p) for p in sorted(glob.glob(pattern, recursive=True))]


def _glob_root(pattern: str) -> Path:
    """The folder before a glob's first wildcard: names below it keep their sub-folders."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if _is_glob(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def read_batch_manifest(path: str | Path) -> list[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """A batch manifest CSV as ``(file, metadata, overrides)`` per row, in file order.

    Columns: ``path`` (required; relative paths resolve against the manifest's folder), and
    optional ``call_id``, ``agent_id``, ``team``, ``date`` (metadata, with the keys the agent
    pattern's groups use: ``call``, ``agent``, ``team``, ``date``) and ``language``,
    ``agent_channel`` (0 or 1), ``call_type`` (per-call overrides of the batch options).
    Raises :class:`CallscanError` (one line) for a manifest without a ``path`` column, a row
    without a path or a value that is not allowed.
    """
    from callscan.qa.store import read_manifest_csv

    p = Path(path)
    rows = read_manifest_csv(p)
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            header = [h.strip() for h in (next(csv.reader(f), None) or [])]
    except (OSError, UnicodeDecodeError) as e:
        raise CallscanError(f"'{printable(p)}': cannot read the manifest ({e})") from e
    if "path" not in header:
        raise CallscanError(
            f"'{printable(p)}': a batch manifest needs a 'path' column "
            f"(optional: {', '.join(MANIFEST_COLUMNS[1:])})"
        )
    out = []
    seen: set[int] = set()
    for key, row in rows.items():
        if id(row) in seen:
            continue
        seen.add(id(row))
        if not row.get("path"):
            raise CallscanError(
                f"'{printable(p)}': the row of call '{row.get('call_id', '')}' has no path"
            )
        if key.startswith("call:"):
            continue  # the same row is also keyed by its path
        file = Path(key)
        where = f"'{printable(p)}': '{row['path']}'"
        meta = {
            new: row[old]
            for old, new in (("call_id", "call"), ("agent_id", "agent"), ("team", "team"),
                             ("date", "date"))
            if row.get(old)
        }  # fmt: skip
        overrides = call_overrides(row, where)
        out.append((file, meta, overrides))
    return out


def call_overrides(values: dict[str, Any], where: str) -> dict[str, Any]:
    """The per-call overrides in ``values`` (a manifest row, a server request's parameters):
    ``language``, ``call_type`` (one of :data:`CALL_TYPES`) and ``agent_channel`` (0 or
    ``left``, 1 or ``right``), for :func:`call_options`. Empty values are left out; a value
    that is not allowed raises :class:`CallscanError` led by ``where``."""
    overrides: dict[str, Any] = {}
    if values.get("language"):
        overrides["language"] = str(values["language"]).strip().lower()
    if values.get("call_type"):
        call_type = str(values["call_type"]).lower()
        if call_type not in CALL_TYPES:
            raise CallscanError(
                f"{where}: call_type '{values['call_type']}' is not one of {', '.join(CALL_TYPES)}"
            )
        overrides["call_type"] = call_type
    if values.get("agent_channel") not in (None, ""):
        text = str(values["agent_channel"]).lower()
        channel = {"0": 0, "1": 1, "left": 0, "right": 1}.get(text)
        if channel is None:
            raise CallscanError(
                f"{where}: agent_channel '{values['agent_channel']}' is not 0 (left) or 1 (right)"
            )
        overrides["agent_channel"] = channel
    return overrides


def team_metadata(path: str | Path, root: str | Path, pattern: str | None) -> dict[str, str]:
    """Named groups of ``pattern`` (``team``, and any others) searched in the folder path of
    ``path`` below ``root`` (the whole folder path when it is not below ``root``)."""
    if not pattern:
        return {}
    p = Path(path)
    try:
        folder = p.parent.relative_to(root)
    except ValueError:
        folder = p.parent
    found = pattern_groups(pattern, folder.as_posix(), what="team pattern", option="team_pattern")
    if found is None:
        logger.warning("'%s': the team pattern does not match the folder path", printable(p))
        return {}
    return found


def _expand_inputs(
    inputs: Iterable[str | Path], manifest: str | Path | None
) -> list[tuple[Path, Path, dict, dict]]:
    """(file, the folder its name is relative to, metadata, overrides) of every input."""
    found: list[tuple[Path, Path, dict, dict]] = []

    def add_manifest(m: Path) -> None:
        entries = read_batch_manifest(m)
        if not entries:
            raise CallscanError(f"'{printable(m)}': the manifest lists no calls")
        root = m.parent.resolve()
        for f, meta, overrides in entries:
            if not f.exists():
                raise CallscanError(f"'{printable(m)}': '{printable(f)}': no such file")
            base = root if f.is_relative_to(root) else f.parent
            found.append((f, base, meta, overrides))

    def add_folder(p: Path) -> None:
        files = sorted(
            f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES
        )
        if not files:
            raise CallscanError(
                f"'{printable(p)}': no audio files in this folder "
                f"({', '.join(AUDIO_SUFFIXES[:6])}, ...)"
            )
        found.extend((f, p, {}, {}) for f in files)

    if manifest is not None:
        add_manifest(Path(manifest))
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            add_folder(p)
        elif p.is_file() and p.suffix.lower() == ".csv":
            add_manifest(p)
        elif p.exists():
            found.append((p, p.parent, {}, {}))
        elif _is_glob(item):
            matches = _expand_glob(str(item))
            files = [f for f in matches if f.is_file() and f.suffix.lower() != ".csv"]
            for d in (f for f in matches if f.is_dir()):
                add_folder(d)
            if not files and not any(f.is_dir() for f in matches):
                raise CallscanError(f"'{printable(p)}': no files match this pattern")
            root = _glob_root(str(item))
            found.extend((f, root, {}, {}) for f in files)
        else:
            raise CallscanError(f"'{printable(p)}': no such file or folder")
    return found


def find_calls(
    inputs: Iterable[str | Path],
    *,
    manifest: str | Path | None = None,
    team_pattern: str | None = None,
) -> list[BatchCall]:
    """The calls named by ``inputs``: files, folders (searched recursively for audio), globs
    (``calls/**/*.wav``, expanded here for shells that do not) and manifest CSVs (a ``.csv``
    input, or ``manifest``; see :func:`read_batch_manifest`).

    Each call's ``name`` is unique and keeps every part of its path below the input (below
    the manifest's folder for a manifest row; see the module docstring). ``team_pattern``: a
    regex whose named groups (``team``) are searched in the call's folder path below its
    input. Raises :class:`CallscanError` for an input that does not exist, a folder or glob
    without audio, or a bad manifest.
    """
    from callscan.report import report_stem

    found = _expand_inputs(inputs, manifest)
    unique: list[tuple[Path, str, dict, dict]] = []
    seen: set[Path] = set()
    for f, root, meta, overrides in found:
        key = f.resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            rel = f.relative_to(root)
        except ValueError:
            rel = key.relative_to(root) if key.is_relative_to(root) else Path(f.name)
        stem = report_stem(rel.name)
        # a stored report named directly keeps its ".callscan", so it is never written over
        if f.name.endswith(".callscan.json"):
            stem = f.name[: -len(".json")]
        name = printable("__".join((*rel.parts[:-1], stem)))
        meta = {**team_metadata(f, root, team_pattern), **meta}  # the manifest wins
        unique.append((f, name, meta, overrides))
    counts = Counter(name for _, name, _, _ in unique)
    calls = []
    for f, name, meta, overrides in unique:
        if counts[name] > 1:  # same name from two files: a hash of the full path tells them apart
            digest = hashlib.sha256(os.fsencode(f.resolve())).hexdigest()[:8]
            name = f"{name}-{digest}"
        calls.append(BatchCall(f, name, meta, overrides))
    return calls


WORDS_PER_S = 2.5  # speaking rate that sizes an untimed text transcript (150 words a minute)


def planned_duration_s(path: str | Path, max_duration_s: float | None = None) -> float | None:
    """How long a call lasts, known before analysing it: a recording's header, a timed
    transcript's last turn end, an untimed one's words at 150 a minute; None when unknown."""
    from callscan.conversation import is_transcript_path

    try:
        if is_transcript_path(path):
            from callscan.conversation import load

            conv = load(path)
            ends = [t.end_s for t in conv.turns if t.end_s is not None]
            if ends:
                return float(max(ends))
            words = sum(len(t.text.split()) for t in conv.turns)
            return words / WORDS_PER_S if words else None
        from callscan.audio.decode import probe

        kwargs = {} if max_duration_s is None else {"max_duration_s": max_duration_s}
        info = probe(path, **kwargs)
        return info.duration_s or None
    except (CallscanError, OSError, ValueError):
        return None


@dataclass
class BatchProgress:
    """Where a batch stands, by calls and by audio duration (what planning needs).

    ``throughput`` is audio hours analysed per wall-clock hour in this run, and ``eta_s``
    the seconds left at that pace for the audio still to do; both are known from the first
    call finished in this run (calls of unknown length count as the batch's mean length)."""

    total: int = 0  # calls in the batch
    done: int = 0  # analysed in this run
    failed: int = 0  # failed in this run
    skipped: int = 0  # done by an earlier run
    audio_s_total: float = 0.0  # audio seconds in the batch (known or estimated)
    audio_s_done: float = 0.0  # audio seconds done, failed or skipped
    audio_s_run: float = 0.0  # audio seconds analysed (or failed) in this run
    elapsed_s: float = 0.0  # wall seconds since the run started analysing
    current: str = ""  # the last call finished
    # the calls being analysed now (their names) and each one's stage ("transcribing 2/4"),
    # in the order they started; kept only with a progress callback (see STAGES)
    in_progress: dict[str, str] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def audio_h_done(self) -> float:
        return self.audio_s_done / 3600.0

    @property
    def audio_h_total(self) -> float:
        return self.audio_s_total / 3600.0

    @property
    def throughput(self) -> float | None:
        """Audio hours per wall-clock hour in this run (None before the first call ends)."""
        if self.audio_s_run <= 0 or self.elapsed_s <= 0:
            return None
        return self.audio_s_run / self.elapsed_s

    @property
    def eta_s(self) -> float | None:
        """Seconds left at this run's throughput (0 when all done, None before a call ends)."""
        left = max(0.0, self.audio_s_total - self.audio_s_done)
        if self.completed >= self.total:
            return 0.0
        rate = self.throughput
        return None if rate is None else left / rate

    def to_dict(self) -> dict[str, Any]:
        """JSON-native figures (hours and seconds rounded)."""
        rate, eta = self.throughput, self.eta_s
        return {
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "audio_h_done": round(self.audio_h_done, 3),
            "audio_h_total": round(self.audio_h_total, 3),
            "throughput": None if rate is None else round(rate, 2),
            "elapsed_s": round(self.elapsed_s, 1),
            "eta_s": None if eta is None else round(eta, 1),
            "in_progress": dict(self.in_progress),
        }


class ProgressTracker:
    """Keeps a :class:`BatchProgress` up to date as calls finish (``clock``: for tests)."""

    def __init__(
        self,
        durations: dict[str, float | None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        known = [d for d in durations.values() if d]
        mean = sum(known) / len(known) if known else 0.0
        self.durations = {k: (d if d else mean) for k, d in durations.items()}
        self.clock = clock
        self.start = clock()
        self.state = BatchProgress(total=len(durations), audio_s_total=sum(self.durations.values()))
        self.ended: set[str] = set()  # calls finished: a late stage report is ignored

    def restart(self) -> None:
        """Start the clock (once the skipped calls are counted and analysis begins)."""
        self.start = self.clock()

    def stage(self, name: str, stage: str) -> BatchProgress | None:
        """A call being analysed has reached ``stage``; None (nothing changed) for a call
        already finished or a stage it was already at."""
        s = self.state
        if name in self.ended or s.in_progress.get(name) == stage:
            return None
        s.in_progress[name] = stage
        s.elapsed_s = self.clock() - self.start
        return s

    def finished(self, name: str, status: str, *, skipped: bool = False) -> BatchProgress:
        s = self.state
        self.ended.add(name)
        s.in_progress.pop(name, None)
        seconds = self.durations.get(name, 0.0)
        s.audio_s_done += seconds
        if skipped:
            s.skipped += 1
        else:
            if status == "ok":
                s.audio_s_run += seconds  # failures are quick: they would flatter the pace
                s.done += 1
            else:
                s.failed += 1
        s.current = name
        s.elapsed_s = self.clock() - self.start
        return s


def file_sha256(path: str | Path) -> str | None:
    """SHA-256 of a file's bytes (hex), or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def options_fingerprint(options, formats: tuple[str, ...], embed_audio: bool = False) -> str:
    """A short hash of everything that changes a report (a resumed run with other options
    redoes the calls)."""
    parts: list[Any] = [asdict(options), sorted(formats)]
    if embed_audio:  # only when on, so runs without it keep their earlier fingerprints
        parts.append("embed_audio")
    data = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def call_options(options, overrides: dict[str, Any] | None):
    """``options`` with a manifest row's ``language``, ``call_type`` and ``agent_channel``."""
    if not overrides:
        return options
    changes: dict[str, Any] = {k: overrides[k] for k in ("language", "call_type") if k in overrides}
    if "agent_channel" in overrides:
        changes["speakers"] = replace(options.speakers, agent_channel=overrides["agent_channel"])
    return replace(options, **changes)


def call_fingerprint(
    call: BatchCall, options, formats: tuple[str, ...], embed_audio: bool = False
) -> str:
    """The options fingerprint of one call: its own options, and its metadata when it has
    any (a call without either keeps the batch's fingerprint, so older logs still resume)."""
    fingerprint = options_fingerprint(call_options(options, call.overrides), formats, embed_audio)
    if not call.metadata:
        return fingerprint
    data = json.dumps([fingerprint, call.metadata], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


class BatchLog:
    """``batch.jsonl`` opened for appending: each entry one ``os.write`` of the whole line,
    then ``fsync``; a line that cannot be written whole is cut off again, so the log never
    holds a torn line that would swallow the next entry."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise _output_error(path.parent, e) from e
        try:  # a line torn by an earlier crash gets its end, so the next one stands alone
            size = os.fstat(self.fd).st_size
            if size:
                with open(path, "rb") as f:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":
                        self._write(b"\n")
        except OSError as e:
            os.close(self.fd)
            raise _output_error(path.parent, e) from e

    def _write(self, data: bytes) -> None:
        start = os.fstat(self.fd).st_size
        try:
            if os.write(self.fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(self.fd)
        except OSError:
            try:
                os.ftruncate(self.fd, start)
            except OSError:
                pass
            raise

    def append(self, entry: dict) -> None:
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        try:
            self._write(line.encode("utf-8", "backslashreplace"))
        except OSError as e:
            raise _output_error(self.path.parent, e) from e

    def close(self) -> None:
        os.close(self.fd)


def _output_error(out: Path, e: OSError) -> CallscanError:
    return CallscanError(
        f"'{printable(out)}': cannot write to the output folder ({e.strerror or e}); "
        "the calls finished so far are kept, run the batch again to resume"
    )


def lock_folder(out: Path) -> int:
    """Hold an exclusive lock on ``out`` (a file descriptor); refuse when a batch (or a
    folder rescore) holds it. Release it with :func:`unlock_folder`."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return -1
    path = out / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise CallscanError(
            f"'{printable(out)}': cannot write to the output folder ({e.strerror})"
        ) from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise CallscanError(
            f"'{printable(out)}': another batch is writing to this folder{who}; wait for it "
            "to finish or choose another output folder"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # the lock holds without the process id
    return fd


def unlock_folder(fd: int) -> None:
    """Release a lock taken by :func:`lock_folder`."""
    if fd >= 0:
        os.close(fd)  # closing the descriptor releases the flock


def summary_row(
    report: dict, *, file: str, report_path: str, seconds: float, metadata: dict | None = None
) -> dict[str, Any]:
    """The summary-table row of one analysed call (``metadata``: the file name's agent, call
    and date, when the report has none, e.g. for a transcript)."""
    from callscan.report.data import audio_warnings, conduct_rules, duration_s, overall, roles

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
        "warnings": "; ".join(audio_warnings(report)),  # e.g. a corrupt file cut short
        "agent_id": meta.get("agent", ""),
        "team": meta.get("team", ""),
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
        team=meta.get("team", ""),
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


def write_csv(path: Path, fields: tuple[str, ...], rows: list[dict]) -> None:
    with atomic_writer(path, "w", newline="", errors="backslashreplace") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(row.get(k)) for k in fields})


# ---- the work of one call (in this process or in a worker process) -------------------------

_WORKER: dict[str, Any] = {}
PARENT_POLL_S = 0.5  # how often a worker checks that the batch process is alive


def _init_worker(options, parent_pid: int | None = None, stages=None) -> None:
    """Set up a worker with its options (the model loads on first need); a worker process
    (``parent_pid`` given) exits as soon as the batch process that started it is gone.
    ``stages``: the queue each call's stage goes to (:func:`stage_queue`), or None."""
    _WORKER.clear()
    _WORKER.update(options=options, model=None, model_error=None, stages=stages)
    if parent_pid is not None:
        import threading

        threading.Thread(
            target=_exit_with_parent, args=(parent_pid,), name="callscan-parent", daemon=True
        ).start()


def _exit_with_parent(parent_pid: int) -> None:
    """Poll the parent process; exit at once (no clean-up: the parent's log decides) when it
    has gone, so a killed batch leaves no worker holding a model in memory."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _model():
    """The worker's Whisper model, loaded once; a load failure is raised for every call."""
    from callscan import asr, heap

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
        else:
            heap.settle()  # the model lives as long as the worker
    if _WORKER["model_error"] is not None:
        raise CallscanError(_WORKER["model_error"])
    return _WORKER["model"]


def _analyze_one(
    path: str,
    report_paths: dict[str, str],
    render_options,
    embed_audio: bool = False,
    call_metadata: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Analyse one call and write its reports; returns ``{"status", "error", "row", "sha256"}``
    (and ``"output_error": True`` when the reports could not be written: the output folder is
    at fault, not the call).

    ``embed_audio``: put a recording's audio in its HTML report (transcripts have none).
    ``call_metadata`` (a manifest row's or the team pattern's) wins over the file name's and
    goes into the report's ``speakers.metadata``; ``overrides``: see :func:`call_options`.
    """
    from callscan import report as reports
    from callscan.conversation import is_transcript_path
    from callscan.pipeline import analyze
    from callscan.speakers.assign import file_metadata

    options = _WORKER["options"]
    start = time.perf_counter()
    metadata: dict = dict(call_metadata or {})
    sha256 = file_sha256(path)  # before decoding: the content this report is about
    output_error = False
    try:
        metadata = {**file_metadata(path, options.speakers.agent_pattern), **metadata}
        options = call_options(options, overrides)
        stage = _stage_hook(path)
        if stage is not None and _WORKER.get("model") is None and not is_transcript_path(path):
            stage("model", 0, 1)
        model = None if is_transcript_path(path) else _model()
        report = analyze(path, options, model=model, hook=stage)
        speakers = report.get("speakers")
        if call_metadata and isinstance(speakers, dict):
            speakers["metadata"] = {**(speakers.get("metadata") or {}), **metadata}
        if embed_audio and "html" in report_paths and not is_transcript_path(path):
            uri = reports.audio_data_uri(path, max_duration_s=options.max_duration_s)
            render_options = replace(render_options or reports.ReportOptions(), audio_uri=uri)
        if stage is not None:
            stage("write", 0, 1)
        try:
            reports.write_reports(
                report, {k: Path(v) for k, v in report_paths.items()}, render_options
            )
        except reports.ReportError as e:
            output_error = isinstance(e.__cause__, OSError)
            raise
        main = report_paths.get("json") or next(iter(report_paths.values()))
        seconds = time.perf_counter() - start
        row = summary_row(report, file=path, report_path=main, seconds=seconds, metadata=metadata)
        return {"status": "ok", "error": "", "row": row, "sha256": sha256}
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
        "sha256": sha256,
        "output_error": output_error,
    }


class _OutputFailed(Exception):
    """Raised inside the run loop when the output folder cannot take a call's reports."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


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
    on_progress: Callable[[BatchProgress], None] | None = None,
    manifest: str | Path | None = None,
    team_pattern: str | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> BatchResult:
    """Analyse every call of ``inputs`` into ``output_dir`` (see the module docstring).

    Parameters
    ----------
    options : callscan.pipeline.AnalyzeOptions, optional
    formats : report formats per call; ``json`` is always written (the summary reads it).
    workers : processes analysing calls at once, each with its own model and
        ``cpu_count // (2 * workers)`` torch threads (at least one).
    resume : skip calls an earlier run finished with the same content and options.
    embed_audio : put each recording's audio in its HTML report (with ``html`` in formats).
    on_call : called with each finished call's ``{"name", "file", "status", "error",
        "skipped", "row"}`` (for a CLI to print).
    on_progress : called with a :class:`BatchProgress` once the calls are counted and after
        each call (done, failed, skipped, audio hours, throughput, ETA by audio duration);
        each call's length is read before the run (recording headers, transcripts).
    manifest : a manifest CSV of calls and their metadata (see :func:`read_batch_manifest`);
        a ``.csv`` among ``inputs`` is read the same way.
    team_pattern : a regex whose ``team`` group is searched in each call's folder path.
    executor : ``local`` (this machine's processes) or ``ray`` (``workers`` actors on a Ray
        cluster, the ``ray`` extra; see :mod:`callscan.qa.executors`): the same reports,
        log, store and resume rules either way.
    ray_address : the Ray cluster to use (else ``$RAY_ADDRESS``, else a local instance).

    Raises
    ------
    CallscanError
        No calls in ``inputs``; another batch holds ``output_dir``; the output folder cannot
        be written (disk full, read-only): the calls finished so far stay logged; an unknown
        executor, or ``ray`` without Ray installed or its cluster out of reach.
    """
    from callscan.pipeline import AnalyzeOptions, redaction_on

    options = options or AnalyzeOptions()
    formats = tuple(dict.fromkeys(("json", *formats)))
    out = Path(output_dir)
    if workers < 1:
        raise CallscanError(f"workers must be at least 1, not {workers}", option="workers")
    if embed_audio and "html" in formats and redaction_on(options):
        raise CallscanError(
            "embedding the audio with redaction on would put the unmasked speech in the pages",
            option="embed_audio",
        )
    check_executor(executor)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CallscanError(
            f"'{printable(out)}': cannot create the output folder ({e.strerror})"
        ) from e
    lock = lock_folder(out)
    try:
        calls = find_calls(inputs, manifest=manifest, team_pattern=team_pattern)
        return _run_locked(
            calls, out, options, formats, render_options, workers, resume, embed_audio,
            hook, on_call, on_progress, executor=executor, ray_address=ray_address,
        )  # fmt: skip
    finally:
        unlock_folder(lock)


def _run_locked(
    calls, out, options, formats, render_options, workers, resume, embed_audio, hook, on_call,
    on_progress=None, executor="local", ray_address=None,
) -> BatchResult:  # fmt: skip
    from callscan.report import report_paths

    fingerprints = {c.name: call_fingerprint(c, options, formats, embed_audio) for c in calls}
    _sweep_parts(out)
    # the journal (each call's last log entry) and the store, reconciled after any kill
    logged, stored = _journal(out) if resume else ({}, {})
    result = BatchResult(out)
    rows: dict[str, dict] = {}
    todo: list[tuple[BatchCall, dict[str, str]]] = []
    unnamed: list[tuple[BatchCall, str]] = []  # calls that fail on their name alone
    for call in calls:
        paths = {
            k: str(v) for k, v in report_paths(call.path, formats, out, name=call.name).items()
        }
        bad_name = name_error(call.path)
        if bad_name:
            unnamed.append((call, bad_name))
            continue
        old = stored.get(call.name)
        if old and _resumable(old, call, paths, fingerprints[call.name]):
            rows[call.name] = old["summary"]
            result.skipped += 1
            if on_call:
                entry = logged.get(call.name) or {}
                on_call({**entry, "name": call.name, "file": old["summary"].get("file"),
                         "status": "ok", "error": "", "row": old["summary"], "skipped": True})  # fmt: skip
            continue
        todo.append((call, paths))

    if not options.threads:  # each worker's share of the CPUs (transcription sets them)
        options = replace(options, threads=max(1, (os.cpu_count() or 2) // (2 * workers)))
    total = len(calls)
    completed = result.skipped
    if hook:
        hook("calls", completed, total)
    notify = _progress(calls, rows, options, on_progress)
    log = BatchLog(out / MANIFEST)

    def record(call: BatchCall, outcome: dict) -> None:
        nonlocal completed
        if outcome.get("output_error"):  # not logged: a rerun does this call (once)
            raise _OutputFailed(outcome["error"])
        file = printable(call.path)
        row = {**outcome["row"], "file": file}
        entry = {
            "name": call.name,
            "file": file,
            "sha256": outcome.get("sha256"),
            "size": _size(call.path),
            "options": fingerprints[call.name],
            "status": outcome["status"],
            "error": outcome["error"],
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "row": row,
            # the report this entry vouches for (see _reconcile); None for a failed call
            "report_mtime_ns": _mtime_ns(row.get("report") or ""),
        }
        log.append(entry)
        logged[call.name] = entry
        _store(out, outcome, entry)
        rows[call.name] = row
        if outcome["status"] == "ok":
            result.done += 1
        else:
            result.failed += 1
        completed += 1
        if on_call:
            on_call({**entry, "skipped": False})
        if hook:
            hook("calls", completed, total)
        notify(call.name, outcome["status"])

    try:
        for call, error in unnamed:
            row = error_row(printable(call.path), error, 0.0, call.metadata)
            record(call, {"status": "error", "error": error, "row": row})
        if todo and workers == 1 and executor == "local":  # in this process
            _init_worker(options)
            for call, paths in todo:
                outcome = _analyze_one(
                    str(call.path), paths, render_options, embed_audio,
                    call.metadata, call.overrides,
                )  # fmt: skip
                record(call, outcome)
        elif todo:
            _run_pool(
                todo, options, workers, render_options, record, embed_audio,
                executor=executor, ray_address=ray_address,
            )  # fmt: skip
    except _OutputFailed as e:
        left = total - completed
        raise CallscanError(
            f"{e.error}; {completed} of {total} calls done, {left} left: free space or fix "
            "the output folder, then run the batch again to resume"
        ) from None
    finally:
        log.close()
        _WORKER.clear()

    _reconcile(out, logged)  # a call whose store write failed comes in from its log entry
    result.rows = _summary_rows(out, [c.name for c in calls])
    result.summary_path = out / SUMMARY
    result.agents_path = out / AGENTS
    try:
        write_csv(result.summary_path, SUMMARY_FIELDS, result.rows)
        write_csv(result.agents_path, AGENT_FIELDS, agent_rollup(result.rows))
    except OSError as e:
        raise _output_error(out, e) from e
    _dashboard(out)
    return result


def _progress(
    calls: list[BatchCall],
    rows: dict[str, dict],
    options,
    on_progress: Callable[[BatchProgress], None] | None,
) -> Callable[[str, str], None]:
    """``notify(name, status)`` for each finished call, passing the batch's progress to
    ``on_progress`` (a no-op without it); the resumed calls (in ``rows``) are counted and
    reported at once. Each call's length comes from its earlier row, else from its file (see
    :func:`planned_duration_s`)."""
    if on_progress is None:
        return lambda name, status: None
    max_s = getattr(options, "max_duration_s", None)
    durations: dict[str, float | None] = {}
    for call in calls:
        known = (rows.get(call.name) or {}).get("duration_s")
        durations[call.name] = float(known) if known else planned_duration_s(call.path, max_s)
    tracker = ProgressTracker(durations)
    for call in calls:
        if call.name in rows:
            tracker.finished(call.name, "ok", skipped=True)
    tracker.restart()
    on_progress(tracker.state)
    channel = _StageChannel(tracker, on_progress, {str(c.path): c.name for c in calls})
    old, _STAGES["channel"] = _STAGES.get("channel"), channel
    if old is not None:  # an earlier batch of this process that stopped on an error
        old.close()
    return channel.finished


# what a call is doing, by the step names of callscan.pipeline's hook (and "writing")
STAGES = {
    "decode": "decoding",
    "model": "loading model",
    "speech": "detecting speech",
    "transcribe": "transcribing",
    "speakers": "parties",
    "analysis": "analysing",
    "write": "writing",
}
_STAGES: dict[str, Any] = {}  # the batch's stage channel, in the batch process


def stage_label(step: str, completed: int = 0, total: int = 1) -> str:
    """The words for a call at pipeline ``step`` (``transcribing 1/2`` when transcription
    counts its parts: channels, windows)."""
    label = STAGES.get(step, step)
    return f"{label} {completed}/{total}" if step == "transcribe" and total > 1 else label


class _StageChannel:
    """Brings each call's stage to the batch's progress: from this process (one worker)
    or, through a queue read by a thread, from worker processes; finished calls are
    counted here too, under the same lock, so ``on_progress`` is called one at a time."""

    def __init__(self, tracker: ProgressTracker, on_progress, names: dict[str, str]):
        import threading

        self.tracker = tracker
        self.on_progress = on_progress
        self.names = names  # call file (as the worker gets it) -> call name
        self.lock = threading.Lock()
        self.queue: Any = None
        self.reader: Any = None

    def stage(self, path: str, label: str) -> None:
        name = self.names.get(path)
        if name is None:
            return
        with self.lock:
            state = self.tracker.stage(name, label)
            if state is not None:
                self.on_progress(state)

    def finished(self, name: str, status: str) -> None:
        with self.lock:
            state = self.tracker.finished(name, status)
            self.on_progress(state)
        if state.completed >= state.total:
            self.close()

    def worker_queue(self):
        """The queue worker processes put ``(file, stage)`` on (made on first need)."""
        if self.queue is None:
            import multiprocessing
            import threading

            self.queue = multiprocessing.get_context("spawn").Queue()
            self.reader = threading.Thread(target=self._read, name="callscan-stages", daemon=True)
            self.reader.start()
        return self.queue

    def _read(self) -> None:
        while (item := self.queue.get()) is not None:
            self.stage(*item)

    def close(self) -> None:
        if _STAGES.get("channel") is self:
            _STAGES.pop("channel")
        if self.reader is not None:
            self.queue.put(None)
            self.reader.join(timeout=5.0)
            self.reader = None


def stage_queue():
    """For a pool of worker processes: the queue their calls' stages go to (give it to
    :func:`_init_worker`), or None when the batch has no progress callback."""
    channel = _STAGES.get("channel")
    return None if channel is None else channel.worker_queue()


def _stage_hook(path: str) -> Callable[[str, int, int], None] | None:
    """The pipeline hook that reports ``path``'s stage to the batch (None when nobody
    follows the progress); only changes of stage are sent."""
    queue = _WORKER.get("stages")
    channel = _STAGES.get("channel")
    if queue is not None:

        def send(label: str) -> None:
            queue.put((path, label))

    elif channel is not None:

        def send(label: str) -> None:
            channel.stage(path, label)

    else:
        return None
    last = [""]

    def hook(step: str, completed: int, total: int) -> None:
        label = stage_label(step, completed, total)
        if label != last[0]:
            last[0] = label
            send(label)

    return hook


def _journal(out: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """The last log entry of each call, and the store's resume state once reconciled with
    them (see :func:`_reconcile`)."""
    logged = read_manifest(out)
    return logged, _reconcile(out, logged)


def _resumable(
    old: dict[str, Any], call: BatchCall, paths: dict[str, str], fingerprint: str
) -> bool:
    """Whether a call's stored row (:func:`callscan.qa.store.resume_state`) lets a resumed
    batch skip it: ``ok`` for the same options and content (size, then SHA-256), with its
    summary row, and every report on disk (the JSON one the very file that was stored)."""
    return bool(
        old["status"] == "ok"
        and old["options"] == fingerprint
        and old["sha256"]
        and old["summary"]
        and all(Path(p).exists() for p in paths.values())
        and old["report_mtime_ns"] == _mtime_ns(paths["json"])
        and old["size_bytes"] == _size(call.path)
        and old["sha256"] == file_sha256(call.path)
    )


def _mtime_ns(path: str | Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _sweep_parts(out: Path) -> None:
    """Remove the ``.part`` files a killed batch left (its reports and summaries; another
    batch cannot be writing them: the caller holds the folder's lock)."""
    for part in out.glob("*.part"):
        if ".callscan." in part.name or part.name in (f"{SUMMARY}.part", f"{AGENTS}.part"):
            part.unlink(missing_ok=True)


def _reconcile(out: Path, logged: dict[str, dict]) -> dict[str, dict]:
    """Make the QA store agree with the log and the reports on disk after a run that may have
    been killed (see :func:`callscan.qa.store.reconcile`); return what resume checks per
    stored call (:func:`callscan.qa.store.resume_state`).

    The store is the batch's source of truth (resume and summary.csv read it); batch.jsonl
    is the crash-safe journal written before it: a call logged but not stored is stored from
    its log entry and JSON report, a report neither logged nor stored is stored without a
    resume key (so it is done again), a row whose report is gone is dropped (done again)."""
    from callscan.qa import store

    fixed = store.reconcile(out, logged)
    if fixed.from_log or fixed.unlogged or fixed.removed:
        logger.info(
            "QA store reconciled with the log: %d stored from the log, %d unlogged reports, "
            "%d rows without a report removed", fixed.from_log, fixed.unlogged, fixed.removed,
        )  # fmt: skip
    for error in fixed.errors:
        logger.warning("QA store: %s", error)
    return store.resume_state(out)


def _summary_rows(out: Path, names: list[str]) -> list[dict[str, Any]]:
    """The summary.csv rows of ``names`` (in order), read from the QA store."""
    from callscan.qa import store

    return store.summary_rows(out, names)


def _store(out: Path, outcome: dict, entry: dict) -> None:
    """Record a finished call in the QA store (callscan.qa.store), after its log line. A
    store that cannot be written is logged here; the log entry stays the journal and
    :func:`_reconcile` stores the call from it at the end of the run (or the next one)."""
    from callscan.qa import store

    report = outcome["row"].get("report") if outcome["status"] == "ok" else None
    try:
        store.record(out, report, entry)
    except CallscanError as e:
        logger.warning("QA store not updated for %s: %s", entry["name"], e)


def _dashboard(out: Path) -> None:
    """Write DIR/index.html from the store (callscan.qa.dashboard)."""
    from callscan.qa import dashboard

    try:
        dashboard.write(out, sync=False)
    except CallscanError as e:
        logger.warning("dashboard not written: %s", e)


def _run_pool(
    todo, options, workers, render_options, record, embed_audio=False, *, executor="local",
    ray_address=None,
) -> None:  # fmt: skip
    """Analyse ``todo`` in ``workers`` processes; a dead worker fails only its own call.

    Workers exit when this process dies (they poll their parent's id). ``executor="ray"``:
    the same work (worker set-up, one call at a time) in ``workers`` Ray actors, results
    recorded here (:func:`callscan.qa.executors.run_on_ray`)."""
    if executor == "ray":
        from callscan.qa.executors import Job, run_on_ray

        def lost(job: Job, error: str) -> dict:
            row = error_row(job.path, error, 0.0, job.key.metadata)
            return {"status": "error", "error": error, "row": row}

        jobs = [
            Job(call, str(call.path), paths,
                (render_options, embed_audio, call.metadata, call.overrides))
            for call, paths in todo
        ]  # fmt: skip
        run_on_ray(
            jobs, _analyze_one, record, lost, setup=_init_worker, setup_args=(options,),
            workers=workers, address=ray_address,
        )  # fmt: skip
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    pending = list(todo)
    while pending:
        pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker,
            initargs=(options, os.getpid(), stage_queue()),
        )  # fmt: skip
        try:
            futures = {}
            for call, paths in pending:
                job = pool.submit(
                    _analyze_one, str(call.path), paths, render_options, embed_audio,
                    call.metadata, call.overrides,
                )  # fmt: skip
                futures[job] = (call, paths)
            pending = []
            broken = False
            for future in as_completed(futures):
                call, paths = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    if not broken:  # the first casualty is blamed; the rest are retried
                        broken = True
                        error = "the worker analysing this call died (out of memory?)"
                        outcome = {"status": "error", "error": error,
                                   "row": error_row(str(call.path), error, 0.0,
                                                    call.metadata)}  # fmt: skip
                    else:
                        pending.append((call, paths))
                        continue
                record(call, outcome)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # calls not started stay untried
            raise
        pool.shutdown(wait=True)
