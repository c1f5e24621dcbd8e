"""Spoken-language detection restricted to the languages a call centre expects.

Whisper alone chooses among 99 languages and misfires on short or synthetic clips (it picks
Thai for espeak-ng Indonesian). callscan asks Whisper for its language distribution on up to
30 s of *speech* (leading silence and ringing removed) from every channel, keeps only the
allowed languages, renormalises, and averages the channels. When Whisper is unsure (the top
allowed language below ``CHECK_BELOW``), a decode check settles it (:func:`decode_check`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from callscan.errors import CallscanError

if TYPE_CHECKING:
    from callscan.asr.engine import Engine

DETECT_WINDOW_S = 30.0  # Whisper's window: detection sees at most this much speech
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
    from whisper.tokenizer import LANGUAGES, TO_LANGUAGE_CODE

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


def speech_excerpt(y: np.ndarray, sr: int, *, max_s: float = DETECT_WINDOW_S) -> np.ndarray:
    """Concatenate the non-silent parts of ``y`` (1-D) up to ``max_s`` seconds."""
    import librosa

    if y.size == 0 or not np.any(y):
        return y[: int(max_s * sr)]
    intervals = librosa.effects.split(y, top_db=SPEECH_TOP_DB, frame_length=1024, hop_length=256)
    parts, total, limit = [], 0, int(max_s * sr)
    for start, end in intervals:
        take = min(end - start, limit - total)
        parts.append(y[start : start + take])
        total += take
        if total >= limit:
            break
    return np.concatenate(parts) if parts else y[:limit]


def detect_language(
    engine: Engine, channels: list[np.ndarray], languages: tuple[str, ...], *, sr: int
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
    totals = dict.fromkeys(languages, 0.0)
    weights = 0.0
    for y in channels:
        excerpt = speech_excerpt(y, sr)
        if excerpt.size < sr // 2:  # under half a second of speech says nothing
            continue
        probs = engine.language_probs(excerpt)
        kept = {code: float(probs.get(code, 0.0)) for code in languages}
        norm = sum(kept.values()) or 1.0
        weight = min(excerpt.size / sr, DETECT_WINDOW_S)  # channels with more speech count more
        for code in languages:
            totals[code] += weight * kept[code] / norm
        weights += weight
    if weights == 0:
        return languages[0], 0.0, {}
    probs = {code: v / weights for code, v in totals.items()}
    if max(probs.values()) < CHECK_BELOW:
        probs = decode_check(engine, channels, probs, sr=sr)
    best = max(probs, key=lambda code: probs[code])
    return best, probs[best], probs


def decode_check(
    engine: Engine, channels: list[np.ndarray], probs: dict[str, float], *, sr: int
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
    excerpts = [speech_excerpt(y, sr, max_s=CHECK_WINDOW_S) for y in channels]
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
