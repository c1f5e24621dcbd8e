"""``callscan serve`` and ``analyze --server``: a real uvicorn server on a free local port,
real calls posted over HTTP (the transcripts of tests/data/blind-calls; a bundled sample
recording through the real Whisper model), the reports compared with local analyses."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscan import CallscanError
from callscan.cli.app import app
from callscan.pipeline import AnalyzeOptions, analyze
from callscan.qa.server import Worker, analyze_remote, create_app, relocate, safe_name

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "tests" / "data" / "blind-calls"
runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(worker: Worker, **app_options):
    """``worker`` served by a real uvicorn server on a free port; yields its URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(worker, **app_options), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def text_server():
    """A server without a model: transcripts only (a recording would load one)."""
    with running(Worker(AnalyzeOptions()), max_upload_mb=0.05) as url:
        yield url


def post(url: str, body: bytes, query: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{url}/analyze?{query}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def without_timing(report: dict) -> dict:
    """A report without the fields that differ between two runs of the same analysis."""
    data = json.loads(json.dumps(report))
    for part in (data.get("transcript") or {}, data):
        part.pop("timing", None)
        part.pop("processing_s", None)
    if data.get("opening"):
        data["opening"]["info"].pop("cpu_s", None)  # the measures' CPU time
    return data


def test_health_names_the_model_and_counts_calls(text_server):
    with urllib.request.urlopen(f"{text_server}/health", timeout=10) as answer:
        health = json.loads(answer.read())
    assert health["status"] == "ok"
    assert health["model"] == "base" and health["engine"] == "openai-whisper"
    assert isinstance(health["calls"], int)


@pytest.mark.parametrize("name", ["blind_id_01.txt", "blind_en_02.txt"])
def test_a_transcript_posted_gets_the_report_a_local_analysis_gives(text_server, name):
    call = BLIND / name
    remote = analyze_remote(text_server, call)
    local = analyze(call)
    assert remote["source"] == str(call)
    assert remote["conversation"]["source"] == str(call)
    assert without_timing(remote) == without_timing(relocate(local, str(call)))
    assert remote["stages"]["stages"], "the report has its stage findings"


def test_per_call_parameters_reach_the_analysis(text_server):
    call = BLIND / "blind_id_03.txt"
    remote = analyze_remote(text_server, call, {"call_type": "complaint", "language": "id"})
    local = analyze(call, AnalyzeOptions(call_type="complaint", language="id"))
    assert remote["stages"]["call_type"] == "complaint"
    assert without_timing(remote) == without_timing(relocate(local, str(call)))


@pytest.mark.parametrize(
    ("body", "query", "status", "words"),
    [
        (b"agent: halo", "", 400, "not a file name"),
        (b"agent: halo", "name=..", 400, "not a file name"),
        (b"", "name=call.txt", 400, "no body"),
        (b"agent: halo", "name=call.txt&call_type=chat", 400, "call_type 'chat'"),
        (b"agent: halo", "name=call.txt&agent_channel=2", 400, "agent_channel '2'"),
        (b"agent: halo", "name=call.txt&model=tiny", 400, "unknown parameter 'model'"),
        (b"x" * 60_000, "name=big.txt", 413, "larger than the server's 0.05 MB limit"),
        (b"\xff\xfe\x00garbage", "name=broken.json", 422, "broken.json"),
        (b"RIFF\x00\x00\x00\x00WAVEjunk", "name=broken.wav", 422, "broken.wav"),
    ],
)
def test_a_bad_request_gets_one_line_and_the_server_goes_on(
    text_server, body, query, status, words
):
    code, answer = post(text_server, body, query)
    assert code == status
    assert words in answer["error"] and "\n" not in answer["error"]
    assert "callscan-serve-" not in answer["error"], "no temporary path in the message"
    report = analyze_remote(text_server, BLIND / "blind_en_01.txt")  # the next call is served
    assert report["conversation"]["turns"]


def test_the_client_names_its_own_file_in_the_servers_error(text_server, tmp_path):
    bad = tmp_path / "empty.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(CallscanError) as e:
        analyze_remote(text_server, bad)
    message = str(e.value)
    assert message.startswith(f"'{bad}'") and text_server in message
    assert "\n" not in message


def test_no_server_and_no_file_are_one_line_errors(tmp_path):
    with pytest.raises(CallscanError, match="no callscan server answers at .*callscan serve"):
        analyze_remote(f"http://127.0.0.1:{free_port()}", BLIND / "blind_en_01.txt")
    with pytest.raises(CallscanError, match="cannot read the file"):
        analyze_remote("http://127.0.0.1:1", tmp_path / "missing.wav")


def test_safe_name_keeps_the_last_part_only():
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\calls\\a b.wav") == "a b.wav"
    assert safe_name("x/y/call;rm -rf.wav") == "call_rm -rf.wav"
    with pytest.raises(CallscanError):
        safe_name("dir/")


def test_analyze_server_writes_the_reports_here(text_server, tmp_path):
    call = BLIND / "blind_en_03.txt"
    result = runner.invoke(
        app, ["analyze", str(call), "--server", text_server, "-o", str(tmp_path), "-f", "all"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "blind_en_03.callscan.json").read_text(encoding="utf-8"))
    assert report["source"] == str(call)
    local = tmp_path / "local"
    result = runner.invoke(app, ["analyze", str(call), "-o", str(local), "-f", "all"])
    assert result.exit_code == 0, result.output
    for kind in ("html", "md"):  # the same pages as a local analysis writes
        name = f"blind_en_03.callscan.{kind}"
        assert (tmp_path / name).read_text(encoding="utf-8") == (local / name).read_text(
            encoding="utf-8"
        )


def test_analyze_server_refuses_the_servers_own_settings(tmp_path):
    call = BLIND / "blind_en_03.txt"
    for flags in (["--model", "tiny"], ["--no-classifier"], ["--playbook", str(call)]):
        result = runner.invoke(app, ["analyze", str(call), "--server", "http://x", *flags])
        assert result.exit_code == 1
        assert "is the server's setting" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_a_bad_call_through_the_client_writes_nothing(text_server, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("nobody: here\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["analyze", str(bad), "--server", text_server, "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: '{bad}'") and len(result.output.splitlines()) == 1
    assert not list(out.iterdir())


def test_serve_refuses_a_port_in_use_before_loading_a_model():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        start = time.monotonic()
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert time.monotonic() - start < 5, "it failed before the model loaded"


@pytest.mark.slow
def test_a_recording_through_the_server_matches_the_local_analysis(base_model, sample_reports):
    """Real Whisper on a bundled sample recording (stereo, Indonesian), posted to a server
    holding the same model: the same turns, stages, modality and opening as `analyze`."""
    call = ROOT / "samples" / "id_sales_stereo.wav"
    worker = Worker(AnalyzeOptions(), model=base_model)
    with running(worker) as url:
        remote = analyze_remote(url, call, {"agent_channel": 0})
        again = analyze_remote(url, call)
    local = sample_reports("id_sales_stereo")
    assert worker.calls == 2
    assert remote["speakers"]["roles"]["agent"] == "ch0"
    for report in (remote, again):
        assert report["source"] == str(call)
        assert report["transcript"]["audio"]["path"] == str(call)
        turns = [(t["speaker"], t["text"]) for t in report["conversation"]["turns"]]
        assert turns == [(t["speaker"], t["text"]) for t in local["conversation"]["turns"]]
        assert report["stages"] == local["stages"]
        assert report["modality"] == local["modality"]
        assert without_timing(report)["opening"] == without_timing(local)["opening"]


@pytest.mark.slow
def test_callscan_serve_end_to_end(tmp_path):
    """The real command in a child process: it loads the model, says when it is ready, serves
    `analyze --server` (a real recording: real Whisper), and stops on Ctrl-C."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "callscan", "serve", "--port", str(port), "--threads", "2"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stderr is not None
        lines = []
        for line in child.stderr:
            lines.append(line)
            if "ready at" in line:
                break
        assert f"ready at http://127.0.0.1:{port}" in "".join(lines), lines
        call = ROOT / "samples" / "en_complaint_mono_8k.wav"
        result = runner.invoke(
            app,
            ["analyze", str(call), "--server", f"http://127.0.0.1:{port}", "-o", str(tmp_path)],
        )
        assert result.exit_code == 0, result.output
        report = json.loads(
            (tmp_path / "en_complaint_mono_8k.callscan.json").read_text(encoding="utf-8")
        )
        assert report["language"] == "en" and report["transcript"]["segments"]
        assert report["stages"]["call_type"] == "complaint"
        assert (tmp_path / "en_complaint_mono_8k.callscan.html").exists()
    finally:
        child.send_signal(signal.SIGINT)
        assert child.wait(30) == 0


def test_a_missing_extra_is_named_with_its_install_line(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a)
    )
    with pytest.raises(CallscanError, match=r"pip install 'callscan\[server\]'"):
        create_app(Worker(AnalyzeOptions()))


def test_every_call_runs_on_the_workers_own_thread(monkeypatch):
    """Loads and analyses run on one thread of the worker's own, whichever thread asks
    (torch transcribed 1.3x slower on a thread other than the loading one)."""
    import callscan.pipeline as pipeline

    seen = []
    real = pipeline.analyze

    def spy(*args, **kwargs):
        seen.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "analyze", spy)
    worker = Worker(AnalyzeOptions())
    first = worker.analyze(BLIND / "blind_en_01.txt")
    with ThreadPoolExecutor(2) as pool:
        others = list(pool.map(worker.analyze, [BLIND / "blind_en_02.txt"] * 2))
    worker.close()
    assert first["conversation"]["turns"] and all(r["conversation"]["turns"] for r in others)
    assert len(set(seen)) == 1 and seen[0].startswith("callscan-worker"), seen
    assert worker.calls == 3


def test_a_server_that_breaks_off_the_call_is_a_one_line_error():
    """A server that takes the connection and closes it mid-call (killed, out of memory)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def rude() -> None:
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.close()

    thread = threading.Thread(target=rude, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    call = BLIND / "blind_en_01.txt"
    with pytest.raises(CallscanError) as e:
        analyze_remote(f"http://127.0.0.1:{port}", call)
    thread.join(5)
    listener.close()
    assert str(e.value).startswith(f"'{call}': the callscan server at http://127.0.0.1:{port}")
    assert "broke off the call" in str(e.value) and "\n" not in str(e.value)


def test_callscan_server_in_the_environment_is_the_server(text_server, tmp_path):
    call = BLIND / "blind_id_02.txt"
    result = runner.invoke(
        app, ["analyze", str(call), "-o", str(tmp_path)], env={"CALLSCAN_SERVER": text_server}
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "blind_id_02.callscan.json").read_text(encoding="utf-8"))
    assert report["source"] == str(call)
    with urllib.request.urlopen(f"{text_server}/health", timeout=10) as answer:
        assert json.loads(answer.read())["calls"] >= 1


def test_posted_calls_leave_no_copy_on_the_server(text_server):
    import tempfile

    def copies() -> set[str]:
        return {p.name for p in Path(tempfile.gettempdir()).glob("callscan-serve-*")}

    before = copies()
    post(text_server, b"\xff\xfe\x00garbage", "name=broken.json")  # refused
    analyze_remote(text_server, BLIND / "blind_en_01.txt")  # analysed
    post(text_server, b"x" * 60_000, "name=big.txt")  # over the limit while streaming
    assert copies() == before


def test_an_upload_without_a_length_is_stopped_at_the_limit(text_server):
    """Chunked uploads declare no length: the limit is applied while the body streams."""
    import http.client
    import urllib.parse

    url = urllib.parse.urlsplit(text_server)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    chunks = (b"y" * 10_000 for _ in range(10))  # 100 kB against the 0.05 MB limit
    conn.request("POST", "/analyze?name=big.txt", body=chunks, encode_chunked=True)
    answer = conn.getresponse()
    assert answer.status == 413
    assert "larger than the server's 0.05 MB limit" in json.loads(answer.read())["error"]
    conn.close()
    assert analyze_remote(text_server, BLIND / "blind_en_01.txt")["conversation"]["turns"]
