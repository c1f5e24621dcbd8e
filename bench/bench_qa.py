"""QA store, rollups, review queue and dashboard at scale: 10,000 synthetic calls.

Each synthetic call is a real report (an English complaint call and an Indonesian service
call run through callscan's text stages) with its metadata and figures varied: 60 agents in 6
teams, dates over 13 weeks, durations of 2-12 minutes, opening tone and clarity, stage, step
and rule statuses drawn at random, a share needing review or with unsure roles. Rows go into
the store through the same code as a batch (:func:`callscan.qa.store.call_row`,
``findings_of``, ``write_rows``), in transactions of 500 calls; :func:`record` (one
transaction and one open of the store per call, as a batch writes) is timed on its own.

Measured: store build time, per-call ``record`` time, store size (per 1,000 calls,
extrapolated from the measured rows), rollup time per grouping, complaint report, review
queue, dashboard render + write time and page size, and the page in headless Chromium (when
``/usr/bin/chromium`` is there): the wall time of loading it with a filter and a sort in the
address, and the page's own time to ready (``data-ready-ms``: parse, script, filter, sort,
first page shown).

Usage: .venv/bin/python bench/bench_qa.py [--calls 10000] [--dir DIR] [--no-browser]
Prints one Markdown table and writes it to bench/out/qa.md (figures also in bench/out/qa.json);
the folder (a temporary one by default) is removed afterwards.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_VIEW = "flag=review&sort=tone&dir=desc"  # a filter and a sort, as a QA lead opens it

CALLS = {
    "en": (
        "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
        "caller: I'm calling about my bill, you charged me twice and it sounds too high.\n"
        "agent: I'm sorry about that. Let me check that for you. Could you confirm the account?\n"
        "caller: It's 5521.\n"
        "agent: I see the double charge, I will refund it within 3 business days, your "
        "reference number is 7781. Is there anything else? Thank you for calling, goodbye.\n"
    ),
    "id": (
        "agent: Selamat pagi, Nusantara Seluler, dengan Surya, ada yang bisa saya bantu?\n"
        "caller: Saya mau tanya paket data saya, sinyalnya sering putus.\n"
        "agent: Baik, Bapak. Saya cek dulu. Terima kasih atas waktu Bapak, selamat siang.\n"
    ),
}
STATUSES_STAGE = ("present", "present", "present", "absent", "late", "unclear")
STATUSES_RULE = ("pass",) * 12 + ("fail",)


def templates() -> list[dict]:
    from callscan.conversation import parse_text
    from callscan.pipeline import AnalyzeOptions, analyze_conversation

    return [
        analyze_conversation(parse_text(text, source=f"{lang}.txt"), AnalyzeOptions())
        for lang, text in CALLS.items()
    ]


def synthetic(base: dict, i: int, rng: random.Random) -> tuple[dict, dict]:
    """A varied copy of ``base`` and its metadata (agent, team, date)."""
    report = copy.deepcopy(base)
    agent = rng.randrange(60)
    start = dt.date(2024, 9, 2)
    meta = {
        "name": f"call_{i:05d}",
        "agent_id": f"A{agent:02d}",
        "team": f"T{agent % 6}",
        "date": (start + dt.timedelta(days=rng.randrange(91))).isoformat(),
        "call_id": f"{i:05d}",
        "file": f"/calls/call_{i:05d}.wav",
        "processing_s": round(rng.uniform(20, 120), 1),
        "options": "0123456789abcdef",
    }
    skill = (agent % 7) * 3  # some agents drift
    report["opening"] = {
        "status": "ok", "flags": [], "language": report["language"],
        "window": {"start_s": 0.5, "end_s": 20.5},
        "tone": {"score": round(min(100, max(0, rng.gauss(65 + skill, 12))), 1)},
        "clarity": {"score": round(min(100, max(0, rng.gauss(70 + skill / 2, 10))), 1)},
    }  # fmt: skip
    duration = rng.uniform(120, 720)
    agent_pct = rng.uniform(35, 75)
    party = {"talk_time_s": 0.0, "talk_pct": 0.0, "n_turns": 10, "n_words": 300,
             "interruptions": 0, "longest_monologue_s": rng.uniform(10, 90),
             "words_per_minute": rng.uniform(110, 190)}  # fmt: skip
    report["speakers"] = {
        "mode": "stereo",
        "roles": {"agent": "ch0", "roles": {"ch0": "agent", "ch1": "caller"},
                  "confidence": round(rng.uniform(0.4, 1.0), 2),
                  "low_confidence": rng.random() < 0.05, "method": "cues"},
        "metadata": {},
        "metrics": {
            "duration_s": round(duration, 1),
            "talk_ratio": round(agent_pct / (100 - agent_pct), 2),
            "parties": {"agent": {**party, "talk_pct": round(agent_pct, 1)},
                        "caller": {**party, "talk_pct": round(100 - agent_pct, 1)}},
            "non_talk": {"count": 3, "total_s": round(rng.uniform(5, 60), 1), "instances": []},
            "interruptions": {"count": rng.randrange(6), "instances": []},
        },
    }  # fmt: skip
    stages = report["stages"]
    for s in stages["stages"]:
        if s["status"] != "n/a":
            s["status"] = rng.choice(STATUSES_STAGE)
    for r in stages["rules"]:
        if r["status"] != "n/a":
            r["status"] = rng.choice(STATUSES_RULE)
    stages["scorecard"]["percent"] = round(min(100, max(0, rng.gauss(70 + skill, 12))), 1)
    stages["needs_review"] = rng.random() < 0.08
    stages["review_reasons"] = (
        ["unsure words where closing belongs"] if stages["needs_review"] else []
    )
    return report, meta


def timed(fn, repeats: int = 3):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def browser_load(page: Path, fragment: str, profile: Path) -> tuple[float, int | None, str]:
    """Load ``page#fragment`` in headless Chromium: (wall seconds, the page's data-ready-ms,
    the rows shown as ``shown/pages``)."""
    args = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={profile}", "--dump-dom", f"{page.resolve().as_uri()}#{fragment}",
    ]  # fmt: skip
    t = time.perf_counter()
    dom = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False).stdout
    wall = time.perf_counter() - t
    root = re.search(r"<html[^>]*>", dom)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', root.group(0) if root else ""))
    ready = attrs.get("ready-ms")
    shown = f"{attrs.get('shown', '?')} matching, {attrs.get('pages', '1')} pages"
    return wall, (int(ready) if ready else None), shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=None, help="keep the folder here")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timing")
    args = parser.parse_args()

    from callscan.qa import dashboard, review, rollups, store

    folder = args.dir or Path(tempfile.mkdtemp(prefix="callscan-bench-qa-"))
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    bases = templates()
    rows_out: list[tuple[str, str]] = []

    t0 = time.perf_counter()
    with store.opened(folder) as con:
        calls, findings = [], []
        for i in range(args.calls):
            report, meta = synthetic(bases[i % 2], i, rng)
            calls.append(store.call_row(meta["name"], report, meta))
            findings += store.findings_of(meta["name"], report)
            if len(calls) == 500:
                store.write_rows(con, calls, findings)
                calls, findings = [], []
        store.write_rows(con, calls, findings)
        n_findings = con.execute("SELECT count(*) FROM findings").fetchone()[0]
    build_s = time.perf_counter() - t0
    size = store.store_path(folder).stat().st_size
    rows_out.append(("calls stored / findings", f"{args.calls:,} / {n_findings:,}"))
    rows_out.append(("store build (500 calls a transaction)", f"{build_s:.1f} s"))
    rows_out.append(("store size", f"{size / 1e6:.1f} MB"))
    rows_out.append(("store size per 1,000 calls", f"{size / args.calls * 1000 / 1e6:.2f} MB"))

    # record(): one open + one transaction per call (what a batch does), on 200 more calls
    extra = [synthetic(bases[i % 2], args.calls + i, rng) for i in range(200)]
    t = time.perf_counter()
    for report, meta in extra:
        store.record(folder, report, meta)
    per_call = (time.perf_counter() - t) / len(extra)
    rows_out.append(("record() per call (open, upsert, commit)", f"{per_call * 1000:.1f} ms"))
    size = store.store_path(folder).stat().st_size
    total = args.calls + len(extra)
    rows_out.append(
        (
            f"store size after record() ({total:,} calls), per 1,000",
            f"{size / total * 1000 / 1e6:.2f} MB",
        )
    )

    with store.opened(folder, read_only=True) as con:
        for by in rollups.GROUPINGS:
            s, result = timed(lambda by=by: rollups.rollup(None, by, con=con))
            rows_out.append(
                (f"rollup --by {by} ({len(result.groups)} groups)", f"{s * 1000:.0f} ms")
            )
        s, _ = timed(
            lambda: rollups.rollup(None, "week", since="2024-10-01", until="2024-10-31", con=con)
        )
        rows_out.append(("rollup --by week --since --until", f"{s * 1000:.0f} ms"))
        s, rep = timed(lambda: rollups.complaints(None, con=con))
        rows_out.append((f"complaint report ({len(rep.calls):,} complaints)", f"{s * 1000:.0f} ms"))
        s, queue = timed(lambda: review.review_queue(folder, con=con))
        rows_out.append((f"review queue ({len(queue):,} calls queued)", f"{s * 1000:.0f} ms"))
        s, page = timed(lambda: dashboard.render(folder, con=con), repeats=2)
        rows_out.append(("dashboard render", f"{s:.2f} s"))
    s, path = timed(lambda: dashboard.write(folder, sync=False), repeats=1)
    rows_out.append(("dashboard.write (open, render, write)", f"{s:.2f} s"))
    rows_out.append(("index.html size", f"{path.stat().st_size / 1e6:.1f} MB"))
    if CHROMIUM.is_file() and not args.no_browser:
        profile = folder / "chromium-profile"
        browser_load(path, BROWSER_VIEW, profile)  # a first run warms Chromium's own files
        loads = [browser_load(path, BROWSER_VIEW, profile) for _ in range(3)]
        wall = statistics.median(x[0] for x in loads)
        ready = [x[1] for x in loads if x[1] is not None]
        rows_out.append((f"Chromium: load #{BROWSER_VIEW} ({loads[0][2]}), wall", f"{wall:.2f} s"))
        rows_out.append(
            (
                "Chromium: page ready (parse, script, filter, sort, first page)",
                f"{statistics.median(ready)} ms" if ready else "not reported by this page",
            )
        )

    table = f"| {args.calls:,} synthetic calls | |\n|---|---|\n" + "".join(
        f"| {k} | {v} |\n" for k, v in rows_out
    )
    print(table, end="")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "qa.md").write_text(table, encoding="utf-8")
    (OUT / "qa.json").write_text(
        json.dumps({"calls": args.calls, "figures": dict(rows_out)}, indent=1) + "\n",
        encoding="utf-8",
    )
    if args.dir is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
