"""The QA store of a batch folder, its rollups, the review queue and the export commands.

The batch folder is made the way a QA team makes one: ``run_batch`` on transcripts named
``AGENT_CALL_DATE.txt`` with ``--agent-pattern`` (no Whisper needed), one broken file among
them, and a manifest CSV that gives each call its team.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan.cli.app import app
from callscan.pipeline import AnalyzeOptions
from callscan.qa import review, rollups, store
from callscan.qa.runner import run_batch
from callscan.speakers.assign import SpeakersOptions

PATTERN = r"(?P<agent>[A-Z]\d+)_(?P<call>\d+)_(?P<date>\d{4}-\d\d-\d\d)"
SERVICE_ID = (
    "agent: Selamat pagi, Nusantara Seluler, dengan Surya, ada yang bisa saya bantu?\n"
    "caller: Saya mau tanya tagihan saya, kelihatannya terlalu mahal.\n"
    "agent: Baik, Bapak. Saya cek dulu. Terima kasih atas waktu Bapak, selamat siang.\n"
)
COMPLAINT_OPEN = (
    "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
    "caller: I'm calling about my bill, you charged me twice, it is too high.\n"
    "agent: I understand. Let me check that for you. Thank you for calling, goodbye.\n"
)
COMPLAINT_RESOLVED = (
    "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
    "caller: My internet connection keeps dropping, the signal is terrible, this is a complaint.\n"
    "agent: I am sorry about that, I understand how frustrating that is.\n"
    "agent: So if I understand correctly, the connection drops every evening, is that right?\n"
    "caller: Yes, that's right.\n"
    "agent: A technician will visit tomorrow between 9 and 12, your reference number is 5521.\n"
    "agent: Is there anything else I can help you with? Thank you for calling, goodbye.\n"
)
RUDE = (
    "agent: Yeah?\n"
    "caller: I'm calling about my bill, it is too high.\n"
    "agent: You should have read the terms, that is your own fault. Whatever.\n"
)
CALLS = {
    "A17_0001_2024-11-04.txt": SERVICE_ID,
    "A17_0002_2024-11-05.txt": COMPLAINT_OPEN,
    "A17_0003_2024-11-12.txt": COMPLAINT_RESOLVED,
    "B02_0004_2024-11-05.txt": COMPLAINT_RESOLVED,
    "B02_0005_2024-11-13.txt": RUDE,
    "C03_0006_2024-11-13.txt": SERVICE_ID,
}
TEAMS = {"A17": "north", "B02": "north", "C03": '=HYPERLINK("http://x","y")'}


def make_batch(root: Path) -> Path:
    """A batch output folder from the transcripts above (plus one broken file)."""
    src = root / "calls"
    src.mkdir(parents=True)
    for name, text in CALLS.items():
        (src / name).write_text(text, encoding="utf-8")
    (src / "C03_0007_2024-11-14.json").write_text("{ broken json")
    out = root / "out"
    options = AnalyzeOptions(speakers=SpeakersOptions(agent_pattern=PATTERN))
    result = run_batch(sorted(src.iterdir()), out, options, formats=("json", "html"))
    assert (result.done, result.failed) == (6, 1)
    with open(root / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "team"])
        for name in [*CALLS, "C03_0007_2024-11-14.json"]:
            w.writerow([f"calls/{name}", TEAMS[name[:3]]])
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    return make_batch(tmp_path_factory.mktemp("qa"))


@pytest.fixture()
def folder(batch, tmp_path) -> Path:
    """A private copy of the batch folder (tests may change it) and its manifest (absolute
    paths to the calls) next to it."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(batch, out)
    with open(batch.parent / "manifest.csv", newline="", encoding="utf-8") as f:
        entries = list(csv.DictReader(f))
    with open(tmp_path / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "team"])
        for e in entries:
            w.writerow([str(batch.parent / e["path"]), e["team"]])
    return out


def rows(con, sql: str, params=None) -> list[dict]:
    return store.query(con, sql, params)


def test_rebuild_stores_every_report_with_its_metadata(folder):
    result = store.rebuild(folder, manifest=folder.parent / "manifest.csv")
    assert result.errors == []
    reports = list(folder.glob("*.callscan.json"))
    with store.opened(folder, read_only=True) as con:
        calls = {r["name"]: r for r in rows(con, "SELECT * FROM calls")}
        ok = [r for r in calls.values() if r["status"] == "ok"]
        assert len(ok) == len(reports) == 6  # one row per report on disk
        failed = calls["C03_0007_2024-11-14"]
        assert failed["status"] == "error" and "C03_0007" in failed["error"]
        assert failed["team"] == TEAMS["C03"]  # from the manifest
        c = calls["A17_0002_2024-11-05"]
        assert (c["agent_id"], c["call_id"], str(c["date"]), c["team"]) == (
            "A17", "0002", "2024-11-05", "north",
        )  # fmt: skip
        assert c["language"] == "en" and c["complaint"] and c["complaint_topic"] == "billing"
        assert c["report"] == "A17_0002_2024-11-05.callscan.json"
        assert c["html"] == "A17_0002_2024-11-05.callscan.html"
        assert c["options"] and c["processing_s"] is not None and c["callscan_version"]
        assert c["stage_contact"] == "present" and c["step_resolve"] in ("absent", "unclear")
        assert c["tips"] and len(c["tips"]) == len(c["tip_sources"]) <= 3
        rude = calls["B02_0005_2024-11-13"]
        assert rude["conduct_failed"] >= 1 and "blame_customer" in rude["conduct_failed_rules"]
        assert rude["rule_blame_customer"] == "fail"
        # one finding per stage, step and rule of each report, plus modality and grievance
        n = {
            r["name"]: r["n"]
            for r in rows(con, "SELECT name, count(*) AS n FROM findings GROUP BY name")
        }
        report = json.loads((folder / "A17_0002_2024-11-05.callscan.json").read_text())
        expected = len(report["stages"]["stages"]) + len(report["stages"]["rules"]) + 2 + 1
        assert n["A17_0002_2024-11-05"] == expected
        blame = rows(
            con,
            "SELECT * FROM findings WHERE name = ? AND id = 'blame_customer'",
            ["B02_0005_2024-11-13"],
        )[0]
        assert blame["kind"] == "rule" and blame["status"] == "fail"
        assert "your own fault" in blame["evidence"] and blame["turn"] == 2
        before = rows(con, "SELECT * EXCLUDE (stored_at) FROM calls ORDER BY name")
    again = store.rebuild(folder, manifest=folder.parent / "manifest.csv")  # idempotent
    assert again.calls == result.calls == 7
    with store.opened(folder, read_only=True) as con:
        assert rows(con, "SELECT * EXCLUDE (stored_at) FROM calls ORDER BY name") == before


def test_record_upserts_one_call_and_sync_follows_the_reports(folder):
    store.rebuild(folder)
    name = "A17_0001_2024-11-04"
    path = folder / f"{name}.callscan.json"
    # record() by path, as a batch does after each call: a re-run replaces the rows
    assert store.record(folder, path, {"name": name, "team": "south"}) == name
    assert store.record(folder, str(path), {"name": name, "team": "south"}) == name
    with store.opened(folder, read_only=True) as con:
        assert rows(con, "SELECT team FROM calls WHERE name = ?", [name]) == [{"team": "south"}]
        n = rows(con, "SELECT count(*) AS n FROM findings WHERE name = ?", [name])[0]["n"]
        assert n > 10
    # a failed call from the runner's log entry
    entry = {"name": "X_1", "file": "x.wav", "status": "error", "error": "corrupt", "row": {}}
    store.record(folder, None, entry)
    # a report removed, another re-scored: sync follows
    (folder / "C03_0006_2024-11-13.callscan.json").unlink()
    report = json.loads(path.read_text())
    report["stages"]["needs_review"] = True
    report["stages"]["review_reasons"] = ["closing: unsure words"]
    path.write_text(json.dumps(report))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    result = store.sync(folder)
    assert (result.written, result.removed) == (1, 1)
    with store.opened(folder, read_only=True) as con:
        names = {r["name"] for r in rows(con, "SELECT name FROM calls")}
        assert "C03_0006_2024-11-13" not in names and "X_1" in names
        assert (
            rows(con, "SELECT count(*) AS n FROM findings WHERE name = 'C03_0006_2024-11-13'")[0][
                "n"
            ]
            == 0
        )
        c = rows(con, "SELECT needs_review, review_reasons FROM calls WHERE name = ?", [name])[0]
        assert c == {"needs_review": True, "review_reasons": ["closing: unsure words"]}
    assert store.sync(folder).written == 0  # nothing changed


def test_a_failed_write_leaves_the_call_as_it_was(folder, monkeypatch):
    store.rebuild(folder)
    name = "A17_0001_2024-11-04"
    with store.opened(folder, read_only=True) as con:
        before = rows(con, "SELECT count(*) AS n FROM findings WHERE name = ?", [name])[0]["n"]
    real = store._insert

    def broken(con, table, rows_):
        real(con, table, rows_)
        if table == "findings":
            raise OSError("disk full")

    monkeypatch.setattr(store, "_insert", broken)
    with pytest.raises(OSError):
        store.record(folder, folder / f"{name}.callscan.json", {"name": name, "team": "new"})
    monkeypatch.undo()
    with store.opened(folder, read_only=True) as con:
        assert rows(con, "SELECT team FROM calls WHERE name = ?", [name]) == [{"team": None}]
        assert (
            rows(con, "SELECT count(*) AS n FROM findings WHERE name = ?", [name])[0]["n"] == before
        )


KILL_SCRIPT = """
import json, sys, itertools
from callscan.qa import store
folder, report = sys.argv[1], json.load(open(sys.argv[2]))
for i in itertools.count():
    store.record(folder, report, {"name": f"k{i % 40}", "agent_id": f"A{i}"})
    print(i, flush=True)
"""


def test_sigkill_while_recording_leaves_the_store_consistent(folder, tmp_path):
    report = folder / "A17_0002_2024-11-05.callscan.json"
    expected = None
    for wait_s in (0.9, 1.4, 2.2):  # three different moments
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, str(tmp_path), str(report)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one call recorded
        time.sleep(wait_s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with store.opened(tmp_path, read_only=True) as con:
            per_call = rows(
                con,
                """SELECT c.name, count(f.name) AS n FROM calls c
                LEFT JOIN findings f ON f.name = c.name GROUP BY c.name""",
            )
            dupes = rows(con, "SELECT name FROM calls GROUP BY name HAVING count(*) > 1")
            orphans = rows(
                con, "SELECT DISTINCT name FROM findings WHERE name NOT IN (SELECT name FROM calls)"
            )
        assert per_call and not dupes and not orphans
        expected = expected or per_call[0]["n"]
        assert {r["n"] for r in per_call} == {expected}  # every call whole
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".part", ".tmp"))]


def test_rollups_by_agent_team_and_period(folder):
    store.rebuild(folder, manifest=folder.parent / "manifest.csv")
    by_agent = {g["group"]: g for g in rollups.rollup(folder, "agent").groups}
    assert by_agent["A17"]["calls"] == 3 and by_agent["C03"]["failed"] == 1
    a17 = by_agent["A17"]
    assert 0 <= a17["stage_coverage"] <= 1 and "stage:contact" in a17["coverage"]
    assert a17["step_coverage"] is not None and a17["complaints"] == 2
    assert by_agent["B02"]["conduct_flags_per_100"] >= 50  # the rude call
    assert "blame_customer" in by_agent["B02"]["rules_flagged"]
    assert sum(by_agent["A17"]["caller_modality"].values()) == pytest.approx(1.0, abs=0.01)
    teams = {g["group"]: g for g in rollups.rollup(folder, "team").groups}
    assert teams["north"]["calls"] == 5
    weeks = rollups.rollup(folder, "week").groups
    assert [g["group"] for g in weeks] == ["2024-W45", "2024-W46"]
    assert weeks[0]["change"]["calls"] is None  # no week before
    assert weeks[1]["previous"] == "2024-W45" and weeks[1]["change"]["calls"] == 3 - 3
    days = rollups.rollup(folder, "day", since="2024-11-05", until="2024-11-12").groups
    assert [g["group"] for g in days] == ["2024-11-05", "2024-11-12"]
    assert days[0]["change"]["calls"] == 2 - 1  # against 2024-11-04, outside the range
    assert days[1]["change"]["calls"] is None  # 2024-11-11 had no calls
    months = rollups.rollup(folder, "month").to_dict()
    assert months["groups"][0]["group"] == "2024-11" and months["groups"][0]["calls"] == 6
    json.dumps(months)  # JSON-native


def test_complaint_report(folder):
    report = rollups.complaints(folder, since="2024-11-01", until="2024-11-30")
    by_name = {c["name"]: c for c in report.calls}
    assert set(by_name) >= {"A17_0002_2024-11-05", "A17_0003_2024-11-12", "B02_0004_2024-11-05"}
    open_one = by_name["A17_0002_2024-11-05"]
    assert open_one["open"] and open_one["topic"] == "billing" and "bill" in open_one["grievance"]
    resolved = by_name["A17_0003_2024-11-12"]
    assert resolved["topic"] == "network" and "resolve" in resolved["steps_heard"]
    assert not resolved["open"]
    topics = {t["topic"]: t for t in report.topics}
    assert topics["network"]["complaints"] == 2 and topics["network"]["steps"]["resolve"] == 1.0
    assert report.to_dict()["open"] == len(report.open)


def test_review_queue_orders_calls_with_reasons(folder):
    queue = review.review_queue(folder)
    names = [q["name"] for q in queue]
    assert names[0] == "B02_0005_2024-11-13"  # conduct flags and the lowest score
    top = queue[0]
    assert any("conduct flags" in r and "blame_customer" in r for r in top["reasons"])
    assert top["link"] == "B02_0005_2024-11-13.callscan.html"
    assert any(
        q["name"] == "C03_0007_2024-11-14" and "analysis failed" in q["reasons"][0] for q in queue
    )
    assert all(q["reasons"] for q in queue)
    assert len(review.review_queue(folder, limit=2)) == 2


def test_review_queue_flags_agents_drifting_from_their_team():
    def call(i, agent, stages, **kw):
        return {"name": f"c{i}", "status": "ok", "agent_id": agent, "team": "t",
                "stages_percent": stages, "conduct_failed": 0, **kw}  # fmt: skip

    calls = [call(i, f"G{i % 3}", 70 + (i % 5)) for i in range(30)]
    calls += [call(100 + i, "LOW", 50 + i % 3) for i in range(4)]
    drift = review.drifts(calls)
    assert list(drift) == ["LOW"] and "below team t on stages" in drift["LOW"][0]
    queue = {q["name"]: q for q in review.rank(calls)}
    assert any("drifts below" in r for r in queue["c100"]["reasons"])
    assert "c1" not in queue or not any("drifts" in r for r in queue["c1"]["reasons"])


def test_export_writes_both_tables(folder, tmp_path):
    store.rebuild(folder, manifest=folder.parent / "manifest.csv")
    out = tmp_path / "export"
    files = store.export(folder, "csv", out)
    assert [f.name for f in files] == ["calls.csv", "findings.csv"]
    with open(out / "calls.csv", newline="", encoding="utf-8") as f:
        calls = list(csv.DictReader(f))
    assert len(calls) == 7
    c03 = [r for r in calls if r["agent_id"] == "C03"]
    assert c03[0]["team"].startswith("'=HYPERLINK")  # no formula in a spreadsheet
    assert any(";" in r["stages_missing"] for r in calls)  # lists joined
    files = store.export(folder, "jsonl", out)
    lines = (out / "findings.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["name"] and len(lines) > 6 * 20
    store.export(folder, "parquet", out)
    import duckdb

    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM '{out / 'calls.parquet'}'").fetchall() == [(7,)]
    con.close()
    assert not list(out.glob("*.part"))


def test_cli_commands(folder, tmp_path):
    runner = CliRunner()
    manifest = ["--manifest", str(folder.parent / "manifest.csv")]
    r = runner.invoke(app, ["rollup", str(folder), "--by", "team", "--json", *manifest])
    assert r.exit_code == 0, r.stderr
    assert {g["group"] for g in json.loads(r.stdout)["groups"]} >= {"north"}
    r = runner.invoke(app, ["rollup", str(folder), "--by", "week"])
    assert r.exit_code == 0 and "2024-W46" in r.stdout and "stage cov" in r.stdout
    r = runner.invoke(app, ["rollup", str(folder), "--complaints", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["complaints"] >= 3
    r = runner.invoke(app, ["rollup", str(folder), "--complaints"])
    assert "open:" in r.stdout and "billing" in r.stdout
    r = runner.invoke(app, ["review-queue", str(folder), "--limit", "1", "--json"])
    assert r.exit_code == 0 and len(json.loads(r.stdout)["calls"]) == 1
    r = runner.invoke(app, ["review-queue", str(folder)])
    assert r.exit_code == 0 and "conduct flags" in r.stdout
    r = runner.invoke(
        app, ["export", str(folder), "-f", "parquet", "-o", str(tmp_path / "x"), "--json"]
    )
    assert r.exit_code == 0 and len(json.loads(r.stdout)["files"]) == 2
    r = runner.invoke(app, ["dashboard", str(folder), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["dashboard"].endswith("index.html")
    r = runner.invoke(app, ["rollup", str(folder), "--since", "11/05/2024"])
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: --since: '11/05/2024' is not a date (YYYY-MM-DD)"
    r = runner.invoke(app, ["rollup", str(tmp_path / "missing")])
    assert r.exit_code != 0 and "Traceback" not in r.output
