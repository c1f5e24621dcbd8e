#!/usr/bin/env python3
"""Validate the turn labels of the blind call sets 2-7, 10-13, 15 and 16 and print label counts.

Usage:
    python3 check.py [--sets 2,3]

Each <call>.jsonl here labels the turns of ../blind-calls-N/<call>.txt, where N is the
number after "blind" in the call id (blind4_id_07 -> ../blind-calls-4). --sets limits the
check (and the "every call has a file" rule) to those sets. Standard library only.
Exit status 1 on any error.

The checks are those of ../turn-labels/check.py (format, texts, label names, agreement with
the call labels both ways, conduct violations included), run on these files.
"""

import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SETS = [2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 15, 16]


def base_checker():
    path = os.path.join(HERE, os.pardir, "turn-labels", "check.py")
    spec = importlib.util.spec_from_file_location("turn_labels_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = HERE  # its check_call reads <call>.jsonl from this folder
    return module


def chosen_sets(argv):
    if "--sets" in argv:
        i = argv.index("--sets")
        if i + 1 >= len(argv):
            sys.exit("--sets needs a list like 2,3")
        return [int(s) for s in argv[i + 1].split(",")]
    return SETS


def set_dir(n):
    return os.path.normpath(os.path.join(HERE, "..", f"blind-calls-{n}"))


def set_of(cid):
    return int(cid.split("_")[0][len("blind") :])


def main(argv):
    base = base_checker()
    sets = chosen_sets(argv)
    rows = {}
    for n in sets:
        labels_path = os.path.join(set_dir(n), "labels.jsonl")
        if not os.path.isfile(labels_path):
            print(f"blind-call labels not found: {labels_path}")
            return 1
        with open(labels_path, encoding="utf-8") as fh:
            rows.update({r["id"]: r for r in map(json.loads, filter(str.strip, fh))})

    present = {
        f[: -len(".jsonl")] for f in os.listdir(HERE) if f.endswith(".jsonl") and set_of(f) in sets
    }
    return base.check_all(
        rows,
        present,
        lambda cid: set_dir(set_of(cid)),
        lambda cid, row: row["lang"],
        ("id", "en"),
        "turn-labels-blind",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
