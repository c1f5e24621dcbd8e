"""Bounded work and one-line errors on hostile or unlucky input (issue 16).

Transcripts with absurd times or shapes, YAML alias bombs, catastrophic playbook regexes,
tens of thousands of turns, NaN weights, float audio far beyond full scale, non-finite
options: each ends in a result or one :class:`~callscan.errors.CallscanError` line, quickly.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from typer.testing import CliRunner

from callscan.cli.app import app
from callscan.config import clear_cache, nested_quantifier, read_yaml, validate_file
from callscan.conversation import load
from callscan.errors import AudioError, CallscanError, ConfigError, TranscriptError
from callscan.pipeline import REPORT_SCHEMA_VERSION, AnalyzeOptions, analyze, check_report, rescore

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def turns_json(turns: object, **extra: object) -> str:
    return json.dumps({"language": "id", "turns": turns, **extra})


GOOD_TURN = {"role": "agent", "start_s": 0.0, "end_s": 2.0, "text": "selamat pagi"}


def one_line(e: BaseException) -> str:
    text = str(e)
    assert "\n" not in text and len(text) < 400, text
    return text


# ---- transcripts ---------------------------------------------------------------------------

BAD_TRANSCRIPTS = {
    "text_number": (turns_json([{**GOOD_TURN, "text": 5}]), "turns[0].text"),
    "turns_dict": (turns_json({"a": GOOD_TURN}), "turns: must be a list"),
    "turn_string": (turns_json(["agent: hi"]), "turns[0]: must be a mapping"),
    "end_1e12": (turns_json([GOOD_TURN, {**GOOD_TURN, "end_s": 1e12}]), "turns[1].end_s"),
    "end_infinity": ('{"turns": [{"role": "agent", "start_s": 0, "end_s": Infinity}]}', "Infinity"),
    "start_nan": ('{"turns": [{"role": "agent", "start_s": NaN, "end_s": 1}]}', "NaN"),
    "overflow_float": ('{"turns": [{"role": "agent", "start_s": 0, "end_s": 1e400}]}', "range"),
    "end_before_start": (turns_json([{**GOOD_TURN, "start_s": 5.0}]), "is before start_s"),
    "negative_time": (turns_json([{**GOOD_TURN, "start_s": -1.0}]), "turns[0].start_s"),
    "huge_integer": ('{"turns": [{"role": "agent", "start_s": ' + "9" * 5000 + "}]}", "digits"),
    "deep_nesting": ('{"turns": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    "mild_nesting": ('{"turns": [' + "[" * 40 + "]" * 40 + "]}", "nested too deeply"),
    "bad_role": (turns_json([{**GOOD_TURN, "role": "boss"}]), "turns[0].role"),
    "words_not_list": (turns_json([{**GOOD_TURN, "words": 3}]), "turns[0].words"),
    "word_bad_time": (
        turns_json([{**GOOD_TURN, "words": [{"text": "x", "start_s": 1, "end_s": "2"}]}]),
        "turns[0].words[0].end_s",
    ),
    "segment_end_inf": (
        json.dumps({"language": "id", "segments": [{"start_s": 0, "end_s": 1e300, "text": ""}]}),
        "segments[0].end_s",
    ),
    "segments_dict": (json.dumps({"language": "id", "segments": {}}), "segments: must be a list"),
    "top_list": ("[1, 2, 3]", "top level"),
    "key_with_newline": (turns_json([{**GOOD_TURN, "a\nb": 1}]), "turns[0].a\\nb: unknown key"),
}


@pytest.mark.parametrize("name", sorted(BAD_TRANSCRIPTS))
def test_malformed_transcript_json_gives_one_line_naming_the_key(tmp_path, name):
    text, expected = BAD_TRANSCRIPTS[name]
    path = tmp_path / "call.json"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(TranscriptError) as err:
        load(path)
    assert time.perf_counter() - start < 5.0
    line = one_line(err.value)
    assert line.startswith(f"'{path}'") and expected in line, line


def test_malformed_transcript_through_the_cli_is_one_line(tmp_path):
    path = tmp_path / "call.json"
    path.write_text(turns_json([{**GOOD_TURN, "end_s": 1e12}]), encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error:") and "turns[0].end_s" in result.stderr
    assert "Traceback" not in result.output


def test_timed_transcript_within_24_hours_loads(tmp_path):
    path = tmp_path / "call.json"
    path.write_text(turns_json([GOOD_TURN, {**GOOD_TURN, "start_s": 80000, "end_s": 86400}]))
    conv = load(path)
    assert [t.end_s for t in conv.turns] == [2.0, 86400.0]


def test_bom_text_transcript_is_accepted(tmp_path):
    path = tmp_path / "call.txt"
    path.write_bytes("\ufeffagent: selamat pagi\ncaller: pagi\n".encode())
    conv = load(path)
    assert [t.role for t in conv.turns] == ["agent", "caller"]
    assert conv.turns[0].text == "selamat pagi"


def test_folder_named_like_a_transcript_is_a_folder(tmp_path):
    folder = tmp_path / "x.txt"
    folder.mkdir()
    with pytest.raises(TranscriptError, match="is a folder"):
        load(folder)


def test_labelled_transcripts_still_load(data_dir):
    files = sorted((data_dir / "stages").rglob("*.txt")) + sorted(
        (data_dir / "stages").rglob("*.json")
    )
    assert len(files) > 40
    for p in files:
        assert load(p).turns


# ---- YAML data files -----------------------------------------------------------------------


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"stages: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    assert path.stat().st_size < 2000
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    assert time.perf_counter() - start < 5.0
    assert "alias" in one_line(err.value)


def test_yaml_deep_nesting_and_size_and_encoding(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("stages: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested more than"):
        validate_file(deep)
    big = tmp_path / "big.yaml"
    big.write_text("stages:\n" + "  # padding\n" * 200_000, encoding="utf-8")
    with pytest.raises(ConfigError, match="too large"):
        read_yaml(big)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("meta: {name: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8") as err:
        validate_file(latin, "playbook")
    one_line(err.value)
    huge = tmp_path / "huge.yaml"
    huge.write_text("stages: " + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        validate_file(huge, "playbook")
    one_line(err.value)


def test_bundled_data_files_still_validate():
    clear_cache()
    for name in ("playbook_id", "playbook_en", "vak_id", "vak_en", "roles", "opening_profile"):
        assert validate_file(ROOT / "models" / f"{name}.yaml") is not None, name


def team_playbook(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((ROOT / "models" / "playbook_id.yaml").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_catastrophic_playbook_regex_is_refused_at_load(tmp_path):
    # the pattern that hangs `re` on the caller's own words when it is allowed to run
    assert nested_quantifier(r"(a+)+$")
    assert not nested_quantifier(r"(?:\s+(?:hallo|hello))*") and not nested_quantifier(r"\w+")

    def edit(data):
        data["triggers"]["complaint"]["patterns"] = [r"(a+)+$"]

    path = team_playbook(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    line = one_line(err.value)
    assert "triggers.complaint.patterns[0]" in line and "exponential" in line


def test_a_key_with_a_newline_is_still_one_line(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text('meta: {language: id}\n"a\\nb": 1\nstages: {}\nrules: {}\n')
    with pytest.raises(ConfigError) as err:
        validate_file(path, "playbook")
    assert "a\\nb: unknown key" in one_line(err.value)


def test_nan_weight_in_playbook_is_refused(tmp_path):
    def edit(data):
        data["stages"]["contact"]["weight"] = float("nan")

    path = team_playbook(tmp_path, edit)
    assert ".nan" in path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        validate_file(path)
    assert "stages.contact.weight" in one_line(err.value)


# ---- linear-time turn processing -----------------------------------------------------------


def synthetic_call(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    agent = ["selamat pagi dengan budi ada yang bisa saya bantu", "baik mohon ditunggu"]
    caller = ["saya mau tanya soal tagihan", "iya betul", "kenapa lama sekali"]
    turns, t = [], 0.0
    for i in range(n):
        role = "agent" if i % 2 == 0 else "caller"
        d = float(rng.uniform(0.5, 2.0))
        lines = agent if role == "agent" else caller
        text = lines[i % len(lines)]
        turns.append({"role": role, "start_s": round(t, 3), "end_s": round(t + d, 3), "text": text})
        t += d + float(rng.uniform(-0.3, 0.6))  # some overlap: interruptions are searched
        t = max(t, 0.0)
    path.write_text(turns_json(turns), encoding="utf-8")
    return path


def test_turn_processing_is_linear(tmp_path):
    from callscan import report

    def run(n: int) -> float:
        path = synthetic_call(tmp_path / f"call{n}.json", n)
        start = time.perf_counter()
        data = analyze(path)
        report.render(data, "html")
        report.render(data, "md")
        return time.perf_counter() - start

    run(50)  # warm-up: playbook, imports
    small, large = run(1_000), run(10_000)
    # quadratic work (the interruption search was) makes this ratio about 100
    assert large / small < 30, (small, large)
    assert large < 60.0


# ---- reports: finite numbers, schema, timeline, no speech ----------------------------------


def test_timeline_of_a_turn_ending_at_1e12_is_bounded(tmp_path):
    from callscan import report

    path = tmp_path / "call.json"
    path.write_text(turns_json([GOOD_TURN, {**GOOD_TURN, "start_s": 3.0, "end_s": 9.0}]))
    data = analyze(path)
    data["conversation"]["turns"][1]["end_s"] = 1e12  # a report edited by hand
    start = time.perf_counter()
    html = report.render(data, "html")
    assert time.perf_counter() - start < 10.0
    svg = html[html.index('<svg class="timeline"') :]
    svg = svg[: svg.index("</svg>")]
    assert svg.count('class="tick"') <= 12


def test_nan_in_a_report_is_one_line_and_never_written(tmp_path):
    path = tmp_path / "call.txt"
    path.write_text("agent: selamat pagi\ncaller: pagi\n", encoding="utf-8")
    data = analyze(path)
    check_report(data)
    data["stages"]["scorecard"]["score"] = math.nan
    with pytest.raises(CallscanError) as err:
        check_report(data)
    assert "$.stages.scorecard.score" in one_line(err.value)
    data["stages"]["scorecard"]["score"] = 1.0
    data["input"] = "fax"
    with pytest.raises(CallscanError, match="schema"):
        check_report(data)


def test_rescore_refuses_another_schema_version(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text("agent: selamat pagi\ncaller: pagi\n", encoding="utf-8")
    data = analyze(call)
    stored = tmp_path / "call.callscan.json"
    stored.write_text(json.dumps(data), encoding="utf-8")
    assert rescore(stored)["schema_version"] == REPORT_SCHEMA_VERSION
    stored.write_text(json.dumps({**data, "schema_version": "0.9"}), encoding="utf-8")
    with pytest.raises(CallscanError) as err:
        rescore(stored)
    assert "schema_version '0.9'" in one_line(err.value)


def test_a_call_with_no_speech_is_not_scored(tmp_path):
    path = tmp_path / "silent.txt"
    path.write_text("agent:\ncaller:\n", encoding="utf-8")
    card = analyze(path)["stages"]["scorecard"]
    assert card["percent"] is None and card["status"] == "no speech"
    speech = tmp_path / "speech.txt"
    speech.write_text("agent: selamat pagi\n", encoding="utf-8")
    assert analyze(speech)["stages"]["scorecard"]["status"] == "scored"


# ---- options -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0.0])
def test_non_finite_opening_seconds_fail_before_any_work(value):
    with pytest.raises(CallscanError) as err:
        AnalyzeOptions(opening_seconds=value)
    assert err.value.option == "opening_seconds"
    one_line(err.value)


@pytest.mark.parametrize(
    "args", [["--max-duration", "inf"], ["--max-duration", "nan"], ["--opening-seconds", "nan"]]
)
def test_non_finite_flags_are_one_line_before_transcribing(samples_dir, args):
    # a real recording: the error must come before decoding or loading a model
    call = samples_dir / "id_sales_stereo.wav"
    start = time.perf_counter()
    result = runner.invoke(app, ["analyze", str(call), "--json", *args])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert args[0] in result.output
    assert time.perf_counter() - start < 20.0


# ---- audio ---------------------------------------------------------------------------------


def test_float_wav_far_beyond_full_scale_is_scaled_down_with_a_warning(tmp_path, caplog):
    from callscan.audio.decode import load as load_audio

    sr = 16000
    t = np.arange(sr * 2) / sr
    y = (1000.0 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # 1000 x full scale
    path = tmp_path / "loud.wav"
    sf.write(path, y, sr, subtype="FLOAT")
    audio = load_audio(path)
    assert float(np.abs(audio.y).max()) == pytest.approx(1.0, abs=0.02)
    assert any("full scale" in w for w in audio.info.warnings)
    ordinary = tmp_path / "ordinary.wav"
    sf.write(ordinary, (0.5 * y / 1000.0).astype(np.float32), sr, subtype="FLOAT")
    plain = load_audio(ordinary)
    assert not plain.info.warnings and float(np.abs(plain.y).max()) == pytest.approx(0.5, abs=0.02)


def test_bad_audio_is_still_an_audio_error(tmp_path):
    from callscan.audio.decode import load as load_audio

    path = tmp_path / "x.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(AudioError) as err:
        load_audio(path)
    one_line(err.value)


def test_rendering_a_report_with_nan_is_one_line_never_invalid_json():
    from callscan import report as reports

    with pytest.raises(CallscanError) as e:
        reports.render({"schema_version": "1.0", "x": float("nan")}, "json")
    assert "\n" not in str(e.value) and "JSON" in str(e.value)
