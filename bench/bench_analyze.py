"""Benchmark: ``callscan analyze`` end to end on a 5-minute stereo call, step by step.

The call is the bundled synthetic sample ``samples/en_sales_stereo.wav`` (84 s, agent and
caller on their own channels) tiled to the length asked for, written to a temporary WAV. The
run is the library's ``analyze()`` with default options (openai-whisper base, language auto),
timed per step by wrapping the pipeline's functions:

* load: decoding the file; vad: speech regions (crosstalk-gated, per channel);
* asr: language choice and transcription of the speech regions;
* speakers: turns, roles and talk metrics; opening: tone and clarity of the first 20 s;
* text: modality, stages and conduct, report assembly; render: the JSON and HTML pages.

    .venv/bin/python bench/bench_analyze.py [--minutes 5] [--threads 0] [--engine openai-whisper]

Prints one Markdown table (seconds and share of the total), the per-channel decoded speech
against the channel length, and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "samples" / "en_sales_stereo.wav"


def build_call(minutes: float, out: Path) -> float:
    y, sr = sf.read(SOURCE, dtype="int16", always_2d=True)
    n = int(minutes * 60 * sr)
    reps = int(np.ceil(n / len(y)))
    tiled = np.concatenate([y] * reps)[:n]
    sf.write(out, tiled, sr, subtype="PCM_16")
    return n / sr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = callscan's)")
    ap.add_argument("--engine", default="openai-whisper")
    args = ap.parse_args()

    import callscan.audio.vad as vad_mod
    import callscan.pipeline as pipeline
    import callscan.speakers.assign as speakers_mod
    from callscan import asr, report
    from callscan.audio import decode as audio
    from callscan.pipeline import AnalyzeOptions

    times: dict[str, float] = {}
    decoded: list[float] = []

    def timed(name, func):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return func(*a, **k)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    def speech_regions(*a, **k):
        regions = original_regions(*a, **k)
        decoded.extend(sum(r.end_s - r.start_s for r in ch) for ch in regions)
        return regions

    original_regions = vad_mod.speech_regions
    vad_mod.speech_regions = timed("vad", speech_regions)
    audio.load = timed("load", audio.load)
    asr.transcribe = timed("asr", asr.transcribe)
    speakers_mod.assign_speakers = timed("speakers", speakers_mod.assign_speakers)
    pipeline.score_opening_of = timed("opening", pipeline.score_opening_of)
    pipeline.analyze_conversation = timed("text", pipeline.analyze_conversation)

    options = AnalyzeOptions(threads=args.threads, engine=args.engine)
    model = asr.load_model("base", engine=args.engine, threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "call_5min_stereo.wav"
        duration = build_call(args.minutes, path)
        t0 = time.perf_counter()
        data = pipeline.analyze(path, options, model=model)
        t1 = time.perf_counter()
        for fmt in ("json", "html"):
            report.render(data, fmt)
        times["render"] = time.perf_counter() - t1
        total = time.perf_counter() - t0
    # the opening plot is built inside analyze() after the opening score
    times["other"] = total - sum(times.values())
    post = sum(times.get(k, 0.0) for k in ("speakers", "opening", "text", "render", "other"))

    print(
        f"# analyze: {args.minutes:g}-minute stereo call ({duration:.0f} s), engine "
        f"{args.engine}, {time.strftime('%Y-%m-%d')}"
    )
    print("| step | s | share |")
    print("|---|---|---|")
    for name in ("load", "vad", "asr", "speakers", "opening", "text", "render", "other"):
        t = times.get(name, 0.0)
        print(f"| {name} | {t:.2f} | {100 * t / total:.1f}% |")
    print(f"| **total** | **{total:.2f}** | x{duration / total:.1f} real time |")
    print(f"| after transcription | {post:.2f} | {100 * post / total:.1f}% |")
    per_channel = ", ".join(f"{d:.0f} s" for d in decoded)
    print(f"\nspeech decoded per channel: {per_channel} of {duration:.0f} s each")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"language {data['language']}, {len(data['conversation']['turns'])} turns")


if __name__ == "__main__":
    main()
