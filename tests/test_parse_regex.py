"""Data-file regexes are checked in one parse (``callscan.config.parse_regex``), accepting and
refusing exactly what ``re.compile`` does, with ``re.compile``'s flags."""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callscan.config import parse_regex


def _re_outcome(pattern: str, flags: int):
    try:
        return True, re.compile(pattern, flags).flags
    except (re.error, OverflowError, RecursionError, ValueError):
        return False, None


def _ours(pattern: str, flags: int):
    try:
        return True, parse_regex(pattern, flags).state.flags
    except (re.error, OverflowError, RecursionError, ValueError):
        return False, None


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?<=a+)b",  # variable-width look-behind: refused by re's compiler, not its parser
        r"(?<!ab|c)d",
        r"(a)(?(1)(?<=x+)|b)",  # ... also inside a conditional group
        r"(?<=ab|cd)e",
        r"(a",
        r"a{2,1}",
        r"(?P<x>a)(?P=y)",
        r"[z-a]",
        r"*a",
        r"(?(1)a|b)",
        r"(?x) a b # verbose",
        r"(?i)selamat\s+(?:pagi|siang)",
    ],
)
def test_known_patterns_as_re_compile(pattern):
    for flags in (0, re.IGNORECASE, re.IGNORECASE | re.VERBOSE):
        assert _ours(pattern, flags) == _re_outcome(pattern, flags)


def test_every_bundled_pattern_gets_re_compiles_flags(monkeypatch, unchecked_patterns):
    import callscan.config as config
    from callscan.analysis.playbook import load_playbook

    seen: list[tuple[str, int]] = []
    real = config.parse_regex

    def spy(pattern: str, flags: int = 0):
        seen.append((pattern, flags))
        return real(pattern, flags)

    monkeypatch.setattr(config, "parse_regex", spy)
    config.clear_cache()
    try:
        for language in ("id", "en"):
            load_playbook(None, language=language)
    finally:
        config.clear_cache()
    assert len(seen) > 150  # each cue's patterns are parsed once, joined (every pattern inside one)
    for pattern, flags in seen:
        assert real(pattern, flags).state.flags == re.compile(pattern, flags).flags


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="ab()[]{}?*+|^$\\<=!:-,.12PxX ", max_size=14),
    st.sampled_from([0, re.IGNORECASE, re.VERBOSE]),
)
def test_any_pattern_accepted_or_refused_as_re_compile(pattern, flags):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re's FutureWarnings ("possible nested set") alike
        assert _ours(pattern, flags) == _re_outcome(pattern, flags)
