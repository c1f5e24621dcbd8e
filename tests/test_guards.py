"""Repetition loops are ended as soon as they show, in a batch, without touching other rows."""

from __future__ import annotations

import torch

from callscan.asr.guards import MIN_LOOP_TOKENS, decode_guard, looping


def test_a_repeated_phrase_is_a_loop_once_long_enough():
    unit = [1000, 2000, 3000]  # e.g. " Thank you."
    assert not looping(unit * 3)  # 9 tokens: could be real speech
    assert looping([5, 6, 7] + unit * 11)  # 33 tokens of one phrase
    assert looping([42] * MIN_LOOP_TOKENS)  # one token over and over


def test_real_text_and_short_repeats_are_not_loops():
    text = list(range(100, 160))  # no repetition
    assert not looping(text)
    assert not looping(text + [7, 8] * 4)  # "no, no, no, no" stays below the length bound
    assert not looping([1, 2, 3] * 12 + list(range(200, 210)))  # the tail moved on


class Tok:
    eot = 50257
    timestamp_begin = 50364


def test_the_filter_ends_only_the_looping_row():
    stop = decode_guard(Tok(), sample_begin=3)
    prefix = [50258, 50259, 50359]
    loop_row = prefix + [11, 12, 13] * 12
    fine_row = prefix + list(range(500, 536))
    tokens = torch.tensor([loop_row, fine_row])
    logits = torch.zeros(2, 51865)
    for _ in range(4):  # the check runs every few steps
        stop.apply(logits, tokens)
    assert stop.failed == {0}
    assert logits[0].argmax().item() == Tok.eot and torch.isinf(logits[0, 0])
    assert torch.all(logits[1] == 0)


def test_timestamps_past_the_window_close_the_segment_or_end_the_row():
    ts = Tok.timestamp_begin
    guard = decode_guard(Tok(), sample_begin=3, durations_s=[10.0, 10.0, 10.0, 10.0])
    prefix = [50258, 50259, 50359]
    tokens = torch.tensor(
        [
            prefix + [ts, 11, 12],  # text: wants to close at 12.0 s
            prefix + [ts, 11, ts + 400],  # closed at 8 s: wants to open at 12.0 s
            prefix + [ts, 11, ts + 498],  # closed at 9.96 s: the audio's end
            prefix + [ts, 11, 12],  # text: wants to go on with text
        ]
    )
    logits = torch.zeros(4, 51865)
    logits[:3, ts + 600] = 5.0  # 12.0 s, past the 10 s window
    logits[3, 13] = 5.0
    guard.apply(logits, tokens)
    assert logits[0].argmax().item() == ts + 510  # closed at the end (10 s + margin)
    assert logits[1].argmax().item() == Tok.eot and torch.isinf(logits[1, ts + 600])
    assert logits[2].argmax().item() == Tok.eot
    assert logits[3].argmax().item() == 13 and torch.isfinite(logits[3]).all()  # untouched
    assert guard.failed == set()  # none of these is a failed decode
