"""Progress within a call: ``callscan batch`` shows each call being analysed and its stage.

The stages come from the pipeline's own hook (decoding, loading model, detecting speech,
transcribing, parties, analysing) and the runner (writing), in this process with one worker
or from worker processes through a queue; a finished call never shows again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callscan.cli.batch import stages_text
from callscan.pipeline import AnalyzeOptions
from callscan.qa.runner import (
    BatchProgress,
    ProgressTracker,
    run_batch,
    stage_label,
    stage_queue,
)

CALL = (
    "agent: Good morning, thank you for calling Acme, this is Dana, how can I help you?\n"
    "caller: I wanted to ask about my bill.\n"
    "agent: It is paid in full. Thank you for calling, goodbye.\n"
)


def transcripts(root: Path, n: int) -> list[Path]:
    root.mkdir()
    files = []
    for i in range(n):
        path = root / f"call{i}.txt"
        path.write_text(CALL, encoding="utf-8")
        files.append(path)
    return files


def follow(snapshots: list[dict[str, str]]):
    def on_progress(state: BatchProgress) -> None:
        snapshots.append(dict(state.in_progress))

    return on_progress


def stages_of(snapshots: list[dict[str, str]], name: str) -> list[str]:
    """The stages ``name`` went through, in order, each once."""
    seen: list[str] = []
    for snap in snapshots:
        stage = snap.get(name)
        if stage is not None and (not seen or seen[-1] != stage):
            seen.append(stage)
    return seen


def test_stage_words():
    assert stage_label("decode") == "decoding"
    assert stage_label("speech", 0, 1) == "detecting speech"
    assert stage_label("transcribe", 1, 2) == "transcribing 1/2"
    assert stage_label("transcribe", 0, 1) == "transcribing"
    assert stage_label("speakers") == "parties"
    assert stage_label("analysis", 2, 3) == "analysing"  # only transcription counts parts
    assert stage_label("write") == "writing"


def test_the_tracker_keeps_the_calls_in_progress_until_they_finish():
    tracker = ProgressTracker({"a": 60.0, "b": 30.0}, clock=iter(range(100)).__next__)
    assert tracker.stage("a", "decoding") is tracker.state
    assert tracker.stage("a", "decoding") is None  # no change, no update
    tracker.stage("b", "transcribing 1/2")
    assert tracker.state.in_progress == {"a": "decoding", "b": "transcribing 1/2"}
    assert tracker.state.to_dict()["in_progress"] == {"a": "decoding", "b": "transcribing 1/2"}
    tracker.finished("a", "ok")
    assert tracker.state.in_progress == {"b": "transcribing 1/2"}
    assert tracker.stage("a", "writing") is None  # a late report of a finished call
    assert "a" not in tracker.state.in_progress


def test_the_progress_line_names_the_calls_and_their_stages():
    state = BatchProgress(total=4)
    assert stages_text(state) == ""
    state.in_progress = {"A17_0001": "transcribing 1/2", "A17_0002": "analysing"}
    assert stages_text(state) == "A17_0001: transcribing 1/2 · A17_0002: analysing"
    state.in_progress["a_very_long_call_name_from_a_folder"] = "decoding"
    assert stages_text(state) == ("A17_0001: transcribing 1/2 · A17_0002: analysing · +1 more")
    assert stages_text(state, shown=3, width=10).endswith("a_very_lo…: decoding")


def test_a_batch_reports_each_calls_stage_in_this_process(tmp_path):
    files = transcripts(tmp_path / "calls", 2)
    snapshots: list[dict[str, str]] = []
    result = run_batch(files, tmp_path / "out", AnalyzeOptions(), on_progress=follow(snapshots))
    assert result.done == 2
    for name in ("call0", "call1"):
        assert stages_of(snapshots, name) == ["analysing", "writing"]
    assert snapshots[0] == {} and snapshots[-1] == {}  # before the first, after the last
    assert all(len(s) <= 1 for s in snapshots)  # one call at a time with one worker
    assert stage_queue() is None  # the batch's channel is closed


def test_without_a_progress_callback_no_stage_is_followed(tmp_path):
    files = transcripts(tmp_path / "calls", 1)
    assert run_batch(files, tmp_path / "out", AnalyzeOptions()).done == 1
    assert stage_queue() is None


@pytest.mark.slow
def test_stages_come_back_from_worker_processes(tmp_path):
    files = transcripts(tmp_path / "calls", 3)
    snapshots: list[dict[str, str]] = []
    result = run_batch(
        files, tmp_path / "out", AnalyzeOptions(), workers=2, on_progress=follow(snapshots)
    )
    assert result.done == 3
    for name in ("call0", "call1", "call2"):
        assert stages_of(snapshots, name)[-1] == "writing"
        assert "analysing" in stages_of(snapshots, name)
    assert snapshots[-1] == {}
    assert stage_queue() is None


@pytest.mark.slow
def test_a_recording_goes_through_every_stage(tmp_path, data_dir):
    snapshots: list[dict[str, str]] = []
    options = AnalyzeOptions(language="en")
    result = run_batch(
        [data_dir / "hvb_agent_0091_20s.flac"],
        tmp_path / "out",
        options,
        on_progress=follow(snapshots),
    )
    assert result.done == 1, result.errors
    stages = stages_of(snapshots, "hvb_agent_0091_20s")
    assert stages[:3] == ["loading model", "decoding", "detecting speech"]
    assert stages[3].startswith("transcribing")
    assert stages[-3:] == ["parties", "analysing", "writing"]
    assert snapshots[-1] == {}
