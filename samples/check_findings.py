"""Compare callscan's report of each bundled sample with what its script shows.

    .venv/bin/python samples/check_findings.py [REPORT_DIR]

With REPORT_DIR (reports written by ``callscan analyze samples/X.wav -o REPORT_DIR``) it reads
those; without, it analyses every sample from its audio (Whisper base, a few minutes). The
expected findings are in samples/expected_findings.yaml. Prints one line per check that
disagrees and the agreement rate; tests/test_sample_findings.py asserts the rate and that each
disagreement is explained in samples/README.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
STAGES = ("contact", "needs", "presentation", "objection", "closing")
STEPS = ("acknowledge", "clarify", "resolve", "recheck")
DONE = {"present", "late", "out_of_order"}
MODALITIES = ("visual", "auditory", "kinesthetic")


def expected() -> dict:
    with open(HERE / "expected_findings.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def checks(
    name: str, report: dict, want: dict, rules: list[str]
) -> list[tuple[str, object, object]]:
    """(check id, expected, found) for every check of one sample."""
    st = report["stages"]
    by_id = {s["id"]: s for s in st["stages"]}
    out: list[tuple[str, object, object]] = [
        (f"{name}: call type", want["call_type"], st.get("call_type"))
    ]
    for s in STAGES:
        out.append(
            (f"{name}: stage {s}", want["stages"][s], by_id.get(s, {}).get("status") in DONE)
        )
    grievance = (st.get("grievance") or {}).get("raised")
    if grievance is None:
        grievance = any(by_id.get(s, {}).get("status") in DONE for s in STEPS)
    out.append((f"{name}: grievance raised", want["complaint"] is not None, bool(grievance)))
    if want["complaint"] is not None:
        for s in STEPS:
            found = by_id.get(s, {}).get("status") in DONE
            out.append((f"{name}: step {s}", want["complaint"][s], found))
    status = {r["id"]: r["status"] for r in st["rules"]}
    for r in rules:
        out.append((f"{name}: rule {r} fails", r in want["violations"], status.get(r) == "fail"))
    lead = (report.get("modality") or {}).get("caller", {}).get("leading")
    out.append(
        (f"{name}: caller modality", want["modality"], lead if lead in MODALITIES else "none")
    )
    return out


def compare(reports: dict[str, dict]) -> tuple[list[tuple[str, object, object]], int]:
    spec = expected()
    rules = spec.pop("checked_rules")
    rows = []
    for name, want in spec.items():
        rows += checks(name, reports[name], want, rules)
    wrong = [r for r in rows if r[1] != r[2]]
    return wrong, len(rows)


def main() -> None:
    spec = expected()
    spec.pop("checked_rules")
    reports = {}
    if len(sys.argv) > 1:
        for name in spec:
            reports[name] = json.loads((Path(sys.argv[1]) / f"{name}.callscan.json").read_text())
    else:
        import callscan

        model = callscan.load_model("base")
        for name in spec:
            reports[name] = callscan.analyze(HERE / f"{name}.wav", model=model)
    wrong, total = compare(reports)
    for check, want, found in wrong:
        print(f"{check}: expected {want}, found {found}")
    print(f"{total - len(wrong)} of {total} checks agree ({(total - len(wrong)) / total:.0%})")


if __name__ == "__main__":
    main()
