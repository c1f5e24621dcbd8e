"""``callscan analyze``: report files, formats, audience, embedded audio, the terminal summary."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from callscan import report as reports
from callscan.cli.app import app

runner = CliRunner()

CALL = """agent: Selamat pagi, PT Nusantara Seluler, dengan Rina, ada yang bisa saya bantu?
pelanggan: Pagi mbak, saya mau tanya paket internet. <script>alert(1)</script>
agent: Boleh saya tahu kebutuhan Bapak untuk apa saja?
pelanggan: Untuk kerja dari rumah. Saya ingin melihat dulu gambaran harganya.
agent: Itu salah Bapak sendiri karena tidak membaca syarat dan ketentuan.
agent: Terima kasih atas waktu Bapak, selamat pagi.
"""


def _call(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL)
    return call


def test_default_writes_json_and_html_and_prints_a_summary(tmp_path):
    call = _call(tmp_path)
    result = runner.invoke(app, ["analyze", str(call)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    for line in ("call ", "roles ", "stages ", "conduct ", "caller modality ", "tip 1 "):
        assert line in result.stderr
    assert f"wrote {tmp_path / 'call.callscan.json'}\n" in result.stderr
    assert result.stderr.endswith(f"wrote {tmp_path / 'call.callscan.html'}\n")
    report = reports.load_report(tmp_path / "call.callscan.json")
    page = (tmp_path / "call.callscan.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'data-audience="supervisor"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert report["language"] == "id"
    assert not (tmp_path / "call.callscan.md").exists()


def test_format_all_agent_audience_output_dir(tmp_path):
    call = _call(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["analyze", str(call), "-f", "all", "--audience", "agent", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "call.callscan.html", "call.callscan.json", "call.callscan.md"]  # fmt: skip
    assert 'data-audience="agent"' in (out / "call.callscan.html").read_text()
    assert (out / "call.callscan.md").read_text().startswith("## Tinjauan panggilan Anda: call.txt")


def test_format_md_only(tmp_path):
    call = _call(tmp_path)
    result = runner.invoke(app, ["analyze", str(call), "--format", "md"])
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in tmp_path.glob("call.callscan.*")] == ["call.callscan.md"]


def test_json_to_stdout_writes_no_files_and_validates(tmp_path):
    call = _call(tmp_path)
    result = runner.invoke(app, ["analyze", str(call), "--json"])
    assert result.exit_code == 0, result.stderr
    reports.validate(json.loads(result.stdout))
    assert not list(tmp_path.glob("call.callscan.*"))
    both = runner.invoke(app, ["analyze", str(call), "--json", "-f", "html"])
    assert both.exit_code == 0 and json.loads(both.stdout)["input"] == "transcript"
    assert [p.name for p in tmp_path.glob("call.callscan.*")] == ["call.callscan.html"]


def test_embed_audio_needs_a_recording(tmp_path):
    call = _call(tmp_path)
    result = runner.invoke(app, ["analyze", str(call), "--embed-audio"])
    assert result.exit_code == 1
    assert result.stderr == "Error: --embed-audio needs a recording, not a transcript\n"


def test_bad_format_and_audience_are_usage_errors(tmp_path):
    call = _call(tmp_path)
    for args in (["--format", "pdf"], ["--audience", "boss"], ["--engine", "vosk"]):
        result = runner.invoke(app, ["analyze", str(call), *args])
        assert result.exit_code == 2 and "Invalid value" in result.stderr, args


@pytest.mark.slow
def test_recording_with_embedded_audio(data_dir, tmp_path):
    wav = data_dir / "fw_stereo_diarization.wav"
    result = runner.invoke(
        app,
        ["analyze", str(wav), "-o", str(tmp_path), "--language", "en", "--agent-channel", "left",
         "--embed-audio", "--engine", "openai-whisper"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "opening          tone " in result.stderr
    page = (tmp_path / "fw_stereo_diarization.callscan.html").read_text()
    assert '<audio id="call-audio" controls preload="auto" src="data:audio/flac;base64,' in page
    report = reports.load_report(tmp_path / "fw_stereo_diarization.callscan.json")
    assert report["opening"]["plot"]["hop_s"] == 0.05
    assert "data:audio" not in (tmp_path / "fw_stereo_diarization.callscan.json").read_text()
