"""Redaction on the labelled set (tests/data/redaction/cases.yaml): recall and numbers kept.

Recall: the share of personal-data mentions whose every letter and digit lies inside a masked
span. Destroyed: the share of ordinary numbers (prices, dates, times, quantities, tickets,
years) with any character masked. Kind: the share of masked mentions given the right mask.
Reported for the dev part (patterns tuned on it), the held-out part and both.

    .venv/bin/python bench/bench_redact.py [--part dev|heldout|blind|all] [--show] [--cases PATH]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from callscan.redact import find

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "redaction" / "cases.yaml"


def load_cases(path: Path = CASES) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


def _where(text: str, value: str) -> int:
    """Where ``value`` stands in ``text`` as a whole (not inside a longer number or word)."""
    m = re.search(rf"(?<![^\W_]){re.escape(value)}(?![^\W_])", text)
    return m.start() if m else text.index(value)


def score(cases: list[dict], show: bool = False) -> dict[str, float | int]:
    """Counts and rates over ``cases``."""
    n_pii = masked = right_kind = n_keep = destroyed = 0
    for case in cases:
        text = case["text"]
        spans = find(text)
        covered = [None] * len(text)
        for s in spans:
            for i in range(s.start, s.end):
                covered[i] = s.kind
        for p in case.get("pii") or []:
            a = _where(text, p["value"])
            chars = [i for i in range(a, a + len(p["value"])) if text[i].isalnum()]
            n_pii += 1
            if all(covered[i] for i in chars):
                masked += 1
                right_kind += all(covered[i] == p["kind"] for i in chars)
            elif show:
                print(f"MISSED {p['kind']:7s} {p['value']!r} in {text!r}")
        for v in case.get("keep") or []:
            a = _where(text, v)
            n_keep += 1
            if any(covered[i] for i in range(a, a + len(v))):
                destroyed += 1
                if show:
                    print(
                        f"DESTROYED {v!r} in {text!r} -> {[(text[s.start : s.end], s.kind) for s in spans]}"
                    )
    return {
        "pii": n_pii,
        "recall": masked / n_pii if n_pii else 1.0,
        "kind_accuracy": right_kind / masked if masked else 1.0,
        "ordinary": n_keep,
        "destroyed_rate": destroyed / n_keep if n_keep else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("dev", "heldout", "blind", "all"), default="all")
    ap.add_argument(
        "--show", action="store_true", help="print every miss and every destroyed number"
    )
    ap.add_argument(
        "--cases",
        type=Path,
        default=CASES,
        help="labelled set to score (default: tests/data/redaction/cases.yaml)",
    )
    args = ap.parse_args()
    cases = load_cases(args.cases)
    present = tuple(dict.fromkeys(c["part"] for c in cases))  # the parts this file has
    parts = (*present, "all") if args.part == "all" else (args.part,)
    for part in parts:
        chosen = cases if part == "all" else [c for c in cases if c["part"] == part]
        r = score(chosen, show=args.show and part != "all")
        print(
            f"{part:8s} personal data {r['pii']:3d}  recall {r['recall']:.3f}  "
            f"(right kind {r['kind_accuracy']:.3f})   ordinary numbers {r['ordinary']:3d}  "
            f"destroyed {r['destroyed_rate']:.3f}"
        )


if __name__ == "__main__":
    main()
