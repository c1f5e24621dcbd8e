"""How the one-call commands end the process (``callscan.cli.app.main``).

``analyze`` and ``transcribe`` leave without the interpreter's teardown (with torch loaded
it took 0.4 s after the reports were written; ``bench/bench_vs_whisperx.py``), so these
tests run the real console entry point in a child process: the reports and the messages
must all be there, the exit status right, and ``atexit`` work done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CALL = ROOT / "tests" / "data" / "blind-calls" / "blind_en_01.txt"


def _run(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-c", code] if code else [sys.executable, "-m", "callscan", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_analyze_writes_every_report_and_message_before_it_leaves(tmp_path):
    out = tmp_path / "out"
    done = _run("analyze", str(CALL), "-o", str(out), "-f", "all")
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "blind_en_01.callscan.json").read_text())  # whole, parseable
    assert report["stages"]["stages"]
    assert (out / "blind_en_01.callscan.html").read_text().rstrip().endswith("</html>")
    assert "wrote" in done.stderr and str(out / "blind_en_01.callscan.json") in done.stderr


def test_a_failing_call_leaves_with_its_one_line_error_and_status(tmp_path):
    missing = tmp_path / "nope.wav"
    done = _run("analyze", str(missing), "-o", str(tmp_path))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "nope.wav" in lines[0]


def test_leave_runs_atexit_work_and_keeps_the_status(tmp_path):
    marker = tmp_path / "atexit.txt"
    code = (
        "import atexit, sys\n"
        "from callscan.cli.app import leave\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
        "print('buffered line', end='')\n"  # still in stdout's buffer
        "leave(sys.argv[1] if len(sys.argv) > 1 else 3)\n"
    )
    done = _run(code=code)
    assert done.returncode == 3
    assert done.stdout == "buffered line"
    assert marker.read_text() == "ran"
    marker.unlink()
    message = subprocess.run(
        [sys.executable, "-c", code, "a message"], capture_output=True, text=True, cwd=ROOT
    )
    assert message.returncode == 1 and message.stderr.strip() == "a message"
    assert marker.read_text() == "ran"


@pytest.mark.slow
def test_transcribe_leaves_with_the_whole_transcript_written(tmp_path):
    """Real Whisper on real speech (JFK's inaugural address, tests/data/SOURCES.md): torch
    is loaded, so this is the teardown the early exit skips."""
    out = tmp_path / "jfk.txt"
    audio = ROOT / "tests" / "data" / "fw_jfk.flac"
    done = _run("transcribe", str(audio), "--threads", "1", "-f", "txt", "-o", str(out))
    assert done.returncode == 0, done.stderr
    lines = out.read_text().lower().splitlines()  # "00:00:00.320 [agent] and so my ..."
    text = " ".join(line.split("] ", 1)[1] for line in lines)
    assert "ask not what your country can do for you" in text.replace(",", "").replace(".", "")
    assert text.rstrip(" .").endswith("what you can do for your country")  # the last words
