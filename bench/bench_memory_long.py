"""Benchmark: peak memory of ``callscan analyze`` on a long stereo call (issue 16).

Builds a stereo 8 kHz 16-bit WAV (a telephone recording) of ``--minutes`` minutes: the real
Harper Valley Bank calls of ``../shared/data/audio-real/harper-valley-bank`` (agent on the
left channel, caller on the right, both files of one call side by side) placed one after
another, each followed by quiet line noise (-60 dBFS) so that one call starts about every
``--every-min`` minutes, cycling through the calls. Transcription time then grows with the
number of calls placed, not with the length of the file; the share of the file that is
conversation (and the share each channel's VAD calls speech) is printed with the results.

Measured, each in its own process, peak RSS from the kernel (``wait4``'s ``ru_maxrss``):

- ``baseline``: callscan imported, the Whisper model and the VAD loaded, no audio;
- ``short``: ``callscan analyze`` on one short real call (the first one placed);
- ``long``: ``callscan analyze`` on the long file.

"Above the model" is ``long - baseline`` (goal: under 1.5 GB for 2 hours). With ``--by-step``
the long file is also analysed through the library with a progress hook, recording the
process's high-water mark (VmHWM) at each step, to see which step makes the peak.

    .venv/bin/python bench/bench_memory_long.py [--minutes 120] [--every-min 11] [--by-step]

Prints a Markdown table and writes bench/out/memory_long_<minutes>min.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HVB = ROOT.parent / "shared" / "data" / "audio-real" / "harper-valley-bank"
OUT = ROOT / "bench" / "out"
SR = 8000  # Hz, a telephone recording
NOISE_DBFS = -60.0  # the quiet line between calls
CALLSCAN = str(Path(sys.executable).with_name("callscan"))

BASELINE = r"""
import json, resource, sys
import callscan, librosa, torch  # noqa: F401  (what analyze imports)
from callscan import asr
from callscan.audio.vad import load_vad
asr.load_model(sys.argv[1]); load_vad()
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BY_STEP = r"""
import json, resource, sys, time
from callscan.pipeline import AnalyzeOptions, analyze

def status():
    fields = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields

steps, t0 = [], time.perf_counter()
def hook(step, done, total):
    steps.append({"step": f"{step} {done}/{total}", "t_s": round(time.perf_counter() - t0, 1),
                  **{k: round(v) for k, v in status().items()}})

analyze(sys.argv[1], AnalyzeOptions(model=sys.argv[2]), hook=hook)
print(json.dumps(steps))
"""


def conversations() -> list[tuple[str, Path, Path]]:
    with open(HVB / "calls.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [(r["sid"], HVB / r["agent_file"], HVB / r["caller_file"]) for r in rows]


def stereo_call(agent: Path, caller: Path) -> np.ndarray:
    """(n, 2) int16: the agent left, the caller right, the shorter side padded."""
    import soundfile as sf

    left, sr_l = sf.read(agent, dtype="int16")
    right, sr_r = sf.read(caller, dtype="int16")
    assert sr_l == sr_r == SR, (agent, sr_l, sr_r)
    n = max(left.size, right.size)
    out = np.zeros((n, 2), np.int16)
    out[: left.size, 0] = left
    out[: right.size, 1] = right
    return out


def build(path: Path, minutes: float, every_min: float, seed: int = 0) -> dict:
    """Write the long call, block by block; returns what it holds."""
    import soundfile as sf

    total = int(minutes * 60 * SR)
    every = int(every_min * 60 * SR)
    calls = conversations()
    rng = np.random.default_rng(seed)
    noise_amp = 32768 * 10 ** (NOISE_DBFS / 20)
    placed, conv_samples, written = [], 0, 0
    with sf.SoundFile(path, "w", samplerate=SR, channels=2, subtype="PCM_16") as f:
        i = 0
        while written < total:
            sid, agent, caller = calls[i % len(calls)]
            call = stereo_call(agent, caller)[: total - written]
            f.write(call)
            placed.append({"sid": sid, "start_s": written / SR, "duration_s": len(call) / SR})
            conv_samples += len(call)
            written += len(call)
            gap = min(max(every - len(call), 0), total - written)
            while gap > 0:  # the quiet line, 60 s at a time
                n = min(gap, 60 * SR)
                block = rng.normal(0.0, noise_amp, (n, 2)).round().astype(np.int16)
                f.write(block)
                written += n
                gap -= n
            i += 1
    return {
        "duration_s": written / SR,
        "calls_placed": len(placed),
        "conversation_s": conv_samples / SR,
        "conversation_share": conv_samples / written,
        "placed": placed,
    }


def run_child(cmd: list[str]) -> dict:
    """Run ``cmd``: its peak RSS (the kernel's ``ru_maxrss``, from ``wait4``), wall time and an
    RSS timeline sampled from /proc every 0.5 s."""
    t0 = time.perf_counter()
    out_f, err_f = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, text=True)
    timeline: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    rss = next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
                timeline.append((round(time.perf_counter() - t0, 1), round(rss / 1024)))
            except (OSError, StopIteration):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    done.set()
    sampler.join()
    out_f.seek(0)
    err_f.seek(0)
    out, err = out_f.read(), err_f.read()
    code = proc.returncode
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({code}): {err.strip()[-800:]}")
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "wall_s": round(time.perf_counter() - t0, 1),
        "timeline": timeline,
        "stdout": out,
    }


def analyze_cmd(path: Path, out_dir: Path, model: str) -> list[str]:
    return [CALLSCAN, "analyze", str(path), "-o", str(out_dir), "--model", model, "-f", "json"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=120.0)
    ap.add_argument("--every-min", type=float, default=11.0, help="one real call every N min")
    ap.add_argument("--model", default="base")
    ap.add_argument("--by-step", action="store_true", help="also record VmHWM at each step")
    ap.add_argument("--keep", action="store_true", help="keep the built WAV and reports")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="callscan-memlong-"))
    wav = work / f"long_{args.minutes:g}min.wav"
    t0 = time.perf_counter()
    built = build(wav, args.minutes, args.every_min)
    built["build_s"] = round(time.perf_counter() - t0, 1)
    built["file_mb"] = round(wav.stat().st_size / 2**20)
    short = work / "short.wav"
    import soundfile as sf

    first = conversations()[0]
    sf.write(short, stereo_call(first[1], first[2]), SR, subtype="PCM_16")

    rows: dict[str, dict] = {}
    rows["baseline"] = run_child([sys.executable, "-c", BASELINE, args.model])
    rows["short"] = run_child(analyze_cmd(short, work / "short-out", args.model))
    rows["long"] = run_child(analyze_cmd(wav, work / "long-out", args.model))
    report_path = next((work / "long-out").glob("*.callscan.json"))
    report = json.loads(report_path.read_text())
    speech = _speech_share(report, built["duration_s"])
    result = {
        "machine": f"{platform.node()} {os.cpu_count()} CPUs (shared: figures contended)",
        "minutes": args.minutes,
        "model": args.model,
        "audio": {k: v for k, v in built.items() if k != "placed"},
        "speech": speech,
        "language": report.get("language"),
        "words": sum(len(t.get("text", "").split()) for t in report["conversation"]["turns"]),
        "peak_rss_mb": {k: r["peak_rss_mb"] for k, r in rows.items()},
        "wall_s": {k: r["wall_s"] for k, r in rows.items()},
        "above_model_mb": rows["long"]["peak_rss_mb"] - rows["baseline"]["peak_rss_mb"],
        "long_timeline": rows["long"]["timeline"],
    }
    name = OUT / f"memory_long_{args.minutes:g}min.json"
    name.write_text(json.dumps(result, indent=1) + "\n")
    if args.by_step:
        child = run_child([sys.executable, "-c", BY_STEP, str(wav), args.model])
        result["by_step"] = json.loads(child["stdout"].strip().splitlines()[-1])
        result["by_step_peak_rss_mb"] = child["peak_rss_mb"]
        name.write_text(json.dumps(result, indent=1) + "\n")
    _print(result)
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    print(f"wrote {name.relative_to(ROOT)}")


def _speech_share(report: dict, duration_s: float) -> dict:
    """The share of the file each channel's VAD called speech (from the report's regions)."""
    speakers = report.get("speakers") or {}
    out = {}
    for key in ("speech_s", "talk_s"):
        if key in speakers:
            out[key] = speakers[key]
    turns = report["conversation"]["turns"]
    talk = sum(max(0.0, t["end_s"] - t["start_s"]) for t in turns)
    out["turns_s"] = round(talk, 1)
    out["turns_share"] = round(talk / duration_s, 3) if duration_s else 0.0
    return out


def _print(r: dict) -> None:
    a = r["audio"]
    print(
        f"\n{r['minutes']:g}-min stereo 8 kHz call: {a['calls_placed']} real calls placed, "
        f"conversation {a['conversation_s'] / 60:.1f} min ({a['conversation_share']:.1%} of the "
        f"file), turns {r['speech']['turns_s'] / 60:.1f} min ({r['speech']['turns_share']:.1%}),"
        f" {r['words']} words, language {r['language']}; {r['machine']}\n"
    )
    print("| run | peak RSS MB | wall s |")
    print("|---|---:|---:|")
    for k in ("baseline", "short", "long"):
        print(f"| {k} | {r['peak_rss_mb'][k]} | {r['wall_s'][k]} |")
    print(f"\nabove the model (long - baseline): {r['above_model_mb']} MB (goal < 1536 MB)")
    for s in r.get("by_step", []):
        print(
            f"  {s['step']:<16} t={s['t_s']:>7}s  RSS {s.get('VmRSS')} MB  HWM {s.get('VmHWM')} MB"
        )


if __name__ == "__main__":
    main()
