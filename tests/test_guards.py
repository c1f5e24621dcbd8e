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
    assert stop.looped == {0}
    assert logits[0].argmax().item() == Tok.eot and torch.isinf(logits[0, 0])
    assert torch.all(logits[1] == 0)


def test_no_timestamp_past_the_window_and_a_timestamp_at_its_end_ends_the_row():
    ts = Tok.timestamp_begin
    guard = decode_guard(Tok(), sample_begin=3, durations_s=[10.0, 10.0])
    prefix = [50258, 50259, 50359]
    tokens = torch.tensor([prefix + [ts, 11, 12], prefix + [ts, 11, ts + 498]])  # 9.96 s
    logits = torch.zeros(2, 51865)
    guard.apply(logits, tokens)
    assert torch.isinf(logits[0, ts + 511 :]).all()  # 10.22 s and later: past the end
    assert torch.isfinite(logits[0, : ts + 511]).all()  # up to 10.2 s allowed
    assert logits[1].argmax().item() == Tok.eot and torch.isinf(logits[1, 0])  # ends now
    assert guard.looped == set()
