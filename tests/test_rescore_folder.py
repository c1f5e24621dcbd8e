"""``callscan rescore DIR``: a batch folder re-scored from its stored transcripts.

The folder is made as a QA team makes one: ``run_batch`` on transcripts named
``AGENT_CALL_DATE.txt`` with the team's own playbook and profile, JSON and HTML reports.
The call files are then deleted, so nothing can be decoded or read again: the re-score works
from the reports alone. A changed playbook (one slang word added) and a changed profile (one
competitor added) must each change exactly the one call that says it.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan.cli.app import app
from callscan.errors import CallscanError
from callscan.pipeline import AnalyzeOptions
from callscan.qa import store
from callscan.qa.files import read_manifest
from callscan.qa.rescore import rescore_folder, stored_file
from callscan.qa.runner import lock_folder, run_batch, unlock_folder
from callscan.resources import data_path
from callscan.speakers.assign import SpeakersOptions

PATTERN = r"(?P<agent>[A-Z]\d+)_(?P<call>\d+)_(?P<date>\d{4}-\d\d-\d\d)"
GREETING = "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
CALLS = {
    "A17_0001_2024-11-04.txt": GREETING
    + "caller: My internet connection keeps dropping, this is a complaint.\n"
    "agent: I am sorry about that, I understand how frustrating that is.\n"
    "agent: A technician will visit tomorrow, your reference number is 5521.\n"
    "agent: Is there anything else I can help you with? Thank you for calling, goodbye.\n",
    # says "cheers": only the changed playbook calls it slang
    "A17_0002_2024-11-05.txt": GREETING + "caller: I wanted to ask about my bill.\n"
    "agent: It is paid in full, nothing is due this month.\n"
    "agent: Cheers, thank you for calling, goodbye.\n",
    # names a competitor: only the changed profile knows it is one
    "B02_0003_2024-11-05.txt": GREETING + "caller: I am thinking of moving to Zeta Mobile.\n"
    "agent: Honestly, Zeta Mobile is a joke, you are better off staying with us.\n"
    "agent: Thank you for calling, goodbye.\n",
    "B02_0004_2024-11-13.txt": "agent: Yeah?\n"
    "caller: I'm calling about my bill, it is too high.\n"
    "agent: You should have read the terms, that is your own fault. Whatever.\n",
    "C03_0005_2024-11-13.txt": GREETING + "caller: What time do you close today?\n"
    "agent: We close at eight tonight. Thank you for calling, goodbye.\n",
}
NAMES = [name.removesuffix(".txt") for name in CALLS]
PROFILE = "team: Acme support\ncompanies: [Acme]\nagents: [Dana]\n"


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def store_findings(out: Path) -> dict[str, set[tuple]]:
    with store.opened(out, read_only=True) as con:
        rows = store.query(con, "SELECT name, kind, id, status FROM findings")
    found: dict[str, set[tuple]] = {}
    for r in rows:
        found.setdefault(r["name"], set()).add((r["kind"], r["id"], r["status"]))
    return found


def call_row(out: Path, name: str) -> dict:
    with store.opened(out, read_only=True) as con:
        return store.query(con, "SELECT * FROM calls WHERE name = ?", [name])[0]


def bundled_playbook() -> Path:
    """The English playbook shipped with callscan."""
    path = data_path("playbook_en.yaml")
    assert path is not None
    return path


def make_batch(root: Path) -> Path:
    """A batch output folder from the calls above, scored with the team's own playbook
    and profile (in ``root/team``); the call files themselves are gone afterwards."""
    team = root / "team"
    team.mkdir()
    shutil.copy(bundled_playbook(), team / "playbook.yaml")
    (team / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    src = root / "calls"
    src.mkdir()
    for name, text in CALLS.items():
        (src / name).write_text(text, encoding="utf-8")
    (src / "C03_0006_2024-11-14.json").write_text("{ broken json")
    out = root / "out"
    options = AnalyzeOptions(
        speakers=SpeakersOptions(agent_pattern=PATTERN),
        playbook=str(team / "playbook.yaml"),
        profile=str(team / "profile.yaml"),
    )
    result = run_batch(sorted(src.iterdir()), out, options, formats=("json", "html"))
    assert (result.done, result.failed) == (5, 1)
    shutil.rmtree(src)  # nothing left to decode or read: the reports must suffice
    return out


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    return make_batch(tmp_path_factory.mktemp("rescore"))


@pytest.fixture()
def batch(original, tmp_path) -> Path:
    """A private copy of the batch folder and of the team's files (tests change them)."""
    shutil.copytree(original.parent / "team", tmp_path / "team")
    shutil.copytree(original, tmp_path / "out")
    return tmp_path / "out"


def changed_playbook(tmp_path: Path) -> Path:
    """The team's playbook with "cheers" added to the slang words."""
    text = (tmp_path / "team" / "playbook.yaml").read_text(encoding="utf-8")
    old = r"'\b(?:dude|bro|"
    assert text.count(old) == 1
    path = tmp_path / "team" / "playbook_v2.yaml"
    path.write_text(text.replace(old, r"'\b(?:cheers|dude|bro|"), encoding="utf-8")
    return path


def test_a_changed_playbook_changes_exactly_the_calls_it_affects(batch, tmp_path):
    before = store_findings(batch)
    summary_before = {r["call_id"]: r for r in read_csv(batch / "summary.csv")}
    html = batch / "A17_0002_2024-11-05.callscan.html"
    html_before = html.read_text(encoding="utf-8")
    seen = []

    result = rescore_folder(batch, playbook=changed_playbook(tmp_path), on_call=seen.append)

    assert [c.name for c in seen] == NAMES  # every report, in order, each reported
    assert (result.rescored, result.failed) == (5, 0)
    assert (result.changed_calls, result.changed_findings) == (1, 1)
    changed = {c.name: c.changes for c in result.calls if c.changed}
    assert changed == {"A17_0002_2024-11-05": ["rule slang_jargon: pass -> fail"]}
    # timing: every call timed, the whole run at least their sum
    assert all(c.seconds > 0 for c in result.calls)
    assert result.seconds >= sum(c.seconds for c in result.calls) > 0
    assert result.per_call_s == pytest.approx(sum(c.seconds for c in result.calls) / 5)
    assert result.to_dict()["rows"][1]["changes"] == ["rule slang_jargon: pass -> fail"]

    # the store: the changed call's finding and row, the others as they were
    after = store_findings(batch)
    assert ("rule", "slang_jargon", "fail") in after["A17_0002_2024-11-05"]
    assert after["A17_0002_2024-11-05"] - before["A17_0002_2024-11-05"] == {
        ("rule", "slang_jargon", "fail")
    }
    assert {n: after[n] for n in NAMES if n != "A17_0002_2024-11-05"} == {
        n: before[n] for n in NAMES if n != "A17_0002_2024-11-05"
    }
    row = call_row(batch, "A17_0002_2024-11-05")
    assert row["rule_slang_jargon"] == "fail" and "slang_jargon" in row["conduct_failed_rules"]
    assert row["playbook"].endswith("playbook_v2.yaml")
    assert (row["agent_id"], row["team"] or "") == ("A17", "")
    with store.opened(batch, read_only=True) as con:
        failed = store.query(con, "SELECT name, error FROM calls WHERE status = 'error'")
    assert [r["name"] for r in failed] == ["C03_0006_2024-11-14"]  # the failed call kept

    # summary.csv: the same calls in the same order, only the changed one's row differs
    summary = read_csv(batch / "summary.csv")
    assert [r["call_id"] for r in summary] == list(summary_before)
    for r in summary:
        if r["call_id"] == "0002":
            assert r["conduct_failed_rules"].split(";")[-1] == "slang_jargon"
            assert int(r["conduct_failed"]) == int(summary_before["0002"]["conduct_failed"]) + 1
        else:
            assert r == summary_before[r["call_id"]]
    assert {r["agent_id"] for r in read_csv(batch / "agents.csv")} == {"A17", "B02", "C03"}

    # the reports: JSON and HTML rewritten (no Markdown made), the batch log updated
    report = json.loads((batch / "A17_0002_2024-11-05.callscan.json").read_text("utf-8"))
    assert [r["status"] for r in report["stages"]["rules"] if r["id"] == "slang_jargon"] == ["fail"]
    assert report["profile"]["path"].endswith("profile.yaml")  # the call's own profile kept
    assert html.read_text(encoding="utf-8") != html_before
    assert not list(batch.glob("*.callscan.md"))
    entry = read_manifest(batch)["A17_0002_2024-11-05"]
    assert entry["rescored"] and "slang_jargon" in entry["row"]["conduct_failed_rules"]
    assert "rescored" not in read_manifest(batch)["C03_0006_2024-11-14"]
    assert (batch / "index.html").exists()

    # again with the same playbook: nothing changes
    again = rescore_folder(batch)  # each call's own playbook (now playbook_v2) and profile
    assert (again.rescored, again.changed_calls) == (5, 0)


def test_a_changed_profile_changes_only_the_call_that_names_the_competitor(batch, tmp_path):
    profile = tmp_path / "team" / "profile_v2.yaml"
    profile.write_text(PROFILE + "competitors: [Zeta Mobile]\n", encoding="utf-8")
    summary_before = read_csv(batch / "summary.csv")

    result = rescore_folder(batch, profile=profile)

    changed = {c.name: c.changes for c in result.calls if c.changed}
    # the turn classifier already heard "Zeta Mobile is a joke" (a competitor the caller named)
    # as bashing; the profile adds the rules' evidence, on that call alone
    assert changed == {
        "B02_0003_2024-11-05": ["rule trash_competitor: fail -> fail (other evidence)"]
    }
    report = json.loads((batch / "B02_0003_2024-11-05.callscan.json").read_text("utf-8"))
    assert report["stages"]["playbook"].endswith("playbook.yaml")  # its own playbook kept
    assert report["profile"]["path"].endswith("profile_v2.yaml")
    assert call_row(batch, "B02_0003_2024-11-05")["rule_trash_competitor"] == "fail"
    rows = {r["call_id"]: r for r in read_csv(batch / "summary.csv")}
    assert "trash_competitor" in rows["0003"]["conduct_failed_rules"]
    # the summary's rows were already right (the rule failed before, by the classifier)
    assert sum(r != rows[r["call_id"]] for r in summary_before) == 0


def test_a_bad_report_fails_alone_with_one_line_and_the_cli_says_so(batch, tmp_path):
    bad = batch / "B02_0004_2024-11-13.callscan.json"
    bad.write_text("{ not json", encoding="utf-8")
    playbook = changed_playbook(tmp_path)

    result = CliRunner().invoke(app, ["rescore", str(batch), "--playbook", str(playbook), "--json"])

    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    assert (data["rescored"], data["failed"], data["changed_calls"]) == (4, 1, 1)
    failed = [r for r in data["rows"] if r["status"] == "error"]
    assert [r["name"] for r in failed] == ["B02_0004_2024-11-13"]
    assert "\n" not in failed[0]["error"] and "not valid JSON" in failed[0]["error"]
    assert data["seconds"] > 0 and data["per_call_s"] > 0
    assert bad.read_text(encoding="utf-8") == "{ not json"  # left as it was
    lines = result.stderr.splitlines()
    assert any(line.startswith("FAILED  'B02_0004_2024-11-13'") for line in lines)
    assert "          rule slang_jargon: pass -> fail" in lines
    assert "4 calls re-scored, 1 with changed findings (1 finding), 1 failed, in " in lines[-1]
    assert "Traceback" not in result.stderr


def test_a_folder_held_by_a_batch_is_refused(batch):
    fd = lock_folder(batch)
    try:
        with pytest.raises(CallscanError, match="another batch is writing to this folder"):
            rescore_folder(batch)
    finally:
        unlock_folder(fd)
    assert rescore_folder(batch).rescored == 5  # free again


def test_folder_errors_are_one_line(batch, tmp_path):
    with pytest.raises(CallscanError, match="no call reports"):
        rescore_folder(tmp_path / "team")
    with pytest.raises(CallscanError, match="no such folder"):
        rescore_folder(tmp_path / "nowhere")
    bad = tmp_path / "team" / "bad.yaml"
    bad.write_text("stages: [", encoding="utf-8")
    result = CliRunner().invoke(app, ["rescore", str(batch), "--playbook", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --playbook: ") and result.stderr.count("\n") == 1
    result = CliRunner().invoke(app, ["rescore", str(batch), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "--output" in result.stderr


def test_a_moved_playbook_fails_the_calls_scored_with_it(batch, tmp_path):
    moved = changed_playbook(tmp_path)
    assert rescore_folder(batch, playbook=moved).failed == 0
    moved.unlink()
    result = rescore_folder(batch)  # each call's own playbook: gone
    assert (result.rescored, result.failed) == (0, 5)
    error = result.calls[0].error
    assert error.startswith("'A17_0001_2024-11-04': the playbook this call was scored with (")
    assert error.endswith("playbook_v2.yaml') is not found; give the playbook to use")
    fresh = tmp_path / "team" / "playbook_v3.yaml"
    shutil.copy(bundled_playbook(), fresh)
    assert rescore_folder(batch, playbook=fresh).failed == 0


def test_stored_file_reads_the_names_a_report_gives(tmp_path):
    assert stored_file("bundled:playbook_en.yaml") == data_path("playbook_en.yaml")
    (tmp_path / "p.yaml").write_text("x")
    assert stored_file("../p.yaml", tmp_path / "calls" / "c.txt") == tmp_path / "p.yaml"
    assert stored_file("../missing.yaml", tmp_path / "calls" / "c.txt") is None
    assert stored_file(None) is None


def test_a_call_type_given_is_reported_and_then_kept(batch):
    types = {r["call_id"]: r["call_type"] for r in read_csv(batch / "summary.csv") if r["call_id"]}
    result = rescore_folder(batch, call_type="complaint")
    moved = {c.name: [s for s in c.scores if s.startswith("call_type")] for c in result.calls}
    for name in NAMES:
        was = types[name.split("_")[1]]
        expected = [] if was == "complaint" else [f"call_type: {was} -> complaint"]
        assert moved[name] == expected
    assert any(expected for expected in moved.values())
    again = rescore_folder(batch)  # "auto" keeps the type each call was given
    assert [c.scores for c in again.calls] == [[]] * 5 and again.changed_calls == 0
    summary = read_csv(batch / "summary.csv")
    assert {r["call_type"] for r in summary if r["status"] == "ok"} == {"complaint"}


def test_a_folder_can_be_rescored_without_the_turn_classifier(batch):
    result = rescore_folder(batch, classifier=False)
    assert (result.rescored, result.failed) == (5, 0)
    for name in NAMES:
        report = json.loads((batch / f"{name}.callscan.json").read_text(encoding="utf-8"))
        assert report["stages"]["classifier"] is False
        assert all(s.get("signal") != "classifier" for s in report["stages"]["stages"])
    res = CliRunner().invoke(app, ["rescore", str(batch), "--classifier"])
    assert res.exit_code == 0, res.output
    report = json.loads((batch / f"{NAMES[0]}.callscan.json").read_text(encoding="utf-8"))
    assert report["stages"]["classifier"] is True
