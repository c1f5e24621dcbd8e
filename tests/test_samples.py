"""The bundled synthetic sample calls, end to end with the real Whisper base model.

Each sample's sidecar (``samples/NAME.json``) holds the script, the exact time of every turn,
the layout (which channel is the agent) and the stages it covers. ``callscan analyze`` must
recover them: language, transcript (WER), roles with their confidence, turn times and talk
times.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscan.asr.wer import wer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_NAMES = sorted(p.stem for p in (ROOT / "samples").glob("*.json"))

WER_MAX = 0.35  # synthetic espeak-ng speech; the bar for Whisper base
EDGE_S = 0.3  # turn starts and ends, against the script's exact times


def sidecar(name: str) -> dict:
    return json.loads((ROOT / "samples" / f"{name}.json").read_text())


def party_time(turns, role: str) -> float:
    """Union of a role's turn spans, seconds."""
    spans = sorted((t["start_s"], t["end_s"]) for t in turns if t["role"] == role)
    total, end = 0.0, float("-inf")
    for a, b in spans:
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def test_there_are_at_least_four_samples_in_both_languages_and_layouts():
    cards = [sidecar(n) for n in SAMPLE_NAMES]
    assert len(cards) >= 4
    assert {c["language"] for c in cards} == {"id", "en"}
    assert {c["layout"]["channels"] for c in cards} == {1, 2}
    assert any(c["layout"]["sample_rate_hz"] == 8000 for c in cards)
    assert all(c["synthetic"] is True for c in cards)
    assert all(60.0 <= c["turns"][-1]["end_s"] <= 120.0 for c in cards)


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_language_detected_among_id_en(name, sample_reports):
    # Whisper's language token alone calls synthetic Indonesian English or Thai; the decode
    # check (callscan.asr.language.decode_check) must get every sample right.
    card, report = sidecar(name), sample_reports(name)
    assert report["language"] == card["language"]
    assert report["transcript"]["language_probability"] > 0.8


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_transcript(name, sample_reports):
    card, report = sidecar(name), sample_reports(name)
    reference = " ".join(t["text"] for t in card["turns"])
    hypothesis = " ".join(t["text"] for t in report["conversation"]["turns"])
    assert wer(reference, hypothesis, card["language"]) <= WER_MAX


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_roles_are_right(name, sample_reports):
    card, report = sidecar(name), sample_reports(name)
    roles = report["speakers"]["roles"]
    assert roles["confidence"] >= 0.8 and not roles["low_confidence"]
    agent_channel = card["layout"]["agent_channel"]
    if agent_channel is not None:
        assert roles["agent"] == f"ch{agent_channel}"
    first_agent = next(t for t in card["turns"] if t["role"] == "agent")
    heard = [t for t in report["conversation"]["turns"] if t["role"] == "agent"]
    assert heard and abs(heard[0]["start_s"] - first_agent["start_s"]) <= 0.3


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_turn_times_match_the_script(name, sample_reports):
    card, report = sidecar(name), sample_reports(name)
    heard = report["conversation"]["turns"]
    for t in card["turns"]:
        # the report's turns of the same role over this scripted turn (a pause may split one)
        hits = [
            u
            for u in heard
            if u["role"] == t["role"] and u["end_s"] > t["start_s"] and u["start_s"] < t["end_s"]
        ]
        assert hits, f"no {t['role']} turn at {t['start_s']} s: {t['text']}"
        assert min(u["start_s"] for u in hits) == pytest.approx(t["start_s"], abs=EDGE_S)
        assert max(u["end_s"] for u in hits) == pytest.approx(t["end_s"], abs=EDGE_S)


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_talk_times_match_the_script(name, sample_reports):
    card, report = sidecar(name), sample_reports(name)
    parties = report["speakers"]["metrics"]["parties"]
    for role in ("agent", "caller"):
        n_turns = len([t for t in card["turns"] if t["role"] == role])
        # each turn's edges are within EDGE_S of the script (test above), so the talk time
        # is within EDGE_S per turn
        assert parties[role]["talk_time_s"] == pytest.approx(
            party_time(card["turns"], role), abs=EDGE_S * n_turns
        )
