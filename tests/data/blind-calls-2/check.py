#!/usr/bin/env python3
"""Validate the second blind call set (same formats as dev-calls) and print label counts.

Usage:
    python3 check.py          # validate, print counts; exit code 1 on any error

Standard library only. Paths are resolved relative to this file.
"""

import collections
import json
import os
import re
import sys

# the folder to check (default: this one; the third blind set's check.py passes its own) and
# its id tag: blind-calls-2 -> blind2, blind-calls-3 -> blind3
HERE = os.environ.get("BLIND_SET_DIR") or os.path.dirname(os.path.abspath(__file__))
TAG = "blind" + os.path.basename(os.path.normpath(HERE)).rsplit("-", 1)[-1]
KEYS = [
    "id",
    "lang",
    "domain",
    "stages",
    "complaint",
    "violations",
    "caller_modality",
    "modality_evidence",
    "notes",
    "call_type",
]
STAGES = ["contact", "needs", "presentation", "objection", "closing"]
STEPS = ["acknowledge", "clarify", "resolve", "recheck"]
VIOLATIONS = [
    "blame_colleague",
    "blame_customer",
    "competitor_bashing",
    "slang_jargon",
    "repeated_apology",
    "excluded_greeting",
]
MODALITIES = ["visual", "auditory", "kinesthetic", "none"]
DOMAINS = [
    "bank",
    "telco",
    "e-commerce",
    "insurance",
    "utilities",
    "travel",
    "hospital",
    "government",
    "car leasing",
    "education",
    "logistics",
]
CALL_TYPES = ["sales", "complaint", "service"]
APOLOGY = re.compile(r"\b(maaf|sorry|apologi[sz]e\w*)\b", re.I)
PREFIX = re.compile(rf"^\[synthetic {TAG}, (clean|asr); (\d+) turns; agent apology tokens (\d+)\] ")
LINE = re.compile(r"^(agent|caller): \S")


def check_row(row: dict, errors: list[str]) -> str | None:
    """Append problems with one label row and its transcript to errors; return its style."""
    rid = row.get("id", "?")
    problems: list[str] = []
    if list(row) != KEYS:
        errors.append(f"{rid}: keys {list(row)} != {KEYS}")
        return None
    if row["lang"] not in ("id", "en") or not rid.startswith(f"{TAG}_{row['lang']}_"):
        problems.append("bad lang/id")
    if row["domain"] not in DOMAINS:
        problems.append("bad domain")
    if row["call_type"] not in CALL_TYPES:
        problems.append("bad call_type")
    flags = row["stages"]
    if list(flags) != STAGES or not all(isinstance(v, bool) for v in flags.values()):
        problems.append("bad stages")
    comp = row["complaint"]
    if comp is not None and (
        list(comp) != STEPS or not all(isinstance(v, bool) for v in comp.values())
    ):
        problems.append("bad complaint")
    viol = row["violations"]
    if not set(viol) <= set(VIOLATIONS) or len(set(viol)) != len(viol):
        problems.append("bad violations")
    if row["caller_modality"] not in MODALITIES:
        problems.append("bad modality")
    ev = row["modality_evidence"]
    if row["caller_modality"] == "none" and ev:
        problems.append("evidence given for modality none")
    if row["caller_modality"] != "none" and not 3 <= len(ev) <= 5:
        problems.append("a labelled modality needs 3-5 evidence strings")
    style = None
    path = os.path.join(HERE, rid + ".txt")
    if not os.path.exists(path):
        problems.append("transcript missing")
    else:
        style = check_transcript(row, path, problems)
    errors.extend(f"{rid}: {p}" for p in problems)
    return style


def check_transcript(row: dict, path: str, problems: list[str]) -> str | None:
    """Check one transcript against its label row; return its style from the notes prefix."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    bad = [i + 1 for i, ln in enumerate(lines) if not LINE.match(ln)]
    if bad:
        problems.append(f"bad line format at {bad}")
    turns = [ln.split(": ", 1) for ln in lines]
    if not 8 <= len(turns) <= 35:
        problems.append(f"{len(turns)} turns, not 8-35")
    caller = [t for r, t in turns if r == "caller"]
    for e in row["modality_evidence"]:
        if not any(e in t for t in caller):
            problems.append(f"evidence not in a caller turn: {e!r}")
    n_apol = sum(len(APOLOGY.findall(t)) for r, t in turns if r == "agent")
    if ("repeated_apology" in row["violations"]) != (n_apol >= 3):
        problems.append(f"repeated_apology disagrees with {n_apol} apology tokens")
    m = PREFIX.match(row["notes"])
    if not m:
        problems.append("notes prefix missing")
        return None
    if int(m.group(2)) != len(turns) or int(m.group(3)) != n_apol:
        problems.append("notes prefix counts do not match the file")
    if m.group(1) == "asr" and re.search(r"[A-Z.,?!;:]", "\n".join(t for _, t in turns)):
        problems.append("raw-ASR file contains capitals or .,?!;:")
    return m.group(1)


def tally(row: dict, style: str | None, count: collections.Counter[str]) -> None:
    """Add one row to the label counts."""
    count["rows " + row["lang"]] += 1
    count["asr " + row["lang"]] += style == "asr"
    for k, v in row["stages"].items():
        count["stage " + k] += v
    if row["complaint"] is not None:
        count["complaint != null"] += 1
        for k, v in row["complaint"].items():
            count["  step " + k] += v
    for v in row["violations"]:
        count["violation " + v] += 1
    count["modality " + row["caller_modality"]] += 1
    count["call_type " + row["call_type"]] += 1
    count["domain " + row["domain"]] += 1
    count["notes with AMBIGUOUS"] += "AMBIGUOUS" in row["notes"]


def main() -> int:
    errors: list[str] = []
    with open(os.path.join(HERE, "labels.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(x) for x in f]
    count: collections.Counter[str] = collections.Counter()
    seen: set[str] = set()
    for row in rows:
        if row.get("id") in seen:
            errors.append(f"{row.get('id')}: duplicate id")
        seen.add(row.get("id", "?"))
        style = check_row(row, errors)
        if not any(e.startswith(f"{row.get('id')}: keys") for e in errors):
            tally(row, style, count)
    txts = {f[:-4] for f in os.listdir(HERE) if f.endswith(".txt")}
    errors.extend(f"{extra}.txt has no label row" for extra in sorted(txts - seen))
    for k in sorted(count):
        print(f"{k:32s}{count[k]:4d}")
    if errors:
        print("\n".join(["ERRORS:", *errors]))
        return 1
    print(
        f"OK: {len(rows)} rows; schema, files, turn format, evidence, apology counts, ASR style valid."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
