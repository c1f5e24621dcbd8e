"""``callscan speakers`` through the command line (registered on a local Typer app)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from callscan.cli.speakers import register

runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command, so `speakers` stays a subcommand
    def noop() -> None:
        """Nothing."""

    return app


@pytest.mark.slow
def test_speakers_json_on_a_stereo_call(app, data_dir, base_model):
    wav = str(data_dir / "fw_stereo_diarization.wav")
    args = ["speakers", wav, "--language", "en", "--agent-channel", "right", "--json"]
    result = runner.invoke(app, args + ["--threads", "1", "--agent-pattern", r"(?P<call>\w+?)_"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "stereo" and data["roles"]["agent"] == "ch1"
    assert data["roles"]["confidence"] == 1.0 and data["roles"]["method"] == "override"
    assert data["metadata"] == {"call": "fw"}
    assert [(t["channel"], t["role"]) for t in data["turns"]] == [(0, "caller"), (1, "agent")]
    assert set(data["turns"][0]) >= {"speaker", "role", "channel", "start_s", "end_s", "words"}
    assert data["metrics"]["parties"]["agent"]["talk_time_s"] > 1.5
    assert data["metrics"]["non_talk"]["threshold_s"] == 5.0


@pytest.mark.slow
def test_speakers_text_report(app, data_dir, base_model):
    wav = str(data_dir / "fw_stereo_diarization.wav")
    result = runner.invoke(app, ["speakers", wav, "--language", "en", "--threads", "1"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"{wav}: stereo, 5.0 s\nagent: ")
    assert "LOW CONFIDENCE" in out  # no agent phrases in this clip: it says so
    assert "talk time (s)" in out and "syllables per s" in out
    assert "non-talk time (silences >= 5 s): 0" in out
    assert "The horizon seems extremely distant" in out


def test_bad_pattern_is_one_line_exit_1(app, data_dir):
    wav = str(data_dir / "fw_stereo_diarization.wav")
    result = runner.invoke(app, ["speakers", wav, "--agent-pattern", "(?P<x"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: --agent-pattern: agent pattern '(?P<x' is not a valid regular"
    )
    assert result.stderr.count("\n") == 1


def test_agent_speaker_on_stereo_is_one_line_exit_1(app, data_dir):
    wav = str(data_dir / "fw_stereo_diarization.wav")
    result = runner.invoke(app, ["speakers", wav, "--agent-speaker", "1"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --agent-speaker: an agent speaker is for mono recordings; "
        "on stereo, give the agent channel\n"
    )


def test_agent_channel_choices(app, data_dir):
    wav = str(data_dir / "sample.wav")
    result = runner.invoke(app, ["speakers", wav, "--agent-channel", "middle"])
    assert result.exit_code == 2
    mono = runner.invoke(app, ["speakers", wav, "--agent-channel", "left"])
    assert mono.exit_code == 1 and "needs a stereo recording" in mono.stderr


def test_help_names_every_option(app):
    result = runner.invoke(app, ["speakers", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--agent-channel",
        "--agent-speaker",
        "--swap-roles",
        "--speakers",
        "--agent-pattern",
        "--json",
        "--model",
        "--language",
    ):
        assert flag in result.stdout
