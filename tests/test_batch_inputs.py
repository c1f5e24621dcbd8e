"""``callscan batch`` inputs a QA lead plans with: a manifest CSV, folder-layout metadata,
globs; and progress by audio duration (calls done/failed/skipped, audio hours, throughput,
ETA). Transcripts only, so no Whisper model is needed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan import CallscanError
from callscan.cli.app import app
from callscan.qa.runner import (
    WORDS_PER_S,
    BatchProgress,
    ProgressTracker,
    find_calls,
    planned_duration_s,
    run_batch,
)

SALES = (
    "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
    "caller: I'm calling about my bill, it sounds too high.\n"
    "agent: I understand. Let me check that for you. Thank you for calling, goodbye.\n"
)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def timed(seconds: float) -> str:
    """A timed callscan JSON transcript lasting ``seconds``."""
    half = seconds / 2
    turns = [
        {"role": "agent", "start_s": 0.0, "end_s": half,
         "text": "Good morning, thank you for calling Acme, how can I help you?"},
        {"role": "caller", "start_s": half, "end_s": seconds,
         "text": "I'm calling about my bill, it sounds too high."},
    ]  # fmt: skip
    return json.dumps({"language": "en", "turns": turns})


@pytest.fixture()
def drop(tmp_path) -> Path:
    """calls/<team>/<day>/*.txt and a manifest one folder up from the calls."""
    root = tmp_path / "drop"
    for team, day, name in (
        ("billing", "2026-11-02", "A17_0001"),
        ("billing", "2026-11-03", "A17_0002"),
        ("retention", "2026-11-02", "B02_0003"),
    ):
        d = root / "calls" / team / day
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{name}.txt").write_text(SALES, encoding="utf-8")
    return root


def write_manifest(path: Path, rows: list[dict]) -> Path:
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k != "path", k))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return path


def test_manifest_relative_paths_and_metadata_reach_summary_and_store(drop, tmp_path):
    manifest = write_manifest(
        drop / "manifest.csv",
        [
            {"path": "calls/billing/2026-11-02/A17_0001.txt", "call_id": "C1",
             "agent_id": "A17", "team": "billing", "date": "2026-11-02"},
            {"path": "calls/retention/2026-11-02/B02_0003.txt", "call_id": "C3",
             "agent_id": "B02", "team": "retention", "date": "2026-11-02",
             "call_type": "complaint"},
        ],
    )  # fmt: skip
    out = tmp_path / "out"
    # run from elsewhere: the paths resolve against the manifest's folder, not the cwd
    result = run_batch([manifest], out)
    assert (result.done, result.failed) == (2, 0)
    rows = {r["call_id"]: r for r in read_csv(out / "summary.csv")}
    assert set(rows) == {"C1", "C3"}
    assert rows["C1"]["agent_id"] == "A17" and rows["C1"]["team"] == "billing"
    assert rows["C1"]["date"] == "2026-11-02"
    assert rows["C3"]["team"] == "retention"
    # names keep the folders below the manifest's folder
    names = sorted(p.name for p in out.glob("*.callscan.json"))
    assert names == [
        "calls__billing__2026-11-02__A17_0001.callscan.json",
        "calls__retention__2026-11-02__B02_0003.callscan.json",
    ]
    from callscan.qa import store

    with store.opened(out, read_only=True) as con:
        got = store.query(con, "SELECT call_id, agent_id, team, date FROM calls ORDER BY call_id")
    assert [(r["call_id"], r["agent_id"], r["team"], str(r["date"])) for r in got] == [
        ("C1", "A17", "billing", "2026-11-02"),
        ("C3", "B02", "retention", "2026-11-02"),
    ]
    # --manifest FILE does the same as a .csv input
    assert [c.name for c in find_calls([], manifest=manifest)] == [
        c.name for c in find_calls([manifest])
    ]


def test_manifest_call_type_overrides_the_batch_option_per_call(drop, tmp_path):
    manifest = write_manifest(
        drop / "m.csv",
        [
            {"path": "calls/billing/2026-11-02/A17_0001.txt", "call_type": "complaint"},
            {"path": "calls/billing/2026-11-03/A17_0002.txt", "call_type": ""},
        ],
    )
    from callscan.pipeline import AnalyzeOptions

    out = tmp_path / "out"
    run_batch([manifest], out, AnalyzeOptions(call_type="sales"))
    types = {Path(r["file"]).name: r["call_type"] for r in read_csv(out / "summary.csv")}
    assert types == {"A17_0001.txt": "complaint", "A17_0002.txt": "sales"}
    # a changed override re-does that call only
    write_manifest(
        manifest,
        [
            {"path": "calls/billing/2026-11-02/A17_0001.txt", "call_type": "service"},
            {"path": "calls/billing/2026-11-03/A17_0002.txt", "call_type": ""},
        ],
    )
    again = run_batch([manifest], out, AnalyzeOptions(call_type="sales"))
    assert (again.done, again.skipped) == (1, 1)


def test_manifest_errors_are_one_line(drop, tmp_path):
    bad = write_manifest(drop / "bad.csv", [{"file": "x.txt"}])
    with pytest.raises(CallscanError, match="needs a 'path' column"):
        find_calls([bad])
    typo = write_manifest(
        drop / "typo.csv",
        [{"path": "calls/billing/2026-11-02/A17_0001.txt", "call_type": "sale"}],
    )
    with pytest.raises(CallscanError, match="call_type 'sale' is not one of"):
        find_calls([typo])
    missing = write_manifest(drop / "missing.csv", [{"path": "nowhere.txt"}])
    with pytest.raises(CallscanError, match="no such file"):
        find_calls([missing])


def test_team_pattern_reads_the_folder_layout(drop, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["batch", str(drop / "calls"), "-o", str(out),
         "--team-pattern", r"^(?P<team>[a-z]+)/(?P<date>\d{4}-\d{2}-\d{2})",
         "--agent-pattern", r"(?P<agent>[A-Z]\d+)_(?P<call>\d+)"],
    )  # fmt: skip
    # folders are searched for audio: name the transcripts through a glob instead
    assert result.exit_code != 0 and "no audio files" in result.output
    result = CliRunner().invoke(
        app,
        ["batch", str(drop / "calls" / "**" / "*.txt"), "-o", str(out),
         "--team-pattern", r"^(?P<team>[a-z]+)/(?P<date>\d{4}-\d{2}-\d{2})",
         "--agent-pattern", r"(?P<agent>[A-Z]\d+)_(?P<call>\d+)"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["call_id"]: r for r in read_csv(out / "summary.csv")}
    assert {k: (r["agent_id"], r["team"], r["date"]) for k, r in rows.items()} == {
        "0001": ("A17", "billing", "2026-11-02"),
        "0002": ("A17", "billing", "2026-11-03"),
        "0003": ("B02", "retention", "2026-11-02"),
    }
    bad = CliRunner().invoke(
        app, ["batch", str(drop / "calls" / "**" / "*.txt"), "-o", str(out),
              "--team-pattern", "(?P<team"],
    )  # fmt: skip
    assert bad.exit_code == 1
    assert "--team-pattern: team pattern '(?P<team' is not a valid regular" in bad.output


def test_glob_inputs_are_expanded_by_the_library(drop, tmp_path):
    calls = find_calls([str(drop / "calls" / "**" / "*.txt")])
    assert [c.name for c in calls] == [
        "billing__2026-11-02__A17_0001",
        "billing__2026-11-03__A17_0002",
        "retention__2026-11-02__B02_0003",
    ]
    assert [c.name for c in find_calls([str(drop / "calls" / "billing" / "*" / "A17_*.txt")])] == [
        "2026-11-02__A17_0001",
        "2026-11-03__A17_0002",
    ]
    with pytest.raises(CallscanError, match="no files match this pattern"):
        find_calls([str(drop / "calls" / "*.wav")])


def test_planned_duration_of_transcripts(tmp_path):
    (tmp_path / "t.json").write_text(timed(90.0))
    assert planned_duration_s(tmp_path / "t.json") == pytest.approx(90.0)
    (tmp_path / "u.txt").write_text(SALES)
    words = sum(len(line.split(":", 1)[1].split()) for line in SALES.splitlines())
    assert planned_duration_s(tmp_path / "u.txt") == pytest.approx(words / WORDS_PER_S)
    (tmp_path / "x.wav").write_text("not audio")
    assert planned_duration_s(tmp_path / "x.wav") is None


def test_progress_tracker_eta_is_by_audio_duration_not_call_count():
    now = [0.0]
    tracker = ProgressTracker(
        {"short": 60.0, "long": 3000.0, "unknown": None, "old": 540.0}, clock=lambda: now[0]
    )
    # unknown length counts as the mean of the known ones: (60 + 3000 + 540) / 3 = 1200
    assert tracker.state.audio_s_total == pytest.approx(4800.0)
    tracker.finished("old", "ok", skipped=True)  # resumed: counted, not in the pace
    tracker.restart()
    state = tracker.state
    assert (state.skipped, state.throughput, state.eta_s) == (1, None, None)
    now[0] = 30.0
    state = tracker.finished("short", "ok")  # 60 s of audio in 30 s: 2 audio hours an hour
    assert state.throughput == pytest.approx(2.0)
    # left: 3000 + 1200 s of audio at 2x: 2100 s (by call count it would be 2 x 30 s)
    assert state.eta_s == pytest.approx(2100.0)
    now[0] = 40.0
    state = tracker.finished("unknown", "error")  # a quick failure does not flatter the pace
    assert (state.done, state.failed) == (1, 1)
    assert state.throughput == pytest.approx(60.0 / 40.0)
    assert state.eta_s == pytest.approx(3000.0 / 1.5)
    now[0] = 1540.0
    state = tracker.finished("long", "ok")
    assert state.eta_s == 0.0 and state.completed == 4
    assert state.audio_h_done == pytest.approx(4800.0 / 3600)
    d = state.to_dict()
    assert d["done"] == 2 and d["failed"] == 1 and d["skipped"] == 1 and d["eta_s"] == 0.0


def test_run_batch_reports_progress_from_the_first_finished_call(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    for i, seconds in enumerate((60.0, 120.0, 180.0)):
        (inp / f"c{i}.json").write_text(timed(seconds))
    (inp / "broken.txt").write_bytes(b"")
    seen: list[dict] = []

    def on_progress(state: BatchProgress) -> None:
        seen.append({**state.to_dict(), "audio_s_total": state.audio_s_total,
                     "audio_s_done": state.audio_s_done, "eta": state.eta_s})  # fmt: skip

    files = sorted(inp.iterdir())
    run_batch(files, tmp_path / "out", on_progress=on_progress)
    # one report before any call, then one per call (and one per stage of each call analysed,
    # while it is in progress: analysing, writing)
    assert len([s for s in seen if not s["in_progress"]]) == 5
    assert len(seen) == 5 + 2 * 3
    assert seen[0]["done"] == 0 and seen[0]["eta"] is None
    # the empty file's length is unknown: counted as the mean (120 s)
    assert seen[0]["audio_s_total"] == pytest.approx(480.0)
    first_ok = next(s for s in seen if s["done"] == 1)
    assert first_ok["eta"] is not None and first_ok["throughput"] > 0
    assert seen[-1]["done"] == 3 and seen[-1]["failed"] == 1 and seen[-1]["eta"] == 0.0
    assert seen[-1]["audio_s_done"] == pytest.approx(480.0)
    # resumed: the finished calls are skipped and counted at once
    seen.clear()
    run_batch(files, tmp_path / "out", on_progress=on_progress)
    assert seen[0]["skipped"] == 3 and seen[0]["audio_s_done"] == pytest.approx(360.0)
