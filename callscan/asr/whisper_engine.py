"""The default engine: openai-whisper, fed callscan's own decoded 16 kHz arrays.

Each recording channel is transcribed on its own (one party per channel in most call
recorders), with word timestamps, then the segments of all channels are merged in time order.
openai-whisper's ``load_audio`` (which shells out to ffmpeg) is never used.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from callscan.asr.language import detect_language, parse_languages
from callscan.errors import CallscanError
from callscan.transcript import Segment, Transcript, Word

logger = logging.getLogger("callscan")


def default_threads() -> int:
    """One torch thread per two logical CPUs, at least one.

    On a busy 2-core machine, two torch threads made whisper's decoder about 25x slower
    than one (threads spin waiting for a core the other process holds).
    """
    return max(1, (os.cpu_count() or 2) // 2)


def _resolve_language(model, audio, options) -> tuple[str, float, dict[str, float]]:
    if options.language and options.language != "auto":
        (code,) = parse_languages(options.language)
        if not model.is_multilingual and code != "en":
            raise CallscanError(
                f"model '{options.model}' is English-only; it cannot decode '{code}'"
            )
        return code, 1.0, {}
    allowed = parse_languages(options.languages)
    channels = [audio.channel(i) for i in range(audio.n_channels)]
    return detect_language(model, channels, allowed, sr=audio.sr)


def _segments_from_result(result: dict, channel: int) -> list[Segment]:
    out = []
    for seg in result["segments"]:
        words = [
            Word(
                text=w["word"].strip(),
                start_s=float(w["start"]),
                end_s=float(w["end"]),
                probability=float(w["probability"]),
            )
            for w in seg.get("words", [])
            if w["word"].strip()
        ]
        text = seg["text"].strip()
        if not text:
            continue
        start = words[0].start_s if words else float(seg["start"])
        end = words[-1].end_s if words else float(seg["end"])
        out.append(
            Segment(
                id=0,
                channel=channel,
                start_s=start,
                end_s=end,
                text=text,
                words=words,
                avg_logprob=float(seg["avg_logprob"]),
                no_speech_prob=float(seg["no_speech_prob"]),
                compression_ratio=float(seg["compression_ratio"]),
                temperature=float(seg["temperature"]),
            )
        )
    return out


def transcribe_channel(model, y: np.ndarray, language: str, options, *, channel: int = 0):
    """Transcribe one 16 kHz channel with openai-whisper; return its segments."""
    import torch
    import whisper

    if y.size == 0 or not np.any(y):
        return []
    decode = dict(language=language, fp16=False, beam_size=options.beam_size)
    if options.beam_size is None:
        decode.pop("beam_size")
    with torch.no_grad():
        result = whisper.transcribe(
            model,
            torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)),
            verbose=None,
            temperature=options.temperatures,
            condition_on_previous_text=options.condition_on_previous_text,
            initial_prompt=options.initial_prompt,
            word_timestamps=True,
            hallucination_silence_threshold=options.hallucination_silence_threshold_s,
            **decode,
        )
    return _segments_from_result(result, channel)


def _shift(segments: list[Segment], window) -> list[Segment]:
    """Map the times of segments decoded from a packed window back to the channel."""
    for seg in segments:
        for w in seg.words:
            w.start_s, w.end_s = window.span_to_source(w.start_s, w.end_s)
        seg.start_s = seg.words[0].start_s if seg.words else window.to_source(seg.start_s)
        seg.end_s = seg.words[-1].end_s if seg.words else window.to_source(seg.end_s)
    return segments


def transcribe_regions(model, channels, regions, language: str, options) -> list[Segment]:
    """Transcribe only the speech ``regions`` of each channel.

    The regions of every channel are packed into Whisper windows, and all windows of all
    channels are decoded together in batches of ``options.batch_size``, by openai-whisper
    (:mod:`callscan.asr.batched`) or faster-whisper (:mod:`callscan.asr.faster_engine`).
    """
    from callscan.asr import batched, faster_engine
    from callscan.asr.chunking import pack, render

    fast = isinstance(model, faster_engine.FasterWhisper)
    decode_windows = faster_engine.decode_windows if fast else batched.decode_windows

    jobs = [(ch, w) for ch, y in channels for w in pack(regions[ch])]
    ys = dict(channels)
    audios = [render(w, ys[ch], 16000) for ch, w in jobs]
    decoded = decode_windows(model, audios, language, options, batch_size=options.batch_size)
    segments: list[Segment] = []
    for (ch, window), result in zip(jobs, decoded, strict=True):
        segments += _shift(_segments_from_result({"segments": result}, ch), window)
    return segments


def transcribe_audio(model, audio, options, *, regions=None, hook=None) -> Transcript:
    """Transcribe every channel of ``audio`` separately and merge the segments in time order.

    ``regions``, when given, holds each channel's speech regions ``[(start_s, end_s), ...]``
    (from :func:`callscan.audio.vad.speech_regions`); only those are decoded.
    """
    import torch

    from callscan.asr.faster_engine import FasterWhisper

    if audio.sr != 16000:
        raise CallscanError(f"Whisper needs 16 kHz audio, got {audio.sr} Hz")
    engine = "openai-whisper"
    previous = torch.get_num_threads()
    torch.set_num_threads(options.threads or default_threads())
    try:
        language, probability, probs = _resolve_language(model, audio, options)
        # A mono call saved as stereo carries both parties on both channels: decode it once.
        same = getattr(audio, "identical_channels", False)
        channels = [0] if same else list(range(audio.n_channels))
        segments: list[Segment] = []
        pairs = [(ch, audio.channel(ch)) for ch in channels]
        if isinstance(model, FasterWhisper):
            if regions is None:  # the whole of each channel, in windows
                regions = [[(0.0, audio.duration_s)]] * audio.n_channels
            segments = transcribe_regions(model, pairs, regions, language, options)
            engine = "faster-whisper"
        elif regions is not None:
            segments = transcribe_regions(model, pairs, regions, language, options)
        else:
            for done, ch in enumerate(channels):
                segments += transcribe_channel(
                    model, audio.channel(ch), language, options, channel=ch
                )
                if hook:
                    hook("transcribe", done + 1, len(channels))
    finally:
        torch.set_num_threads(previous)
    segments.sort(key=lambda s: (s.start_s, s.channel))
    for i, s in enumerate(segments):
        s.id = i
    return Transcript(
        segments=segments,
        language=language,
        language_probability=probability,
        language_probs=probs,
        model=options.model,
        engine=engine,
        audio=audio.info.to_dict(),
        n_channels=len(channels),
        duration_s=audio.duration_s,
    )
