"""Findings from real recorded calls, end to end (``bench/eval_audio_calls.py``).

The 11 real two-party HarperValleyBank calls in ``../shared/data/audio-real`` (one party per
8 kHz file, Apache-2.0 / CC BY 4.0, credits in that folder's SOURCES.md) are analysed from
audio, as stereo (caller left, agent right: callscan is not told which) and as the mono mix
a mono recorder keeps, with the real Whisper base model. The agent must be found on every
call, the words must go to the party who said them (against the corpus' own segment times),
and on the 7 calls labelled in ``../shared/data/dev-calls`` the findings must agree with the
labels. Before the diarization's pitch check was gated by the embeddings' own margin, one
mono call gave its agent's "How can I help you today?" and "Thank you for calling" to the
caller and took the caller for the agent (words 0.93 to the right party, agent 10 of 11).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import eval_audio_calls as ev  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(base_model, tmp_path_factory):
    import callscan

    return ev.evaluate(
        ev.read_calls(),
        callscan.AnalyzeOptions(language="en"),
        base_model,
        tmp_path_factory.mktemp("hvb"),
    )


@pytest.mark.parametrize("layout", ["stereo", "mono"])
def test_the_agent_is_found_on_every_real_call(results, layout):
    right, n = results.roles[layout]
    assert n == 11 and right == 11, results.calls


@pytest.mark.parametrize("layout", ["stereo", "mono"])
def test_words_go_to_the_party_who_said_them(results, layout):
    right, n = results.words[layout]
    assert n > 900  # about 1,000 words fall inside the corpus' segments
    assert right / n >= 0.96, (right, n)


@pytest.mark.parametrize("layout", ["stereo", "mono"])
def test_findings_from_audio_agree_with_the_labels(results, layout):
    g = results.groups[f"audio-{layout}"]
    assert g.n == 7
    assert g.stages.f1 >= 0.95, g.errors  # 0.97: one stage each (an ASR slip, an overlap)
    assert g.conduct.fp == 0 and g.conduct.fn == 0, g.errors
    assert g.modality_right == 7 and g.call_type_right == 7, g.errors
    text = results.groups["text-human"]  # the same calls' human transcripts
    assert text.n == 7 and text.stages.f1 == 1.0, text.errors
