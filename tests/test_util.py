"""The shared helpers: atomic writes leave no partial file, spans merge as documented."""

from __future__ import annotations

import doctest

import pytest

from callscan import text, util
from callscan.util import atomic_write, atomic_writer, is_finite, merge_spans


def test_docstring_examples_hold():
    for module in (util, text):
        assert doctest.testmod(module).failed == 0


def test_atomic_write_text_bytes_and_callable(tmp_path):
    assert atomic_write(tmp_path / "a" / "t.txt", "ü").read_text(encoding="utf-8") == "ü"
    assert atomic_write(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    out = atomic_write(tmp_path / "c.txt", lambda tmp: tmp.write_text("via tmp"))
    assert out.read_text() == "via tmp"
    assert not list(tmp_path.rglob("*.part"))


def test_a_failed_write_keeps_the_old_file_and_leaves_no_part(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as f:
        f.write("half")
        raise RuntimeError("disk gone")
    assert target.read_text() == "old"
    assert not list(tmp_path.glob("*.part"))


def test_merge_spans():
    assert merge_spans([(2.0, 3.0), (0.0, 1.0), (0.5, 1.5)]) == [(0.0, 1.5), (2.0, 3.0)]
    assert merge_spans([(0.0, 1.0), (1.4, 2.0)], gap_s=0.5) == [(0.0, 2.0)]
    assert merge_spans([(1.0, 1.0), (0.0, 0.5)]) == [(0.0, 0.5)]
    assert merge_spans([(1.0, 1.0), (0.0, 0.5)], drop_empty=False) == [(0.0, 0.5), (1.0, 1.0)]


def test_is_finite():
    assert is_finite(0) and is_finite(-2.5)
    assert not any(is_finite(x) for x in (None, True, float("nan"), float("inf"), "1"))
