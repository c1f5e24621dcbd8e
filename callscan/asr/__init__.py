"""Speech recognition: options, model loading and the transcription entry point.

Typical use (models are loaded once and passed in, as in openai-whisper)::

    from callscan import asr
    from callscan.audio import decode as audio
    model = asr.load_model("base")
    result = asr.transcribe(model, audio.load("call.wav"), asr.TranscribeOptions(language="id"))
"""

from __future__ import annotations

from dataclasses import dataclass

from callscan.asr.weights import WHISPER_MODELS, load_whisper

__all__ = ["TranscribeOptions", "load_model", "transcribe", "WHISPER_MODELS"]


@dataclass(frozen=True)
class TranscribeOptions:
    """How to transcribe a call."""

    model: str = "base"  # Whisper model name (see WHISPER_MODELS) or a checkpoint path's label
    language: str = "auto"  # "auto" (detect among `languages`) or a Whisper code such as "id"
    languages: tuple[str, ...] = ("id", "en")  # what auto-detection may choose from
    beam_size: int | None = None  # None = greedy decoding (5x faster on CPU than beam 5)
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # fallback on failed decodes
    condition_on_previous_text: bool = False  # True risks repetition loops on phone audio
    initial_prompt: str | None = None  # vocabulary hint, e.g. product names
    hallucination_silence_threshold_s: float | None = 2.0  # skip silences Whisper invents text in
    threads: int = 0  # torch intra-op threads; 0 = one per two logical CPUs
    batch_size: int = 8  # packed speech windows decoded together (with speech regions)
    engine: str = "openai-whisper"  # or "faster-whisper" (optional extra callscan[fast])


ENGINES = ("openai-whisper", "faster-whisper")


def load_model(
    name: str = "base",
    *,
    model_path: str | None = None,
    device: str = "cpu",
    engine: str = "openai-whisper",
    quantize: bool = False,
    threads: int = 0,
):
    """Load a Whisper model once (offline cache first; see :mod:`callscan.asr.weights`).

    ``engine="faster-whisper"`` loads the CTranslate2 copy (int8 on CPU, ``threads`` CPU
    threads). ``quantize=True`` applies dynamic int8 quantisation to openai-whisper's linear
    layers (CPU only).
    """
    from callscan.errors import CallscanError

    if engine == "faster-whisper":
        from callscan.asr import faster_engine
        from callscan.asr.whisper_engine import default_threads

        return faster_engine.load(name, model_path=model_path, threads=threads or default_threads())
    if engine != "openai-whisper":
        raise CallscanError(f"unknown engine '{engine}' (choose from: {', '.join(ENGINES)})")
    model = load_whisper(name, model_path=model_path, device=device)
    if quantize:
        from callscan.asr.quantize import quantize_int8

        model = quantize_int8(model)
    return model


def transcribe(model, audio, options: TranscribeOptions | None = None, *, regions=None, hook=None):
    """Transcribe every channel of ``audio`` (a :class:`callscan.audio.decode.Audio`).

    ``regions`` (optional): per channel, the speech regions ``[(start_s, end_s), ...]`` to
    decode; silence between them is never decoded. Returns a
    :class:`callscan.transcript.Transcript`. ``hook(step, completed, total)`` is called as
    channels finish.
    """
    from callscan.asr.whisper_engine import transcribe_audio

    return transcribe_audio(
        model, audio, options or TranscribeOptions(), regions=regions, hook=hook
    )
