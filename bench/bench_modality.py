"""Speed of the whole modality stage (callscan.analysis.modality.detect) on a synthetic batch.

The batch repeats the labelled calls in tests/data/modality/ (every split) as written, so
the stem/lemma caches warm up as on a real day of calls with a shared vocabulary. The
first pass (cold caches, lexicon loading) is timed separately.

Usage: python bench/bench_modality.py [--copies 40]
Prints one Markdown table: language, calls, words, seconds, words/s.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from callscan.analysis.modality import ModalityOptions, detect, load_lexicon
from callscan.conversation import parse_text

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "modality"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--copies", type=int, default=40, help="times each labelled call is repeated"
    )
    args = parser.parse_args()
    rows = []
    for lang in ("id", "en"):
        calls = yaml.safe_load((DATA / f"calls_{lang}.yaml").read_text(encoding="utf-8"))["calls"]
        convs = [parse_text(c["text"], language=lang) for c in calls]
        words_per_pass = sum(len(t.text.split()) for c in convs for t in c.turns)
        opts = ModalityOptions(language=lang)
        t0 = time.perf_counter()
        load_lexicon(lang)
        for conv in convs:  # cold: lexicon load, stemmer start-up, empty caches
            detect(conv, opts)
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(args.copies):
            for conv in convs:
                detect(conv, opts)
        warm_s = time.perf_counter() - t0
        n = len(convs)
        rows.append((f"{lang} (first pass, cold)", n, words_per_pass, cold_s))
        rows.append((lang, n * args.copies, words_per_pass * args.copies, warm_s))
    print("| language | calls | words | seconds | words/s |")
    print("|---|---:|---:|---:|---:|")
    for lang, n, words, secs in rows:
        print(f"| {lang} | {n} | {words} | {secs:.3f} | {words / secs:,.0f} |")


if __name__ == "__main__":
    main()
