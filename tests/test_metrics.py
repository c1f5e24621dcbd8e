"""Talk metrics on hand-built turns with exactly known answers."""

from __future__ import annotations

import pytest

from callscan.conversation import Turn
from callscan.speakers.metrics import TalkMetricsOptions, count_syllables, talk_metrics


def turn(role, start, end, text="kata kata kata"):
    return Turn(index=0, role=role, text=text, speaker=role, start_s=start, end_s=end)


def test_an_interruption():
    turns = [turn("agent", 0.0, 10.0), turn("caller", 4.0, 6.0, "tunggu dulu itu salah")]
    m = talk_metrics(turns, 12.0)
    assert len(m.interruptions) == 1
    assert m.interruptions[0] == {
        "interrupter": "caller",
        "interrupted": "agent",
        "start_s": 4.0,
        "overlap_s": 2.0,
    }
    assert m.interruption_time_s == 2.0
    assert m.parties["caller"].interruptions == 1 and m.parties["agent"].interruptions == 0
    assert m.parties["caller"].interruption_time_s == 2.0
    assert m.parties["agent"].talk_time_s == 10.0 and m.parties["caller"].talk_time_s == 2.0
    assert m.talk_ratio == 5.0
    assert m.non_talk == [] and m.non_talk_time_s == 0.0


def test_backchannels_are_not_interruptions_and_do_not_end_a_monologue():
    turns = [
        turn("agent", 0.0, 10.0),
        turn("caller", 3.0, 3.25, "iya"),  # 250 ms: under the 300 ms floor
        turn("caller", 5.0, 5.8, "hmm oke"),  # feedback words only, under 1 s
        turn("agent", 10.5, 14.0),
    ]
    m = talk_metrics(turns, 14.0)
    assert m.interruptions == []
    assert m.parties["agent"].longest_monologue_s == 14.0
    # the same 800 ms with words of content is an interruption
    real = talk_metrics(turns[:2] + [turn("caller", 5.0, 5.8, "bukan itu")], 14.0)
    assert [i["start_s"] for i in real.interruptions] == [5.0]
    assert real.interruptions[0]["overlap_s"] == pytest.approx(0.8)


def test_a_7_second_silence():
    turns = [turn("agent", 0.0, 3.0), turn("caller", 10.0, 12.0)]
    m = talk_metrics(turns, 12.0)
    assert m.non_talk == [(3.0, 10.0)] and m.non_talk_time_s == 7.0
    assert m.non_talk_pct == pytest.approx(100 * 7 / 12)
    assert m.parties["caller"].response_latency_median_s == 7.0
    # a higher threshold: no non-talk time
    longer = talk_metrics(turns, 12.0, TalkMetricsOptions(silence_threshold_s=8.0))
    assert longer.non_talk == [] and longer.to_dict()["non_talk"]["threshold_s"] == 8.0


def test_silence_at_the_start_and_end_counts():
    m = talk_metrics([turn("agent", 6.0, 8.0)], 20.0)
    assert m.non_talk == [(0.0, 6.0), (8.0, 20.0)] and m.non_talk_time_s == 18.0


def test_a_monologue_and_response_latency():
    turns = [
        turn("agent", 0.0, 4.0),
        turn("agent", 4.5, 9.0),
        turn("agent", 9.6, 20.0),
        turn("caller", 21.0, 23.0),
        turn("agent", 23.5, 25.0),
    ]
    m = talk_metrics(turns, 25.0)
    assert m.parties["agent"].longest_monologue_s == 20.0
    assert m.parties["caller"].longest_monologue_s == 2.0
    assert m.parties["caller"].response_latency_median_s == 1.0
    assert m.parties["agent"].response_latency_median_s == 0.5
    assert m.response_latency_median_s == 0.75 and m.response_latency_mean_s == 0.75
    assert m.parties["agent"].n_turns == 4 and m.parties["agent"].talk_time_s == pytest.approx(20.4)


def test_talk_speed_in_words_and_syllables():
    turns = [turn("agent", 0.0, 10.0, "Selamat pagi, ada yang bisa saya bantu?")]
    party = talk_metrics(turns, 10.0).parties["agent"]
    assert party.n_words == 7 and party.n_syllables == 14  # yang: 1
    assert party.words_per_minute == pytest.approx(42.0)
    assert party.syllables_per_s == pytest.approx(1.4)
    assert party.talk_pct == 100.0
    assert talk_metrics(turns, 10.0).talk_ratio is None  # no caller


@pytest.mark.parametrize(
    "word, n",
    [
        ("selamat", 3),
        ("pagi", 2),
        ("pelanggan", 3),
        ("sampai", 2),
        ("kalau", 2),
        ("amboi", 2),
        ("mengapa", 3),
        ("maaf", 2),
        ("dia", 2),
        ("123", 0),
        ("Bantu?", 2),
    ],
)
def test_indonesian_syllables(word, n):
    assert count_syllables(word, "id") == n


@pytest.mark.parametrize(
    "word, n", [("hello", 2), ("calling", 2), ("help", 1), ("make", 1), ("table", 2), ("you", 1)]
)
def test_english_syllables(word, n):
    assert count_syllables(word, "en") == n


def test_parties_fall_back_to_speakers_and_to_dict_is_json_native():
    import json

    turns = [
        Turn(0, "unknown", "halo", "S1", None, 0.0, 1.0),
        Turn(1, "unknown", "ya halo", "S2", None, 1.2, 2.0),
        Turn(2, "unknown", "no times", "S2"),  # untimed turns are ignored
    ]
    m = talk_metrics(turns, 2.0)
    assert list(m.parties) == ["S1", "S2"] and m.parties["S2"].n_turns == 1
    d = json.loads(json.dumps(m.to_dict()))
    assert d["parties"]["S1"]["talk_time_s"] == 1.0
    assert d["non_talk"]["count"] == 0 and d["interruptions"]["count"] == 0
