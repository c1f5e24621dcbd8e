"""``callscan batch``: many calls, one bad file never stops the rest, resumable, rollups."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan import CallscanError
from callscan.cli.app import app
from callscan.pipeline import AnalyzeOptions
from callscan.qa.runner import (
    MANIFEST,
    find_calls,
    options_fingerprint,
    read_manifest,
    run_batch,
)
from callscan.speakers.assign import SpeakersOptions

PATTERN = r"(?P<agent>[A-Z]\d+)_(?P<call>\d+)"
GOOD_ID = (
    "agent: Selamat pagi, Nusantara Seluler, dengan Surya, ada yang bisa saya bantu?\n"
    "caller: Saya mau tanya tagihan saya, kelihatannya terlalu mahal.\n"
    "agent: Baik, Bapak. Saya cek dulu. Terima kasih atas waktu Bapak, selamat siang.\n"
)
GOOD_EN = (
    "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
    "caller: I'm calling about my bill, it sounds too high.\n"
    "agent: I understand. Let me check that for you. Thank you for calling, goodbye.\n"
)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture()
def calls(tmp_path, data_dir) -> Path:
    """A folder like a QA team's drop: real recordings, a transcript and broken files."""
    root = tmp_path / "calls"
    (root / "day2").mkdir(parents=True)
    shutil.copy(data_dir / "fw_stereo_diarization.wav", root / "A17_0001.wav")
    shutil.copy(data_dir / "fw_jfk.flac", root / "day2" / "B02_0002.flac")
    (root / "day2" / "A17_0003.wav").write_text("this is not audio, just text renamed .wav")
    (root / "B02_0004.wav").write_bytes(b"")
    wav = (data_dir / "fw_stereo_diarization.wav").read_bytes()
    (root / "day2" / "B02_0005.wav").write_bytes(wav[:30])  # cut inside the header
    (root / "notes.md").write_text("not a call")  # not audio: not picked up from a folder
    return root


def test_find_calls_searches_folders_for_audio_with_unique_names(calls, tmp_path):
    found = find_calls([calls])
    assert [c.name for c in found] == [
        "A17_0001",
        "B02_0004",
        "day2__A17_0003",
        "day2__B02_0002",
        "day2__B02_0005",
    ]
    (tmp_path / "other").mkdir()
    shutil.copy(calls / "A17_0001.wav", tmp_path / "other" / "A17_0001.wav")
    names = [c.name for c in find_calls([calls / "A17_0001.wav", tmp_path / "other"])]
    # the same name from two folders: each gets a short hash of its full path, whatever the order
    assert len(set(names)) == 2 and all(re.fullmatch(r"A17_0001-[0-9a-f]{8}", n) for n in names)
    again = [c.name for c in find_calls([tmp_path / "other", calls / "A17_0001.wav"])]
    assert sorted(again) == sorted(names)
    with pytest.raises(CallscanError, match="no such file or folder"):
        find_calls([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CallscanError, match="no audio files in this folder"):
        find_calls([tmp_path / "empty"])


@pytest.mark.slow
def test_a_batch_with_bad_files_analyses_the_rest_and_resumes(calls, tmp_path):
    out = tmp_path / "out"
    options = AnalyzeOptions(speakers=SpeakersOptions(agent_pattern=PATTERN))
    seen = []
    result = run_batch([calls], out, options, formats=("json", "html"), on_call=seen.append)

    assert (result.done, result.failed, result.skipped) == (2, 3, 0)
    rows = read_csv(out / "summary.csv")
    assert [Path(r["file"]).name for r in rows] == [
        "A17_0001.wav",
        "B02_0004.wav",
        "A17_0003.wav",
        "B02_0002.flac",
        "B02_0005.wav",
    ]
    by_name = {Path(r["file"]).name: r for r in rows}
    # the real recordings were transcribed and scored
    jfk = by_name["B02_0002.flac"]
    assert jfk["status"] == "ok" and jfk["language"] == "en"
    assert (jfk["agent_id"], jfk["call_id"]) == ("B02", "0002")
    assert float(jfk["duration_s"]) == pytest.approx(11.0, abs=0.2)
    report = json.loads(Path(jfk["report"]).read_text())
    assert "ask not what your country can do for you" in json.dumps(report).lower()
    assert (out / "day2__B02_0002.callscan.html").exists()
    stereo = by_name["A17_0001.wav"]
    assert stereo["status"] == "ok" and stereo["roles_confidence"] != ""
    # each bad file has its own one-line error and no report
    assert by_name["B02_0004.wav"]["error"].endswith("file is empty (0 bytes)")
    assert "not an audio file" in by_name["A17_0003.wav"]["error"]
    assert by_name["B02_0005.wav"]["status"] == "error"
    assert all("\n" not in r["error"] for r in rows)
    assert not (out / "B02_0004.callscan.json").exists()
    assert [e["status"] for e in seen].count("ok") == 2

    agents = {r["agent_id"]: r for r in read_csv(out / "agents.csv")}
    assert set(agents) == {"A17", "B02"}
    assert (agents["A17"]["calls"], agents["A17"]["failed"]) == ("2", "1")
    assert (agents["B02"]["calls"], agents["B02"]["failed"]) == ("3", "2")
    assert float(agents["B02"]["minutes"]) == pytest.approx(11.0 / 60, abs=0.01)

    # resume: finished calls are skipped, failed ones tried again
    again = run_batch([calls], out, options, formats=("json", "html"))
    assert (again.done, again.failed, again.skipped) == (0, 3, 2)
    resumed = read_csv(out / "summary.csv")
    assert len(resumed) == 5
    assert [r for r in resumed if r["status"] == "ok"] == [r for r in rows if r["status"] == "ok"]

    # a fixed file is picked up; a touched but unchanged recording is not redone (resume
    # keys on the content, not the modification time)
    shutil.copy(calls / "A17_0001.wav", calls / "B02_0004.wav")
    os.utime(calls / "A17_0001.wav", ns=(1, 1))
    third = run_batch([calls], out, options, formats=("json", "html"))
    assert (third.done, third.failed, third.skipped) == (1, 2, 2)
    assert read_manifest(out)["B02_0004"]["status"] == "ok"

    # other options: everything is redone
    fourth = run_batch([calls / "day2" / "B02_0002.flac"], out, AnalyzeOptions(language="en"))
    assert (fourth.done, fourth.skipped) == (1, 0)


def test_a_torn_manifest_line_is_ignored(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    good = {"name": "a", "status": "ok", "row": {}}
    (out / MANIFEST).write_text(json.dumps(good) + "\n" + '{"name": "b", "sta')
    assert list(read_manifest(out)) == ["a"]


def test_transcripts_in_worker_processes_with_per_agent_rollups(tmp_path):
    src = tmp_path / "t"
    src.mkdir()
    (src / "A17_0001.txt").write_text(GOOD_ID)
    (src / "A17_0002.txt").write_text(GOOD_EN)
    (src / "C03_0003.txt").write_text(GOOD_EN)
    (src / "C03_0004.json").write_text("{ broken json")
    out = tmp_path / "out"
    options = AnalyzeOptions(speakers=SpeakersOptions(agent_pattern=PATTERN))
    result = run_batch(sorted(src.iterdir()), out, options, workers=2)
    assert (result.done, result.failed) == (3, 1)
    rows = {r["call_id"]: r for r in read_csv(out / "summary.csv")}
    assert rows["0001"]["language"] == "id" and rows["0002"]["language"] == "en"
    assert rows["0004"]["status"] == "error" and "C03_0004.json" in rows["0004"]["error"]
    agents = {r["agent_id"]: r for r in read_csv(out / "agents.csv")}
    assert agents["A17"]["calls"] == "2" and float(agents["A17"]["stages_percent_mean"]) > 0
    assert agents["C03"]["failed"] == "1"


@pytest.mark.slow
def test_cli_batch_reports_each_call_and_fails_when_one_failed(tmp_path):
    src = tmp_path / "t"
    src.mkdir()
    (src / "A17_0001.txt").write_text(GOOD_ID)
    (src / "A17_0002.wav").write_bytes(b"RIFF\x00\x00")
    out = tmp_path / "out"
    args = ["batch", str(src / "A17_0001.txt"), str(src / "A17_0002.wav"), "-o", str(out)]
    result = CliRunner().invoke(app, [*args, "--agent-pattern", PATTERN])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("ok") and "A17_0001.txt" in line for line in lines)
    assert any(line.startswith("FAILED") and "A17_0002.wav" in line for line in lines)
    assert "2 calls: 1 analysed, 0 already done, 1 failed" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    again = ["batch", str(src / "A17_0001.txt"), "-o", str(out), "--agent-pattern", PATTERN]
    ok = CliRunner().invoke(app, again)
    assert ok.exit_code == 0, ok.stderr
    assert "1 call: 0 analysed, 1 already done, 0 failed" in ok.stderr


def test_cli_batch_without_calls_is_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "none"), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: '{tmp_path / 'none'}': no such file or folder"
    ]


def test_cli_batch_passes_every_analysis_option(tmp_path):
    src = tmp_path / "t"
    src.mkdir()
    (src / "A17_0001.txt").write_text(GOOD_ID)
    out = tmp_path / "out"
    args = ["batch", str(src / "A17_0001.txt"), "-o", str(out), "-f", "html", "--json"]
    options = [
        "--agent-pattern", PATTERN, "--agent-speaker", "2", "--swap-roles", "--speakers", "3",
        "--opening-seconds", "15", "--embed-audio", "--threads", "1", "--beam-size", "2",
        "--max-duration", "0.5", "--call-type", "sales", "--language", "id",
        "--languages", "id,en,ms", "--model", "tiny",
    ]  # fmt: skip
    result = CliRunner().invoke(app, [*args, *options])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["calls"], summary["done"], summary["failed"]) == (1, 1, 0)
    assert summary["summary"] == str(out / "summary.csv")
    row = summary["rows"][0]
    assert (row["call_type"], row["agent_id"], row["language"]) == ("sales", "A17", "id")
    assert (out / "A17_0001.callscan.html").exists()  # a transcript: no audio to embed
    expected = AnalyzeOptions(
        language="id",
        languages=("id", "en", "ms"),
        model="tiny",
        threads=1,
        beam_size=2,
        speakers=SpeakersOptions(
            n_speakers=3, agent_speaker=2, swap_roles=True, agent_pattern=PATTERN
        ),
        call_type="sales",
        opening_seconds=15.0,
        max_duration_s=1800.0,
    )
    fingerprint = options_fingerprint(expected, ("json", "html"), embed_audio=True)
    assert read_manifest(out)["A17_0001"]["options"] == fingerprint
