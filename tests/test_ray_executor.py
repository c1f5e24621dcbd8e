"""``--executor ray``: the same batch on Ray actors gives the same reports, log, store and
resume as the local executor; a dead actor fails only its call; no Ray is a one-line error.

The Ray tests start a real local Ray instance (2 CPUs) once for the module and stop it."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan import CallscanError
from callscan.cli.app import app
from callscan.pipeline import AnalyzeOptions
from callscan.qa import store
from callscan.qa.executors import WORKER_DIED, Job, run_on_ray
from callscan.qa.runner import read_manifest, run_batch
from callscan.speakers.assign import SpeakersOptions

PATTERN = r"(?P<agent>[A-Z]\d+)_(?P<call>\d+)"
CALLS = {
    "A17_0001.txt": (
        "agent: Selamat pagi, Nusantara Seluler, dengan Surya, ada yang bisa saya bantu?\n"
        "caller: Saya mau tanya tagihan saya, kelihatannya terlalu mahal.\n"
        "agent: Baik, Bapak. Saya cek dulu. Terima kasih atas waktu Bapak, selamat siang.\n"
    ),
    "A17_0002.txt": (
        "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
        "caller: I'm calling about my bill, it sounds too high.\n"
        "agent: I understand. Let me check that for you. Thank you for calling, goodbye.\n"
    ),
    "B02_0003.txt": (
        "agent: Hello, Acme support, Rina speaking.\n"
        "caller: My card was charged twice and I want a refund, this is unacceptable.\n"
        "agent: I'm sorry about that. I have filed the refund, it takes three days.\n"
        "caller: Fine. Thanks.\n"
    ),
    "B02_0004.txt": (
        "agent: Good afternoon, Acme, this is Tom. May I have your account number please?\n"
        "caller: Sure, it is the one ending in four two.\n"
        "agent: Thank you. Your plan renews next week. Anything else? Have a nice day.\n"
    ),
    "C03_0005.json": "{ not json",  # the bad file
}
TIMING_KEYS = ("processing", "elapsed", "_ms")


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray instance for the module (the executor reuses an initialised Ray).

    Ray's memory monitor is off: it kills workers when the whole machine is nearly full, and
    on a shared CI machine that depends on the other jobs, not on this test."""
    import ray

    monitor = os.environ.get("RAY_memory_monitor_refresh_ms")
    os.environ["RAY_memory_monitor_refresh_ms"] = "0"
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if monitor is None:
            del os.environ["RAY_memory_monitor_refresh_ms"]
        else:
            os.environ["RAY_memory_monitor_refresh_ms"] = monitor
    yield ray
    ray.shutdown()
    assert not ray.is_initialized()


@pytest.fixture()
def transcripts(tmp_path) -> Path:
    src = tmp_path / "calls"
    src.mkdir()
    for name, text in CALLS.items():
        (src / name).write_text(text, encoding="utf-8")
    return src


def without_timings(x):
    """``x`` without the keys that hold measured times (they differ run to run)."""
    if isinstance(x, dict):
        return {k: without_timings(v) for k, v in x.items() if not any(t in k for t in TIMING_KEYS)}
    if isinstance(x, list):
        return [without_timings(v) for v in x]
    return x


def summary(out: Path) -> list[dict]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row.pop("processing_s")
        row["report"] = Path(row["report"]).name if row["report"] else ""
    return rows


def stored_calls(out: Path) -> list[dict]:
    with store.opened(out, read_only=True) as con:
        return store.query(con, "SELECT name, status FROM calls ORDER BY name")


@pytest.mark.slow
def test_ray_batch_matches_local_stores_every_call_and_resumes(local_ray, transcripts, tmp_path):
    options = AnalyzeOptions(speakers=SpeakersOptions(agent_pattern=PATTERN))
    formats = ("json", "html", "md")
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    files = sorted(transcripts.iterdir())  # a folder is searched for audio only
    local = run_batch(files, local_out, options, formats=formats, workers=2)
    ray = run_batch(files, ray_out, options, formats=formats, workers=2, executor="ray")
    assert local_ray.is_initialized()  # the caller's Ray is left running

    # the bad file fails alone, with the same one-line error under both executors
    assert (ray.done, ray.failed, ray.skipped) == (local.done, local.failed, 0) == (4, 1, 0)
    [error] = ray.errors
    assert "C03_0005.json" in error["error"] and "\n" not in error["error"]
    assert [e["error"] for e in local.errors] == [error["error"]]

    # identical reports (every format) and summaries, timings aside
    reports = sorted(p.name for p in ray_out.glob("*.callscan.*"))
    assert reports == sorted(p.name for p in local_out.glob("*.callscan.*"))
    assert len(reports) == 4 * len(formats)
    for name in reports:
        mine, theirs = (ray_out / name).read_text(), (local_out / name).read_text()
        if name.endswith(".json"):
            assert without_timings(json.loads(mine)) == without_timings(json.loads(theirs))
        else:
            assert mine == theirs, name
    assert summary(ray_out) == summary(local_out)
    assert {r["agent_id"] for r in summary(ray_out)} == {"A17", "B02", "C03"}

    # the driver wrote the log and the store: one row per call, one per report on disk
    log = read_manifest(ray_out)
    assert sorted(log) == sorted(Path(n).stem for n in CALLS)
    rows = stored_calls(ray_out)
    assert len(rows) == len(log) == 5
    assert sum(r["status"] == "ok" for r in rows) == len(list(ray_out.glob("*.callscan.json")))
    assert not list(ray_out.glob("*.part"))

    # a local batch resumes on Ray: its finished calls are not redone
    cross = run_batch(files, local_out, options, formats=formats, workers=2, executor="ray")
    assert (cross.done, cross.failed, cross.skipped) == (0, 1, 4)

    # resume through the command line: finished calls skipped, the bad one tried again
    args = ["batch", *map(str, files), "-o", str(ray_out), "--agent-pattern", PATTERN]
    again = CliRunner().invoke(app, [*args, "-f", "all", "--executor", "ray", "--workers", "2"])
    assert again.exit_code == 1, again.stderr
    assert "5 calls: 0 analysed, 4 already done, 1 failed" in again.stderr
    (transcripts / "C03_0005.json").unlink()
    (transcripts / "C03_0005.txt").write_text(CALLS["B02_0004.txt"], encoding="utf-8")
    files = sorted(transcripts.iterdir())
    fixed = run_batch(files, ray_out, options, formats=formats, executor="ray")
    assert (fixed.done, fixed.failed, fixed.skipped) == (1, 0, 4)
    assert len(stored_calls(ray_out)) == 5 and (ray_out / "C03_0005.callscan.html").exists()
    assert read_manifest(ray_out)["C03_0005"]["status"] == "ok"


@pytest.mark.slow
def test_a_dead_ray_worker_fails_only_its_call_and_is_replaced(local_ray, tmp_path):
    def work(path: str, outputs: dict, *extra) -> dict:  # runs in the actor process
        if path.endswith("die"):
            os._exit(1)  # what an out-of-memory kill looks like from outside
        Path(outputs["json"]).write_text(json.dumps({"call": Path(path).name, "pid": os.getpid()}))
        return {"status": "ok", "error": "", "row": {"report": outputs["json"]}}

    out = tmp_path / "out"
    names = ["a", "die", "b", "c"]
    jobs = [Job(n, str(tmp_path / n), {"json": str(out / f"{n}.callscan.json")}) for n in names]
    recorded: dict[str, dict] = {}

    def lost(job: Job, error: str) -> dict:
        return {"status": "error", "error": error, "row": {"report": ""}}

    run_on_ray(jobs, work, recorded.__setitem__, lost, workers=1)

    assert list(recorded) == names  # one worker: in order, the batch went on after the death
    assert recorded["die"] == {"status": "error", "error": WORKER_DIED, "row": {"report": ""}}
    assert not (out / "die.callscan.json").exists()
    pids = {}
    for n in ("a", "b", "c"):
        # the driver wrote the file the actor sent back, at its place in the output folder
        assert recorded[n]["row"]["report"] == str(out / f"{n}.callscan.json")
        written = json.loads((out / f"{n}.callscan.json").read_text())
        assert written["call"] == n
        pids[n] = written["pid"]
    assert pids["a"] != pids["b"] == pids["c"]  # a fresh actor took the dead one's place


def test_ray_executor_without_ray_is_one_line_error(transcripts, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(CallscanError, match=r"pip install 'callscan\[ray\]'") as e:
        run_batch([transcripts], tmp_path / "out", executor="ray", workers=2)
    assert e.value.option == "executor" and "\n" not in str(e.value)
    assert not (tmp_path / "out" / "batch.jsonl").exists()  # refused before any work
    with pytest.raises(CallscanError, match="unknown executor 'dask': choose one of local, ray"):
        run_batch([transcripts], tmp_path / "out", executor="dask")
    result = CliRunner().invoke(
        app, ["batch", str(transcripts), "-o", str(tmp_path / "o2"), "--executor", "ray"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: --executor: the ray executor needs Ray, which is not installed: "
        "pip install 'callscan[ray]'"
    ]
