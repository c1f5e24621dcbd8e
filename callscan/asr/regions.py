"""Engine-neutral transcription of a call: language, speech regions in windows, segments.

Each recording channel is transcribed on its own (one party per channel in most call
recorders), with word timestamps, then the segments of all channels are merged in time order.
With speech regions (:func:`callscan.audio.vad.speech_regions`), the regions of every channel
are packed into Whisper windows (:mod:`callscan.asr.chunking`), all windows are decoded
together by the engine, and every time is mapped back to the file. The engine
(:class:`callscan.asr.engine.Engine`) only decodes.

The public entry point is :func:`callscan.asr.transcribe`; this module is its implementation
(named for what it works on, so that it does not shadow the function of the package).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from callscan.asr.engine import FromWindows
from callscan.asr.language import detect_language, parse_languages, settle
from callscan.errors import CallscanError
from callscan.transcript import Segment, Transcript, Word

if TYPE_CHECKING:
    from callscan.asr.chunking import Window
    from callscan.asr.engine import Engine, SegmentDict
    from callscan.asr.options import TranscribeOptions
    from callscan.audio.decode import Audio

__all__ = ["default_threads", "segments_from_dicts", "transcribe_audio", "transcribe_regions"]

Regions = Sequence[Sequence[tuple[float, float]]]  # per channel, (start_s, end_s) speech spans


def default_threads() -> int:
    """One torch thread per two logical CPUs, at least one.

    On a busy 2-core machine, two torch threads made whisper's decoder about 25x slower
    than one (threads spin waiting for a core the other process holds).
    """
    return max(1, (os.cpu_count() or 2) // 2)


Detected = tuple[str, float, dict[str, float]]  # language, its share, every allowed share


@contextmanager
def _torch_threads(engine: Engine, options: TranscribeOptions) -> Iterator[None]:
    """torch's intra-op threads set to what ``options`` ask for, restored afterwards, for an
    engine that runs on torch (``engine.runs_on_torch``). The faster-whisper engine sets
    CTranslate2's threads when it loads and never imports torch (0.8 s of a call's time, and
    a second thread pool)."""
    if not engine.runs_on_torch:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(options.threads or default_threads())
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def call_language(engine: Engine, audio: Audio, options: TranscribeOptions) -> Detected:
    """The call's language: ``options.language`` when set, else detected among
    ``options.languages`` on each channel's first 30 s of non-silent audio, with the
    threads ``options`` ask for (:func:`callscan.asr.language.detect_language`)."""
    with _torch_threads(engine, options):
        return _resolve_language(engine, audio, options)


def _resolve_language(engine: Engine, audio: Audio, options: TranscribeOptions) -> Detected:
    if options.language and options.language != "auto":
        (code,) = parse_languages(options.language, option="language")
        if not engine.is_multilingual and code != "en":
            raise CallscanError(
                f"model '{options.model}' is English-only; it cannot decode '{code}'"
            )
        return code, 1.0, {}
    allowed = parse_languages(options.languages)
    channels = [audio.channel(i) for i in range(audio.n_channels)]
    # The excerpt is each channel's first 30 s of non-silent audio (cut block by block, never a
    # copy of the call). Not cut from the VAD regions: their speech joined without its pauses
    # read as English to Whisper on the Indonesian sample id_complaint_mono (0.86 en, where
    # the non-silent excerpt gives 0.99 id).
    return detect_language(engine, channels, allowed, sr=audio.sr)


def _reads_language(engine: Engine, options: TranscribeOptions) -> bool:
    """Whether the call's language is to be detected (no ``options.language``, several
    allowed, a multilingual model) by an engine that reads it from the windows it encodes."""
    if not getattr(engine, "reads_language_in_windows", False) or not engine.is_multilingual:
        return False
    if options.language and options.language != "auto":
        return False
    return len(parse_languages(options.languages)) > 1


def _language_reader(engine: Engine, audio: Audio, options: TranscribeOptions) -> FromWindows:
    """The call's language read from each channel's first window as the transcription
    encodes it (:class:`~callscan.asr.engine.FromWindows`), settled as
    :func:`_resolve_language` settles it: the allowed languages, the decode check on each
    channel's first non-silent speech when unsure. Measured on the 35 real and sample
    recordings of ``bench/bench_language.py``: the same language on every one."""
    allowed = parse_languages(options.languages)
    everything = [audio.channel(i) for i in range(audio.n_channels)]

    def decide(readings: list[tuple[dict[str, float], float]]) -> Detected:
        return settle(engine, everything, allowed, readings, sr=audio.sr)

    return FromWindows(windows=[], speech_s=[], settle=decide)


def segments_from_dicts(dicts: Sequence[SegmentDict], channel: int) -> list[Segment]:
    """Segments of one channel from an engine's whisper-style segment dicts.

    Segments without text are dropped, and so are empty words; a segment spans its words
    when it has any.
    """
    out = []
    for seg in dicts:
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


def _shift(segments: list[Segment], window: Window) -> list[Segment]:
    """Map the times of segments decoded from a packed window back to the channel."""
    for seg in segments:
        for w in seg.words:
            w.start_s, w.end_s = window.span_to_source(w.start_s, w.end_s)
        seg.start_s = seg.words[0].start_s if seg.words else window.to_source(seg.start_s)
        seg.end_s = seg.words[-1].end_s if seg.words else window.to_source(seg.end_s)
    return segments


VOCABULARY_KEEP = (0.85, 1.15)  # a vocabulary decode is kept if its word count is within these
# shares of the plain decode's: a prompt can make Whisper skip a sentence or invent one


def _words(result: list) -> int:
    return sum(len(str(seg.get("text", "")).split()) for seg in result)


def _decode(
    engine: Engine,
    audios: list[np.ndarray],
    windows: list,
    language: str | FromWindows,
    options: TranscribeOptions,
) -> list:
    """Decode the windows. With a vocabulary, the opening windows (see
    ``TranscribeOptions.vocabulary_window_s``) are decoded with and without it, and the
    vocabulary's decode is kept unless it lost or added many words; the rest are decoded
    without it."""
    if not options.vocabulary:
        return engine.decode_windows(audios, language, options, batch_size=options.batch_size)
    plain_options = replace(options, vocabulary=())
    plain = engine.decode_windows(audios, language, plain_options, batch_size=options.batch_size)
    if isinstance(language, FromWindows):  # read from the windows just decoded
        if language.detected is None:
            return plain
        language = language.detected[0]
    limit = options.vocabulary_window_s
    opening = [
        i
        for i, w in enumerate(windows)
        if w.pieces and (limit is None or w.pieces[0].src_start_s < limit)
    ]
    if not opening:
        return plain
    primed = engine.decode_windows(
        [audios[i] for i in opening], language, options, batch_size=options.batch_size
    )
    lo, hi = VOCABULARY_KEEP
    out = list(plain)
    for i, result in zip(opening, primed, strict=True):
        n_plain, n_primed = _words(plain[i]), _words(result)
        if n_plain == 0 or lo * n_plain <= n_primed <= hi * n_plain:
            out[i] = result
    return out


def transcribe_regions(
    engine: Engine,
    channels: Sequence[tuple[int, np.ndarray]],
    regions: Regions,
    language: str | FromWindows,
    options: TranscribeOptions,
) -> list[Segment]:
    """Transcribe only the speech ``regions`` of each channel.

    ``channels`` holds ``(channel index, 16 kHz signal)`` pairs; ``regions[index]`` that
    channel's speech regions. The regions of every channel are packed into Whisper windows,
    and all windows of all channels are decoded together by the engine in batches of
    ``options.batch_size``. ``language``: a Whisper code, or (for an engine that
    ``reads_language_in_windows``) a :class:`~callscan.asr.engine.FromWindows` whose
    windows are set here to each channel's first; the engine sets its ``detected``.
    """
    from callscan.asr.chunking import pack, render

    jobs = [(ch, w) for ch, _ in channels for w in pack(regions[ch])]
    if isinstance(language, FromWindows):
        first: dict[int, int] = {}
        for i, (ch, _) in enumerate(jobs):
            first.setdefault(ch, i)
        language.windows = list(first.values())
        language.speech_s = [
            sum(p.src_end_s - p.src_start_s for p in jobs[i][1].pieces) for i in language.windows
        ]
    ys = dict(channels)
    audios = [render(w, ys[ch], 16000) for ch, w in jobs]
    decoded = _decode(engine, audios, [w for _, w in jobs], language, options)
    segments: list[Segment] = []
    for (ch, window), result in zip(jobs, decoded, strict=True):
        segments += _shift(segments_from_dicts(result, ch), window)
    return segments


def transcribe_audio(
    engine: Engine,
    audio: Audio,
    options: TranscribeOptions,
    *,
    regions: Regions | None = None,
    hook: Callable[[str, int, int], None] | None = None,
    language: Detected | None = None,
) -> Transcript:
    """Transcribe every channel of ``audio`` separately and merge the segments in time order.

    ``language``: the call's language as :func:`call_language` gave it (run earlier, for
    instance while speech detection ran); detected here when not given.

    ``regions``, when given, holds each channel's speech regions ``[(start_s, end_s), ...]``
    (from :func:`callscan.audio.vad.speech_regions`); only those are decoded. Without them,
    an engine with its own long-form transcription (``engine.long_form``) decodes each whole
    channel, and any other engine decodes each whole channel as one region.
    """
    if audio.sr != 16000:
        raise CallscanError(f"Whisper needs 16 kHz audio, got {audio.sr} Hz")
    with _torch_threads(engine, options):
        reader = None
        if language is None and regions is not None and _reads_language(engine, options):
            reader = _language_reader(engine, audio, options)  # read as the windows encode
        elif language is None:
            language = _resolve_language(engine, audio, options)
        # A mono call saved as stereo carries both parties on both channels: decode it once.
        same = getattr(audio, "identical_channels", False)
        channels = [0] if same else list(range(audio.n_channels))
        segments: list[Segment] = []
        if reader is not None:
            pairs = [(ch, audio.channel(ch)) for ch in channels]
            segments = transcribe_regions(engine, pairs, regions or [], reader, options)
            # no window to read it from (no speech): checked on the audio as before
            language = reader.detected or _resolve_language(engine, audio, options)
        elif regions is None and engine.long_form:
            assert language is not None
            for done, ch in enumerate(channels):
                y = audio.channel(ch)
                if y.size and np.any(y):  # a silent channel has nothing to decode
                    decoded = engine.transcribe_channel(y, language[0], options)
                    segments += segments_from_dicts(decoded, ch)
                if hook:
                    hook("transcribe", done + 1, len(channels))
        else:
            assert language is not None
            if regions is None:  # the whole of each channel, in windows
                regions = [[(0.0, audio.duration_s)]] * audio.n_channels
            pairs = [(ch, audio.channel(ch)) for ch in channels]
            segments = transcribe_regions(engine, pairs, regions, language[0], options)
    code, probability, probs = language
    segments.sort(key=lambda s: (s.start_s, s.channel))
    for i, s in enumerate(segments):
        s.id = i
    return Transcript(
        segments=segments,
        language=code,
        language_probability=probability,
        language_probs=probs,
        model=options.model,
        engine=engine.name,
        audio=audio.info.to_dict(),
        n_channels=len(channels),
        duration_s=audio.duration_s,
    )
