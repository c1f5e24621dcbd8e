"""Issue 15, the kill test: a batch SIGKILLed at three moments and resumed each time.

The store (``callscan.duckdb``) is the batch's source of truth and ``batch.jsonl`` its
journal. A real ``callscan batch`` process on 14 transcripts (no model needed) is killed just
after its first report appears, just after half the calls are logged, and near the end (with
two workers), then resumed to the end. After every kill the store is consistent (no call
half stored, no row without its report); at the end every call is reported exactly once in
the log and in the store, the store has one row per report on disk, summary.csv one row per
call, and no temporary file is left. The states a kill can leave between a call's three
writes (reports, log line, store rows) are also made one by one and resumed.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from callscan.qa import store
from callscan.qa.files import MANIFEST
from callscan.qa.runner import run_batch

CALLSCAN = Path(sys.executable).with_name("callscan")
CALL = (
    "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
    "caller: I'm calling about my bill, you charged me twice, it is too high.\n"
    "agent: I understand. Let me check that for you. Thank you for calling, goodbye.\n"
)
N_CALLS = 14
TEMP_PATTERNS = ("*.part", ".*.part", "*.tmp", "*.wal")


def transcripts(folder: Path, n: int, repeat: int = 1) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"A{i % 3:02d}_{i:04d}.txt"
        p.write_text(CALL * repeat, encoding="utf-8")
        paths.append(p)
    return paths


def log_entries(out: Path) -> list[dict]:
    """Every line of batch.jsonl (a torn line fails the test)."""
    if not (out / MANIFEST).exists():
        return []
    text = (out / MANIFEST).read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "a torn log line"
    return [json.loads(line) for line in text.splitlines()]


def reports(out: Path, suffix: str = ".callscan.json") -> set[str]:
    return {p.name[: -len(suffix)] for p in out.glob(f"*{suffix}")}


def temp_files(out: Path) -> list[str]:
    return sorted({p.name for pattern in TEMP_PATTERNS for p in out.rglob(pattern)})


def store_state(out: Path) -> dict:
    """The store's calls (name -> status), duplicate names, findings of calls not stored,
    and findings per call."""
    with store.opened(out, read_only=True) as con:
        calls = con.execute("SELECT name, status FROM calls").fetchall()
        orphans = con.execute(
            "SELECT DISTINCT name FROM findings WHERE name NOT IN (SELECT name FROM calls)"
        ).fetchall()
        per_call = dict(con.execute("SELECT name, count(*) FROM findings GROUP BY name").fetchall())
    return {
        "calls": dict(calls),
        "dupes": [n for n, k in Counter(n for n, _ in calls).items() if k > 1],
        "orphans": [r[0] for r in orphans],
        "findings": per_call,
    }


def check_consistent(out: Path) -> dict:
    """What must hold after a kill at any moment: a whole log, no call half in the store,
    no stored call without its report, every call logged ok has its reports."""
    entries = log_entries(out)
    on_disk = reports(out)
    state = store_state(out) if store.store_path(out).exists() else None
    if state is not None:
        assert not state["dupes"] and not state["orphans"]
        ok = {n for n, s in state["calls"].items() if s == "ok"}
        assert ok <= on_disk, "a stored call without its report"
        counts = set(state["findings"].values())
        assert len(counts) <= 1, f"a call half stored: findings per call {counts}"
        assert set(state["findings"]) <= ok
    assert {e["name"] for e in entries if e["status"] == "ok"} <= on_disk
    stored = 0 if state is None else len(state["calls"])
    return {"logged": len(entries), "reports": len(on_disk), "stored": stored}


def start(calls: list[Path], out: Path, workers: int = 1) -> subprocess.Popen:
    args = [str(CALLSCAN), "batch", *map(str, calls), "-o", str(out), "-f", "html",
            "--workers", str(workers)]  # fmt: skip
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_when(proc: subprocess.Popen, ready, what: str, timeout_s: float = 240) -> None:
    """SIGKILL ``proc`` (and its workers, which exit with it) as soon as ``ready()``."""
    deadline = time.monotonic() + timeout_s
    try:
        while not ready():
            assert proc.poll() is None, f"the batch ended before {what}"
            assert time.monotonic() < deadline, f"the batch did not reach {what}"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_a_batch_killed_three_times_reports_every_call_exactly_once(tmp_path):
    assert CALLSCAN.is_file(), "the callscan entry point is installed next to the interpreter"
    calls = transcripts(tmp_path / "calls", N_CALLS, repeat=150)
    names = {c.stem for c in calls}
    out = tmp_path / "out"

    # 1: just after the first report appears (the call is written but not yet logged)
    kill_when(start(calls, out), lambda: bool(reports(out)), "its first report")
    first = check_consistent(out)
    # 2: just after half the calls are logged (the store may not have the last one yet)
    half = N_CALLS // 2
    kill_when(start(calls, out), lambda: len(log_entries(out)) >= half, "half the calls")
    second = check_consistent(out)
    # 3: near the end, with two workers
    kill_when(start(calls, out, workers=2), lambda: len(reports(out)) >= N_CALLS - 2, "the end")
    third = check_consistent(out)
    assert first["reports"] <= second["reports"] <= third["reports"], (first, second, third)
    assert second["logged"] >= half and third["reports"] >= N_CALLS - 2

    final = start(calls, out)
    _, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, stderr
    summary_line = [line for line in stderr.splitlines() if " calls: " in line]
    assert summary_line and summary_line[0].endswith("0 failed"), stderr

    # every call reported exactly once: in the log ...
    ok = Counter(e["name"] for e in log_entries(out) if e["status"] == "ok")
    assert set(ok) == names and set(ok.values()) == {1}, ok
    # ... and in the store: one row per report on disk, findings only for stored calls
    check_consistent(out)
    state = store_state(out)
    assert state["calls"] == dict.fromkeys(names, "ok")
    assert reports(out) == names == reports(out, ".callscan.html")
    assert set(state["findings"]) == names
    # summary.csv (made from the store): one row per call
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(Path(r["file"]).stem for r in rows) == sorted(names)
    assert {r["status"] for r in rows} == {"ok"}
    assert temp_files(out) == []


def _drop_rows(out: Path, name: str) -> None:
    with store.opened(out) as con:
        con.execute("DELETE FROM findings WHERE name = ?", [name])
        con.execute("DELETE FROM calls WHERE name = ?", [name])


def test_each_state_a_kill_leaves_between_a_calls_writes_is_resumed(tmp_path):
    calls = transcripts(tmp_path / "calls", 4)
    out = tmp_path / "out"
    first = run_batch(calls, out, formats=("json", "html"))
    assert first.done == 4
    before = {Path(r["file"]).stem: r for r in first.rows}
    logged, unlogged, gone, whole = (c.stem for c in calls)
    # killed after the log line, before the store: the row is missing
    _drop_rows(out, logged)
    # killed after the reports, before the log line: no line, no row
    lines = (out / MANIFEST).read_text(encoding="utf-8").splitlines(keepends=True)
    (out / MANIFEST).write_text("".join(x for x in lines if json.loads(x)["name"] != unlogged))
    _drop_rows(out, unlogged)
    # a report removed by hand: the row stays until the next run
    (out / f"{gone}.callscan.json").unlink()
    # a report being written when the process died
    (out / f"{whole}.callscan.html.part").write_text("<html><body>half a rep")

    again = run_batch(calls, out, formats=("json", "html"))
    assert (again.skipped, again.done, again.failed) == (2, 2, 0)
    ok = Counter(e["name"] for e in log_entries(out) if e["status"] == "ok")
    assert ok == {logged: 1, unlogged: 1, gone: 2, whole: 1}  # only `gone` was redone twice
    state = store_state(out)
    assert state["calls"] == dict.fromkeys(before, "ok")
    assert reports(out) == set(before) and not state["orphans"]
    assert len(set(state["findings"].values())) == 1
    after = {Path(r["file"]).stem: r for r in again.rows}
    assert after[logged] == before[logged]  # stored from its log entry, not redone
    assert after[whole] == before[whole]
    assert temp_files(out) == []


def test_a_report_rewritten_by_a_killed_run_is_not_resumed(tmp_path):
    """A call redone with other options and killed before its log line: the report on disk
    is the new one, the log and store describe the old one; going back to the old options
    must redo the call, not keep a report made with other options."""
    calls = transcripts(tmp_path / "calls", 2)
    out = tmp_path / "out"
    run_batch(calls, out)
    path = out / f"{calls[0].stem}.callscan.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    report["language"] = "id"  # as another run would have written it
    stat = path.stat()
    path.write_text(json.dumps(report), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = run_batch(calls, out)
    assert (again.skipped, again.done) == (1, 1)
    assert json.loads(path.read_text(encoding="utf-8"))["language"] == "en"


def test_a_store_from_an_older_callscan_resumes_without_redoing_calls(tmp_path):
    calls = transcripts(tmp_path / "calls", 3)
    out = tmp_path / "out"
    first = run_batch(calls, out)
    with store.opened(out) as con:  # the columns an older store lacks
        for column in ("sha256", "size_bytes", "logged_at", "summary"):
            con.execute(f'ALTER TABLE calls DROP COLUMN "{column}"')
    again = run_batch(calls, out)
    assert (again.skipped, again.done) == (3, 0)
    assert again.rows == first.rows
    with store.opened(out, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM calls WHERE sha256 IS NOT NULL").fetchone() == (3,)
