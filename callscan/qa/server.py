"""A resident worker: callscan's analysis over HTTP with the model loaded once.

A one-call ``callscan analyze`` process pays, every time, for what a batch pays once: torch's
import, the model's load and the first use of the analyses' data (about 2 s of a 5-minute
call's 7.4 s on 2 cores, see the README's speed section). ``callscan serve`` starts a worker
that pays them at start-up; each call posted to it is then analysed as a batch's second call
is, and a client that only sends the file and writes the reports starts in a fraction of a
second (it imports neither torch nor Whisper).

The server binds to 127.0.0.1 unless told otherwise: it reads whatever a client posts, so put
it behind your own authentication before opening it to a network.

Endpoints
---------
``GET /health``
    ``{"status": "ok", "callscan_version", "model", "engine", "model_loaded", "calls"}``.
``POST /analyze?name=NAME[&language=id][&call_type=complaint][&agent_channel=0]``
    The body is the call file's bytes (a recording, or a ``.txt``/``.json`` transcript; its
    kind is told by NAME's extension, as for a file). The answer is the report, the JSON of
    ``callscan analyze --json``, with its ``source`` set to NAME (and the seconds it took in
    the ``X-Callscan-Seconds`` header). Errors answer
    ``{"error": "<one line>"}``: 400 (no name, no body, a bad parameter), 413 (over the size
    limit), 422 (the call cannot be analysed: the same message ``callscan analyze`` gives),
    500 (an internal error; the server keeps serving).

Calls are analysed one at a time, on the worker's own thread (the transcription already keeps
every core busy); requests that arrive meanwhile wait their turn.

Public API: :class:`Worker`, :func:`create_app`, :func:`serve`, :func:`analyze_remote`,
:func:`relocate`, :data:`DEFAULT_PORT`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callscan.errors import CallscanError

if TYPE_CHECKING:
    from callscan.pipeline import AnalyzeOptions

logger = logging.getLogger("callscan")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD_MB = 2048.0  # a 4-hour 16 kHz stereo WAV is 0.9 GB
OVERRIDES = ("language", "call_type", "agent_channel")  # per-call parameters of POST /analyze
_NAME = re.compile(r"[^\w.\- ]")  # characters kept in the temporary file's name
_WARM_UP = {
    "id": "agent: Selamat pagi, dengan Rina, ada yang bisa saya bantu?\n"
    "caller: Saya mau tanya tagihan kartu kredit saya.",
    "en": "agent: Good morning, this is Rina, how can I help you?\n"
    "caller: I have a question about my credit card bill.",
}


@dataclass
class Worker:
    """The server's analyses: ``options`` for every call, the model loaded once (at
    :meth:`load`, or on the first recording).

    Every load and analysis runs on one thread of the worker's own, one call at a time, from
    whichever thread asks. That thread matters for speed: torch ran a 5-minute call's
    transcription in 4.5-5.0 s on a thread other than the one that had loaded the model
    (the other still alive), against 3.5 s when one thread does both (measured on 2 cores,
    the same CPU time: fewer cores busy at once).
    """

    options: AnalyzeOptions
    model: Any = None
    calls: int = 0  # calls answered with a report
    _thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="callscan-worker"),
        init=False,
        repr=False,
    )

    def load(self) -> None:
        """Load the model now (``callscan serve`` does, before it accepts calls, so that a
        missing model fails at start-up), then :meth:`warm`."""
        self._thread.submit(self._load).result()

    def _load(self) -> None:
        from callscan import asr, heap

        if self.model is None:
            self.model = asr.load_model(
                self.options.model,
                model_path=self.options.model_path,
                engine=self.options.engine,
                threads=self.options.threads,
            )
            self.warm()
            heap.settle()  # the model and the warmed analyses live as long as the server

    def warm(self) -> None:
        """Use the analyses' data once (playbooks, lexicons, patterns, the turn classifier)
        on a two-turn text per language, so that the first call posted does not pay for it;
        :meth:`load` does it after the model."""
        import callscan.analysis.opening.score  # noqa: F401  (the opening's measures)
        from callscan.conversation import parse_text
        from callscan.pipeline import analyze_conversation

        languages = self.options.languages if self.options.language in ("", "auto") else ()
        for language in languages or (self.options.language,):
            text = _WARM_UP.get(language, _WARM_UP["en"])
            analyze_conversation(parse_text(text, language=language), self.options)

    def submit(self, path: str | Path, overrides: dict[str, Any] | None = None) -> Future:
        """:meth:`analyze` queued on the worker's thread; the future gives the report."""
        return self._thread.submit(self._analyze, path, overrides)

    def analyze(self, path: str | Path, overrides: dict[str, Any] | None = None) -> dict:
        """The report of the call at ``path`` (the options with a call's ``overrides``: see
        :func:`callscan.qa.runner.call_options`)."""
        return self.submit(path, overrides).result()

    def _analyze(self, path: str | Path, overrides: dict[str, Any] | None) -> dict:
        from callscan.conversation import is_transcript_path
        from callscan.pipeline import analyze
        from callscan.qa.runner import call_options

        options = call_options(self.options, overrides)
        if not is_transcript_path(path):
            self._load()
        report = analyze(path, options, model=self.model)
        self.calls += 1
        return report

    def close(self) -> None:
        """End the worker's thread once the calls queued have been analysed."""
        self._thread.shutdown(wait=True)


def parse_overrides(params: dict[str, str]) -> dict[str, Any]:
    """The per-call parameters of a request (:data:`OVERRIDES`), checked as a batch
    manifest's columns are (:func:`callscan.qa.runner.call_overrides`)."""
    from callscan.qa.runner import call_overrides

    unknown = sorted(set(params) - {"name", *OVERRIDES})
    if unknown:
        raise CallscanError(
            f"unknown parameter '{unknown[0]}' (the server takes: name, {', '.join(OVERRIDES)})"
        )
    return call_overrides(params, "the request")


def safe_name(name: str) -> str:
    """The file name a posted call is stored under for its analysis: the last part of
    ``name``, characters other than letters, digits, ``.``, ``-``, ``_`` and spaces replaced."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = _NAME.sub("_", base)[-200:]
    if not base.strip(". "):
        raise CallscanError(f"'{name}' is not a file name (give ?name=CALL.wav)")
    return base


def relocate(report: dict, source: str) -> dict:
    """``report`` (in place, returned) naming ``source`` as its call, where the server named
    the temporary copy it analysed."""
    report["source"] = source
    conversation = report.get("conversation")
    if isinstance(conversation, dict):
        conversation["source"] = source
    transcript = report.get("transcript")
    if isinstance(transcript, dict) and isinstance(transcript.get("audio"), dict):
        transcript["audio"]["path"] = source
    return report


def create_app(worker: Worker, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB):
    """The Starlette application serving ``worker`` (see the module's endpoints)."""
    _need_server_extra()
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from callscan import __version__

    limit = int(max_upload_mb * 1024 * 1024)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message.splitlines()[0] if message else ""}, status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "callscan_version": __version__,
                "model": worker.options.model_path or worker.options.model,
                "engine": worker.options.engine,
                "model_loaded": worker.model is not None,
                "calls": worker.calls,
            }
        )

    async def analyze(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            name = safe_name(params.get("name", ""))
            overrides = parse_overrides(params)
        except CallscanError as e:
            return error(400, str(e))
        too_large = f"'{name}' is larger than the server's {max_upload_mb:g} MB limit"
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return error(413, too_large)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="callscan-serve-") as folder:
            path = Path(folder) / name
            size = 0
            with path.open("wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:  # a body without a length, or a longer one than said
                        return error(413, too_large)
                    f.write(chunk)
            if size == 0:
                return error(400, f"'{name}': the request has no body (post the call's bytes)")
            try:
                report = await asyncio.wrap_future(worker.submit(path, overrides))
            except CallscanError as e:
                message = str(e).replace(str(path), name)  # not the temporary copy's path
                if not message.startswith(f"'{name}'"):
                    message = f"'{name}': {message}"
                return error(422, message)
            except MemoryError:
                return error(500, f"'{name}': out of memory while analysing this call")
            except Exception as e:  # one bad call must not stop the server
                logger.exception("'%s': unexpected error", name)
                return error(500, f"'{name}': internal error: {type(e).__name__}: {e}")
        relocate(report, name)
        seconds = f"{time.perf_counter() - start:.3f}"
        body = json.dumps(report, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return Response(
            body, media_type="application/json", headers={"X-Callscan-Seconds": seconds}
        )

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/analyze", analyze, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def serve(
    worker: Worker,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    ready: Callable[[], None] | None = None,
) -> None:
    """Load the worker's model, then serve it until interrupted (uvicorn, one process).

    ``ready()`` is called once the server accepts calls. Raises :class:`CallscanError` before
    the model loads when ``host:port`` cannot be listened on (in use, not an address here).
    """
    _need_server_extra()
    import uvicorn

    check_address(host, port)
    worker.load()
    app = create_app(worker, max_upload_mb=max_upload_mb)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if ready is not None:

        def announce() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                ready()

        threading.Thread(target=announce, name="callscan-ready", daemon=True).start()
    server.run()


def _need_server_extra() -> None:
    import importlib.util

    for module in ("starlette", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            raise CallscanError(
                f"the server needs {module}: pip install 'callscan[server]' (Starlette and uvicorn)"
            )


def check_address(host: str, port: int) -> None:
    """Raise :class:`CallscanError` (one line) when ``host:port`` cannot be listened on."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as e:
        raise CallscanError(f"cannot listen on {host}:{port} ({e.strerror or e})") from None


def analyze_remote(
    url: str,
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    *,
    timeout_s: float | None = None,
) -> dict:
    """Post the call at ``path`` to the callscan server at ``url`` and return its report,
    naming ``path`` as its source (what :func:`callscan.pipeline.analyze` returns for the call
    with the server's options). Standard library only: a client needs neither torch nor the
    server's packages.

    Raises
    ------
    CallscanError
        The file cannot be read, no server answers at ``url``, or the server's one-line error.
    """
    import http.client
    import urllib.error
    import urllib.parse
    import urllib.request

    path = Path(path)
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError as e:
        raise CallscanError(f"'{path}': cannot read the file ({e.strerror or e})") from None
    query = {"name": path.name}
    for key, value in (overrides or {}).items():
        if key not in OVERRIDES:
            raise CallscanError(f"the server takes no per-call '{key}' (only {OVERRIDES})")
        if value is not None:
            query[key] = str(value)
    base = url.rstrip("/")
    request = urllib.request.Request(
        f"{base}/analyze?{urllib.parse.urlencode(query)}",
        data=handle,
        method="POST",
        headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
    )
    try:
        with handle, urllib.request.urlopen(request, timeout=timeout_s) as answer:
            report = json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        raise CallscanError(_server_error(e, base, path)) from None
    except urllib.error.URLError as e:
        raise CallscanError(
            f"no callscan server answers at {base} ({e.reason}); start one with 'callscan serve'"
        ) from None
    except (OSError, http.client.HTTPException) as e:  # reset, timed out, cut short
        reason = str(e) or type(e).__name__
        raise CallscanError(
            f"'{path}': the callscan server at {base} broke off the call ({reason})"
        ) from None
    except ValueError as e:
        raise CallscanError(f"{base} did not answer with a report ({e})") from None
    return relocate(report, str(path))


def _server_error(e: Any, base: str, path: Path) -> str:
    """The server's one-line error, naming the client's ``path`` where it names the file."""
    try:
        message = str(json.loads(e.read().decode("utf-8"))["error"])
    except (ValueError, KeyError, TypeError, OSError):
        message = f"HTTP {e.code} {e.reason}"
    name = f"'{safe_name(path.name)}'"
    if message.startswith(name):
        message = f"'{path}'" + message[len(name) :]
    return f"{message} (callscan server {base})".splitlines()[0]
