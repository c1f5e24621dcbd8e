"""Benchmark: transcription wall time, real-time factor and peak memory per model.

Each configuration runs in its own child process so that peak RSS is its own.

    .venv/bin/python bench/bench_transcribe.py [--audio FILE] [--models tiny.en,base]
        [--threads N] [--language en]

Prints one Markdown table and writes bench/out/transcribe.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUDIO = ROOT.parent / "shared" / "data" / "audio" / "bench_en_57s.wav"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from callscan import asr
from callscan.audio.decode import load
model_name, audio_path, threads, language = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
model = asr.load_model(model_name)
t1 = time.perf_counter()
rec = load(audio_path)
t2 = time.perf_counter()
opts = asr.TranscribeOptions(model=model_name, language=language, threads=threads)
result = asr.transcribe(model, rec, opts)
t3 = time.perf_counter()
print(json.dumps({
    "load_model_s": t1 - t0, "decode_audio_s": t2 - t1, "transcribe_s": t3 - t2,
    "audio_s": rec.duration_s, "words": len(result.words()), "text": result.text,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run(model: str, audio: Path, threads: int, language: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, model, str(audio), str(threads), language],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = callscan default)")
    ap.add_argument("--language", default="en")
    args = ap.parse_args()

    rows = []
    for model in args.models.split(","):
        r = run(model, args.audio, args.threads, args.language)
        r["model"] = model
        r["rtf_x"] = r["audio_s"] / r["transcribe_s"]
        rows.append(r)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"# transcribe benchmark: {args.audio.name}, {time.strftime('%Y-%m-%d')}, {machine}")
    print("| model | engine | audio s | load model s | transcribe s | x real time | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | openai-whisper greedy | {r['audio_s']:.1f} | {r['load_model_s']:.1f} | "
            f"{r['transcribe_s']:.1f} | {r['rtf_x']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "transcribe.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
