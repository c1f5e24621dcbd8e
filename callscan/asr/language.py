"""Spoken-language detection restricted to the languages a call centre expects.

Whisper alone chooses among 99 languages and misfires on short or synthetic clips (it picks
Thai for espeak-ng Indonesian). callscan asks Whisper for its language distribution on up to
30 s (15 s with the base model's half encoder input) of *speech* (leading silence and ringing
removed) from every channel, keeps only the allowed languages, renormalises, and averages the
channels. When Whisper is unsure (the top
allowed language below ``CHECK_BELOW``), a decode check settles it (:func:`decode_check`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from callscan.asr.engine import MIN_SPEECH_S
from callscan.errors import CallscanError

if TYPE_CHECKING:
    from callscan.asr.engine import Engine

DETECT_WINDOW_S = 30.0  # Whisper's window: detection sees at most this much speech (less
# where the engine reads less: ``Engine.detect_window_s``)
CHECK_WINDOW_S = 15.0  # speech decoded once per candidate language by the decode check
CHECK_BELOW = 0.98  # the decode check runs only when Whisper's own share is below this
CHECK_TOKENS = 32  # tokens decoded per candidate: enough to tell fluent from forced text
CHECK_TEMPERATURE = 0.1  # softmax temperature turning mean token log-probs into shares
SPEECH_TOP_DB = 35.0  # dB below the peak under which frames count as silence for detection


def parse_languages(
    spec: str | list[str] | tuple[str, ...], *, option: str = "languages"
) -> tuple[str, ...]:
    """Validate a comma list of Whisper language codes such as ``"id,en"``.

    ``option`` names the parameter ``spec`` came from, for the error raised when it holds
    no code (:attr:`callscan.errors.CallscanError.option`).
    """
    from callscan.asr.language_codes import LANGUAGES, TO_LANGUAGE_CODE

    items = spec.split(",") if isinstance(spec, str) else list(spec)
    codes = []
    for raw in items:
        item = raw.strip().lower()
        if not item:
            continue
        code = item if item in LANGUAGES else TO_LANGUAGE_CODE.get(item)
        if code is None:
            raise CallscanError(
                f"unknown language '{raw.strip()}' (use Whisper codes such as id, en, ms, jv)"
            )
        codes.append(code)
    if not codes:
        raise CallscanError("no language given (use Whisper codes such as id, en)", option=option)
    return tuple(dict.fromkeys(codes))


Spans = Sequence[tuple[float, float]]  # (start_s, end_s) speech regions of one channel

SPLIT_FRAME = 1024  # samples per frame of the energy split (as librosa.effects.split)
SPLIT_HOP = 256  # samples between frames
SPLIT_BLOCK = 1 << 19  # samples of signal read at a time by the energy split (~33 s at 16 kHz)


def speech_excerpt(
    y: np.ndarray,
    sr: int,
    *,
    max_s: float = DETECT_WINDOW_S,
    regions: Spans | None = None,
) -> np.ndarray:
    """The speech of ``y`` (1-D), concatenated, at most ``max_s`` seconds: a new array of
    that size, never a copy of the whole signal.

    With ``regions`` (the channel's speech regions, ``(start_s, end_s)``, those the
    transcription decodes), the excerpt is cut from them in order. Without, the non-silent
    parts (frames within :data:`SPEECH_TOP_DB` of the loudest, as
    ``librosa.effects.split``) are found block by block (:func:`nonsilent_intervals`), so
    memory stays a few blocks for any length of call.
    """
    limit = int(max_s * sr)
    if regions is not None:
        n = y.size
        intervals = [(max(0, int(a * sr)), min(n, int(round(b * sr)))) for a, b in regions]
    else:
        intervals = nonsilent_intervals(y, top_db=SPEECH_TOP_DB)
    parts, total = [], 0
    for start, end in intervals:
        take = min(end - start, limit - total)
        if take <= 0:
            continue
        parts.append(y[start : start + take])
        total += take
        if total >= limit:
            break
    if not parts:
        return y[:limit].copy() if regions is None else y[:0].copy()
    return np.concatenate(parts).astype(np.float32, copy=False)


def _hop_energy(y: np.ndarray) -> np.ndarray:
    """Sum of squares of each ``SPLIT_HOP`` samples of ``y`` (the last hop zero-padded), read
    ``SPLIT_BLOCK`` samples at a time, in float64."""
    n_hops = -(-y.size // SPLIT_HOP)
    energy = np.empty(n_hops, np.float64)
    for at in range(0, y.size, SPLIT_BLOCK):  # SPLIT_BLOCK is a multiple of SPLIT_HOP
        block = y[at : at + SPLIT_BLOCK].astype(np.float64)
        if block.size % SPLIT_HOP:
            block = np.concatenate([block, np.zeros(SPLIT_HOP - block.size % SPLIT_HOP)])
        hop = at // SPLIT_HOP
        energy[hop : hop + block.size // SPLIT_HOP] = (block * block).reshape(-1, SPLIT_HOP).sum(1)
    return energy


def nonsilent_intervals(y: np.ndarray, *, top_db: float = SPEECH_TOP_DB) -> list[tuple[int, int]]:
    """``(start, end)`` sample intervals of ``y`` (1-D) whose frames are within ``top_db`` of
    the loudest frame: what ``librosa.effects.split(y, top_db=top_db, frame_length=1024,
    hop_length=256)`` returns, computed ``SPLIT_BLOCK`` samples at a time (one float per
    hop is kept, 1/256 of the signal)."""
    if y.size == 0:
        return []
    n_frames = 1 + y.size // SPLIT_HOP
    # frame i, centred on sample i * SPLIT_HOP and SPLIT_FRAME long, zero-padded at the edges
    # (librosa's rms with center=True), covers whole hops i - 2 .. i + 1: its mean square is
    # theirs summed (hops past either end are zeros)
    per_frame = SPLIT_FRAME // SPLIT_HOP
    half = per_frame // 2
    energy = np.zeros(n_frames + per_frame, np.float64)
    hops = _hop_energy(y)
    energy[half : half + hops.size] = hops
    power = np.add.reduce([energy[k : k + n_frames] for k in range(per_frame)]) / SPLIT_FRAME
    amin = 1e-10
    ref = max(float(power.max()), amin)
    loud = 10.0 * np.log10(np.maximum(power, amin)) - 10.0 * np.log10(ref) > -top_db
    edges = np.flatnonzero(np.diff(loud.astype(np.int8))) + 1
    bounds = ([0] if loud[0] else []) + edges.tolist() + ([n_frames] if loud[-1] else [])
    samples = np.minimum(np.asarray(bounds, dtype=np.int64) * SPLIT_HOP, y.size)
    return [(int(a), int(b)) for a, b in samples.reshape(-1, 2)]


def detect_language(
    engine: Engine,
    channels: list[np.ndarray],
    languages: tuple[str, ...],
    *,
    sr: int,
    regions: Sequence[Spans] | None = None,
) -> tuple[str, float, dict[str, float]]:
    """Most likely allowed language of the speech on ``channels``.

    Parameters
    ----------
    engine : callscan.asr.engine.Engine
        A loaded model (:func:`callscan.asr.load_model`); English-only models give "en".
    channels : list of np.ndarray
        1-D float32 signals at ``sr`` (16 kHz), one per recording channel.
    languages : tuple of str
        Allowed Whisper language codes.
    regions : list of list of (start_s, end_s), optional
        Each channel's speech regions (:func:`callscan.audio.vad.speech_regions`): the
        excerpts are cut from them. Without, from the non-silent parts of each channel
        (:func:`speech_excerpt`). Either way each excerpt is at most
        ``engine.detect_window_s`` (15 or 30 s) of speech.

    Returns
    -------
    language : str
    probability : float
        Its share among the allowed languages.
    probs : dict[str, float]
        Every allowed language's share, averaged over the channels with speech.
    """
    if len(languages) == 1 or not engine.is_multilingual:
        lang = languages[0] if engine.is_multilingual else "en"
        return lang, 1.0, {lang: 1.0}
    readings = []
    window_s = float(engine.detect_window_s)
    for i, y in enumerate(channels):
        excerpt = speech_excerpt(
            y, sr, max_s=window_s, regions=None if regions is None else regions[i]
        )
        if excerpt.size < sr * MIN_SPEECH_S:
            continue
        weight = min(excerpt.size / sr, window_s)  # channels with more speech count more
        readings.append((engine.language_probs(excerpt), weight))
    return settle(engine, channels, languages, readings, sr=sr, regions=regions)


def settle(
    engine: Engine,
    channels: list[np.ndarray],
    languages: tuple[str, ...],
    readings: Sequence[tuple[dict[str, float], float]],
    *,
    sr: int,
    regions: Sequence[Spans] | None = None,
) -> tuple[str, float, dict[str, float]]:
    """The call's language from Whisper's language distribution on some of its speech.

    ``readings`` holds, per channel with speech, Whisper's distribution over every language
    and the seconds of speech it read (its weight). Only the allowed ``languages`` are kept,
    renormalised, and averaged over the channels by weight; when the likeliest is below
    :data:`CHECK_BELOW`, :func:`decode_check` settles it on ``channels`` (each channel's
    first non-silent speech, or its ``regions``). No reading: the first allowed language,
    share 0. Returns what :func:`detect_language` returns.
    """
    totals = dict.fromkeys(languages, 0.0)
    weights = 0.0
    for reading, weight in readings:
        kept = {code: float(reading.get(code, 0.0)) for code in languages}
        norm = sum(kept.values()) or 1.0
        for code in languages:
            totals[code] += weight * kept[code] / norm
        weights += weight
    if weights == 0:
        return languages[0], 0.0, {}
    probs = {code: v / weights for code, v in totals.items()}
    if max(probs.values()) < CHECK_BELOW:
        probs = decode_check(engine, channels, probs, sr=sr, regions=regions)
    best = max(probs, key=lambda code: probs[code])
    return best, probs[best], probs


def decode_check(
    engine: Engine,
    channels: list[np.ndarray],
    probs: dict[str, float],
    *,
    sr: int,
    regions: Sequence[Spans] | None = None,
) -> dict[str, float]:
    """Decide between the two likeliest languages by decoding speech in each.

    Whisper's language token alone picks English (or Thai) for synthetic and accented
    Indonesian. Decoding the same speech forced to each candidate language and comparing the
    mean token log-probability is far more reliable: the right language reads fluently, the
    wrong one is forced into improbable spellings. Returns each candidate's share, a softmax
    of its mean log-probability (temperature ``CHECK_TEMPERATURE``); other languages keep
    their acoustic share scaled into what is left.

    Every channel's excerpt (up to ``CHECK_WINDOW_S`` of speech) is decoded in one batch,
    ``CHECK_TOKENS`` tokens at most per candidate, repetition loops ended early
    (:mod:`callscan.asr.guards`): on a 5-minute stereo call the check took 12.6 s decoding
    up to 224 tokens per channel and language, one at a time.
    """
    top = sorted(probs, key=lambda code: probs[code], reverse=True)[:2]
    excerpts = [
        speech_excerpt(y, sr, max_s=CHECK_WINDOW_S, regions=None if regions is None else regions[i])
        for i, y in enumerate(channels)
    ]
    excerpts = [e for e in excerpts if e.size >= sr]  # every channel with speech
    total_s = sum(e.size for e in excerpts) / sr
    logprob = dict.fromkeys(top, 0.0)
    if excerpts:
        for code, per_excerpt in engine.check_logprobs(excerpts, top, CHECK_TOKENS).items():
            for e, lp in zip(excerpts, per_excerpt, strict=True):
                logprob[code] += e.size / sr * lp  # weighted by its speech
    if total_s == 0:
        return probs
    logprob = {code: lp / total_s for code, lp in logprob.items()}
    weights = {code: np.exp(lp / CHECK_TEMPERATURE) for code, lp in logprob.items()}
    norm = sum(weights.values())
    mass = sum(probs[c] for c in top)
    out = {code: p for code, p in probs.items() if code not in top}
    out.update({code: mass * w / norm for code, w in weights.items()})
    return out
