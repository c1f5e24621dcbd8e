"""Accuracy of a conduct rule on calls labelled, for that rule, by readers who never saw it.

    .venv/bin/python bench/eval_rule_labels.py                      # scripted greeting
    .venv/bin/python bench/eval_rule_labels.py --rule farewell
    .venv/bin/python bench/eval_rule_labels.py --rule hold
    .venv/bin/python bench/eval_rule_labels.py --rule bare_no
    .venv/bin/python bench/eval_rule_labels.py --rule name_use
    .venv/bin/python bench/eval_rule_labels.py --rule grievance
    .venv/bin/python bench/eval_rule_labels.py --rule grievance --labels tests/data/grievance-test/labels.jsonl
    .venv/bin/python bench/eval_rule_labels.py --errors dev         # the dev split's misses
    .venv/bin/python bench/eval_rule_labels.py --json out.json

``scripted_greeting`` (bundled playbooks, no team profile) looks for three required elements in
the agent's first turns: a formal greeting, the organisation's name and the agent's own name.
``tests/data/opening-labels/labels.jsonl`` says, for 810 calls, whether each element is there;
it was written by readers who saw only the agent's first three turns and the definitions in
that folder's README, never the rules. ``farewell`` looks for a closing courtesy in the agent's
last turns; ``tests/data/closing-labels/labels.jsonl`` says, for the same 810 calls, whether
the agent closes with one (readers who saw only the agent's last turns). The three hold rules
(ask before a hold, say how long, thank for waiting; they apply when a hold notice is heard):
``tests/data/hold-labels/all-calls.jsonl`` says, for the same 810 calls read whole, whether the
agent puts the customer on hold and, if so, asks, gives a length and thanks; scored as what a
user reads: whether the rules apply, and each "not heard" finding. ``bare_no`` (a refusal with
no reason, alternative or next step): ``tests/data/bare-no-labels/labels.jsonl``, the same 810
calls read whole, and ``tests/data/bare-no-tune*``; scored as the violation reported.
``name_use`` (the agent addresses the customer by name, a plus):
``tests/data/name-labels/labels.jsonl``, the same 810 calls read whole, and
``tests/data/name-tune``; scored as the plus given. ``grievance`` (whether the caller raised a
grievance about a failed product, service, delivery or charge: the complaint steps are scored
only then), with the turn classifier as callscan runs by default: ``tests/data/grievance-tune``
and ``grievance-tune-2`` (tuning), the call labels of dev-calls and the blind sets (a non-null ``complaint``), and
``tests/data/grievance-test`` (written beside the tuning set and never tuned on; pass it with
``--labels``).

Groups: **tune**, the sets written for tuning a rule by writers who never saw it
(``tests/data/opening-tune*``, ``closing-tune``, ``hold-tune*``, ``bare-no-tune*``, labelled by
their writers: tune on them); the dev-calls
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.eval_devcalls import DEFAULT as DEVCALLS  # noqa: E402
from bench.eval_devcalls import is_heldout  # noqa: E402

DATA = ROOT / "tests" / "data"
RULES = {  # rule -> (its label files, the elements labelled: the rule's cue names)
    "scripted_greeting": (
        (
            DATA / "opening-tune" / "labels.jsonl",
            DATA / "opening-tune-2" / "labels.jsonl",
            DATA / "opening-labels" / "labels.jsonl",
        ),
        ("greeting", "company", "agent_name"),
    ),
    "farewell": (
        (DATA / "closing-tune" / "labels.jsonl", DATA / "closing-labels" / "labels.jsonl"),
        ("farewell",),
    ),
    # the three hold rules (hold_ask, hold_duration, hold_thanks) apply when a hold notice is
    # heard; scored as what a user reads: whether the call has a hold, and each "not heard"
    "hold": (
        (
            DATA / "hold-tune" / "labels.jsonl",
            DATA / "hold-tune-2" / "labels.jsonl",
            DATA / "hold-tune-3" / "labels.jsonl",
            DATA / "hold-labels" / "all-calls.jsonl",
        ),
        ("hold", "asked", "duration", "thanks"),
    ),
    # a refusal with no reason, alternative or next step (conduct: forbidden)
    "bare_no": (
        (
            DATA / "bare-no-tune" / "labels.jsonl",
            DATA / "bare-no-tune-2" / "labels.jsonl",
            DATA / "bare-no-tune-3" / "labels.jsonl",
            DATA / "bare-no-tune-4" / "labels.jsonl",
            DATA / "bare-no-labels" / "labels.jsonl",
        ),
        ("bare_no",),
    ),
    # the customer addressed by name (conduct: a plus; passes when heard, else n/a)
    "name_use": (
        (
            DATA / "name-tune" / "labels.jsonl",
            DATA / "name-tune-2" / "labels.jsonl",
            DATA / "name-labels" / "labels.jsonl",
        ),
        ("name_use",),
    ),
}
# a stage rather than a conduct rule: handled objections (the dev-calls definition), scored
# with the turn classifier as callscan runs by default; besides its tuning sets, the stage
# labels of dev-calls and the blind sets (``call_labels``)
STAGE_RULES = {"objection": (DATA / "objection-tune" / "labels.jsonl",)}
RULES.update({stage: (files, (stage,)) for stage, files in STAGE_RULES.items()})
# whether the caller raised a grievance (the complaint steps are scored only then), with the
# turn classifier as callscan runs by default; besides its tuning set, dev-calls and the blind
# sets, where a label's ``complaint`` is non-null exactly then (``call_labels``)
RULES["grievance"] = (
    (DATA / "grievance-tune" / "labels.jsonl", DATA / "grievance-tune-2" / "labels.jsonl"),
    ("grievance",),
)
# the rules also scored on the call labels of dev-calls and the blind sets: what a row says
CALL_LABEL = {
    **{stage: (lambda r, s=stage: r["stages"][s]) for stage in STAGE_RULES},
    "grievance": lambda r: r["complaint"] is not None,
}
HOLD_RULES = {"asked": "hold_ask", "duration": "hold_duration", "thanks": "hold_thanks"}
TUNE_FOLDERS = (
    "opening-tune",
    "closing-tune",
    "hold-tune",
    "bare-no-tune",
    "name-tune",
    "objection-tune",
    "grievance-tune",
)


def call_labels(rule_id: str) -> list[dict]:
    """``{"id", rule_id}`` rows from the call labels of dev-calls (both transcripts of a bank
    call) and of every blind set (``tests/data/blind-calls*``), as :data:`CALL_LABEL` reads
    them."""
    rows = []
    for folder in (DEVCALLS, *sorted(DATA.glob("blind-calls*"))):
        name = "dev-calls" if folder == DEVCALLS else folder.name
        with open(folder / "labels.jsonl", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                ids = [r["id"], f"{r['id']}_asr"] if r["id"].startswith("hvb_") else [r["id"]]
                truth = bool(CALL_LABEL[rule_id](r))
                rows += [{"id": f"{name}/{i}", rule_id: truth} for i in ids]
    return rows


def read_labels(rule_id: str, paths: list[Path] | None = None) -> list[dict]:
    """The rule's label rows (``paths``: other label files instead of its own). A row whose id
    has no folder gets its file's folder; a rule of :data:`CALL_LABEL` adds its call-label rows."""
    labels = []
    for path in paths or RULES[rule_id][0]:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    if "/" not in row["id"]:
                        row["id"] = f"{path.parent.name}/{row['id']}"
                    labels.append(row)
    if rule_id in CALL_LABEL and not paths:
        labels += call_labels(rule_id)
    return labels


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
    elements: dict[str, Counts]
    rule: Counts = field(default_factory=Counts)  # "complete" (all present) against "fail"
    errors: list[str] = field(default_factory=list)


def transcript_path(call_id: str) -> Path:
    folder, name = call_id.split("/", 1)
    if folder == "dev-calls":
        return DEVCALLS / f"{name}.txt"
    return ROOT / "tests" / "data" / folder / f"{name}.txt"


def group_of(call_id: str, hvb_ids: list[str]) -> str:
    folder, name = call_id.split("/", 1)
    if folder.startswith(TUNE_FOLDERS):
        return "tune"
    if folder != "dev-calls":
        return "blind"
    base = name.removesuffix("_asr")
    return "heldout" if is_heldout(base, hvb_ids) else "dev"


def found_elements(path: Path, rule_id: str = "scripted_greeting") -> tuple[set[str], str]:
    """The rule's elements (cues) found in the call (no team profile), and the agent's first
    turn (its last for the farewell, its first hold notice for the hold rules).

    For ``hold``: "hold" when the hold rules apply (a hold notice heard), and each of "asked",
    "duration" and "thanks" whose rule then passes (heard)."""
    from callscan.analysis import stages
    from callscan.conversation import load, parse_text

    if path.parent.name.startswith(("opening-tune", "closing-tune")):
        # an opening or a close alone: give it a call's length, so that the 'start' ('end')
        # window holds the agent's first (last) three turns, as in a whole call (short calls
        # split their turns between the opening and the close)
        text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
        filler = "caller: okay\nagent: okay\n" * 4
        text = "agent: okay\n" + filler + text if "closing" in path.parent.name else text + filler
        conv = parse_text(text, source=str(path))
    else:
        conv = load(str(path))
    if rule_id == "grievance":  # as callscan runs by default: rules and turn classifier
        g = _default_check(path, conv).grievance
        heard = f"{g.signal}: " + "; ".join(e.text for e in g.evidence) if g.raised else ""
        return ({"grievance"} if g.raised else set()), heard
    if rule_id in STAGE_RULES:  # as callscan runs by default: rules and turn classifier
        status = _default_check(path, conv).stage(rule_id)
        done = status.status in ("present", "late", "out_of_order")
        heard = [e.text for ev in status.elements.values() for e in ev]
        return ({rule_id} if done else set()), "; ".join(heard)
    result = stages.check(conv, options=stages.StageOptions(classifier=False))
    if rule_id == "hold":
        rules = {r.id: r for r in result.rules}
        found = {e for e, rid in HOLD_RULES.items() if rules[rid].status == stages.PASS}
        if rules["hold_ask"].status != stages.NA:
            found.add("hold")
        return found, _hold_turn(conv)
    rule = next(r for r in result.rules if r.id == rule_id)
    if rule_id == "bare_no":  # the violation is reported when the rule fails
        found = {"bare_no"} if rule.status == stages.FAIL else set()
        return found, "; ".join(h.text for h in rule.hits)
    if rule_id == "name_use":  # the plus is given when the rule passes
        found = {"name_use"} if rule.status == stages.PASS else set()
        return found, "; ".join(h.text for h in rule.hits)
    found = {h.rule.split(".", 1)[1] for h in rule.hits if h.rule.startswith(f"{rule_id}.")}
    agent = [t.text for t in conv.turns if t.role == "agent"] or [""]
    return found, agent[-1] if rule_id == "farewell" else agent[0]


_CHECKED: dict[Path, Any] = {}  # path -> the default check's result, shared by the rules


def _default_check(path: Path, conv) -> Any:
    """``stages.check(conv)`` as callscan runs by default (rules and turn classifier), once
    per file in this process: the grievance and objection scores read the same calls."""
    from callscan.analysis import stages

    if path not in _CHECKED:
        _CHECKED[path] = stages.check(conv)
    return _CHECKED[path]


def _hold_turn(conv) -> str:
    """The turn of the first hold notice heard ('' when none), for the error listing."""
    from callscan.analysis.matching import match, prepare
    from callscan.analysis.playbook import load_playbook

    pb = load_playbook(language=conv.language)
    hits = match(prepare(conv, pb), pb.triggers["hold_notice"])
    return conv.turns[hits[0].turn].text if hits else ""


def _unsure(row: dict, elements: tuple[str, ...]) -> set[str]:
    """The elements a labeller could not decide (a list of them, or true for all)."""
    unsure = row.get("unsure", [])
    return set(elements) if unsure is True else set(unsure or [])


def score(labels: list[dict], rule_id: str = "scripted_greeting") -> dict[str, Group]:
    elements = RULES[rule_id][1]
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
        found, turn = found_elements(transcript_path(row["id"]), rule_id)
        if rule_id == "hold":
            g = groups.setdefault(name, Group({e: Counts() for e in HOLD_ELEMENTS}))
            _score_hold(g, row, found, turn)
            continue
        g = groups.setdefault(name, Group({e: Counts() for e in elements}))
        unsure = _unsure(row, elements)
        for e in elements:
            if e in unsure:
                continue
            g.elements[e].add(bool(row[e]), e in found)
            if bool(row[e]) != (e in found):
                g.errors.append(f"{row['id']}: {e} label={row[e]} rule={e in found} | {turn}")
        if not unsure:
            g.rule.add(all(row[e] for e in elements), set(elements) <= found)
    return groups


HOLD_ELEMENTS = ("hold", *(f"{e}: not heard" for e in HOLD_RULES))


def _score_hold(g: Group, row: dict, found: set[str], turn: str) -> None:
    """One call's hold findings: whether the hold rules apply ("hold"), and each "ELEMENT: not
    heard" finding (shown when they apply and the element is not heard; right when the call
    has a hold without it). The whole-rule row: whether the call gets any hold finding."""
    unsure = _unsure(row, RULES["hold"][1])
    fired = "hold" in found
    if "hold" not in unsure:
        g.elements["hold"].add(bool(row["hold"]), fired)
        if bool(row["hold"]) != fired:
            g.errors.append(f"{row['id']}: hold label={row['hold']} rule={fired} | {turn}")
    for e in HOLD_RULES:
        if e in unsure or "hold" in unsure:
            continue
        truth, shown = bool(row["hold"]) and not row[e], fired and e not in found
        g.elements[f"{e}: not heard"].add(truth, shown)
        if truth != shown and fired:
            g.errors.append(f"{row['id']}: {e} label={row[e]} rule={e in found} | {turn}")
    if not unsure:
        truth = bool(row["hold"]) and not all(row[e] for e in HOLD_RULES)
        g.rule.add(truth, fired and not set(HOLD_RULES) <= found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rule", choices=sorted(RULES), default="scripted_greeting")
    ap.add_argument("--labels", type=Path, nargs="+", help="label files (default: the rule's)")
    ap.add_argument(
        "--errors", choices=("tune", "dev", "heldout", "blind"), help="print this group's misses"
    )
    ap.add_argument("--json", type=Path, help="write the scores here")
    args = ap.parse_args()
    groups = score(read_labels(args.rule, args.labels), args.rule)
    out: dict[str, dict] = {}
    print("| group | element | n | present P | present R | 'missing' P | 'missing' R | accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("tune", "dev", "heldout", "blind"):
        if name not in groups:
            continue
        g = groups[name]
        rows = {e: c.row() for e, c in g.elements.items()} | {"whole rule": g.rule.row()}
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
