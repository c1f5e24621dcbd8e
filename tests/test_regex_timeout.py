"""Data-file regexes run under a time limit (issue 16, the second guard after the load check).

A pattern whose backtracking explodes without a nested quantifier (here a backreference
after seven ``(\\w*)`` groups, polynomial of degree 7 in the word's length) passes
:func:`callscan.config.nested_quantifier`; on a call it must end in "not evaluated" for its
rule, within a bound, not a hang.
"""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

import pytest
import yaml

from callscan.config import (
    MATCH_TIMEOUT_S,
    Checker,
    GuardedPattern,
    PatternTimeout,
    clear_cache,
    nested_quantifier,
)
from callscan.pipeline import AnalyzeOptions, analyze

ROOT = Path(__file__).resolve().parent.parent
SLOW = r"(\w*)(\w*)(\w*)(\w*)(\w*)(\w*)(\w*)\1zq"  # "zq" is in the text, so no quick reject
HOSTILE = "halo " + "a" * 200 + "zz zq"  # one long word: (200^7)/7! ways to split it


def test_the_pattern_slips_past_the_load_check_and_is_stopped_by_the_time_limit():
    assert not nested_quantifier(SLOW)
    rx = Checker("team.yaml").regex(SLOW, "rules.x.cues.y.patterns")
    assert isinstance(rx, GuardedPattern)
    assert rx.search("kata azq").group(0) == "azq"  # an ordinary turn: matched as before
    t0 = time.perf_counter()
    with pytest.raises(PatternTimeout) as err:
        rx.search(HOSTILE, timeout=0.2)
    elapsed = time.perf_counter() - t0
    assert elapsed < 15.0, elapsed  # the engine checks the clock periodically: a few x over
    line = str(err.value)
    assert "\n" not in line and "'team.yaml'" in line and "rules.x.cues.y.patterns" in line
    assert "not evaluated" in line


def test_guarded_pattern_behaves_like_re_on_ordinary_text():
    rx = Checker("p.yaml").regex(r"\bselamat\s+(?P<t>pagi|siang)\b", "k")
    text = "Selamat pagi, selamat siang"
    assert [m.span() for m in rx.finditer(text)] == [(0, 12), (14, 27)]
    assert rx.findall(text) == ["pagi", "siang"]
    assert rx.sub("X", text) == "X, X" and rx.groupindex == {"t": 1}
    assert rx.match("selamat pagi") and rx.fullmatch("selamat siang") and rx.groups == 1
    empty = Checker("p.yaml").regex(r"\s*", "k")
    assert len(list(empty.finditer("a b"))) == len(list(__import__("re").finditer(r"\s*", "a b")))
    again = pickle.loads(pickle.dumps(rx))  # playbooks travel to batch worker processes
    assert again.pattern == rx.pattern and again.search("SELAMAT SIANG")
    assert MATCH_TIMEOUT_S > 0


@pytest.mark.slow  # a 300-turn analysis: about 7 s on a busy 2-core machine
def test_a_catastrophic_rule_is_reported_not_evaluated_and_analysis_is_bounded(tmp_path):
    clear_cache()
    data = yaml.safe_load((ROOT / "models" / "playbook_id.yaml").read_text(encoding="utf-8"))
    data["rules"]["slang_jargon"]["cues"]["slang"]["patterns"] = [SLOW]
    playbook = tmp_path / "team.yaml"
    playbook.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    turns = []
    for i in range(300):  # a long call: every agent turn is hostile to the pattern
        role = "agent" if i % 2 == 0 else "caller"
        text = HOSTILE if role == "agent" else "iya saya mau tanya soal tagihan"
        turns.append({"role": role, "start_s": 2.0 * i, "end_s": 2.0 * i + 1.5, "text": text})
    call = tmp_path / "call.json"
    call.write_text(json.dumps({"language": "id", "turns": turns}), encoding="utf-8")
    t0 = time.perf_counter()
    report = analyze(call, AnalyzeOptions(playbook=str(playbook), language="id"))
    elapsed = time.perf_counter() - t0
    assert elapsed < 60.0, elapsed  # without the limit: years
    rules = {r["id"]: r for r in report["stages"]["rules"]}
    slang = rules["slang_jargon"]
    assert slang["status"] == "n/a", slang
    assert slang["note"].startswith("not evaluated:") and "\n" not in slang["note"]
    assert "rules.slang_jargon.cues.slang.patterns" in slang["note"]
    others = [r for r in rules.values() if r["id"] != "slang_jargon"]
    assert others and not any("not evaluated" in r["note"] for r in others)
