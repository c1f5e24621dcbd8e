#!/usr/bin/env python3
"""Validate the turn-labelled training set and print label counts.

Usage:
    python3 check.py [--dev-calls DIR]

DIR is the dev-call set the turns come from (default: $CALLSCAN_DEV_CALLS, else
../shared/data/dev-calls next to the repository root). Standard library only.
Exit status 1 on any error.

Checks, for every <call>.jsonl here:
  - one JSON object per transcript line, in order, with exactly the keys
    call, turn, role, lang, text, labels;
  - call == file stem, turn == 0-based line index, role and text equal to the
    transcript line (text is what follows the "role: " prefix), lang equal to
    the call's lang in labels.jsonl;
  - labels: a list of distinct names from the role's label set;
  - agreement with the call labels in labels.jsonl: a stage or complaint step
    that is true for the call is on at least one agent turn, one that is false
    (or a step of a call with complaint null) is on none; likewise a conduct
    violation (blame_colleague, blame_customer, competitor_bashing,
    slang_jargon) listed in the call's violations is on at least one agent
    turn, and one not listed is on none;
  - every written call and every HVB human transcript has a file, and there
    are no files for unknown calls (the HVB *_asr twins are not labelled).
"""

import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ["call", "turn", "role", "lang", "text", "labels"]
STAGES = ["contact", "needs", "presentation", "objection", "closing"]
STEPS = ["acknowledge", "clarify", "resolve", "recheck"]
# Conduct violations judged on agent turns (the other two call-level violations,
# repeated_apology and excluded_greeting, are counted mechanically / on the opening
# and are not turn labels).
VIOLATIONS = ["blame_colleague", "blame_customer", "competitor_bashing", "slang_jargon"]
AGENT_LABELS = STAGES + STEPS + VIOLATIONS
CALLER_LABELS = ["raises_objection", "raises_complaint"]
ROLE_LABELS = {"agent": AGENT_LABELS, "caller": CALLER_LABELS}


def dev_calls_dir(argv):
    if "--dev-calls" in argv:
        i = argv.index("--dev-calls")
        if i + 1 >= len(argv):
            sys.exit("--dev-calls needs a directory")
        return argv[i + 1]
    env = os.environ.get("CALLSCAN_DEV_CALLS")
    if env:
        return env
    return os.path.normpath(
        os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "dev-calls")
    )


def read_transcript(path):
    turns = []
    with open(path, encoding="utf-8") as fh:
        for line in fh.read().splitlines():
            role, sep, text = line.partition(": ")
            turns.append((role, text) if sep else (None, line))
    return turns


def check_row(obj, where, cid, i, row, transcript, err):
    """Validate one JSON row; return its (role, labels) or None when unusable."""
    if not isinstance(obj, dict) or list(obj) != KEYS:
        got = list(obj) if isinstance(obj, dict) else type(obj).__name__
        err(f"{where}: keys must be {KEYS}, got {got}")
        return None
    if obj["call"] != cid:
        err(f"{where}: call {obj['call']!r} != {cid!r}")
    if obj["turn"] != i:
        err(f"{where}: turn {obj['turn']!r} != {i}")
    if obj["lang"] != row["lang"]:
        err(f"{where}: lang {obj['lang']!r} != {row['lang']!r}")
    role = obj["role"]
    if role not in ROLE_LABELS:
        err(f"{where}: role {role!r}")
        return None
    if i < len(transcript):
        t_role, t_text = transcript[i]
        if role != t_role:
            err(f"{where}: role {role!r} != transcript {t_role!r}")
        if obj["text"] != t_text:
            err(f"{where}: text differs from the transcript line")
    labs = obj["labels"]
    if not isinstance(labs, list) or len(set(map(str, labs))) != len(labs):
        err(f"{where}: labels must be a list of distinct names")
        return None
    good = []
    for lab in labs:
        if lab in ROLE_LABELS[role]:
            good.append(lab)
        else:
            err(f"{where}: label {lab!r} not allowed on a {role} turn")
    return role, good


def check_agreement(cid, row, seen, err):
    """Call-level truth of every stage/step must match its presence on agent turns."""
    complaint = row["complaint"] or {}
    for name in STAGES:
        if row["stages"][name] != (name in seen):
            where = "on" if name in seen else "on no"
            err(f"{cid}: stage {name} is {row['stages'][name]} for the call but {where} agent turn")
    for name in STEPS:
        want = bool(complaint.get(name, False))
        if want != (name in seen):
            state = want if row["complaint"] else "null"
            where = "on" if name in seen else "on no"
            err(f"{cid}: complaint step {name} is {state} for the call but {where} agent turn")
    for name in VIOLATIONS:
        want = name in row["violations"]
        if want != (name in seen):
            where = "on" if name in seen else "on no"
            err(f"{cid}: violation {name} is {want} for the call but {where} agent turn")


def check_call(cid, row, src, group, stats, err):
    transcript = read_transcript(os.path.join(src, cid + ".txt"))
    with open(os.path.join(HERE, cid + ".jsonl"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if len(lines) != len(transcript):
        err(f"{cid}: {len(lines)} rows for {len(transcript)} transcript turns")
    seen = set()
    for i, line in enumerate(lines):
        where = f"{cid}.jsonl:{i + 1}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            err(f"{where}: not JSON ({exc})")
            continue
        checked = check_row(obj, where, cid, i, row, transcript, err)
        if checked is None:
            continue
        role, labs = checked
        stats["roles"][role] += 1
        for lab in labs:
            stats["labels"][lab][group] += 1
            if role == "agent":
                seen.add(lab)
    check_agreement(cid, row, seen, err)


def print_counts(stats, groups=("written-id", "written-en", "hvb"), name="turn-labels"):
    calls, roles = stats["calls"], stats["roles"]
    print(
        f"{name}: {sum(calls.values())} calls, {sum(roles.values())} turns "
        f"({roles['agent']} agent, {roles['caller']} caller)"
    )
    print(f"{'label (turns)':24}" + "".join(f"{g:>12}" for g in groups) + f"{'ALL':>8}")
    print(
        f"{'calls':24}" + "".join(f"{calls[g]:>12}" for g in groups) + f"{sum(calls.values()):>8}"
    )
    for lab in AGENT_LABELS + CALLER_LABELS:
        c = stats["labels"][lab]
        name = ("agent " if lab in AGENT_LABELS else "caller ") + lab
        print(f"{name:24}" + "".join(f"{c[g]:>12}" for g in groups) + f"{sum(c.values()):>8}")


def check_all(rows, present, source_of, group_of, groups, name):
    """Check every labelled call of ``rows`` (id -> call labels) against the files ``present``
    (call ids with a <call>.jsonl here): ``source_of(cid)`` is its transcripts' folder,
    ``group_of(cid, row)`` its counting group. Prints the counts and errors; returns the exit
    status."""
    errors = []
    err = errors.append
    expected = set(rows)
    for cid in sorted(expected - present):
        err(f"{cid}: no {cid}.jsonl")
    for cid in sorted(present - expected):
        err(f"{cid}.jsonl: no such call in labels.jsonl")

    stats = {
        "calls": collections.Counter(),
        "roles": collections.Counter(),
        "labels": collections.defaultdict(collections.Counter),
    }
    for cid in sorted(expected & present):
        row = rows[cid]
        group = group_of(cid, row)
        stats["calls"][group] += 1
        check_call(cid, row, source_of(cid), group, stats, err)

    print_counts(stats, groups, name)
    if errors:
        for e in errors:
            print("ERROR:", e)
        print(f"FAILED: {len(errors)} error(s)")
        return 1
    print("OK: keys, roles, texts, label names and agreement with the call labels all valid.")
    return 0


def main(argv):
    src = dev_calls_dir(argv)
    labels_path = os.path.join(src, "labels.jsonl")
    if not os.path.isfile(labels_path):
        print(f"dev-call labels not found: {labels_path} (use --dev-calls DIR)")
        return 1
    with open(labels_path, encoding="utf-8") as fh:
        rows = {r["id"]: r for r in map(json.loads, filter(str.strip, fh))}
    present = {f[: -len(".jsonl")] for f in os.listdir(HERE) if f.endswith(".jsonl")}
    return check_all(
        rows,
        present,
        lambda cid: src,
        lambda cid, row: "hvb" if cid.startswith("hvb_") else "written-" + row["lang"],
        ("written-id", "written-en", "hvb"),
        "turn-labels",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
