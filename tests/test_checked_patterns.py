"""callscan.checked_patterns: a data file's regex checked once, then taken from the record in
later processes (simulated by forgetting what the process knows); a refused pattern is never
recorded; a record that does not belong to this checking code is ignored."""

import json
import os
import re
import subprocess
import sys

import pytest

from callscan import checked_patterns, config
from callscan.analysis.playbook import load_playbook
from callscan.errors import ConfigError


def load_recording_patterns(monkeypatch) -> list[tuple[str, int]]:
    """Load the bundled English playbook from its file again; every pattern it builds, with
    the flags it compiles with."""
    built: list[tuple[str, int]] = []
    real = config.GuardedPattern.__init__

    def record(self, pattern, flags=0, *, key="pattern"):
        built.append((pattern, flags))
        real(self, pattern, flags, key=key)

    monkeypatch.setattr(config.GuardedPattern, "__init__", record)
    config.clear_cache()
    try:
        load_playbook(None, language="en")
    finally:
        config.clear_cache()
        monkeypatch.setattr(config.GuardedPattern, "__init__", real)
    return built


def test_checked_once_then_taken_from_the_record(monkeypatch, unchecked_patterns):
    first = load_recording_patterns(monkeypatch)
    assert unchecked_patterns.is_file()
    checked_patterns.forget()  # as a new process: only the file is known

    def no_check(*args, **kwargs):
        raise AssertionError("a recorded pattern was checked again")

    monkeypatch.setattr(config, "parse_regex", no_check)
    again = load_recording_patterns(monkeypatch)
    assert len(first) > 100
    assert again == first  # the same patterns, compiled with the same flags


def test_an_edited_pattern_is_checked_again(monkeypatch, unchecked_patterns):
    checker = config.Checker("team.yaml")
    checker.regex(r"\bterima kasih\b", "k")
    checked_patterns.flush()
    checked_patterns.forget()
    seen = []
    real = config.parse_regex
    monkeypatch.setattr(config, "parse_regex", lambda p, f=0: seen.append(p) or real(p, f))
    checker.regex(r"\bterima kasih\b", "k")
    checker.regex(r"\bterima\s+kasih\b", "k")
    checker.regex(r"\bterima kasih\b", "k", flags=0)  # other flags: another record
    assert seen == [r"\bterima\s+kasih\b", r"\bterima kasih\b"]


@pytest.mark.parametrize("pattern", [r"(\w+\s*)*selesai", r"(a+)+", r"(?<=ab*)c", r"(unclosed"])
def test_a_refused_pattern_is_never_recorded(pattern, unchecked_patterns):
    for _ in range(2):
        with pytest.raises(ConfigError, match="'team.yaml': k"):
            config.Checker("team.yaml").regex(pattern, "k")
        checked_patterns.flush()
        checked_patterns.forget()
    assert checked_patterns.flags_of(pattern, re.IGNORECASE) is None


def test_a_record_of_other_checking_code_is_ignored(monkeypatch, unchecked_patterns):
    config.Checker("team.yaml").regex(r"\bhalo\b", "k")
    checked_patterns.flush()
    data = json.loads(unchecked_patterns.read_text())
    assert data["patterns"]
    data["salt"] = "3.11:" + "0" * 64  # another callscan's checks, or another Python
    unchecked_patterns.write_text(json.dumps(data))
    checked_patterns.forget()
    assert checked_patterns.flags_of(r"\bhalo\b", re.IGNORECASE) is None


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", '{"salt": 1, "patterns": []}'])
def test_a_damaged_record_is_ignored_and_rewritten(content, unchecked_patterns):
    unchecked_patterns.parent.mkdir(parents=True)
    unchecked_patterns.write_text(content)
    checked_patterns.forget()
    config.Checker("team.yaml").regex(r"\bselamat pagi\b", "k")
    checked_patterns.flush()
    assert json.loads(unchecked_patterns.read_text())["patterns"]


def test_an_unwritable_cache_folder_only_means_checking_and_compiling(monkeypatch, tmp_path):
    from callscan import compiled_patterns

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CALLSCAN_CACHE_DIR", str(blocker))  # mkdir fails under a file
    checked_patterns.forget()
    compiled_patterns.forget()
    try:
        pattern = config.Checker("team.yaml").regex(r"\bhalo\b", "k")
        assert pattern.search("Halo, selamat pagi")  # compiled (the record unwritable)
        checked_patterns.flush()  # no error
        compiled_patterns.flush()
        assert checked_patterns.flags_of(r"\bhalo\b", re.IGNORECASE) is not None  # in memory
    finally:
        checked_patterns.forget()
        compiled_patterns.forget()


def test_a_new_process_reads_the_record(unchecked_patterns):
    """Two real processes: the second loads both bundled playbooks without parsing a pattern."""
    load = "from callscan.analysis.playbook import load_playbook as l; l(None,'en'); l(None,'id')"
    count = (
        "import callscan.config as c; n = []; real = c.parse_regex\n"
        "c.parse_regex = lambda p, f=0: n.append(p) or real(p, f)\n"
        f"{load}\nprint(len(n))"
    )
    env = {"CALLSCAN_CACHE_DIR": str(unchecked_patterns.parent)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", count],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=True,
        ).stdout.split()
        for _ in range(2)
    ]
    assert int(runs[0][0]) > 150 and runs[1] == ["0"]
