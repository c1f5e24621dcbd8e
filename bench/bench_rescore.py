"""``callscan rescore DIR``: time to re-score a batch folder from its stored transcripts.

Makes a batch folder of N transcript calls (JSON and HTML reports, a team playbook), then
re-scores it with a changed playbook (one slang word added, said in every fifth call) and
prints: calls re-scored, calls and findings changed, wall seconds in all and per call, and
where a call's time goes (re-score, reports, log and store; dashboard once). The batch
itself is not timed. Writes bench/out/rescore.json.

    .venv/bin/python bench/bench_rescore.py [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from callscan.pipeline import AnalyzeOptions
from callscan.qa.rescore import rescore_folder
from callscan.qa.runner import run_batch
from callscan.resources import data_path

OUT = Path(__file__).resolve().parent / "out" / "rescore.json"
GREETING = "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
BODY = (
    "caller: My internet connection keeps dropping every evening, this is a complaint.\n"
    "agent: I am sorry about that, I understand how frustrating that is.\n"
    "agent: So the connection drops every evening, is that right?\n"
    "caller: Yes, that's right.\n"
    "agent: A technician will visit tomorrow, your reference number is 5521.\n"
)


def bundled_playbook() -> Path:
    """The English playbook shipped with callscan."""
    path = data_path("playbook_en.yaml")
    assert path is not None
    return path


def make_folder(root: Path, n: int) -> tuple[Path, Path]:
    team = root / "team"
    team.mkdir()
    playbook = team / "playbook.yaml"
    shutil.copy(bundled_playbook(), playbook)
    calls = root / "calls"
    calls.mkdir()
    for i in range(n):
        end = (
            "agent: Cheers, thank you for calling, goodbye.\n"
            if i % 5 == 0
            else ("agent: Thank you for calling, goodbye.\n")
        )
        (calls / f"A{i % 7:02d}_{i:05d}_2024-11-{1 + i % 28:02d}.txt").write_text(
            GREETING + BODY + end, encoding="utf-8"
        )
    out = root / "out"
    options = AnalyzeOptions(playbook=str(playbook))
    result = run_batch(sorted(calls.iterdir()), out, options, formats=("json", "html"))
    assert result.done == n, result.errors[:1]
    shutil.rmtree(calls)  # the re-score reads the reports only
    changed = team / "playbook_v2.yaml"
    text = playbook.read_text(encoding="utf-8")
    changed.write_text(text.replace(r"'\b(?:dude|bro|", r"'\b(?:cheers|dude|bro|"), "utf-8")
    return out, changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callscan-rescore-") as tmp:
        start = time.perf_counter()
        out, changed = make_folder(Path(tmp), args.calls)
        batch_s = time.perf_counter() - start
        result = rescore_folder(out, playbook=changed)
        again = rescore_folder(out)  # the same playbook again: nothing changes
    figures = {
        "calls": args.calls,
        "rescored": result.rescored,
        "failed": result.failed,
        "changed_calls": result.changed_calls,
        "changed_findings": result.changed_findings,
        "expected_changed_calls": len(range(0, args.calls, 5)),
        "total_s": round(result.seconds, 3),
        "per_call_ms": round(1000 * (result.per_call_s or 0.0), 1),
        "calls_per_s": round(result.rescored / result.seconds, 1) if result.seconds else None,
        "again_changed_calls": again.changed_calls,
        "again_total_s": round(again.seconds, 3),
        "batch_s_for_reference": round(batch_s, 1),
    }
    for key, value in figures.items():
        print(f"{key:24s} {value}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
