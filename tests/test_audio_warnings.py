"""Audio warnings reach the report: a mid-stream corrupt FLAC keeps only the audio before the
damage, and that warning travels into the JSON (``transcript.audio.warnings``), onto the HTML
page (supervisor and agent, in the call's language) and into the batch summary.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callscan.audio import decode
from callscan.pipeline import analyze, check_report
from callscan.qa.runner import SUMMARY_FIELDS, run_batch
from callscan.report.data import AUDIO_WARNING_PATTERNS, Labels, audio_warning_text
from callscan.report.html import render_html
from callscan.transcript import Segment, Transcript

SR = 16000

LINES = {
    "id": [
        "Selamat pagi, terima kasih telah menghubungi Bank Sentosa, dengan Rina, ada yang bisa saya bantu?",
        "Pagi mbak, saya mau tanya soal tagihan kartu kredit saya.",
    ],
    "en": [
        "Good morning, thank you for calling Sentosa, my name is Rina, how can I help you?",
        "Hi, I'm calling about my bill, it's wrong again.",
    ],
}


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(0)
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) / 2
    return (y + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture
def corrupt_flac(tmp_path) -> Path:
    """A 6 s FLAC whose bytes are zeroed from the middle for 2 kB: the frames after that fail."""
    path = tmp_path / "A01_0001_2024-11-05.flac"
    sf.write(path, _tone(6.0), SR, format="FLAC", subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid : mid + 2000] = bytes(2000)
    path.write_bytes(bytes(raw))
    return path


def _transcript_file(flac: Path, language: str, folder: Path) -> tuple[Path, list[str]]:
    """What ``callscan transcribe`` writes for the FLAC: its segments and the loader's info."""
    recording = decode.load(str(flac))
    info = recording.info.to_dict()
    half = recording.info.duration_s / 2
    segments = [
        Segment(id=0, channel=0, start_s=0.0, end_s=half, text=LINES[language][0]),
        Segment(
            id=1, channel=0, start_s=half, end_s=recording.info.duration_s, text=LINES[language][1]
        ),
    ]
    transcript = Transcript(
        segments=segments, language=language, language_probability=1.0, language_probs={},
        model="base", engine="openai-whisper", audio=info, n_channels=1,
        duration_s=recording.info.duration_s,
    )  # fmt: skip
    path = folder / f"{flac.stem}_{language}.json"
    path.write_text(json.dumps(transcript.to_dict()), encoding="utf-8")
    return path, list(recording.info.warnings)


def test_corrupt_flac_keeps_the_audio_before_the_damage_with_a_warning(corrupt_flac):
    recording = decode.load(str(corrupt_flac))
    assert 0.5 < recording.info.duration_s < 5.5  # the start only
    assert recording.y.shape[1] == pytest.approx(recording.info.duration_s * SR, abs=SR // 100)
    (warning,) = recording.info.warnings
    assert warning.startswith("file is truncated: header declares 6.00 s")
    assert recording.info.to_dict()["warnings"] == [warning]


@pytest.mark.parametrize(
    ("language", "heading", "sentence"),
    [
        ("id", "rekaman bermasalah", "berkas rusak atau terpotong: hanya"),
        ("en", "the recording had problems", "the file is damaged or cut short: only the first"),
    ],
)
def test_warning_reaches_the_json_and_both_pages_in_the_calls_language(
    corrupt_flac, tmp_path, language, heading, sentence
):
    path, warnings = _transcript_file(corrupt_flac, language, tmp_path)
    report = analyze(path)
    assert report["input"] == "audio"
    assert report["transcript"]["audio"]["warnings"] == warnings
    check_report(json.loads(json.dumps(report)))  # the schema knows the field
    for audience in ("supervisor", "agent"):
        page = render_html(report, audience=audience)
        assert 'id="audio-warnings"' in page
        assert heading in page and sentence in page
        other = "en" if language == "id" else "id"
        assert (
            Labels(other)("audio_warnings", "truncated", declared="6.00", decoded="1")[:12]
            not in page
        )
    # a clean recording: no warning block
    report["transcript"]["audio"]["warnings"] = []
    assert 'id="audio-warnings"' not in render_html(report)


def test_warning_reaches_the_batch_summary_csv(corrupt_flac, tmp_path):
    src = tmp_path / "calls"
    src.mkdir()
    path, warnings = _transcript_file(corrupt_flac, "id", src)
    clean = src / "A02_0002_2024-11-05.txt"
    clean.write_text(
        "agent: Selamat pagi, ada yang bisa saya bantu?\ncaller: Saya mau tanya tagihan.\n"
    )
    out = tmp_path / "out"
    result = run_batch([path, clean], out, formats=("json", "html"))
    assert "warnings" in SUMMARY_FIELDS
    with (out / "summary.csv").open(encoding="utf-8", newline="") as f:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(f)}
    assert rows[path.name]["status"] == "ok"
    assert rows[path.name]["warnings"] == "; ".join(warnings)
    assert "file is truncated" in rows[path.name]["warnings"]
    assert rows[clean.name]["warnings"] == ""
    html = next(out.glob(f"{path.stem}*.html")).read_text(encoding="utf-8")
    assert "berkas rusak atau terpotong" in html
    assert result.rows and len(result.rows) == 2


def test_every_warning_the_loader_writes_is_translated(corrupt_flac, tmp_path):
    """Real files for each warning the loader records: the page rebuilds each from its labels
    (a change of wording in callscan.audio.decode breaks this test, not the page)."""
    loud = tmp_path / "loud.wav"
    sf.write(loud, _tone(2.0) * 1000.0, SR, subtype="FLOAT")  # a float WAV in 16-bit units
    nan = tmp_path / "nan.wav"
    y = _tone(2.0)
    y[100:110] = np.nan
    sf.write(nan, y, SR, subtype="FLOAT")
    found = {}
    for path in (corrupt_flac, loud, nan):
        for w in decode.load(str(path)).info.warnings:
            kind = next(k for k, p in AUDIO_WARNING_PATTERNS if p.fullmatch(w))
            found[kind] = w
    assert set(found) == {"truncated", "over_full_scale", "non_finite"}
    english, indonesian = Labels("en"), Labels("id")
    for w in found.values():
        assert audio_warning_text(indonesian, w) != w
        assert audio_warning_text(english, w) != audio_warning_text(indonesian, w)
    assert "10 sampel tidak valid" in audio_warning_text(indonesian, found["non_finite"])
    assert audio_warning_text(indonesian, "something new") == "something new"  # shown as written
