"""Accuracy of the scripted-greeting rule on openings labelled by a reader who never saw it.

    .venv/bin/python bench/eval_greeting.py                 # every group, table
    .venv/bin/python bench/eval_greeting.py --errors dev    # the dev split's misses (tune here)
    .venv/bin/python bench/eval_greeting.py --json out.json

The rule (``scripted_greeting`` in the bundled playbooks, no team profile) looks for three
required elements in the agent's first turns: a formal greeting, the organisation's name and
the agent's own name. ``tests/data/opening-labels/labels.jsonl`` says, for 810 calls, whether
each element is there; it was written by readers who saw only the agent's first three turns
and the definitions in that folder's README, never the rules.

Groups: **tune**, 240 short openings written for tuning this rule by a writer who never saw it
(``tests/data/opening-tune``, labelled by that writer: tune on it); the dev-calls
(``../shared/data/dev-calls``) split as ``bench/eval_devcalls.py`` splits them, **dev** (tune on
it) and **held out**; the **blind** sets (``tests/data/blind-calls*``,
written blind to the rules; never tuned on: aggregate scores only). Per element: precision and
recall of "present", and the finding a user reads, "missing: ELEMENT" (precision and recall of
the element being absent). Rows a labeller marked unsure for an element are left out of that
element's score.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.eval_devcalls import DEFAULT as DEVCALLS  # noqa: E402
from bench.eval_devcalls import is_heldout  # noqa: E402

LABELS = (
    ROOT / "tests" / "data" / "opening-tune" / "labels.jsonl",
    ROOT / "tests" / "data" / "opening-tune-2" / "labels.jsonl",
    ROOT / "tests" / "data" / "opening-labels" / "labels.jsonl",
)
ELEMENTS = ("greeting", "company", "agent_name")
RULE = "scripted_greeting"


@dataclass
class Counts:
    tp: int = 0  # present, found
    fp: int = 0  # absent, found
    fn: int = 0  # present, not found
    tn: int = 0  # absent, not found

    def add(self, truth: bool, guess: bool) -> None:
        if truth and guess:
            self.tp += 1
        elif guess:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    def row(self) -> dict[str, float | int]:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 3) if b else 1.0

        return {
            "n": self.tp + self.fp + self.fn + self.tn,
            "present_p": ratio(self.tp, self.tp + self.fp),
            "present_r": ratio(self.tp, self.tp + self.fn),
            "missing_p": ratio(self.tn, self.tn + self.fn),  # "missing" findings that are right
            "missing_r": ratio(self.tn, self.tn + self.fp),  # absent elements reported missing
            "accuracy": ratio(self.tp + self.tn, self.tp + self.fp + self.fn + self.tn),
        }


@dataclass
class Group:
    elements: dict[str, Counts] = field(default_factory=lambda: {e: Counts() for e in ELEMENTS})
    rule: Counts = field(default_factory=Counts)  # "complete" (all present) against "fail"
    errors: list[str] = field(default_factory=list)


def transcript_path(call_id: str) -> Path:
    folder, name = call_id.split("/", 1)
    if folder == "dev-calls":
        return DEVCALLS / f"{name}.txt"
    return ROOT / "tests" / "data" / folder / f"{name}.txt"


def group_of(call_id: str, hvb_ids: list[str]) -> str:
    folder, name = call_id.split("/", 1)
    if folder.startswith("opening-tune"):
        return "tune"
    if folder != "dev-calls":
        return "blind"
    base = name.removesuffix("_asr")
    return "heldout" if is_heldout(base, hvb_ids) else "dev"


def found_elements(path: Path) -> tuple[set[str], str]:
    """The rule's elements found in the call (no team profile), and the agent's first turn."""
    from callscan.analysis import stages
    from callscan.conversation import load

    if path.parent.name.startswith("opening-tune"):  # an opening alone: give it a call's length, so
        # that the 'start' window holds the agent's first three turns, as in a whole call
        # (short calls split their turns between the opening and the close)
        import tempfile

        text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
        text += "caller: okay\nagent: okay\n" * 4
        with tempfile.TemporaryDirectory() as tmp:
            padded = Path(tmp) / path.name
            padded.write_text(text, encoding="utf-8")
            conv = load(str(padded))
    else:
        conv = load(str(path))
    result = stages.check(conv, options=stages.StageOptions(classifier=False))
    rule = next(r for r in result.rules if r.id == RULE)
    found = {h.rule.split(".", 1)[1] for h in rule.hits if h.rule.startswith(f"{RULE}.")}
    first = next((t.text for t in conv.turns if t.role == "agent"), "")
    return found, first


def score(labels: list[dict]) -> dict[str, Group]:
    hvb = sorted(
        {
            r["id"].split("/", 1)[1].removesuffix("_asr")
            for r in labels
            if r["id"].startswith("dev-calls/hvb_")
        }
    )
    groups: dict[str, Group] = {}
    for row in labels:
        name = group_of(row["id"], hvb)
        g = groups.setdefault(name, Group())
        found, first = found_elements(transcript_path(row["id"]))
        for e in ELEMENTS:
            if e in row.get("unsure", []):
                continue
            g.elements[e].add(bool(row[e]), e in found)
            if bool(row[e]) != (e in found):
                g.errors.append(f"{row['id']}: {e} label={row[e]} rule={e in found} | {first}")
        if not set(row.get("unsure", [])) & set(ELEMENTS):
            g.rule.add(all(row[e] for e in ELEMENTS), set(ELEMENTS) <= found)
    return groups


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, nargs="+", default=LABELS)
    ap.add_argument(
        "--errors", choices=("tune", "dev", "heldout", "blind"), help="print this group's misses"
    )
    ap.add_argument("--json", type=Path, help="write the scores here")
    args = ap.parse_args()
    labels = []
    for path in args.labels:
        with open(path, encoding="utf-8") as f:
            labels += [json.loads(line) for line in f if line.strip()]
    groups = score(labels)
    out: dict[str, dict] = {}
    print("| group | element | n | present P | present R | 'missing' P | 'missing' R | accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("tune", "dev", "heldout", "blind"):
        if name not in groups:
            continue
        g = groups[name]
        rows = {e: g.elements[e].row() for e in ELEMENTS} | {"whole rule": g.rule.row()}
        out[name] = rows
        for e, r in rows.items():
            print(
                f"| {name} | {e} | {r['n']} | {r['present_p']:.2f} | {r['present_r']:.2f} | "
                f"{r['missing_p']:.2f} | {r['missing_r']:.2f} | {r['accuracy']:.2f} |"
            )
    if args.errors:
        for line in groups[args.errors].errors:
            print(line)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
