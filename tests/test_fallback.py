"""The temperature fallback's choice when no temperature passes Whisper's checks."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from callscan.asr import TranscribeOptions
from callscan.asr.batched import temperature_fallback


class Ladder:
    """Stands in for ``model.decode``: returns one prepared result per temperature."""

    def __init__(self, results):
        self.results = list(results)
        self.temperatures = []

    def decode(self, features, options, durations_s=None):
        self.temperatures.append(options.temperature)
        res = self.results.pop(0)
        return [res], [res.text == "cut loop"]


def result(text, logprob, ratio=1.5, no_speech=0.1):
    return SimpleNamespace(
        text=text, avg_logprob=logprob, compression_ratio=ratio, no_speech_prob=no_speech
    )


def test_first_passing_temperature_wins():
    ladder = Ladder([result("bad", -1.5), result("good", -0.4), result("unused", -0.1)])
    first = (result("greedy", -1.2), False)
    chosen = temperature_fallback(ladder, np.zeros(3), "id", TranscribeOptions(), first)
    assert chosen.text == "good" and ladder.temperatures == [0.2, 0.4]


def test_when_all_fail_the_best_non_loop_is_kept_not_the_last_sample():
    tries = [result("a", -1.3), result("loop", -0.2, ratio=3.0), result("b", -1.1)]
    tries += [result("c", -1.9), result("T=1.0 garbage", -2.5)]
    first = (result("greedy", -1.05), False)
    chosen = temperature_fallback(Ladder(tries), np.zeros(3), "id", TranscribeOptions(), first)
    assert chosen.text == "greedy"  # best mean log-probability among the non-loops


def test_a_loop_ended_early_is_a_failed_try_and_never_kept_over_a_non_loop():
    # a loop cut short by the loop stop has a normal compression ratio: its flag decides
    tries = [result("cut loop", -0.1), result("ok", -0.3)]
    ladder = Ladder(tries)
    chosen = temperature_fallback(
        ladder, np.zeros(3), "id", TranscribeOptions(), (result("g", -1.4), False)
    )
    assert chosen.text == "ok" and ladder.temperatures == [0.2, 0.4]
    tries = [result("cut loop", -0.1)] + [result(f"bad {i}", -1.5 - i) for i in range(4)]
    chosen = temperature_fallback(
        Ladder(tries), np.zeros(3), "id", TranscribeOptions(), (result("g", -1.4), False)
    )
    assert chosen.text == "g"
