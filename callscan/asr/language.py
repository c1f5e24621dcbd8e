"""Spoken-language detection restricted to the languages a call centre expects.

Whisper alone chooses among 99 languages and misfires on short or synthetic clips (it picks
Thai for espeak-ng Indonesian). callscan asks Whisper for its language distribution on up to
30 s of *speech* (leading silence and ringing removed) from every channel, keeps only the
allowed languages, renormalises, and averages the channels.
"""

from __future__ import annotations

import numpy as np

from callscan.errors import CallscanError

DETECT_WINDOW_S = 30.0  # Whisper's window: detection sees at most this much speech
CHECK_WINDOW_S = 15.0  # speech decoded once per candidate language by the decode check
CHECK_TEMPERATURE = 0.1  # softmax temperature turning mean token log-probs into shares
SPEECH_TOP_DB = 35.0  # dB below the peak under which frames count as silence for detection


def parse_languages(spec: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate a comma list of Whisper language codes such as ``"id,en"``."""
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
        raise CallscanError("no language given (e.g. --languages id,en)")
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


def whisper_language_probs(model, excerpt: np.ndarray) -> dict[str, float]:
    """openai-whisper's language distribution for a speech excerpt (code -> probability)."""
    import torch
    import whisper

    mel = whisper.log_mel_spectrogram(
        whisper.pad_or_trim(torch.from_numpy(np.ascontiguousarray(excerpt))), model.dims.n_mels
    ).to(model.device)
    with torch.no_grad():
        _, probs = model.detect_language(mel)
    return probs


def detect_language(model, channels: list[np.ndarray], languages: tuple[str, ...], *, sr: int):
    """Most likely allowed language of the speech on ``channels``.

    Parameters
    ----------
    model : whisper.model.Whisper or callscan.asr.faster_engine.FasterWhisper
        A multilingual model.
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
    from callscan.asr.faster_engine import FasterWhisper, language_probs

    if isinstance(model, FasterWhisper):
        probs_of = lambda excerpt: language_probs(model, excerpt)  # noqa: E731
    else:
        probs_of = lambda excerpt: whisper_language_probs(model, excerpt)  # noqa: E731
    if len(languages) == 1 or not model.is_multilingual:
        lang = languages[0] if model.is_multilingual else "en"
        return lang, 1.0, {lang: 1.0}
    totals = dict.fromkeys(languages, 0.0)
    weights = 0.0
    for y in channels:
        excerpt = speech_excerpt(y, sr)
        if excerpt.size < sr // 2:  # under half a second of speech says nothing
            continue
        probs = probs_of(excerpt)
        kept = {code: float(probs.get(code, 0.0)) for code in languages}
        norm = sum(kept.values()) or 1.0
        weight = min(excerpt.size / sr, DETECT_WINDOW_S)  # channels with more speech count more
        for code in languages:
            totals[code] += weight * kept[code] / norm
        weights += weight
    if weights == 0:
        return languages[0], 0.0, {}
    probs = {code: v / weights for code, v in totals.items()}
    if not isinstance(model, FasterWhisper):
        probs = decode_check(model, channels, probs, sr=sr)
    best = max(probs, key=probs.get)
    return best, probs[best], probs


def decode_check(model, channels, probs: dict[str, float], *, sr: int) -> dict[str, float]:
    """Decide between the two likeliest languages by decoding speech in each.

    Whisper's language token alone picks English (or Thai) for synthetic and accented
    Indonesian. Decoding the same speech forced to each candidate language and comparing the
    mean token log-probability is far more reliable: the right language reads fluently, the
    wrong one is forced into improbable spellings. Returns each candidate's share, a softmax
    of its mean log-probability (temperature ``CHECK_TEMPERATURE``); other languages keep
    their acoustic share scaled into what is left.
    """
    import torch
    import whisper

    top = sorted(probs, key=probs.get, reverse=True)[:2]
    logprob = dict.fromkeys(top, 0.0)
    total_s = 0.0
    for y in channels:  # every channel with speech, weighted by its speech
        excerpt = speech_excerpt(y, sr, max_s=CHECK_WINDOW_S)
        if excerpt.size < sr:
            continue
        mel = whisper.log_mel_spectrogram(
            torch.from_numpy(np.ascontiguousarray(excerpt)), model.dims.n_mels, padding=480000
        )[:, :3000].to(model.device)
        options = {
            c: whisper.DecodingOptions(language=c, without_timestamps=True, fp16=False) for c in top
        }
        with torch.no_grad():
            features = model.embed_audio(mel[None])
            for code in top:
                logprob[code] += (
                    excerpt.size / sr * model.decode(features, options[code])[0].avg_logprob
                )
        total_s += excerpt.size / sr
    if total_s == 0:
        return probs
    logprob = {code: lp / total_s for code, lp in logprob.items()}
    weights = {code: np.exp(lp / CHECK_TEMPERATURE) for code, lp in logprob.items()}
    norm = sum(weights.values())
    mass = sum(probs[c] for c in top)
    out = {code: p for code, p in probs.items() if code not in top}
    out.update({code: mass * w / norm for code, w in weights.items()})
    return out
