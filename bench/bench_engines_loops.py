"""Benchmark: loops and text past the audio's end, per engine, on every real clip we have.

For each real clip (tests/data sample.wav and fw_jfk.flac, ../shared/data/audio bench_en_57s.wav,
the 22 HarperValleyBank files at 8 kHz, the Common Voice Indonesian clip) it transcribes with
callscan's default path (speech regions, packed windows) and reports, per engine and setting,
words out against reference words, WER (callscan.asr.wer, Whisper's normalisers) and the last
segment's end against the audio's length:

* ``faster-whisper, no guards``: faster-whisper's batched pipeline alone (one decode per window,
  as before issue 17);
* ``faster-whisper``: with the guards of callscan.asr.guards (loop check, fallback, window end);
* ``openai-whisper``: the default engine.

Then the same clip is transcribed by each engine in child processes with different
OMP_NUM_THREADS / MKL_NUM_THREADS / OPENBLAS_NUM_THREADS (1, 2, unset), and their texts are
compared (identical text = deterministic).

    .venv/bin/python bench/bench_engines_loops.py [--settings fw-off,fw,whisper] [--threads 1]
        [--clips NAME,...] [--no-env-check]

Prints a Markdown table and writes bench/out/engines_loops.json.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
HVB = SHARED / "audio-real" / "harper-valley-bank"
CV_ID = SHARED / "audio-real" / "common-voice-id"
BENCH_REFERENCED_S = 52.5  # bench_en_57s: the last 4 s (hotwords.mp3) has no reference

sys.path.insert(0, str(ROOT))
from tests.references import JFK, LEFT, RIGHT  # noqa: E402  (the clips' published references)

SETTINGS = {
    # name: (engine, guards on, description)
    "fw-off": ("faster-whisper", False, "faster-whisper, no guards (before)"),
    "fw": ("faster-whisper", True, "faster-whisper, guards (after)"),
    "whisper": ("openai-whisper", True, "openai-whisper (default engine)"),
}


def _stm_text() -> str:
    lines = (ROOT / "tests" / "data" / "sample.stm").read_text().splitlines()
    return " ".join(line.split(None, 5)[-1] for line in lines if line.strip())


def clips() -> list[dict[str, Any]]:
    """Every real clip: name, path, language, reference, and the seconds the reference covers
    (None: all of it)."""
    out: list[dict[str, Any]] = [
        dict(name="sample.wav", path=ROOT / "tests/data/sample.wav", language="en",
             reference=_stm_text(), referenced_s=None),
        dict(name="fw_jfk.flac", path=ROOT / "tests/data/fw_jfk.flac", language="en",
             reference=JFK, referenced_s=None),
        dict(name="bench_en_57s.wav", path=SHARED / "audio/bench_en_57s.wav", language="en",
             reference=" ".join([_stm_text(), JFK, LEFT, RIGHT]),
             referenced_s=BENCH_REFERENCED_S),
    ]  # fmt: skip
    for folder in (HVB, CV_ID):
        for line in (folder / "references.tsv").read_text().splitlines():
            if not line.strip():
                continue
            file, language, text = line.split("\t", 2)
            name = f"{folder.name}/{file.replace('audio/', '')}"
            out.append(
                dict(name=name, path=folder / file, language=language, reference=text,
                     referenced_s=None)
            )  # fmt: skip
    return [c for c in out if Path(c["path"]).exists()]


def transcribe(model, clip: dict, threads: int):
    from callscan import asr
    from callscan.audio.decode import load
    from callscan.pipeline import process_recording

    options = asr.TranscribeOptions(language=clip["language"], engine=model.name, threads=threads)
    transcript, _ = process_recording(load(str(clip["path"])), model, options)
    return transcript


def measure(setting: str, clip_list: list[dict], threads: int) -> list[dict]:
    from callscan import asr
    from callscan.asr.faster_engine import FasterWhisper
    from callscan.asr.wer import normalize, wer

    engine, guarded, _ = SETTINGS[setting]
    model = asr.load_model("base", engine=engine, threads=threads)
    if isinstance(model, FasterWhisper):
        model.use_guards = guarded
    rows = []
    for clip in clip_list:
        t0 = time.perf_counter()
        tr = transcribe(model, clip, threads)
        seconds = time.perf_counter() - t0
        words = tr.words()
        cut = clip["referenced_s"]
        hyp = " ".join(w.text for w in words if cut is None or w.start_s < cut)
        ref_words = len(normalize(clip["reference"], clip["language"]))
        out_words = len(normalize(" ".join(w.text for w in words), clip["language"]))
        last_end = max([s.end_s for s in tr.segments] + [w.end_s for w in words] + [0.0])
        rows.append(
            {
                "setting": setting,
                "clip": clip["name"],
                "language": clip["language"],
                "audio_s": round(tr.duration_s, 2),
                "ref_words": ref_words,
                "out_words": out_words,
                "ratio": round(out_words / max(ref_words, 1), 3),
                "wer": round(wer(clip["reference"], hyp, clip["language"]), 4),
                "last_end_s": round(last_end, 2),
                "past_end": last_end > tr.duration_s + 0.01,
                "zero_length_segments": sum(s.end_s - s.start_s <= 0.0 for s in tr.segments),
                "seconds": round(seconds, 2),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


CHILD = r"""
import json, sys
from callscan import asr
from callscan.audio.decode import load
from callscan.pipeline import process_recording
path, language, engine = sys.argv[1], sys.argv[2], sys.argv[3]
model = asr.load_model("base", engine=engine, threads=1)
options = asr.TranscribeOptions(language=language, engine=engine, threads=1)
transcript, _ = process_recording(load(path), model, options)
print(json.dumps([[s.channel, round(s.start_s, 3), s.text] for s in transcript.segments]))
"""

ENVS = {"1": "1", "2": "2", "unset": None}
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def env_check(clip: dict, engine: str) -> dict:
    """The same clip through an engine (guards on) in child processes whose thread variables
    differ; whether every child gave the same segments."""
    texts = {}
    for label, value in ENVS.items():
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
        if value is not None:
            env.update({k: value for k in THREAD_VARS})
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(clip["path"]), clip["language"], engine],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        texts[label] = json.loads(out.stdout.strip().splitlines()[-1])
    first = next(iter(texts.values()))
    return {
        "clip": clip["name"],
        "engine": engine,
        "envs": list(ENVS),
        "identical": all(t == first for t in texts.values()),
        "texts": {k: " ".join(s[2] for s in v) for k, v in texts.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clips", default="", help="comma-separated clip names (default: all)")
    ap.add_argument("--env-clips", default="sample.wav,common_voice_id_19059577.wav")
    ap.add_argument("--env-engines", default="faster-whisper,openai-whisper")
    ap.add_argument("--no-env-check", action="store_true")
    args = ap.parse_args()
    clip_list = clips()
    if args.clips:
        wanted = set(args.clips.split(","))
        clip_list = [c for c in clip_list if c["name"] in wanted or Path(c["name"]).name in wanted]
    rows: list[dict] = []
    for setting in args.settings.split(","):
        rows += measure(setting, clip_list, args.threads)
    checks = []
    if not args.no_env_check:
        wanted = set(args.env_clips.split(","))
        checks = [
            env_check(c, engine)
            for engine in args.env_engines.split(",")
            for c in clips()
            if Path(c["name"]).name in wanted
        ]

    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {args.threads} thread(s)"
    print(f"# engines and loops: model base, {time.strftime('%Y-%m-%d')}, {machine}")
    print(
        "| clip | lang | audio s | ref words | "
        + " | ".join(f"{s} words | {s} WER | {s} past end" for s in args.settings.split(","))
        + " |"
    )
    print("|---|---|---|---|" + "---|---|---|" * len(args.settings.split(",")))
    by_clip: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_clip.setdefault(r["clip"], {})[r["setting"]] = r
    for name, per in by_clip.items():
        any_row = next(iter(per.values()))
        cells = []
        for s in args.settings.split(","):
            r = per[s]
            cells.append(f"{r['out_words']} | {r['wer']:.3f} | {'yes' if r['past_end'] else 'no'}")
        print(
            f"| {name} | {any_row['language']} | {any_row['audio_s']:.1f} | "
            f"{any_row['ref_words']} | " + " | ".join(cells) + " |"
        )
    summary = {}
    for s in args.settings.split(","):
        mine = [r for r in rows if r["setting"] == s]
        ref = sum(r["ref_words"] for r in mine)
        errors = sum(r["wer"] * r["ref_words"] for r in mine)
        summary[s] = {
            "clips": len(mine),
            "max_ratio": max((r["ratio"] for r in mine), default=0.0),
            "over_2x": [r["clip"] for r in mine if r["ratio"] > 2.0],
            "past_end": [r["clip"] for r in mine if r["past_end"]],
            "pooled_wer": round(errors / max(ref, 1), 4),
            "seconds": round(sum(r["seconds"] for r in mine), 1),
        }
        print(f"{s}: {json.dumps(summary[s])}")
    for c in checks:
        print(f"{c['engine']}: identical text under OMP/MKL/OPENBLAS_NUM_THREADS {c['envs']} "
              f"on {c['clip']}: {c['identical']}")  # fmt: skip
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engines_loops.json").write_text(
        json.dumps(
            {"machine": machine, "rows": rows, "summary": summary, "env_checks": checks},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
