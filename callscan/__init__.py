"""callscan: recorded customer-service calls -> QA findings.

One call flows through small stages, one subpackage each, in this order::

    audio     decode the file (16 kHz, channels kept), speech regions, prosody
    asr       Whisper transcription of the speech regions, word timestamps
    speakers  turns per party (channels or diarization), agent/caller roles, talk metrics
    analysis  the agent's opening (first 20 s), caller modality, stage coverage and conduct
    report    JSON, HTML and Markdown per call
    qa        many calls: the resumable batch runner and its summaries

The public API is this facade; everything in it loads lazily, so ``import callscan`` is
instant and never pulls in torch or Whisper until a function that needs them runs.

Examples
--------
>>> import callscan
>>> report = callscan.analyze("call.wav", callscan.AnalyzeOptions(language="id"))  # doctest: +SKIP
>>> report["stages"]["score"]  # doctest: +SKIP

Transcription only, with the model loaded once::

>>> model = callscan.load_model("base")  # doctest: +SKIP
>>> audio = callscan.load_audio("call.wav")  # doctest: +SKIP
>>> transcript = callscan.transcribe(model, audio)  # doctest: +SKIP

The library never prints and never imports typer or rich; progress goes through a
``hook(step, completed, total)`` argument.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from callscan.errors import AudioError, CallscanError, ConfigError, ModelError, TranscriptError

# A library logs but never prints: without the application's own logging setup, stay quiet.
logging.getLogger("callscan").addHandler(logging.NullHandler())

__version__ = "0.1.0"  # the one version source (pyproject.toml reads it)

# public name -> (module, attribute), imported on first use
_LAZY = {
    "analyze": ("callscan.pipeline", "analyze"),
    "AnalyzeOptions": ("callscan.pipeline", "AnalyzeOptions"),
    "run_batch": ("callscan.qa.runner", "run_batch"),
    "load_audio": ("callscan.audio.decode", "load"),
    "load_model": ("callscan.asr", "load_model"),
    "transcribe": ("callscan.asr", "transcribe"),
    "TranscribeOptions": ("callscan.asr", "TranscribeOptions"),
    "render_report": ("callscan.report", "render"),
    "ReportOptions": ("callscan.report", "ReportOptions"),
}

__all__ = [
    "__version__",
    "analyze",
    "AnalyzeOptions",
    "run_batch",
    "load_audio",
    "load_model",
    "transcribe",
    "TranscribeOptions",
    "render_report",
    "ReportOptions",
    "AudioError",
    "CallscanError",
    "ConfigError",
    "ModelError",
    "TranscriptError",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from callscan.asr import TranscribeOptions, load_model, transcribe
    from callscan.audio.decode import load as load_audio
    from callscan.pipeline import AnalyzeOptions, analyze
    from callscan.qa.runner import run_batch
    from callscan.report import ReportOptions
    from callscan.report import render as render_report


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'callscan' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
