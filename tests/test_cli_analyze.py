"""``callscan analyze`` on transcripts and on a real recording."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from callscan.cli.app import app

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


def test_bad_call_type_is_one_line_error(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL_ID)
    result = runner.invoke(app, ["analyze", str(call), "--call-type", "chat"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --call-type must be auto, sales, complaint or service, not 'chat'\n"
    )
