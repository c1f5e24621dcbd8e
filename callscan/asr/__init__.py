"""Speech recognition: options, model loading and the transcription entry point.

Typical use (models are loaded once and passed in, as in openai-whisper)::

    from callscan import asr
    from callscan.audio import decode as audio
    model = asr.load_model("base")
    result = asr.transcribe(model, audio.load("call.wav"), asr.TranscribeOptions(language="id"))

A loaded model is an engine (:class:`callscan.asr.engine.Engine`): openai-whisper
(:class:`~callscan.asr.whisper_engine.OpenAIWhisper`) or faster-whisper
(:class:`~callscan.asr.faster_engine.FasterWhisper`). Engines only decode; the language
choice and the speech-region windows are shared (:mod:`callscan.asr.regions`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from callscan.asr.options import ENGINES, TranscribeOptions
from callscan.asr.weights import WHISPER_MODELS, load_whisper

if TYPE_CHECKING:
    from callscan.asr.engine import Engine
    from callscan.audio.decode import Audio
    from callscan.transcript import Transcript

__all__ = [
    "ENGINES",
    "TranscribeOptions",
    "call_language",
    "import_engine",
    "load_model",
    "transcribe",
    "WHISPER_MODELS",
]


def load_model(
    name: str = "base",
    *,
    model_path: str | None = None,
    device: str = "cpu",
    engine: str = "openai-whisper",
    quantize: bool | str | None = None,
    threads: int = 0,
) -> Engine:
    """Load a Whisper model once (offline cache first; see :mod:`callscan.asr.weights`).

    Returns an :class:`~callscan.asr.engine.Engine`. ``engine="faster-whisper"`` loads the
    CTranslate2 copy (int8 on CPU, ``threads`` CPU threads). ``quantize`` sets the precision of
    openai-whisper's weights on CPU (:mod:`callscan.asr.quantize`): a name of
    :data:`~callscan.asr.quantize.PRECISIONS`, ``True`` for ``"int8"``, ``False`` for
    ``"float32"``; None (the default): ``"fp16"`` on an x86 CPU (float16-stored weights,
    float32 arithmetic: the same transcripts as float32, see the module), else float32.
    The openai-whisper engine passes every other attribute to its ``whisper.model.Whisper``
    (``.module``).
    """
    from callscan.errors import CallscanError

    if engine == "faster-whisper":
        from callscan.asr import faster_engine
        from callscan.asr.regions import default_threads

        return faster_engine.load(name, model_path=model_path, threads=threads or default_threads())
    if engine != "openai-whisper":
        raise CallscanError(f"unknown engine '{engine}' (choose from: {', '.join(ENGINES)})")
    from callscan.asr import quantize as quantizer
    from callscan.asr.batched import HALF_CONTEXT_MODELS
    from callscan.asr.whisper_engine import OpenAIWhisper

    model = load_whisper(name, model_path=model_path, device=device)
    if isinstance(quantize, bool):
        precision = "int8" if quantize else "float32"
    elif quantize is None:
        precision = quantizer.default_precision() if device == "cpu" else "float32"
    else:
        precision = quantize
    if precision != "float32":
        if device != "cpu":
            raise CallscanError(f"{precision} weights are for the CPU (device '{device}')")
        model = quantizer.quantize(model, precision)
    return OpenAIWhisper(model, half_context=name in HALF_CONTEXT_MODELS)


def import_engine(engine: str = "openai-whisper") -> None:
    """Import what :func:`load_model` imports for ``engine`` (torch and openai-whisper, or
    CTranslate2 and faster-whisper) without loading a model. The import is most of a load
    (torch: 0.8 s of a 5-minute call's 2 s), so the pipeline runs it on a thread while the
    audio decodes, before it knows whether the recording is worth a model. Python's import
    lock lets :func:`load_model` wait for it; an unknown engine imports nothing here (the
    load reports it)."""
    import importlib

    modules = {
        "openai-whisper": (
            "torch",
            "whisper",
            "callscan.asr.whisper_engine",
            "callscan.asr.batched",
        ),
        "faster-whisper": ("ctranslate2", "faster_whisper", "callscan.asr.faster_engine"),
    }
    from callscan.asr.lazy_numba import import_whisper

    for name in modules.get(engine, ()):
        if name == "whisper":
            import_whisper()  # numba deferred to its first use (callscan.asr.lazy_numba)
        else:
            importlib.import_module(name)


def transcribe(
    model: Engine,
    audio: Audio,
    options: TranscribeOptions | None = None,
    *,
    regions: Sequence[Sequence[tuple[float, float]]] | None = None,
    hook: Callable[[str, int, int], None] | None = None,
    language: tuple[str, float, dict[str, float]] | None = None,
) -> Transcript:
    """Transcribe every channel of ``audio`` (a :class:`callscan.audio.decode.Audio`).

    ``model`` is an engine from :func:`load_model`. ``regions`` (optional): per channel, the
    speech regions ``[(start_s, end_s), ...]`` to decode; silence between them is never
    decoded. Returns a :class:`callscan.transcript.Transcript`. ``hook(step, completed,
    total)`` is called as channels finish. ``language``: the call's language from
    :func:`call_language` when already known (detected here otherwise).
    """
    from callscan.asr.regions import transcribe_audio

    return transcribe_audio(
        model, audio, options or TranscribeOptions(), regions=regions, hook=hook, language=language
    )


def call_language(
    model: Engine, audio: Audio, options: TranscribeOptions | None = None
) -> tuple[str, float, dict[str, float]]:
    """The call's language, its share among the allowed languages and every allowed
    language's share: ``options.language`` when set (share 1.0), else detected on each
    channel's first 30 s of non-silent audio (:func:`callscan.asr.language.detect_language`).
    Pass the result to :func:`transcribe` as ``language``."""
    from callscan.asr.regions import call_language as detect

    return detect(model, audio, options or TranscribeOptions())
