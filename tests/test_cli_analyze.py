"""``callscan analyze`` on transcripts and on a real recording."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from callscan import CallscanError
from callscan.analysis.playbook import CALL_TYPES
from callscan.cli.app import app
from callscan.cli.common import error_line
from callscan.pipeline import analyze as analyze_call

runner = CliRunner()

CALL_ID = """agent: Selamat pagi, PT Nusantara Seluler, dengan Rina, ada yang bisa saya bantu?
pelanggan: Pagi mbak, saya mau tanya paket internet. Kelihatannya paket baru menarik.
cs: Boleh saya tahu kebutuhan Bapak untuk apa saja?
customer: Untuk kerja dari rumah. Saya ingin melihat dulu gambaran harganya.
A: Paket ini membuat Bapak bisa rapat video tanpa putus. Terima kasih atas waktu Bapak.
C: Tampilannya juga kelihatan bagus, saya bisa membayangkan pakainya. Terima kasih.
"""


def test_analyze_text_transcript_writes_report(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    result = runner.invoke(app, ["analyze", str(call), "--call-type", "sales"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.endswith(
        f"wrote {tmp_path / 'call.callscan.json'}\nwrote {tmp_path / 'call.callscan.html'}\n"
    )
    report = json.loads((tmp_path / "call.callscan.json").read_text())
    assert report["input"] == "transcript" and report["language"] == "id"
    roles = [t["role"] for t in report["conversation"]["turns"]]
    assert roles == ["agent", "caller", "agent", "caller", "agent", "caller"]
    assert report["modality"]["caller"]["leading"] == "visual"
    stages = {s["id"]: s["status"] for s in report["stages"]["stages"]}
    assert stages["contact"] == "present" and stages["needs"] == "present"
    assert report["opening"] is None and report["speakers"] is None


def test_analyze_json_to_stdout_and_rescore(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    result = runner.invoke(app, ["analyze", str(call), "--json"])
    assert result.exit_code == 0
    report = tmp_path / "r.json"
    report.write_text(result.stdout)
    again = runner.invoke(app, ["rescore", str(report), "--call-type", "sales"])
    assert again.exit_code == 0, again.stderr
    rescored = json.loads(again.stdout)
    assert rescored["stages"]["call_type"] == "sales"
    assert rescored["conversation"] == json.loads(result.stdout)["conversation"]


@pytest.mark.slow
def test_analyze_stereo_recording_end_to_end(data_dir, tmp_path):
    wav = str(data_dir / "fw_stereo_diarization.wav")
    result = runner.invoke(
        app, ["analyze", wav, "--json", "--language", "en", "--agent-channel", "left"]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["input"] == "audio" and report["language"] == "en"
    assert report["speakers"]["roles"]["agent"] == "ch0"
    turns = report["conversation"]["turns"]
    assert [(t["channel"], t["role"]) for t in turns] == [(0, "agent"), (1, "caller")]
    assert turns[0]["text"].startswith("He began")
    assert report["opening"]["status"] == "ok" and "short_window" in report["opening"]["flags"]
    assert 0 <= report["opening"]["clarity"]["score"] <= 100
    assert report["speakers"]["metrics"]["parties"]["agent"]["talk_time_s"] > 1.0


def test_unlabelled_text_line_is_one_line_error(tmp_path):
    call = tmp_path / "bad.txt"
    call.write_text("hello there\nagent: hi\n")
    result = runner.invoke(app, ["analyze", str(call)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: '{call}' line 1: a turn must start with 'agent:' or 'caller:' "
        "(also A:, C:, cs:, pelanggan:, customer:)\n"
    )


def test_broken_json_transcript_is_one_line_error(tmp_path):
    call = tmp_path / "bad.json"
    call.write_text('{"segments": [')
    result = runner.invoke(app, ["analyze", str(call)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: '{call}': invalid JSON (line 1:")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["analyze", "batch", "rescore"])
def test_unknown_call_type_is_rejected_alike(tmp_path, command):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    extra = ["-o", str(tmp_path / "out")] if command == "batch" else []
    result = runner.invoke(app, [command, str(call), *extra, "--call-type", "chat"])
    assert result.exit_code == 2  # a usage error, before anything runs
    assert "'chat' is not one of" in result.stderr
    for valid in ("auto", *CALL_TYPES):  # the library's one list of call types
        assert f"'{valid}'" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "call.callscan.json").exists()


def test_analyze_json_on_a_transcript_writes_no_files(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    result = runner.invoke(app, ["analyze", str(call), "--json", "--call-type", "service"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["input"] == "transcript" and report["language"] == "id"
    assert report["stages"]["call_type"] == "service"
    assert report["stages"]["call_type_source"] == "given"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call.txt"]
    with_files = runner.invoke(app, ["analyze", str(call), "--json", "-f", "md"])
    assert with_files.exit_code == 0 and json.loads(with_files.stdout)["language"] == "id"
    assert (tmp_path / "call.callscan.md").exists()


def test_rescore_json_prints_and_writes(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    out = tmp_path / "rescored.json"
    result = runner.invoke(
        app, ["rescore", str(call), "--json", "-o", str(out), "--call-type", "sales"]
    )
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads(out.read_text(encoding="utf-8"))
    assert printed["stages"]["call_type"] == "sales" and printed["conversation"]["turns"]


def test_library_error_with_an_option_is_printed_with_its_flag(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    result = runner.invoke(app, ["analyze", str(call), "--language", "fr"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --playbook: no bundled playbook for language 'fr' (valid: id, en); "
        "give a playbook file\n"
    )
    # the library's own message names no flag; the CLI maps the parameter to its flag
    err = CallscanError("the recording is too long", option="max_duration_s")
    assert str(err) == "the recording is too long"
    assert error_line(err) == "--max-duration: the recording is too long"
    assert error_line(CallscanError("plain")) == "plain"


def test_analyze_reports_progress_through_the_hook(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    steps = []
    report = analyze_call(call, hook=lambda *step: steps.append(step))
    assert report["input"] == "transcript"
    assert steps == [("analysis", 0, 1), ("analysis", 1, 1)]
