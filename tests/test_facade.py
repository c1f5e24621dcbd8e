"""The public facade: ``import callscan`` is instant, and every public name works through it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import callscan

PUBLIC = [
    "analyze",
    "AnalyzeOptions",
    "run_batch",
    "load_audio",
    "load_model",
    "transcribe",
    "TranscribeOptions",
    "render_report",
    "ReportOptions",
    "CallscanError",
    "AudioError",
    "ConfigError",
    "ModelError",
    "TranscriptError",
]


def test_import_callscan_loads_nothing_heavy():
    code = (
        "import sys, callscan; "
        "print(','.join(m for m in ('torch','whisper','numpy','librosa','typer','rich') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name):
    assert name in callscan.__all__
    assert getattr(callscan, name) is not None
    assert name in dir(callscan)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        callscan.nope  # noqa: B018


def test_facade_analyses_a_transcript_and_renders_it(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(
        "agent: Selamat pagi, dengan Nusantara Telekom, saya Rina, ada yang bisa saya bantu?\n"
        "caller: Saya mau tanya paket internet keluarga.\n"
        "agent: Baik Bapak, terima kasih sudah menghubungi kami.\n",
        encoding="utf-8",
    )
    report = callscan.analyze(call, callscan.AnalyzeOptions(language="id"))
    assert report["language"] == "id"
    assert [t["role"] for t in report["conversation"]["turns"]] == ["agent", "caller", "agent"]
    page = callscan.render_report(report, "html", callscan.ReportOptions(audience="agent"))
    assert page.startswith("<!DOCTYPE html>") and "Nusantara Telekom" in page


def test_facade_errors_are_the_library_errors(tmp_path):
    with pytest.raises(callscan.CallscanError):
        callscan.load_audio(tmp_path / "missing.wav")
