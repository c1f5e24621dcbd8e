"""Batch throughput: local executor with 1 and 2 workers, Ray executor with 2 workers.

The calls are real recordings: the 11 Harper Valley Bank calls of
``../shared/data/audio-real/harper-valley-bank`` (each call's agent and caller files joined as a
stereo WAV, agent left, caller right, 8 kHz, the shorter side padded with silence), and
``../shared/data/audio/bench_en_57s.wav`` as the 12th. ``--calls N`` takes the first N.

Each configuration runs ``run_batch`` on the same calls into a fresh output folder, in its own
Python process (so one run's models and caches do not flatter the next), with the default
options (Whisper base, openai-whisper engine). This script watches that process tree through
``/proc`` (Linux) and reads each worker process's peak resident memory (``VmHWM``): the batch
process itself for 1 local worker, the ``spawn`` pool processes for 2 local workers, the
``ray::CallWorker`` actors for Ray. For Ray, a local Ray instance is started before the clock
starts (as a cluster would already be running) and its start time is reported apart.

Measured per configuration: wall time of ``run_batch``, audio minutes per wall minute, peak
memory per worker (max and mean over workers) and of the batch process, calls ok/failed, and
the store size per 1,000 calls (``callscan.duckdb`` bytes / rows x 1000; a store of a few rows
is mostly DuckDB's fixed blocks, so this overstates; ``bench/bench_qa.py`` measures it at
10,000 rows) and the per-call reports' size per 1,000 calls.

Usage: .venv/bin/python bench/bench_throughput.py [--calls 12] [--configs local1,local2,ray2]
Prints a Markdown table and writes bench/out/throughput.json (figures on a busy machine are
contended: the load average at the start is recorded with them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SHARED = ROOT.parent / "shared" / "data"
HVB = SHARED / "audio-real" / "harper-valley-bank"
EXTRA_CALL = SHARED / "audio" / "bench_en_57s.wav"
CONFIGS = {"local1": ("local", 1), "local2": ("local", 2), "ray2": ("ray", 2)}
SAMPLE_S = 0.2


# ---- the calls -------------------------------------------------------------------------------


def build_calls(folder: Path, n: int) -> list[Path]:
    """The first ``n`` of the 12 benchmark calls as WAV files in ``folder``."""
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for agent in sorted((HVB / "audio" / "agent").glob("*.wav"))[:n]:
        caller = HVB / "audio" / "caller" / agent.name
        a, sr_a = sf.read(agent, dtype="int16")
        c, sr_c = sf.read(caller, dtype="int16")
        assert sr_a == sr_c, (agent, sr_a, sr_c)
        stereo = np.zeros((max(len(a), len(c)), 2), dtype=np.int16)
        stereo[: len(a), 0] = a
        stereo[: len(c), 1] = c
        path = folder / f"hvb_{agent.stem}.wav"
        sf.write(path, stereo, sr_a, subtype="PCM_16")
        made.append(path)
    if len(made) < n:
        extra = folder / f"extra_{EXTRA_CALL.name}"
        extra.write_bytes(EXTRA_CALL.read_bytes())
        made.append(extra)
    return made


def audio_s(paths: list[Path]) -> float:
    import soundfile as sf

    return sum(sf.info(p).duration for p in paths)


# ---- one configuration, in its own process ---------------------------------------------------


def child(executor: str, workers: int, calls_dir: Path, out: Path, result: Path) -> None:
    """Run the batch and write its figures as JSON to ``result``."""
    from callscan.qa.runner import run_batch

    startup_s = 0.0
    if executor == "ray":
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=max(workers, os.cpu_count() or 1), include_dashboard=False)
        startup_s = time.perf_counter() - t0
    calls = sorted(calls_dir.glob("*.wav"))
    t0 = time.perf_counter()
    batch = run_batch(calls, out, workers=workers, executor=executor)
    wall_s = time.perf_counter() - t0
    if executor == "ray":
        ray.shutdown()
    store = [out / "callscan.duckdb", out / "callscan.duckdb.wal"]
    data = {
        "wall_s": wall_s,
        "ray_startup_s": startup_s,
        "done": batch.done,
        "failed": batch.failed,
        "errors": [f"{Path(r['file']).name}: {r['error']}" for r in batch.errors],
        "audio_s_ok": sum(float(r["duration_s"] or 0) for r in batch.rows if r["status"] == "ok"),
        "store_bytes": sum(p.stat().st_size for p in store if p.exists()),
        "reports_bytes": sum(p.stat().st_size for p in out.glob("*.callscan.*")),
        "rows": store_rows(out),
    }
    result.write_text(json.dumps(data))


def store_rows(out: Path) -> int:
    from callscan.qa import store

    with store.opened(out, read_only=True) as con:
        return int(store.query(con, "SELECT count(*) AS n FROM calls")[0]["n"])


# ---- watching the process tree ---------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    kids, out, todo = _children_map(), [], [pid]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append(k)
            todo.append(k)
    return out


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


class Watcher(threading.Thread):
    """Samples the peak RSS of a process and its descendants until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peaks: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for p in [self.pid, *descendants(self.pid)]:
                mb = peak_rss_mb(p)
                if mb is None:
                    continue
                self.peaks[p] = max(mb, self.peaks.get(p, 0.0))
                name = cmdline(p)
                if name and not name.startswith("ray::IDLE"):
                    self.names[p] = name  # keep the name a Ray worker had as an actor
                else:
                    self.names.setdefault(p, name)
            self.stop.wait(SAMPLE_S)

    def workers(self, executor: str, n: int) -> list[float]:
        if executor == "ray":
            pick = [p for p, name in self.names.items() if name.startswith("ray::CallWorker")]
        elif n == 1:
            pick = [self.pid]
        else:
            pick = [p for p, name in self.names.items() if "spawn_main" in name]
        return [round(self.peaks[p], 1) for p in pick]


def run_config(name: str, calls_dir: Path, tmp: Path) -> dict:
    executor, workers = CONFIGS[name]
    out, result = tmp / f"out-{name}", tmp / f"{name}.json"
    cmd = [sys.executable, __file__, "--child", name, "--calls-dir", str(calls_dir),
           "--out", str(out), "--result", str(result)]  # fmt: skip
    proc = subprocess.Popen(cmd)
    watcher = Watcher(proc.pid)
    watcher.start()
    proc.wait()
    watcher.stop.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"{name}: the batch process exited with {proc.returncode}")
    data = json.loads(result.read_text())
    peaks = watcher.workers(executor, workers)
    rows = max(1, data["rows"])
    audio_min, wall_min = data["audio_s_ok"] / 60.0, data["wall_s"] / 60.0
    return {
        "config": name,
        "executor": executor,
        "workers": workers,
        "calls_ok": data["done"],
        "calls_failed": data["failed"],
        "errors": data["errors"],
        "audio_min": round(audio_min, 2),
        "wall_s": round(data["wall_s"], 1),
        "ray_startup_s": round(data["ray_startup_s"], 1),
        "audio_min_per_wall_min": round(audio_min / wall_min, 3) if wall_min else None,
        "worker_peak_rss_mb": peaks,
        "worker_peak_rss_mb_max": max(peaks) if peaks else None,
        "worker_peak_rss_mb_mean": round(sum(peaks) / len(peaks), 1) if peaks else None,
        "batch_process_peak_rss_mb": round(watcher.peaks.get(proc.pid, 0.0), 1),
        "store_rows": data["rows"],
        "store_mb": round(data["store_bytes"] / 1e6, 3),
        "store_mb_per_1000_calls": round(data["store_bytes"] / rows * 1000 / 1e6, 1),
        "reports_mb_per_1000_calls": round(data["reports_bytes"] / rows * 1000 / 1e6, 1),
    }


def table(results: list[dict]) -> str:
    head = ("config", "calls ok/failed", "audio min", "wall s", "audio min / wall min",
            "worker peak RSS MB (max / mean)", "batch process peak MB",
            "store MB / 1000 calls", "reports MB / 1000 calls")  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        startup = f" (+{r['ray_startup_s']} s Ray start)" if r["executor"] == "ray" else ""
        cells = (
            r["config"], f"{r['calls_ok']}/{r['calls_failed']}", r["audio_min"],
            f"{r['wall_s']}{startup}", r["audio_min_per_wall_min"],
            f"{r['worker_peak_rss_mb_max']} / {r['worker_peak_rss_mb_mean']}",
            r["batch_process_peak_rss_mb"], r["store_mb_per_1000_calls"],
            r["reports_mb_per_1000_calls"],
        )  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=12, help="how many of the 12 calls (1-12)")
    ap.add_argument(
        "--configs", default="local1,local2,ray2", help="comma-separated: " + ", ".join(CONFIGS)
    )
    ap.add_argument("--child", choices=list(CONFIGS), help=argparse.SUPPRESS)
    ap.add_argument("--calls-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        executor, workers = CONFIGS[args.child]
        child(executor, workers, args.calls_dir, args.out, args.result)
        return
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONFIGS]
    if unknown or not 1 <= args.calls <= 12:
        ap.error(f"configs are {', '.join(CONFIGS)}; calls 1-12")
    import ray  # fail now, not after the local runs, when the extra is missing

    from callscan import __version__

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="callscan-throughput-") as tmp:
        calls = build_calls(Path(tmp) / "calls", args.calls)
        results = []
        for name in names:
            print(f"running {name} on {len(calls)} calls ...", file=sys.stderr, flush=True)
            results.append(run_config(name, Path(tmp) / "calls", Path(tmp)))
        total_audio_min = audio_s(calls) / 60.0
    report = {
        "calls": len(calls),
        "audio_min": round(total_audio_min, 2),
        "cpus": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "callscan": __version__,
        "ray": ray.__version__,
        "results": results,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{len(calls)} calls, {report['audio_min']} audio minutes, {report['cpus']} CPUs, "
          f"load average at start {report['load_avg_at_start']}")  # fmt: skip
    print(table(results))
    print(f"wrote {OUT / 'throughput.json'}")


if __name__ == "__main__":
    main()
