"""callscan's whole analysis against a WhisperX-style transcription of the same 5-minute call.

The calls: real two-party speech, one talker per channel. HarperValleyBank calls
(``../shared/data/audio-real/harper-valley-bank``, one party per 8 kHz file) are joined as two
channels (agent left, caller right) and concatenated in ``calls.tsv`` order; the first 5
minutes are call 1 (the call every row below is timed on), the next 5 minutes call 2.

Timed, each in its own process, with 2 threads (``OMP_NUM_THREADS=MKL_NUM_THREADS=2``):

(a) ``callscan analyze CALL1.wav --engine faster-whisper --threads 2`` whole process, every
    analysis, JSON report written;
(b) ``callscan analyze CALL1.wav --threads 2`` (the default engine), likewise;
(c) a WhisperX-style transcription: the model already loaded, timing only ``transcribe``:
    downmix to mono 16 kHz (faster_whisper.decode_audio, not timed), faster-whisper's
    ``BatchedInferencePipeline`` with its own VAD, int8, beam 5, batch 8, ``cpu_threads=2``,
    the same base weights (callscan's CTranslate2 copy, ``~/.cache/callscan/whisper/base-ct2``);
    call 1, then call 2 in the same process;
(d) ``callscan batch CALL1.wav CALL2.wav --threads 2`` (default engine) and
(e) the same with ``--engine faster-whisper``: each call's processing time from the batch
    log (``batch.jsonl``: decode to reports written). The model loads inside call 1's time;
    call 2 runs with it loaded, as (c) is timed, and is compared with (c)'s call 2.

(h) the same WhisperX-style transcription of call 1 as a whole process of its own (start,
    imports, the model's load, decoding, transcription, exit), as a user who picked that
    pipeline runs it on one call: like for like with (a) and (b).

(f) ``callscan analyze CALL1.wav --server URL`` whole client process, against a
    ``callscan serve --threads 2`` started for the run (default engine) and warmed by one call
    (call 2) first: the model loaded, as (c) is timed; (g) the same with a server started with
    ``--engine faster-whisper``. A fresh server each run, so call 1 is never one it has seen.

For (a) and (b) the per-step times come from the library's progress hook (``decode``,
``model``, ``speech``, ``transcribe``, ``speakers``, ``analysis``), with ``start-up`` (process
start to the first step) and ``report`` (last step to exit). The report JSON has no timings
of its own. Peak memory is each process's peak RSS (``os.wait4``).

Usage::

    .venv/bin/python bench/bench_vs_whisperx.py [--runs 3] [--minutes 5] [--only a,b]

``--only`` runs a subset of (a) and (b), each with its batch row ((c) always runs: the ratios
need it).

Writes bench/out/vs_whisperx.json and prints a table. Goal (issue 17): (a)/(c) <= 1.0 and
(b)/(c) <= 1.0; (f) and (g) are the same call with the model kept loaded by a server; (a)/(h)
and (b)/(h) compare whole processes with whole processes.
"""

from __future__ import annotations

import argparse
import atexit
import csv
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HVB = ROOT.parent / "shared" / "data" / "audio-real" / "harper-valley-bank"
OUT = ROOT / "bench" / "out" / "vs_whisperx.json"
THREADS = 2
SR = 8000  # Hz, the HarperValleyBank files


def hvb_stereo(call: dict, agent_left: bool = True) -> np.ndarray:
    """One HarperValleyBank call (a ``calls.tsv`` row) as (samples, 2) float32 at 8 kHz: the
    agent's file on one channel and the caller's on the other (both start at the same
    instant), the shorter padded with silence at the end."""
    import soundfile as sf

    agent, sr_a = sf.read(HVB / call["agent_file"], dtype="float32")
    caller, sr_c = sf.read(HVB / call["caller_file"], dtype="float32")
    assert sr_a == sr_c == SR, (sr_a, sr_c)
    stereo = np.zeros((max(len(agent), len(caller)), 2), dtype=np.float32)
    a, c = (0, 1) if agent_left else (1, 0)
    stereo[: len(agent), a] = agent
    stereo[: len(caller), c] = caller
    return stereo


def build_calls(paths: list[Path], minutes: float) -> list[dict]:
    """Write the stereo test calls (16-bit, 8 kHz): the HarperValleyBank calls joined in
    ``calls.tsv`` order, cut into consecutive pieces of ``minutes``, one per path (the
    first is the same call whatever the count). Returns what each is made of."""
    import soundfile as sf

    target = int(minutes * 60 * SR)
    with open(HVB / "calls.tsv", newline="") as f:
        calls = list(csv.DictReader(f, delimiter="\t"))
    parts, spans, n = [], [], 0
    for call in calls:
        stereo = hvb_stereo(call)
        length = len(stereo)
        parts.append(stereo)
        spans.append((call["sid"], n, n + length))
        n += length
        if n >= target * len(paths):
            break
    if n < target * len(paths):
        raise SystemExit(f"{n / SR / 60:.1f} min of HarperValleyBank audio: too little")
    y = np.concatenate(parts)
    made = []
    for i, path in enumerate(paths):
        a, b = i * target, (i + 1) * target
        sf.write(path, y[a:b], SR, subtype="PCM_16")
        used = [sid for sid, s, e in spans if s < b and e > a]
        made.append({"calls": used, "duration_s": target / SR, "channels": 2, "sr": SR})
    return made


# --- children ---------------------------------------------------------------------------


def child_callscan(events_path: str, argv: list[str]) -> None:
    """Run the CLI in this process with a hook that records step times (wall clock)."""
    events: list[tuple[str, int, int, float]] = []
    import callscan.cli.common as common

    def recording_progress_hook():
        from contextlib import nullcontext

        def hook(step: str, completed: int, total: int) -> None:
            events.append((step, completed, total, time.time()))

        return nullcontext(), hook

    common.progress_hook = recording_progress_hook  # before the commands import it
    from callscan.cli.app import main

    def write_events() -> None:  # at exit: main() ends the process itself after analyze
        Path(events_path).write_text(json.dumps({"events": events, "end": time.time()}))

    atexit.register(write_events)
    sys.argv = ["callscan", *argv]
    main()


def _peer_pipeline():
    """The WhisperX-style pipeline: faster-whisper's ``BatchedInferencePipeline`` on the same
    base weights (int8, ``cpu_threads=THREADS``)."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from callscan.asr.weights import ct2_dir

    model = WhisperModel(
        str(ct2_dir("base")), device="cpu", compute_type="int8", cpu_threads=THREADS
    )
    return BatchedInferencePipeline(model)


def _decoded(call: str):
    """The call as the peer takes it: downmixed to mono, 16 kHz."""
    from faster_whisper import decode_audio

    return decode_audio(call, sampling_rate=16000)  # mono: channels averaged (downmix)


def _peer_transcribe(pipeline, audio):
    """The peer's transcription (beam 5, batch 8): its segments (the generator run to the
    end: it does the work) and the transcription info."""
    segments, info = pipeline.transcribe(audio, beam_size=5, batch_size=8)
    return list(segments), info


def child_whisperx(result_path: str, calls: list[str]) -> None:
    """WhisperX-style: model loaded first, then only each call's transcription is timed
    (the calls in turn, in one process: the first pays the pipeline's own first-use costs)."""
    pipeline = _peer_pipeline()
    out = []
    for call in calls:
        audio = _decoded(call)
        start, cpu = time.perf_counter(), time.process_time()
        segments, info = _peer_transcribe(pipeline, audio)
        out.append(
            {
                "transcribe_s": time.perf_counter() - start,
                "transcribe_cpu_s": time.process_time() - cpu,
                "language": info.language,
                "segments": len(segments),
                "words": sum(len(s.text.split()) for s in segments),
            }
        )
    Path(result_path).write_text(json.dumps(out))


def child_whisperx_whole(call: str) -> None:
    """The WhisperX-style transcription of one call as a whole process (timed from outside:
    imports, the model's load, decoding and transcription)."""
    pipeline = _peer_pipeline()
    _peer_transcribe(pipeline, _decoded(call))


def child_batch(argv: list[str]) -> None:
    """``callscan batch`` in this process (its log gives each call's processing time)."""
    from callscan.cli.app import main

    sys.argv = ["callscan", *argv]
    try:
        main()
    except SystemExit as e:
        if e.code not in (0, None):
            raise


# --- parent -----------------------------------------------------------------------------


def run_child(args: list[str], env: dict[str, str]) -> dict:
    """This script's ``--child`` mode in a process of its own (see :func:`run_command`)."""
    return run_command([sys.executable, __file__, "--child", *args], env)


def step_times(start: float, record: dict) -> dict[str, float]:
    """Seconds per progress step (first to last event), plus start-up and report writing."""
    events = record["events"]
    if not events:
        return {}
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for step, _, _, t in events:
        first.setdefault(step, t)
        last[step] = t
    steps = {"start-up": events[0][3] - start}
    steps.update({s: last[s] - first[s] for s in first})
    steps["report"] = record["end"] - events[-1][3]
    return {k: round(v, 2) for k, v in steps.items()}


def run_callscan(call: Path, engine: str | None, env: dict[str, str], tmp: Path) -> dict:
    out_dir = tmp / f"out-{engine or 'default'}"
    events = tmp / f"events-{engine or 'default'}.json"
    argv = ["analyze", str(call), "--threads", str(THREADS), "-o", str(out_dir), "-f", "json"]
    if engine:
        argv += ["--engine", engine]
    r = run_child(["callscan", str(events), *argv], env)
    r["steps_s"] = step_times(r["start"], json.loads(events.read_text()))
    report = json.loads(next(out_dir.glob("*.json")).read_text())
    r["words"] = sum(len(t["text"].split()) for t in report["conversation"]["turns"])
    return r


def run_whisperx(calls: list[Path], env: dict[str, str], tmp: Path) -> list[dict]:
    """The peer on each call (one process, model loaded once): per call, its figures with the
    whole process's CPU and peak memory."""
    result = tmp / "whisperx.json"
    r = run_child(["whisperx", str(result), *map(str, calls)], env)
    return [{**r, **one} for one in json.loads(result.read_text())]


def run_batch(calls: list[Path], engine: str | None, env: dict[str, str], tmp: Path) -> list[dict]:
    """``callscan batch`` over the calls (one worker, 2 threads): per call, its processing
    time from the batch log (the model loads inside the first call's), with the whole
    process's wall, CPU and peak memory."""
    out_dir = tmp / f"batch-{engine or 'default'}"
    shutil.rmtree(out_dir, ignore_errors=True)
    argv = ["batch", *map(str, calls), "-o", str(out_dir), "--threads", str(THREADS)]
    if engine:
        argv += ["--engine", engine]
    r = run_child(["batch", *argv], env)
    rows = {}
    for line in (out_dir / "batch.jsonl").read_text().splitlines():
        entry = json.loads(line)
        row = entry.get("row") or {}
        if entry.get("status") == "ok" and row.get("file"):
            rows[Path(row["file"]).name] = row
    return [{**r, "processing_s": float(rows[c.name]["processing_s"])} for c in calls]


def run_served(calls: list[Path], engine: str | None, env: dict[str, str], tmp: Path) -> dict:
    """``callscan analyze CALL1 --server URL`` (a whole client process) against a fresh
    ``callscan serve`` warmed by call 2; the server's start-up and peak memory beside it."""
    import signal
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "callscan", "serve", "--port", str(port)]
    argv += ["--threads", str(THREADS), *(["--engine", engine] if engine else [])]
    started = time.time()
    server = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    try:
        for line in server.stderr:
            if "ready at" in line:
                break
        else:
            raise SystemExit(f"callscan serve did not start: {server.wait()}")
        ready_s = time.time() - started
        url = f"http://127.0.0.1:{port}"
        out_dir = tmp / f"served-{engine or 'default'}"
        client = [sys.executable, "-m", "callscan", "analyze"]
        client_args = ["--server", url, "-o", str(out_dir), "-f", "json"]
        warm = run_command([*client, str(calls[1]), *client_args], env)
        r = run_command([*client, str(calls[0]), *client_args], env)
        status = Path(f"/proc/{server.pid}/status").read_text()
        hwm = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        r["server_peak_rss_mib"] = int(hwm.split()[1]) / 1024
        r["server_ready_s"] = round(ready_s, 2)
        r["warm_up_call_s"] = round(warm["wall_s"], 2)
        report = json.loads((out_dir / f"{calls[0].stem}.callscan.json").read_text())
        r["words"] = sum(len(t["text"].split()) for t in report["conversation"]["turns"])
        return r
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def run_command(argv: list[str], env: dict[str, str]) -> dict:
    """Start time, wall, CPU and peak memory of one command (``os.wait4``); it must succeed."""
    start = time.time()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall_s = time.time() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[2:4]} failed:\n{err.decode()[-3000:]}")
    return {
        "start": start,
        "wall_s": wall_s,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


def summarise(runs: list[dict], key: str) -> dict:
    med = statistics.median(r[key] for r in runs)
    best = min(runs, key=lambda r: abs(r[key] - med))  # the median run, for its steps
    out = {
        f"median_{key}": round(med, 2),
        "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs), 0),
        "runs_s": [round(r[key], 2) for r in runs],
    }
    for extra in ("steps_s", "words", "language", "segments", "transcribe_cpu_s"):
        if extra in best:
            out[extra] = best[extra]
    return out


CHILDREN = {  # this script's ``--child KIND PATH ARGS...`` modes
    "callscan": child_callscan,
    "batch": lambda path, rest: child_batch([path, *rest]),
    "whisperx": child_whisperx,
    "whisperx-whole": lambda path, rest: child_whisperx_whole(path),
}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, path, *rest = sys.argv[2:]
        CHILDREN[kind](path, rest)
        return

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", default="a,b", help="which of (a), (b) to run: a, b or a,b")
    args = parser.parse_args()
    chosen = {x.strip() for x in args.only.split(",") if x.strip()}
    if not chosen or not chosen <= {"a", "b"}:
        parser.error("--only takes a, b or a,b")

    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS))
    load_start = os.getloadavg()
    results: dict[str, list] = {k: [] for k in ("a", "b", "c", "c2", "d", "e", "f", "g", "h")}
    with tempfile.TemporaryDirectory(prefix="callscan-vs-whisperx-") as name:
        tmp = Path(name)
        calls = [tmp / "call1.wav", tmp / "call2.wav"]
        made = build_calls(calls, args.minutes)
        audio_s = made[0]["duration_s"]
        for i in range(args.runs):
            print(f"run {i + 1}/{args.runs}", file=sys.stderr)
            peer = run_whisperx(calls, env, tmp)
            results["c"].append(peer[0])
            results["c2"].append(peer[1])
            results["h"].append(run_child(["whisperx-whole", str(calls[0])], env))
            if "a" in chosen:
                results["a"].append(run_callscan(calls[0], "faster-whisper", env, tmp))
                results["e"].append(run_batch(calls, "faster-whisper", env, tmp))
                results["g"].append(run_served(calls, "faster-whisper", env, tmp))
            if "b" in chosen:
                results["b"].append(run_callscan(calls[0], None, env, tmp))
                results["d"].append(run_batch(calls, None, env, tmp))
                results["f"].append(run_served(calls, None, env, tmp))

    c = summarise(results["c"], "transcribe_s")
    c["realtime_x"] = round(audio_s / c["median_transcribe_s"], 2)
    c["median_cpu_s"] = round(statistics.median(r["transcribe_cpu_s"] for r in results["c"]), 2)
    c2 = summarise(results["c2"], "transcribe_s")
    peer_s, peer2_s = c["median_transcribe_s"], c2["median_transcribe_s"]
    h = summarise(results["h"], "wall_s")
    h["realtime_x"] = round(audio_s / h["median_wall_s"], 2)
    ours: dict[str, dict] = {}
    for key in sorted(chosen):
        s = summarise(results[key], "wall_s")
        s["realtime_x"] = round(audio_s / s["median_wall_s"], 2)
        s["ratio_to_whisperx"] = round(s["median_wall_s"] / peer_s, 2)
        s["ratio_to_whisperx_whole_process"] = round(s["median_wall_s"] / h["median_wall_s"], 2)
        ours[key] = s
    batches: dict[str, dict] = {}
    for key, whole in (("d", "b"), ("e", "a")):
        if whole not in chosen:
            continue
        first = statistics.median(r[0]["processing_s"] for r in results[key])
        second = statistics.median(r[1]["processing_s"] for r in results[key])
        batches[key] = {
            "first_call_s": first,  # the model's load included (not the process start)
            "first_call_ratio": round(first / peer_s, 2),
            "second_call_s": second,  # the model loaded, as the peer's
            "second_call_ratio": round(second / peer2_s, 2),
            "second_call_realtime_x": round(audio_s / second, 2),
            "runs_s": [[r[0]["processing_s"], r[1]["processing_s"]] for r in results[key]],
            "median_process_wall_s": round(
                statistics.median(r[0]["wall_s"] for r in results[key]), 2
            ),
            "peak_rss_mib": round(max(r[0]["peak_rss_mib"] for r in results[key]), 0),
        }
    served: dict[str, dict] = {}
    for key, whole in (("f", "b"), ("g", "a")):
        if whole not in chosen:
            continue
        s = summarise(results[key], "wall_s")
        s["realtime_x"] = round(audio_s / s["median_wall_s"], 2)
        s["ratio_to_whisperx"] = round(s["median_wall_s"] / peer_s, 2)
        pairs = zip(results[key], results["c"], strict=True)
        s["ratio_runs"] = [round(r["wall_s"] / p["transcribe_s"], 2) for r, p in pairs]
        for extra in ("server_peak_rss_mib", "server_ready_s", "warm_up_call_s"):
            s[f"median_{extra}"] = round(statistics.median(r[extra] for r in results[key]), 2)
        served[key] = s
    record = {
        "call": made[0],
        "second_call": made[1],
        "threads": THREADS,
        "runs": args.runs,
        "goal": "ratio_to_whisperx <= 1.0 for (a) and (b)",
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        **({"a_callscan_faster_whisper": ours["a"]} if "a" in ours else {}),
        **({"b_callscan_default": ours["b"]} if "b" in ours else {}),
        "c_whisperx_style_transcribe_only": c,
        "c_second_call": c2,
        "h_whisperx_style_whole_process": h,
        **({"d_callscan_batch_default": batches["d"]} if "d" in batches else {}),
        **({"e_callscan_batch_faster_whisper": batches["e"]} if "e" in batches else {}),
        **({"f_callscan_server_default": served["f"]} if "f" in served else {}),
        **({"g_callscan_server_faster_whisper": served["g"]} if "g" in served else {}),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")

    print(
        f"\n{audio_s / 60:.1f}-minute stereo call ({len(made[0]['calls'])} HarperValleyBank "
        f"calls), {THREADS} threads, median of {args.runs}"
    )
    print(f"{'':44s} {'wall s':>7s} {'x real':>7s} {'ratio':>6s} {'cpu s':>7s} {'peak MiB':>8s}")
    labels = {
        "a": "(a) callscan analyze --engine faster-whisper",
        "b": "(b) callscan analyze (default engine)",
    }
    rows = [(labels[k], s, s["median_wall_s"]) for k, s in ours.items()]
    rows.append(("(c) WhisperX-style transcribe (model loaded)", c, peer_s))
    for label, s, wall in rows:
        ratio = s.get("ratio_to_whisperx", 1.0)
        print(
            f"{label:44s} {wall:7.1f} {s['realtime_x']:6.1f}x {ratio:6.2f} "
            f"{s['median_cpu_s']:7.1f} {s['peak_rss_mib']:8.0f}"
        )
    print(
        f"{'(h) WhisperX-style, whole process':44s} {h['median_wall_s']:7.1f} "
        f"{h['realtime_x']:6.1f}x {'':6s} {h['median_cpu_s']:7.1f} {h['peak_rss_mib']:8.0f}"
    )
    for key, s in ours.items():
        print(
            f"({key}) whole process against (h), whole process: "
            f"{s['ratio_to_whisperx_whole_process']:.2f}"
        )
    for key, s in ours.items():
        label = f"({key})"
        steps = ", ".join(f"{k} {v:.1f}" for k, v in s.get("steps_s", {}).items())
        print(f"{label} steps (s): {steps}")
    names = {
        "d": "(d) callscan batch (default engine)",
        "e": "(e) callscan batch --engine faster-whisper",
    }
    for key, b in batches.items():
        print(
            f"{names[key]}: first call {b['first_call_s']:.1f} s (model load included, ratio "
            f"{b['first_call_ratio']:.2f}), second call {b['second_call_s']:.1f} s (model "
            f"loaded, ratio {b['second_call_ratio']:.2f} to the peer's {peer2_s:.1f} s)"
        )
    names = {
        "f": "(f) callscan analyze --server (default engine)",
        "g": "(g) callscan analyze --server (faster-whisper)",
    }
    for key, f in served.items():
        print(
            f"{names[key]}: client process {f['median_wall_s']:.1f} s, ratio "
            f"{f['ratio_to_whisperx']:.2f} (per run {f['ratio_runs']}), server ready in "
            f"{f['median_server_ready_s']:.1f} s, server peak {f['median_server_peak_rss_mib']:.0f}"
            f" MiB, client peak {f['peak_rss_mib']:.0f} MiB"
        )
    la = record["load_average"]
    print(f"load average {la['start'][0]:.1f} -> {la['end'][0]:.1f} on {os.cpu_count()} CPUs")
    print(
        "(c): wall and cpu s are call 1's transcription alone; peak MiB its whole process "
        "(model and both calls)"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
