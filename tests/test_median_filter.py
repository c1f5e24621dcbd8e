"""Whisper's alignment median filter by a selection network (callscan.asr.median_filter):
whisper's own values on random and real attention weights, and whisper's own filter where
the network does not apply."""

from __future__ import annotations

import pytest
import torch
import whisper.timing

from callscan.asr import median_filter as mf


def _whispers(x, width):
    mf.use_fast_median()
    return whisper.timing._whisper_median_filter(x, width)


@pytest.mark.parametrize("shape", [(6, 60, 750), (6, 3, 750), (1, 1, 4), (2, 5, 9), (4, 120, 701)])
def test_the_network_gives_whispers_medians(shape):
    g = torch.Generator().manual_seed(sum(shape))
    x = torch.randn(shape, generator=g)
    x[..., ::5] = x[..., :1].clone()  # ties within windows
    x[..., 1::7] = 0.0
    assert torch.equal(mf.median_filter(x, 7), _whispers(x, 7))


def test_where_the_network_does_not_apply_whispers_own_filter_runs():
    g = torch.Generator().manual_seed(3)
    for x, width in [
        (torch.randn(3, 40, generator=g), 7),  # 2-D
        (torch.randn(2, 3, 3, generator=g), 7),  # too short to pad
        (torch.randn(2, 3, 50, generator=g), 5),  # another width
    ]:
        assert torch.equal(mf.median_filter(x, width), _whispers(x, width))
    x = torch.randn(2, 4, 30, generator=g)
    x[0, 1, 3] = float("nan")
    torch.testing.assert_close(mf.median_filter(x, 7), _whispers(x, 7), equal_nan=True)


def test_installing_it_is_idempotent_and_keeps_whispers_own():
    mf.use_fast_median()
    own = whisper.timing._whisper_median_filter
    mf.use_fast_median()
    assert whisper.timing.median_filter is mf.median_filter
    assert whisper.timing._whisper_median_filter is own is not mf.median_filter


@pytest.mark.slow
def test_word_timestamps_on_real_speech_are_whispers(base_model, data_dir, monkeypatch):
    from callscan import asr
    from callscan.asr import batched
    from callscan.audio.decode import load

    y = load(data_dir / "sample.wav").mono()
    windows = [y[: 14 * 16000], y[14 * 16000 : 28 * 16000]]
    options = asr.TranscribeOptions(language="en", threads=1)
    calls = []
    real = mf.median_filter

    def spy(x, width):
        calls.append(tuple(x.shape))
        return real(x, width)

    monkeypatch.setattr(mf, "median_filter", spy)
    fast = batched.decode_windows(base_model.module, windows, "en", options)
    assert len(calls) >= 2 and all(len(shape) == 3 for shape in calls)
    monkeypatch.setattr(mf, "use_fast_median", lambda: None)
    monkeypatch.setattr(whisper.timing, "median_filter", whisper.timing._whisper_median_filter)
    own = batched.decode_windows(base_model.module, windows, "en", options)
    assert fast == own and fast[0] and fast[0][0]["words"]
