#!/usr/bin/env python3
"""Validate conduct3_extra.jsonl (single agent turns for the conduct labels) and print counts.

Usage: python3 check.py. Standard library only. Exit status 1 on any error.
Checks: one JSON object per line with exactly the keys call, turn, role, lang, text, labels;
call "conduct3_extra", turn the 0-based line index, role "agent", lang "id" or "en", a
non-empty text not seen before, labels a list of distinct conduct labels.
"""

import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ["call", "turn", "role", "lang", "text", "labels"]
LABELS = {"blame_colleague", "blame_customer", "competitor_bashing", "slang_jargon"}


def main():
    errors, seen = [], set()
    counts = collections.Counter()
    with open(os.path.join(HERE, "conduct3_extra.jsonl"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for i, line in enumerate(lines):
        where = f"conduct3_extra.jsonl:{i + 1}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: not JSON ({exc})")
            continue
        if not isinstance(row, dict) or list(row) != KEYS:
            errors.append(f"{where}: keys must be {KEYS}")
            continue
        if row["call"] != "conduct3_extra" or row["turn"] != i or row["role"] != "agent":
            errors.append(f"{where}: call/turn/role")
        if row["lang"] not in ("id", "en"):
            errors.append(f"{where}: lang {row['lang']!r}")
        text = row["text"]
        if not isinstance(text, str) or not text.strip() or text.strip().lower() in seen:
            errors.append(f"{where}: empty or repeated text")
        seen.add(str(text).strip().lower())
        labs = row["labels"]
        if not isinstance(labs, list) or len(set(labs)) != len(labs) or not set(labs) <= LABELS:
            errors.append(f"{where}: labels {labs!r}")
            continue
        counts[(row["lang"], "rows")] += 1
        for lab in labs or ["none"]:
            counts[(row["lang"], lab)] += 1
    for key in sorted(counts):
        print(f"{key[0]} {key[1]:20s} {counts[key]}")
    if errors:
        for e in errors:
            print("ERROR:", e)
        print(f"FAILED: {len(errors)} error(s)")
        return 1
    print(f"OK: {len(lines)} rows; keys, turns, roles, languages, texts and labels valid.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
