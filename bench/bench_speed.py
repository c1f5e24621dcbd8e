"""Benchmark: transcription engines and settings side by side, in one run.

Each configuration runs in its own child process (its own peak RSS), one after another on
the same machine, so ratios between rows are fair. WER is measured on the part of
``bench_en_57s.wav`` that has a published reference (the first 52.5 s: sample.wav's STM, JFK,
and both stereo-diarization channels; the last 4 s, hotwords.mp3, has none) and on the real
phone excerpt ``sample.wav`` against its human transcript.

The bench file is transcribed twice in each child with the model loaded once: "first call"
includes one-time costs of a fresh process (numba compiling whisper's word-alignment DTW, lazy
imports, the VAD model's first run); "transcribe s" is the second call, what every further
file of a batch costs a worker. Ratios and the real-time factor use the second call.

    .venv/bin/python bench/bench_speed.py [--configs plain-beam5,plain-greedy,callscan,...]
        [--threads N]

Prints one Markdown table and writes bench/out/speed.json.
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
BENCH = ROOT.parent / "shared" / "data" / "audio" / "bench_en_57s.wav"
SAMPLE = ROOT / "tests" / "data" / "sample.wav"
REFERENCED_S = 52.5  # bench_en_57s: sample (30 s) + jfk + left + right, with 0.5 s gaps

CONFIGS = {
    # name: (kind, engine, quantize, description)
    "plain-beam5": ("plain", None, False, "whisper.transcribe, beam 5 (whisper CLI default)"),
    "plain-greedy": ("plain", None, False, "whisper.transcribe, greedy"),
    "callscan": ("callscan", "openai-whisper", None, "VAD + packed windows, batched greedy"),
    "callscan-int8": ("callscan", "openai-whisper", True, "as above, dynamic int8 linears"),
    "faster-whisper": ("callscan", "faster-whisper", False, "faster-whisper int8, batched"),
}

CHILD = r"""
import json, resource, sys, time
name, kind, engine, quantize, model_name, path, threads, repeat = sys.argv[1:9]
quantize = {"1": True, "0": False}.get(quantize); threads = int(threads)
import torch
torch.set_num_threads(threads)
from callscan import asr
from callscan.audio.decode import load
t0 = time.perf_counter()
rec = load(path)
if kind == "plain":
    import whisper
    model = asr.load_model(model_name)
else:
    from callscan.pipeline import process_recording
    model = asr.load_model(model_name, engine=engine, quantize=quantize, threads=threads)
load_s = time.perf_counter() - t0


def once():
    if kind == "plain":
        opts = dict(language="en", fp16=False, word_timestamps=True)
        if name == "plain-beam5":
            opts["beam_size"] = 5
        r = whisper.transcribe(model, torch.from_numpy(rec.mono()), **opts)
        return [(w["start"], w["word"]) for s in r["segments"] for w in s.get("words", [])]
    o = asr.TranscribeOptions(model=model_name, language="en", threads=threads, engine=engine)
    transcript, _ = process_recording(rec, model, o)
    return [(w.start_s, w.text) for w in transcript.words()]


times = []
for _ in range(int(repeat)):
    t1 = time.perf_counter()
    words = once()
    times.append(time.perf_counter() - t1)
print(json.dumps({"load_s": load_s, "times_s": times, "audio_s": rec.duration_s,
    "words": words, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def reference_bench() -> str:
    from callscan.asr.wer import normalize  # noqa: F401  (checks the venv)

    stm = (ROOT / "tests" / "data" / "sample.stm").read_text().splitlines()
    parts = [line.split(None, 5)[-1] for line in stm if line.strip()]
    parts.append(
        "And so my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country."
    )
    parts.append(
        "He began a confused complaint against the wizard, "
        "who had vanished behind the curtain on the left."
    )
    parts.append("The horizon seems extremely distant.")
    return " ".join(parts)


def run(name: str, model: str, path: Path, threads: int, repeat: int = 1) -> dict:
    kind, engine, quantize, _ = CONFIGS[name]
    args = [
        name,
        kind,
        engine or "-",
        {True: "1", False: "0"}.get(quantize, "-"),
        model,
        str(path),
        str(threads),
    ]
    args.append(str(repeat))
    out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from callscan.asr.wer import wer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--model", default="base")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    bench_ref = reference_bench()
    sample_ref = " ".join(
        line.split(None, 5)[-1]
        for line in (ROOT / "tests" / "data" / "sample.stm").read_text().splitlines()
        if line.strip()
    )
    rows = []
    for name in args.configs.split(","):
        r = run(name, args.model, BENCH, args.threads, repeat=2)
        hyp = " ".join(w for t, w in r["words"] if t < REFERENCED_S)
        s = run(name, args.model, SAMPLE, args.threads)
        rows.append(
            {
                "config": name,
                "setting": CONFIGS[name][3],
                "audio_s": r["audio_s"],
                "first_s": r["times_s"][0],
                "transcribe_s": r["times_s"][1],
                "x_real_time": r["audio_s"] / r["times_s"][1],
                "x_real_time_first": r["audio_s"] / r["times_s"][0],
                "wer_bench": wer(bench_ref, hyp, "en"),
                "wer_sample": wer(sample_ref, " ".join(w for _, w in s["words"]), "en"),
                "peak_rss_mb": max(r["peak_rss_mb"], s["peak_rss_mb"]),
            }
        )
    base = next((r for r in rows if r["config"] == "plain-beam5"), None)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {args.threads} thread(s)"
    print(f"# speed: {BENCH.name}, model {args.model}, {time.strftime('%Y-%m-%d')}, {machine}")
    print(
        "| config | setting | first call s | transcribe s | x real time | vs plain beam 5 | "
        "WER bench (52.5 s) | WER sample.wav | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{base['transcribe_s'] / r['transcribe_s']:.1f}x" if base else "-"
        print(
            f"| {r['config']} | {r['setting']} | {r['first_s']:.1f} | {r['transcribe_s']:.1f} | "
            f"{r['x_real_time']:.1f} | {ratio} | {r['wer_bench']:.3f} | "
            f"{r['wer_sample']:.3f} | {r['peak_rss_mb']:.0f} |"
        )
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
