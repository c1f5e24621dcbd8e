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

``--compare-tree PATH`` adds ``callscan@PATH``: the same command with another copy of the
library first on ``PYTHONPATH`` (a before/after check, e.g. the previous commit unpacked with
``git archive HEAD~1 | tar -x -C PATH``; the CLI package stays this tree's).
``--no-whisper`` skips plain whisper (82 s a run; no ratio then).
``--breakdown`` adds one more run of each callscan command that times its steps in the
process (imports, audio decode, model load, VAD, language, encoder, decoder, word timestamps,
speakers, F0, writing): where the seconds go. Its wall time includes the timers' overhead.

Usage::

    .venv/bin/python bench/bench_startup.py [--runs 5] [--audio PATH] [--no-whisper]
        [--compare-tree PATH] [--breakdown]
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


def commands(
    audio: Path, out_dir: Path, *, whisper: bool = True, compare_tree: Path | None = None
) -> dict[str, list[str]]:
    from callscan.asr.weights import model_dir

    callscan_args = ["transcribe", str(audio), "--threads", "1", "-f", "txt"]
    cmds = {
        "callscan": [str(BIN / "callscan"), *callscan_args, "-o", str(out_dir / "callscan.txt")]
    }
    if compare_tree is not None:
        cmds[f"callscan@{compare_tree.name}"] = [
            str(BIN / "callscan"),
            *callscan_args,
            "-o",
            str(out_dir / "callscan-compare.txt"),
        ]
    if whisper:
        cmds["whisper"] = [
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
    if name == "whisper":
        found = list((out_dir / "whisper").glob("*.txt"))
    else:
        found = [out_dir / ("callscan.txt" if name == "callscan" else "callscan-compare.txt")]
    if not found or not found[0].read_text().strip():
        raise SystemExit(f"{name} wrote no transcript")


STEPS = [  # (label, module, attribute): each timed where the pipeline looks it up
    ("decode audio", "callscan.audio.decode", "load"),
    ("model load", "callscan.asr", "load_model"),
    ("VAD load", "callscan.audio.vad", "load_vad"),
    ("VAD run", "callscan.audio.vad", "speech_regions"),
    ("transcribe", "callscan.asr", "transcribe"),
    ("  language", "callscan.asr.regions", "detect_language"),
    ("  word timestamps", "whisper.timing", "add_word_timestamps"),
    ("speakers", "callscan.speakers.assign", "assign_speakers"),
    ("  F0 track", "callscan.audio.prosody", "f0_track"),
    ("write transcript", "callscan.asr.writers", "write_txt"),
]


def timed_steps(audio: Path) -> dict[str, float]:
    """One ``callscan transcribe`` in this process, its steps timed (wall seconds)."""
    import functools
    import importlib

    start = time.perf_counter()
    from callscan.cli.app import app as cli_app  # not main(): it would end the process

    seconds = {"import CLI": time.perf_counter() - start}
    t = time.perf_counter()
    import torch  # noqa: F401
    import whisper  # noqa: F401

    seconds["import torch, whisper"] = time.perf_counter() - t

    def timed(label, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - t

        return wrapper

    for label, module, name in STEPS:
        mod = importlib.import_module(module)
        setattr(mod, name, timed(label, getattr(mod, name)))
    from callscan.asr import writers
    from callscan.asr.batched import TrimmedModel

    writers.WRITERS["txt"] = writers.write_txt  # the CLI looks writers up in this table

    TrimmedModel.encode = timed("  encoder", TrimmedModel.encode)  # type: ignore[method-assign]
    TrimmedModel.decode = timed("  decoder", TrimmedModel.decode)  # type: ignore[method-assign]
    out = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name
    sys.argv = ["callscan", "transcribe", str(audio), "--threads", "1", "-f", "txt", "-o", out]
    t = time.perf_counter()
    try:
        cli_app()
    except SystemExit as e:
        if e.code:
            raise
    finally:
        os.unlink(out)
    seconds["run (CLI)"] = time.perf_counter() - t
    seconds["in-process total"] = time.perf_counter() - start
    order = ["import CLI", "import torch, whisper", *(label for label, _, _ in STEPS)]
    order[order.index("  word timestamps") : order.index("  word timestamps")] = [
        "  encoder",
        "  decoder",
    ]
    return {
        k: round(seconds[k], 3) for k in [*order, "run (CLI)", "in-process total"] if k in seconds
    }


def breakdown(audio: Path, env: dict[str, str]) -> dict[str, float]:
    """:func:`timed_steps` in a fresh process, plus that process's whole wall time."""
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--steps-of", str(audio)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    steps = json.loads(proc.stdout.strip().splitlines()[-1])
    steps["process wall"] = round(time.perf_counter() - t, 3)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command")
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    parser.add_argument("--no-whisper", action="store_true", help="skip plain whisper")
    parser.add_argument("--compare-tree", type=Path, help="another library copy to time too")
    parser.add_argument("--breakdown", action="store_true", help="time the steps of one run")
    parser.add_argument("--steps-of", type=Path, help=argparse.SUPPRESS)  # the breakdown's child
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--ffmpeg", help="ffmpeg binary for plain whisper (default: PATH's)")
    args = parser.parse_args()
    if args.steps_of is not None:
        print(json.dumps(timed_steps(args.steps_of)))
        return

    import soundfile as sf

    audio_s = sf.info(str(args.audio)).duration
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    load_start = os.getloadavg()
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="callscan-startup-") as tmp:
        cmds = commands(
            args.audio, Path(tmp), whisper=not args.no_whisper, compare_tree=args.compare_tree
        )
        envs = {n: env for n in cmds}
        if "whisper" in cmds:
            envs["whisper"] = whisper_env(env, Path(tmp), args.ffmpeg)
        if args.compare_tree is not None:
            other = str(args.compare_tree.resolve())
            envs[f"callscan@{args.compare_tree.name}"] = dict(env, PYTHONPATH=other)
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
    whisper_wall = summary["whisper"]["median_wall_s"] if "whisper" in summary else None
    for name, s in summary.items():
        if name != "whisper" and whisper_wall is not None:
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
    if args.breakdown:
        record["breakdown"] = {
            name: breakdown(args.audio, envs[name]) for name in cmds if name != "whisper"
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
        ratio = f"{s['speedup_vs_whisper']:.2f}x" if "speedup_vs_whisper" in s else "-"
        ratio = "1.00x" if name == "whisper" else ratio
        print(
            f"{name:22s} {s['median_wall_s']:8.2f} {s['median_cpu_s']:8.2f} "
            f"{s['realtime_x']:6.2f}x {ratio:>10s} {s['peak_rss_mib']:8.0f}"
        )
    if args.breakdown:
        print("\nsteps of one callscan run (s; indented steps are part of the one above):")
        names = list(record["breakdown"])
        print(f"  {'':30s}" + "".join(f" {n[-16:]:>16s}" for n in names))
        for step in record["breakdown"]["callscan"]:
            row = (record["breakdown"][n].get(step) for n in names)
            print(
                f"  {step:30s}" + "".join(f" {'-' if v is None else f'{v:.2f}':>16s}" for v in row)
            )
    la = record["load_average"]
    print(f"load average {la['start'][0]:.1f} -> {la['end'][0]:.1f} on {os.cpu_count()} CPUs")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
