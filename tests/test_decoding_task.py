"""The greedy decode leaves its ended rows out (callscan.asr.decoding_task): the same tokens
as whisper's own loop on real speech, the decoder guard told which window each row is, and
the word alignment reading the right window's keys and values after rows changed places."""

from __future__ import annotations

import pytest
import torch

from callscan.asr import decoding_task
from callscan.asr.decoding_task import _compact_order
from callscan.asr.guards import decode_guard


class Tok:
    eot = 50257
    timestamp_begin = 50364


def test_rows_going_on_become_a_prefix_by_swapping_only_ending_rows():
    assert _compact_order([True, True, True]) == [0, 1, 2]
    assert _compact_order([True, True, False]) == [0, 1]  # the last row just stops
    assert _compact_order([True, False, True, True]) == [0, 3, 2]  # row 3 fills the hole
    assert _compact_order([False, False, True, True, False]) == [2, 3]
    assert _compact_order([False, True]) == [1]
    for going in ([True, False, False, True, True, False, True], [False] * 3 + [True]):
        order = _compact_order(going)
        assert sorted(order) == [row for row, g in enumerate(going) if g]
        # a row going on keeps its place unless it fills the place of an ending one
        assert all(old == new or not going[new] for new, old in enumerate(order))


def test_the_guard_maps_rows_to_their_windows_while_rows_are_left_out():
    ts = Tok.timestamp_begin
    guard = decode_guard(Tok(), sample_begin=3, durations_s=[30.0, 10.0])
    guard.rows = [1]  # the only row given is window 1 (10 s)
    prefix = [50258, 50259, 50359]
    tokens = torch.tensor([prefix + [ts, 11, 12]])
    logits = torch.zeros(1, 51865)
    logits[0, ts + 600] = 5.0  # 12.0 s: inside window 0's 30 s, past window 1's 10 s
    guard.apply(logits, tokens)
    assert logits[0].argmax().item() == ts + 510  # window 1's end, not window 0's

    stop = decode_guard(Tok(), sample_begin=3)
    stop.rows = [4, 7]
    tokens = torch.tensor([prefix + list(range(500, 536)), prefix + [11, 12, 13] * 12])
    for _ in range(4):  # the loop check runs every few steps
        stop.apply(torch.zeros(2, 51865), tokens)
    assert stop.failed == {7}  # recorded by window


def _windows(data_dir):
    """Real speech windows of different lengths, so rows end at different steps: a short
    one first (it ends first and changes places with a later row)."""
    from callscan.audio.decode import load

    y = load(data_dir / "sample.wav").mono()
    jfk = load(data_dir / "fw_jfk.flac").mono()
    return [y[16000 : 4 * 16000], y[4 * 16000 : 18 * 16000], jfk[: 9 * 16000], y[18 * 16000 :]]


def _whisper_loop(monkeypatch):
    """whisper's own main loop (every row computed to the end) in place of the greedy one."""
    monkeypatch.setattr(
        decoding_task, "_greedy_loop", lambda task, a, t: super(type(task), task)._main_loop(a, t)
    )


@pytest.mark.slow
def test_leaving_ended_rows_out_gives_whispers_tokens_on_real_speech(
    base_model, data_dir, monkeypatch
):
    import whisper

    from callscan.asr.batched import TrimmedModel, window_mel

    audios = _windows(data_dir)
    durations = [len(a) / 16000 for a in audios]
    mels = torch.stack([window_mel(a, 80, 1500) for a in audios])
    model = TrimmedModel(base_model.module, 750)
    options = whisper.DecodingOptions(language="en", fp16=False, temperature=0.0)
    orders = []
    inference = type(decoding_task.task_class()(model, options).inference)
    keep = inference.keep_rows

    def spy(self, order):
        orders.append(list(order))
        return keep(self, order)

    monkeypatch.setattr(inference, "keep_rows", spy)
    with torch.no_grad():
        features = model.encode(mels)
        ours, guarded = model.decode(features, options, durations)
        monkeypatch.undo()
        _whisper_loop(monkeypatch)
        theirs, guarded_theirs = model.decode(features, options, durations)
    assert orders and orders[0] != list(range(len(orders[0])))  # rows left out and swapped
    assert len(orders[-1]) < len(audios)
    assert guarded == guarded_theirs == [False] * 4
    assert "country" in ours[2].text.lower()
    for a, b in zip(ours, theirs, strict=True):
        assert a.tokens == b.tokens and a.text == b.text
        assert a.avg_logprob == pytest.approx(b.avg_logprob, abs=1e-4)
        assert a.no_speech_prob == pytest.approx(b.no_speech_prob, abs=1e-4)


@pytest.mark.slow
def test_word_alignment_after_rows_changed_places_reads_each_windows_own_keys(
    base_model, data_dir, monkeypatch
):
    from callscan import asr
    from callscan.asr import batched

    audios = _windows(data_dir)
    options = asr.TranscribeOptions(language="en", threads=1)
    reused = batched.decode_windows(base_model.module, audios, "en", options)
    monkeypatch.setattr(batched, "_window_cross", lambda model, kept, row: None)
    computed = batched.decode_windows(base_model.module, audios, "en", options)
    _whisper_loop(monkeypatch)
    whole = batched.decode_windows(base_model.module, audios, "en", options)
    assert reused == computed
    words = [[w["word"] for s in window for w in s["words"]] for window in reused]
    assert words == [[w["word"] for s in window for w in s["words"]] for window in whole]
    assert all(words) and any("country" in w.lower() for w in words[2])
