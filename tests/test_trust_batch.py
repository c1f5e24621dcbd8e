"""Issue 16, batch trust: no lost or overwritten reports, one-line faults, resume exactly once.

Every test runs the real batch (transcripts: no model needed) on real files, folders and
processes: a second batch on a locked folder, a SIGKILLed batch and its workers, a full and a
read-only file system (a small tmpfs, when the tests run as root), ``/dev/full``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan import CallscanError
from callscan.cli.app import app
from callscan.pipeline import AnalyzeOptions, analyze, portable_path
from callscan.qa.runner import LOCK, MANIFEST, find_calls, read_manifest, run_batch
from callscan.report import report_paths, report_stem
from callscan.speakers.assign import SpeakersOptions

ROOT = Path(__file__).resolve().parent.parent
CALL = (
    "agent: Selamat pagi, Nusantara Seluler, dengan Surya, ada yang bisa saya bantu?\n"
    "caller: Saya mau tanya tagihan saya, kelihatannya terlalu mahal.\n"
    "agent: Baik, Bapak. Saya cek dulu. Terima kasih atas waktu Bapak, selamat siang.\n"
)
OTHER = (  # same length as CALL, other words
    "agent: Selamat sore, Nusantara Seluler, dengan Surya, ada yang bisa saya bantu?\n"
    "caller: Saya mau tanya paketan saya, kelihatannya terlalu mahal.\n"
    "agent: Baik, Bapak. Saya cek dulu. Terima kasih atas waktu Bapak, selamat malam.\n"
)
assert len(CALL) == len(OTHER) and CALL != OTHER


def transcripts(folder: Path, n: int, prefix: str = "A17_", repeat: int = 1) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"{prefix}{i:04d}.txt"
        p.write_text(CALL * repeat)
        paths.append(p)
    return paths


def manifest_lines(out: Path) -> list[dict]:
    """Every line of the log; fails on a torn one."""
    text = (out / MANIFEST).read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def ok_counts(out: Path) -> Counter:
    return Counter(e["name"] for e in manifest_lines(out) if e["status"] == "ok")


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---- report names ---------------------------------------------------------------------------


def test_report_names_keep_every_part_of_the_file_name(tmp_path):
    assert report_stem("call.2024.01.30.wav") == "call.2024.01.30"
    assert report_stem("call.2024.01.30") == "call.2024.01.30"  # ".30" is not a file type
    assert report_stem("x/r.callscan.json") == "r"
    assert report_paths("2024.11/A01_x.wav", ("json",))["json"] == Path(
        "2024.11/A01_x.callscan.json"
    )
    # folders: sub-folders joined, dots kept; a name two files would share gets a path hash
    for rel in ("2024.11/A01_x.wav", "2024.11/A03_x.wav", "a/x.wav", "b/x.wav", "a__b/c.wav",
                "a/b__c.wav", "y.wav", "y.flac"):  # fmt: skip
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_bytes(b"")
    names = [c.name for c in find_calls([tmp_path / "in"])]
    assert len(set(names)) == len(names) == 8
    assert {"2024.11__A01_x", "2024.11__A03_x", "a__x", "b__x"} <= set(names)
    assert sum(n.startswith("a__b__c-") for n in names) == 2
    assert sum(n.startswith("y-") for n in names) == 2


def test_dotted_names_get_their_own_reports_and_resume(tmp_path):
    src = tmp_path / "calls"
    src.mkdir()
    files = [src / "call.2024.01.30.txt", src / "call.2024.01.31.txt"]
    for f in files:
        f.write_text(CALL)
    out = tmp_path / "out"
    result = run_batch(files, out)
    assert (result.done, result.failed) == (2, 0)
    reports = sorted(p.name for p in out.glob("*.callscan.json"))
    assert reports == ["call.2024.01.30.callscan.json", "call.2024.01.31.callscan.json"]
    again = run_batch(files, out)
    assert (again.done, again.skipped) == (0, 2)


def test_analyze_never_writes_over_its_input(tmp_path):
    call = tmp_path / "call.txt"
    call.write_text(CALL)
    first = CliRunner().invoke(app, ["analyze", str(call), "-f", "json"])
    assert first.exit_code == 0, first.stderr
    stored = tmp_path / "call.callscan.json"
    before = stored.read_bytes()
    result = CliRunner().invoke(app, ["analyze", str(stored)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "would be written over this input" in lines[0]
    assert "--output-dir" in lines[0]
    assert stored.read_bytes() == before
    elsewhere = CliRunner().invoke(app, ["analyze", str(stored), "-o", str(tmp_path / "o")])
    assert elsewhere.exit_code == 0, elsewhere.stderr
    assert (tmp_path / "o" / "call.callscan.json").exists()
    assert stored.read_bytes() == before


# ---- names, content, spreadsheets -----------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_a_failed_call_and_the_batch_goes_on(tmp_path):
    src = tmp_path / "calls"
    src.mkdir()
    with open(os.fsencode(src) + b"/B02_\xff.wav", "wb") as f:
        f.write((ROOT / "tests/data/fw_jfk.flac").read_bytes()[:1000])
    good = transcripts(tmp_path / "t", 1)[0]
    out = tmp_path / "out"
    for _ in range(2):  # and again: the rerun resumes without a traceback
        result = run_batch([src, good], out)
        assert (result.done + result.skipped, result.failed) == (1, 1)
        rows = read_csv(out / "summary.csv")
        bad = next(r for r in rows if r["status"] == "error")
        assert bad["file"].endswith("B02_\\xff.wav")
        assert "not valid UTF-8" in bad["error"] and "\n" not in bad["error"]
        manifest_lines(out)
    cli = CliRunner().invoke(app, ["batch", str(src), str(good), "-o", str(out)])
    assert cli.exit_code == 1 and "Traceback" not in cli.output
    assert "not valid UTF-8" in cli.stderr


def test_resume_keys_on_the_content_not_name_size_and_time(tmp_path):
    a, b = transcripts(tmp_path / "t", 2)
    out = tmp_path / "out"
    assert run_batch([a, b], out).done == 2
    st = a.stat()
    a.write_text(OTHER)  # another recording: same name, size and modification time
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (a.stat().st_size, a.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    again = run_batch([a, b], out)
    assert (again.done, again.skipped) == (1, 1)
    assert read_manifest(out)[a.stem]["sha256"] != read_manifest(out)[b.stem]["sha256"]
    assert "paketan" in (out / f"{a.stem}.callscan.json").read_text()
    # other options: redone
    assert run_batch([a, b], out, AnalyzeOptions(call_type="sales")).done == 2


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    src = tmp_path / "t"
    src.mkdir()
    call = src / '=HYPERLINK("x")_0001.txt'
    call.write_text(CALL)
    pattern = r"(?P<agent>.+)_(?P<call>\d+)"
    out = tmp_path / "out"
    options = AnalyzeOptions(speakers=SpeakersOptions(agent_pattern=pattern))
    result = run_batch([call], out, options)
    assert result.rows[0]["agent_id"] == '=HYPERLINK("x")'  # the data keeps the value
    summary = read_csv(out / "summary.csv")[0]
    agents = read_csv(out / "agents.csv")[0]
    assert summary["agent_id"] == agents["agent_id"] == '\'=HYPERLINK("x")'
    raw = (out / "summary.csv").read_text() + (out / "agents.csv").read_text()
    assert ",=HYPERLINK" not in raw and "\n=HYPERLINK" not in raw


def test_reports_name_data_files_relative_to_the_call_not_the_install(tmp_path):
    call = tmp_path / "calls" / "c.txt"
    call.parent.mkdir()
    call.write_text(CALL)
    report = analyze(call)
    assert report["stages"]["playbook"] == "bundled:playbook_id.yaml"
    assert report["modality"]["lexicon"].startswith("bundled:vak_id.yaml (version ")
    install = str(ROOT / "models")
    assert install not in json.dumps(report)
    team = tmp_path / "team" / "pb.yaml"
    team.parent.mkdir()
    shutil.copy(ROOT / "models" / "playbook_id.yaml", team)
    mine = analyze(call, AnalyzeOptions(playbook=str(team)))
    assert mine["stages"]["playbook"] == "../team/pb.yaml"
    assert portable_path(ROOT / "models" / "vak_en.yaml") == "bundled:vak_en.yaml"


# ---- faults: lock, killed batch, full and read-only disks -----------------------------------


def _batch_process(inputs: list[Path], out: Path, workers: int) -> subprocess.Popen:
    code = (
        "import sys; from callscan.qa.runner import run_batch; "
        "run_batch(sys.argv[3:], sys.argv[1], workers=int(sys.argv[2]))"
    )
    args = [sys.executable, "-c", code, str(out), str(workers), *map(str, inputs)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:  # Linux /proc
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_locked_folder_killed_batch_workers_gone_and_resume_exactly_once(tmp_path):
    calls = transcripts(tmp_path / "t", 24, repeat=300)  # long calls: about a second each
    out = tmp_path / "out"
    parent = _batch_process(calls, out, workers=2)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # workers started and a call logged
            workers = _children(parent.pid)
            if len(workers) >= 2 and (out / MANIFEST).exists() and manifest_lines(out):
                break
            assert parent.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.2)
        else:
            pytest.fail("the batch did not start its workers")
        assert (out / LOCK).read_text().strip() == str(parent.pid)
        # a second batch on the same folder: refused at once, one line
        start = time.monotonic()
        second = CliRunner().invoke(app, ["batch", *map(str, calls[:2]), "-o", str(out)])
        assert second.exit_code == 1 and time.monotonic() - start < 10
        assert second.stderr.strip().splitlines() == [
            f"Error: '{out}': another batch is writing to this folder (process {parent.pid}); "
            "wait for it to finish or choose another output folder"
        ]
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 8
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [w for w in workers if _alive(w)], "workers outlived their killed batch"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    # the stale lock does not block; every call ends up logged ok exactly once
    before = len(ok_counts(out))
    assert 0 < before < 24
    result = run_batch(calls, out, workers=2)
    assert (result.skipped, result.done + result.skipped, result.failed) == (before, 24, 0)
    assert set(ok_counts(out).values()) == {1} and len(ok_counts(out)) == 24


def test_a_log_that_cannot_be_written_is_one_line_and_not_torn(tmp_path):
    assert Path("/dev/full").exists(), "Linux's /dev/full is needed for this test"
    calls = transcripts(tmp_path / "t", 2)
    out = tmp_path / "out"
    out.mkdir()
    # every write: "No space left on device" (no resume: reading /dev/full never ends)
    (out / MANIFEST).symlink_to("/dev/full")
    with pytest.raises(CallscanError) as e:
        run_batch(calls, out, resume=False)
    assert "No space left on device" in str(e.value) and "\n" not in str(e.value)
    args = ["batch", *map(str, calls), "-o", str(out), "--no-resume"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    (out / MANIFEST).unlink()
    assert run_batch(calls, out).done == 2


def test_a_line_torn_by_an_earlier_crash_does_not_swallow_the_next(tmp_path):
    calls = transcripts(tmp_path / "t", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text('{"name": "A17_0000", "status": "ok", "ro')  # cut at a crash
    result = run_batch(calls, out)
    assert result.done == 2
    lines = (out / MANIFEST).read_text().splitlines()
    assert len(lines) == 3 and [json.loads(x)["name"] for x in lines[1:]] == [
        "A17_0000",
        "A17_0001",
    ]
    assert (run_batch(calls, out).skipped, run_batch(calls, out).done) == (2, 0)


@pytest.fixture()
def small_disk(tmp_path):
    """A 16 MB tmpfs (needs root: mount, as scripts/test.sh runs in CI)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True
    )
    assert mounted.returncode == 0, f"cannot mount a 16 MB tmpfs: {mounted.stderr.decode()}"
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_stops_with_one_line_and_resumes_exactly_once(tmp_path, small_disk):
    calls = transcripts(tmp_path / "t", 4)
    out = small_disk / "out"
    assert run_batch(calls[:1], out).done == 1
    filler = _fill(small_disk)
    result = CliRunner().invoke(app, ["batch", *map(str, calls), "-o", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "No space left on device" in lines[-1]
    assert "run the batch again to resume" in lines[-1]
    assert ok_counts(out) == Counter({"A17_0000": 1})  # the log: whole lines, nothing lost
    assert not list(out.glob("*.part"))
    filler.unlink()
    again = run_batch(calls, out)
    assert (again.done, again.skipped, again.failed) == (3, 1, 0)
    assert ok_counts(out) == Counter({c.stem: 1 for c in calls})
    assert len(read_csv(out / "summary.csv")) == 4


def test_a_read_only_output_folder_is_one_line(tmp_path, small_disk):
    calls = transcripts(tmp_path / "t", 2)
    out = small_disk / "out"
    assert run_batch(calls[:1], out).done == 1
    log = (out / MANIFEST).read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result = CliRunner().invoke(app, ["batch", *map(str, calls), "-o", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"Error: '{out}': cannot write to the output folder (Read-only file system)"
    ]
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert (out / MANIFEST).read_bytes() == log
    assert run_batch(calls, out).done == 1
    assert ok_counts(out) == Counter({c.stem: 1 for c in calls})
