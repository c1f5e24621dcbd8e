"""Reports: the JSON schema, every report validating, rendering, tips, Markdown escaping, size."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import soundfile as sf

from callscan import report as reports
from callscan.conversation import parse_text
from callscan.pipeline import AnalyzeOptions, analyze, analyze_conversation
from callscan.report.data import clock, highlight_spans
from callscan.report.md import md_escape, render_md
from callscan.report.tips import N_TIPS, top_tips

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(1)>'

CALL_ID = f"""agent: Selamat pagi, PT Nusantara Seluler, dengan Rina, ada yang bisa saya bantu?
pelanggan: Pagi mbak, saya mau komplain, tagihan saya kelihatannya salah. {HOSTILE_SCRIPT}
agent: Mohon maaf atas ketidaknyamanannya Bapak. Boleh saya tahu nomor pelanggannya?
pelanggan: {HOSTILE_IMG} nomornya 0812 3456 7890.
agent: Itu salah Bapak sendiri karena tidak membaca syarat dan ketentuan.
pelanggan: Saya tidak merasa pakai roaming, rasanya berat sekali tagihannya.
agent: Saya ajukan pengembalian dana, prosesnya 3 hari kerja. Ada lagi yang bisa saya bantu?
pelanggan: Tidak, terima kasih.
agent: Terima kasih telah menghubungi PT Nusantara Seluler, selamat pagi.
"""


def text_report(text: str = CALL_ID, **kw) -> dict:
    return analyze_conversation(parse_text(text, source="call <i>1.txt"), AnalyzeOptions(**kw))


def load_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_report", ROOT / "bench" / "bench_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stereo_report(data_dir, base_model) -> dict:
    options = AnalyzeOptions(language="en")
    from callscan.speakers.assign import SpeakersOptions

    options = AnalyzeOptions(language="en", speakers=SpeakersOptions(agent_channel=0))
    return analyze(data_dir / "fw_stereo_diarization.wav", options, model=base_model)


def test_schema_is_valid_draft_2020_12():
    schema = reports.load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_text_report_validates_and_round_trips(tmp_path):
    report = text_report()
    reports.validate(report)
    assert report["schema_version"].startswith("1.")
    path = tmp_path / "call.callscan.json"
    path.write_text(reports.render_json(report))
    again = reports.load_report(path)
    assert again == json.loads(json.dumps(report))
    # re-rendered from the stored JSON alone, without the audio
    assert reports.render(again, "html") == reports.render(report, "html")


@pytest.mark.slow
def test_recording_report_validates_with_opening_plot(stereo_report):
    reports.validate(stereo_report)
    plot = stereo_report["opening"]["plot"]
    n = len(plot["t_s"])
    assert n == len(plot["f0_st"]) == len(plot["level_db"]) == len(plot["envelope"])
    assert n == int(stereo_report["opening"]["window"]["length_s"] / plot["hop_s"])
    assert plot["t_s"][0] == stereo_report["opening"]["window"]["start_s"]
    voiced = [v for v in plot["f0_st"] if v is not None]
    assert len(voiced) > 10 and abs(float(np.median(voiced))) < 2.0  # semitones re the median
    assert 60 < plot["f0_median_hz"] < 400
    assert all(-1 <= a <= b <= 1 for a, b in plot["envelope"])


SAMPLES = sorted((ROOT / "samples").glob("*.wav"))


@pytest.mark.slow
@pytest.mark.parametrize("wav", SAMPLES + [ROOT / "tests/data/fw_stereo_diarization.wav"],
                         ids=lambda p: p.name)  # fmt: skip
def test_every_sample_call_gives_a_valid_report(wav, base_model, sample_reports, tmp_path):
    if wav.parent.name == "samples":
        report = sample_reports(wav.stem)  # shared with test_samples.py: one analysis each
    else:
        report = analyze(wav, AnalyzeOptions(), model=base_model)
    reports.validate(report)
    paths = reports.report_paths(wav, reports.FORMATS, tmp_path)
    reports.write_reports(report, paths)
    assert reports.load_report(paths["json"])["conversation"] == report["conversation"]
    assert paths["html"].stat().st_size < 1_000_000


def test_schema_violation_names_the_place():
    report = text_report()
    report["stages"]["stages"][0]["status"] = "maybe"
    with pytest.raises(reports.ReportError, match=r"\$\.stages\.stages\[0\]\.status: 'maybe'"):
        reports.validate(report)
    del report["conversation"]
    assert any("conversation" in e for e in reports.validation_errors(report))


def test_load_report_errors_are_one_line(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text("{")
    with pytest.raises(reports.ReportError, match=r"^'.*r\.json': invalid JSON"):
        reports.load_report(bad)
    bad.write_text('{"schema_version": "1.0"}')
    with pytest.raises(reports.ReportError, match="does not match report.schema.json"):
        reports.load_report(bad)


def test_unknown_format_and_audience():
    with pytest.raises(reports.ReportError, match=r"choose from: json, html, md"):
        reports.render(text_report(), "pdf")
    with pytest.raises(reports.ReportError, match=r"choose from: supervisor, agent"):
        reports.render(text_report(), "html", reports.ReportOptions(audience="boss"))


def test_report_paths():
    paths = reports.report_paths("calls/a.b.wav", ("json", "html"))
    assert paths == {
        "json": Path("calls/a.b.callscan.json"),
        "html": Path("calls/a.b.callscan.html"),
    }
    assert reports.report_paths("x/c.callscan.json", ("md",), "out") == {
        "md": Path("out/c.callscan.md")
    }


def test_agent_tips_are_specific_kind_and_in_the_calls_language():
    report = text_report()
    tips = top_tips(report)
    assert len(tips) == N_TIPS
    blame = [t for t in tips if t.source == "blame_customer"]
    assert blame, [t.source for t in tips]  # something said that should not have been comes first
    assert tips[0].source == "blame_customer" and tips[0].turn == 4
    assert "giliran 5 Anda berkata “Itu salah Bapak”" in tips[0].text and "Jangan" in tips[0].text
    assert len({t.text for t in tips}) == N_TIPS


@pytest.mark.slow
def test_english_tips_name_the_moment(stereo_report):
    tips = top_tips(stereo_report)
    assert tips and all(t.text and t.text[0].isupper() for t in tips)
    assert any(t.at_s is not None for t in tips)
    assert stereo_report["language"] == "en" and "Use" in " ".join(t.text for t in tips)


def test_highlight_spans_and_clock():
    assert highlight_spans("Halo, Selamat Pagi pak", ["selamat pagi", "pak"]) == [
        ("Halo, ", False), ("Selamat Pagi", True), (" ", False), ("pak", True)]  # fmt: skip
    assert highlight_spans("abc", ["x"]) == [("abc", False)]
    assert clock(65.9) == "1:05" and clock(3725) == "1:02:05" and clock(None) == ""


def test_markdown_escapes_untrusted_text():
    md = render_md(text_report())
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;" in md or HOSTILE_SCRIPT not in md
    assert md_escape("[x](javascript:alert(1)) | *b* <i>") == (
        r"\[x\](javascript:alert(1)) \| \*b\* &lt;i&gt;"
    )
    assert md.startswith("## Laporan panggilan: call &lt;i&gt;1.txt")
    assert "### Tiga hal untuk dicoba" in md


def test_html_escapes_transcript_and_keeps_script_data_inert():
    page = reports.render(text_report(), "html")
    assert HOSTILE_SCRIPT not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    data = page.split('<script type="application/json" id="callscan-data">')[1].split("</script>")[
        0
    ]
    assert "<" not in data and json.loads(data)["audience"] == "supervisor"
    assert page.count("<script") == 2  # the JSON data and callscan's own script, nothing else
    assert "http://" not in page and "https://" not in page  # self-contained


def test_agent_page_is_in_the_calls_language_with_tips_first():
    page = reports.render(text_report(), "html", reports.ReportOptions(audience="agent"))
    assert '<html lang="id" data-audience="agent">' in page
    assert page.index('id="tips"') < page.index('id="opening"') < page.index('id="transcript"')
    assert "Tiga hal untuk dicoba" in page and 'id="conduct"' not in page


def test_audio_data_uri_is_16k_mono_flac(data_dir):
    uri = reports.audio_data_uri(data_dir / "fw_stereo_diarization.wav")
    assert uri.startswith("data:audio/flac;base64,")
    y, sr = sf.read(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert sr == 16000 and y.ndim == 1 and abs(len(y) / sr - 5.0) < 0.01
    page = reports.render(text_report(), "html", reports.ReportOptions(audio_uri=uri))
    assert '<audio id="call-audio" controls' in page
    with pytest.raises(ValueError):
        reports.render(text_report(), "html", reports.ReportOptions(audio_uri="javascript:x"))


@pytest.mark.slow
def test_five_minute_report_is_under_one_megabyte():
    report = load_bench().synthetic_report(5.0)
    reports.validate(report)
    assert report["conversation"]["turns"][-1]["end_s"] > 290
    for fmt in reports.FORMATS:
        for audience in reports.AUDIENCES:
            text = reports.render(report, fmt, reports.ReportOptions(audience=audience))
            assert len(text.encode()) < 1_000_000, (fmt, audience)
    page = reports.render(report, "html")
    assert page.count('class="seg agent"') == sum(
        t["role"] == "agent" for t in report["conversation"]["turns"]
    )
