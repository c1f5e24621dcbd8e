"""Packing speech regions into Whisper windows, and mapping times back."""

from __future__ import annotations

import numpy as np
import pytest

from callscan.asr.chunking import pack, pad_regions, render, split_long


def test_regions_pack_in_order_with_spacers():
    windows = pack(
        [(1.0, 3.0), (10.0, 12.5), (40.0, 41.0)], max_window_s=29.0, spacer_s=0.5, pad_s=0.0
    )
    assert len(windows) == 1
    (w,) = windows
    assert [(p.src_start_s, p.dst_start_s) for p in w.pieces] == [
        (1.0, 0.0),
        (10.0, 2.5),
        (40.0, 5.5),
    ]
    assert w.duration_s == pytest.approx(6.5)
    assert w.to_source(0.5) == pytest.approx(1.5)
    assert w.to_source(3.0) == pytest.approx(10.5)
    assert w.to_source(2.2) == pytest.approx(3.0)  # in a spacer: snaps to the piece before
    assert w.to_source(6.0) == pytest.approx(40.5)


def test_word_edges_in_a_spacer_go_to_the_piece_the_word_is_in():
    (w,) = pack([(1.0, 3.0), (10.0, 12.5)], max_window_s=29.0, spacer_s=0.5, pad_s=0.0)
    # pieces: window 0-2 s -> file 1-3 s; window 2.5-5 s -> file 10-12.5 s
    assert w.span_to_source(2.3, 3.0) == pytest.approx((10.0, 10.5))  # starts in the spacer
    assert w.span_to_source(1.5, 2.2) == pytest.approx((2.5, 3.0))  # ends in the spacer
    assert w.span_to_source(2.1, 2.2) == pytest.approx((3.0, 3.0))  # inside, nearer before
    assert w.span_to_source(2.35, 2.45) == pytest.approx((10.0, 10.0))  # nearer after
    assert w.span_to_source(1.5, 3.0) == pytest.approx((2.5, 3.0))  # across: most is before
    assert w.span_to_source(1.8, 4.0) == pytest.approx((10.0, 11.5))  # across: most is after
    assert w.span_to_source(0.5, 1.0) == pytest.approx((1.5, 2.0))


def test_a_full_window_starts_a_new_one():
    windows = pack(
        [(0.0, 20.0), (30.0, 40.0), (50.0, 55.0)], max_window_s=29.0, spacer_s=0.4, pad_s=0.0
    )
    assert [len(w.pieces) for w in windows] == [1, 2]
    assert windows[1].pieces[1].dst_start_s == pytest.approx(10.4)


def test_long_regions_are_split():
    assert split_long([(0.0, 70.0)], 29.0) == [
        (0.0, pytest.approx(70 / 3)),
        (pytest.approx(70 / 3), pytest.approx(140 / 3)),
        (pytest.approx(140 / 3), 70.0),
    ]
    assert all(w.duration_s <= 29.0 for w in pack([(0.0, 100.0)]))


def test_render_places_each_piece():
    sr = 100
    y = np.arange(1000, dtype=np.float32)
    (w,) = pack([(1.0, 1.5), (5.0, 5.2)], spacer_s=0.3, pad_s=0.0)
    out = render(w, y, sr)
    assert out[0] == 100 and out[49] == 149
    assert not out[50:80].any()  # the spacer is silent
    assert out[80] == 500 and out[99] == 519


def test_regions_are_padded_and_merged_before_packing():
    # Whisper drops a word that starts its audio cold: each region keeps 0.2 s around it
    # ... but never more than half the pause to the next region: regions never merge
    assert pad_regions([(0.1, 1.0), (1.3, 2.0), (5.0, 6.0)], 0.2) == [
        (0.0, pytest.approx(1.15)),
        (pytest.approx(1.15), pytest.approx(2.2)),
        (pytest.approx(4.8), pytest.approx(6.2)),
    ]
    (w,) = pack([(1.0, 2.0), (5.0, 6.0)], spacer_s=0.4)  # default pad 0.2 s
    assert [p.src_start_s for p in w.pieces] == [pytest.approx(0.8), pytest.approx(4.8)]
    assert w.to_source(0.2) == pytest.approx(1.0)


def test_padding_before_and_after_can_differ():
    regions = [(1.0, 2.0), (2.3, 3.0), (5.0, 6.0)]
    assert pad_regions(regions, 0.2, pad_after_s=0.0) == [
        (pytest.approx(0.8), 2.0),
        (pytest.approx(2.15), 3.0),
        (pytest.approx(4.8), 6.0),
    ]
    assert pad_regions(regions, 0.0, pad_after_s=0.0) == regions
    # the default pads both sides alike
    assert pad_regions(regions, 0.2) == pad_regions(regions, 0.2, pad_after_s=0.2)
    (w,) = pack([(1.0, 2.0), (5.0, 6.0)], spacer_s=0.4, pad_s=0.2, pad_after_s=0.0)
    assert [(p.src_start_s, p.src_end_s) for p in w.pieces] == [
        (pytest.approx(0.8), 2.0),
        (pytest.approx(4.8), 6.0),
    ]
