"""Whole-process speed of a one-call ``callscan transcribe`` against plain openai-whisper.

What a user meets on one call: a fresh process per file, one thread, start-up included
(imports, model load, numba's DTW compile, the VAD's first run). Both commands run with
``OMP_NUM_THREADS=1 MKL_NUM_THREADS=1`` and ``--threads 1``:

* ``callscan transcribe CLIP --threads 1 -f txt``
* ``whisper CLIP --model BASE.pt --threads 1 --output_format txt`` (openai-whisper's own CLI
  and defaults: language auto-detected, beam 5 with temperature fallback; the same base
  weights, callscan's converted checkpoint, given as a path since it is not byte-identical
  to openai-whisper's download)

After one warm-up run of each (page cache, numba's on-disk cache), ``--runs`` runs of each,
interleaved. Reports the median wall seconds, CPU seconds (user + sys), peak RSS, the
real-time factor (audio s / wall s) and the speed ratio (whisper wall / callscan wall).
Goal (issue 17): callscan >= 8x real time and >= 2x faster than whisper.

``--with-cached-dtw`` adds a third command: callscan with :func:`callscan.asr.dtw.use_cached_dtw`
installed before the CLI starts (the effect of the cached DTW before it is wired in).

Usage::

    .venv/bin/python bench/bench_startup.py [--runs 5] [--audio PATH] [--with-cached-dtw]
        [--ffmpeg PATH]  # plain whisper needs an ffmpeg; PATH's or imageio-ffmpeg's by default

Writes bench/out/startup.json and prints a table. Figures are only meaningful on a quiet
machine: the load average at start and end is recorded next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_AUDIO = ROOT.parent / "shared" / "data" / "audio" / "bench_en_57s.wav"
OUT = ROOT / "bench" / "out" / "startup.json"
GOAL_RTF = 8.0  # x real time, whole process, one thread
GOAL_RATIO = 2.0  # callscan at least this many times faster than plain whisper

CACHED_DTW_MAIN = (
    "import sys; from callscan.asr.dtw import use_cached_dtw; use_cached_dtw(); "
    "from callscan.cli.app import main; sys.argv[0] = 'callscan'; sys.exit(main())"
)


def commands(audio: Path, out_dir: Path, with_cached_dtw: bool) -> dict[str, list[str]]:
    from callscan.asr.weights import model_dir

    callscan_args = ["transcribe", str(audio), "--threads", "1", "-f", "txt"]
    cmds = {
        "callscan": [str(BIN / "callscan"), *callscan_args, "-o", str(out_dir / "callscan.txt")],
        "whisper": [
            str(BIN / "whisper"),
            str(audio),
            "--model",
            str(model_dir() / "base.pt"),
            "--threads",
            "1",
            "--output_format",
            "txt",
            "--output_dir",
            str(out_dir / "whisper"),
            "--verbose",
            "False",
        ],
    }
    if with_cached_dtw:
        cmds["callscan+cached-dtw"] = [
            sys.executable,
            "-c",
            CACHED_DTW_MAIN,
            *callscan_args,
            "-o",
            str(out_dir / "callscan-dtw.txt"),
        ]
    return cmds


def whisper_env(env: dict[str, str], tmp: Path, ffmpeg: str | None) -> dict[str, str]:
    """openai-whisper decodes through an ``ffmpeg`` on PATH. Where there is none, ``--ffmpeg``
    or the one callscan itself would use (imageio-ffmpeg's) is put there."""
    from callscan.audio.decode import find_ffmpeg

    if not ffmpeg and shutil.which("ffmpeg", path=env.get("PATH")):
        return env
    ffmpeg = ffmpeg or find_ffmpeg()
    if not ffmpeg:
        raise SystemExit("plain whisper needs ffmpeg: put one on PATH or pass --ffmpeg PATH")
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "ffmpeg").symlink_to(Path(ffmpeg).resolve())
    return dict(env, PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")


def run_once(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall_s = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # whisper's CLI skips a file it cannot read and still exits 0
    if proc.returncode != 0 or b"Skipping " in err:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return {
        "wall_s": wall_s,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


def check_output(out_dir: Path, name: str) -> None:
    """Each command must have written a non-empty transcript."""
    found = {
        "callscan": [out_dir / "callscan.txt"],
        "callscan+cached-dtw": [out_dir / "callscan-dtw.txt"],
        "whisper": list((out_dir / "whisper").glob("*.txt")),
    }[name]
    if not found or not found[0].read_text().strip():
        raise SystemExit(f"{name} wrote no transcript")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command")
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    parser.add_argument("--with-cached-dtw", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--ffmpeg", help="ffmpeg binary for plain whisper (default: PATH's)")
    args = parser.parse_args()

    import soundfile as sf

    audio_s = sf.info(str(args.audio)).duration
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    load_start = os.getloadavg()
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="callscan-startup-") as tmp:
        cmds = commands(args.audio, Path(tmp), args.with_cached_dtw)
        wenv = whisper_env(env, Path(tmp), args.ffmpeg)
        envs = {n: wenv if n == "whisper" else env for n in cmds}
        for name, cmd in cmds.items():  # warm-up: page cache, numba's disk cache
            print(f"warm-up {name} ...", file=sys.stderr)
            run_once(cmd, envs[name])
            check_output(Path(tmp), name)
        for i in range(args.runs):
            for name, cmd in cmds.items():
                r = run_once(cmd, envs[name])
                results.setdefault(name, []).append(r)
                print(f"run {i + 1}/{args.runs} {name}: {r['wall_s']:.2f} s", file=sys.stderr)

    summary = {}
    for name, runs in results.items():
        wall = statistics.median(r["wall_s"] for r in runs)
        summary[name] = {
            "median_wall_s": round(wall, 3),
            "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 3),
            "peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs), 1),
            "realtime_x": round(audio_s / wall, 2),
            "runs": [{k: round(v, 3) for k, v in r.items()} for r in runs],
        }
    whisper_wall = summary["whisper"]["median_wall_s"]
    for name, s in summary.items():
        if name != "whisper":
            s["speedup_vs_whisper"] = round(whisper_wall / s["median_wall_s"], 2)
            s["goal_met"] = s["realtime_x"] >= GOAL_RTF and s["speedup_vs_whisper"] >= GOAL_RATIO
    record = {
        "audio": str(args.audio.name),
        "audio_s": round(audio_s, 2),
        "threads": 1,
        "runs": args.runs,
        "goal": {"realtime_x": GOAL_RTF, "speedup_vs_whisper": GOAL_RATIO},
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "results": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")

    print(
        f"\n{args.audio.name} ({audio_s:.1f} s), one thread, whole process, median of {args.runs}"
    )
    print(
        f"{'command':22s} {'wall s':>8s} {'cpu s':>8s} {'x real':>7s} {'vs whisper':>10s} {'RSS MiB':>8s}"
    )
    for name, s in summary.items():
        ratio = f"{s['speedup_vs_whisper']:.2f}x" if "speedup_vs_whisper" in s else "1.00x"
        print(
            f"{name:22s} {s['median_wall_s']:8.2f} {s['median_cpu_s']:8.2f} "
            f"{s['realtime_x']:6.2f}x {ratio:>10s} {s['peak_rss_mib']:8.0f}"
        )
    la = record["load_average"]
    print(f"load average {la['start'][0]:.1f} -> {la['end'][0]:.1f} on {os.cpu_count()} CPUs")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
