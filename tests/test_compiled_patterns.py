"""callscan.compiled_patterns: a data file's regex compiled once by the ``regex`` package, then
loaded from the record in later processes (simulated by forgetting what the process knows, and
in two real processes); loaded patterns match exactly as freshly compiled ones; a record of
another ``regex`` version, a damaged record, an entry for another pattern and a record that
asks for anything but a pattern are ignored (and never executed)."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import regex

from callscan import compiled_patterns, config
from callscan.analysis.playbook import load_playbook
from callscan.records import pattern_key

ROOT = Path(__file__).resolve().parent.parent
TEXTS = sorted((ROOT / "tests" / "data" / "closing-tune").glob("c_*.txt"))


def playbook_patterns(language: str) -> list[config.GuardedPattern]:
    """Every regex the bundled playbook of ``language`` builds, loaded from its file again."""
    built: list[config.GuardedPattern] = []
    real = config.GuardedPattern.__init__

    def record(self, pattern, flags=0, *, key="pattern"):
        real(self, pattern, flags, key=key)
        built.append(self)

    config.GuardedPattern.__init__ = record
    config.clear_cache()
    try:
        load_playbook(None, language=language)
    finally:
        config.GuardedPattern.__init__ = real
        config.clear_cache()
    return built


def spans(pattern, texts: list[str]) -> list:
    return [[(m.span(), m.groups()) for m in pattern.finditer(t)] for t in texts]


def test_compiled_once_then_loaded_and_matching_alike(monkeypatch, uncompiled_patterns):
    texts = [p.read_text(encoding="utf-8") for p in TEXTS[:40]] + [
        "Selamat pagi, dengan Rina, ada yang bisa saya bantu? Terima kasih sudah menunggu, Pak."
    ]
    first = playbook_patterns("en") + playbook_patterns("id")
    fresh = [(p.pattern, p.compiled.flags, spans(p.compiled, texts)) for p in first]
    compiled_patterns.flush()
    assert uncompiled_patterns.is_file()
    compiled_patterns.forget()  # as a new process: only the file is known

    def no_compile(*args, **kwargs):
        raise AssertionError("a recorded pattern was compiled again")

    monkeypatch.setattr(regex, "compile", no_compile)
    again = playbook_patterns("en") + playbook_patterns("id")
    loaded = [(p.pattern, p.compiled.flags, spans(p.compiled, texts)) for p in again]
    assert len(first) > 200
    assert loaded == fresh  # the same patterns, flags and matches (spans and groups)
    assert sum(bool(s) for _, _, per_text in fresh for s in per_text) > 100  # they do match


def test_other_flags_are_another_record(uncompiled_patterns):
    a = compiled_patterns.compile(r"\bterima kasih\b", regex.V0 | regex.I)
    compiled_patterns.flush()
    compiled_patterns.forget()
    b = compiled_patterns.compile(r"\bterima kasih\b", regex.V0)
    assert a.search("TERIMA KASIH") and not b.search("TERIMA KASIH")
    c = compiled_patterns.compile(r"\bterima kasih\b", regex.V0 | regex.I)
    assert c.search("TERIMA KASIH") and c.flags == a.flags


def test_a_record_of_another_regex_version_is_ignored(monkeypatch, uncompiled_patterns):
    compiled_patterns.compile(r"\bhalo\b", regex.V0)
    compiled_patterns.flush()
    record = pickle.loads(uncompiled_patterns.read_bytes())
    assert record["patterns"] and record["salt"] == compiled_patterns._salt()
    record["salt"] = "3.11:regex 2020.1.1"
    uncompiled_patterns.write_bytes(pickle.dumps(record))
    compiled_patterns.forget()
    calls = []
    real = regex.compile
    monkeypatch.setattr(regex, "compile", lambda p, f=0: calls.append(p) or real(p, f))
    assert compiled_patterns.compile(r"\bhalo\b", regex.V0).search("halo pak")
    assert calls == [r"\bhalo\b"]


class Planted:
    """Pickles as a call to ``os.system``: what a tampered record could ask for."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("content", ["empty", "garbage", "list", "no-patterns", "planted"])
def test_a_damaged_or_planted_record_is_ignored_and_rewritten(
    content, monkeypatch, uncompiled_patterns, tmp_path
):
    marker = tmp_path / "ran"
    salt = compiled_patterns._salt()
    data = {
        "empty": b"",
        "garbage": b"\x80\x05not a pickle",
        "list": pickle.dumps([1, 2]),
        "no-patterns": pickle.dumps({"salt": salt, "patterns": [1]}),
        "planted": pickle.dumps({"salt": salt, "patterns": {"k": b""}, "x": Planted(marker)}),
    }[content]
    uncompiled_patterns.parent.mkdir(parents=True)
    uncompiled_patterns.write_bytes(data)
    compiled_patterns.forget()
    assert compiled_patterns.compile(r"\bselamat pagi\b", regex.V0).search("selamat pagi, bu")
    compiled_patterns.flush()
    assert not marker.exists()  # nothing in the file was run
    assert len(pickle.loads(uncompiled_patterns.read_bytes())["patterns"]) == 1


def test_a_planted_entry_is_never_run(monkeypatch, uncompiled_patterns, tmp_path):
    marker = tmp_path / "ran"
    text, flags = r"\bhalo\b", regex.V0
    record = {
        "salt": compiled_patterns._salt(),
        "patterns": {pattern_key(text, flags): pickle.dumps(Planted(marker))},
    }
    uncompiled_patterns.parent.mkdir(parents=True)
    uncompiled_patterns.write_bytes(pickle.dumps(record))
    compiled_patterns.forget()
    assert compiled_patterns.compile(text, flags).search("halo pak")
    assert not marker.exists()


def test_an_entry_for_another_pattern_is_compiled_afresh(uncompiled_patterns):
    text, flags = r"\bhalo\b", regex.V0
    other = pickle.dumps(regex.compile(r"\bbye\b", flags))
    record = {
        "salt": compiled_patterns._salt(),
        "patterns": {pattern_key(text, flags): other},
    }
    uncompiled_patterns.parent.mkdir(parents=True)
    uncompiled_patterns.write_bytes(pickle.dumps(record))
    compiled_patterns.forget()
    pattern = compiled_patterns.compile(text, flags)
    assert pattern.pattern == text and pattern.search("halo") and not pattern.search("bye")


def test_a_new_process_loads_what_an_analysis_compiled(uncompiled_patterns, tmp_path):
    """Two real processes analysing a transcript: the first compiles the playbook's patterns
    (and its analysis records them), the second compiles none and writes the same report."""
    call = TEXTS[0]
    run = (
        "import json, sys, regex; n = []; real = regex.compile\n"
        "regex.compile = lambda p, f=0, **k: n.append(p) or real(p, f, **k)\n"
        "from callscan.pipeline import analyze, AnalyzeOptions\n"
        f"r = analyze({str(call)!r}, AnalyzeOptions(classifier=False))\n"
        "print(len(n)); print(json.dumps(r['stages'], sort_keys=True))"
    )
    env = {**os.environ, "CALLSCAN_CACHE_DIR": str(uncompiled_patterns.parent)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", run], capture_output=True, text=True, env=env, check=True
        ).stdout.splitlines()
        for _ in range(2)
    ]
    assert int(runs[0][0]) > 50 and runs[1][0] == "0"
    assert runs[0][1] == runs[1][1]
