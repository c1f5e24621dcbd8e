"""Spoken-language detection restricted to the languages a call centre expects.

Whisper alone chooses among 99 languages and misfires on short or synthetic clips (it picks
Thai for espeak-ng Indonesian). callscan asks Whisper for its language distribution on up to
30 s of *speech* (leading silence and ringing removed) from every channel, keeps only the
allowed languages, renormalises, and averages the channels. When Whisper is unsure (the top
allowed language below ``CHECK_BELOW``), a decode check settles it (:func:`decode_check`).
"""

from __future__ import annotations

import numpy as np

from callscan.errors import CallscanError

DETECT_WINDOW_S = 30.0  # Whisper's window: detection sees at most this much speech
CHECK_WINDOW_S = 15.0  # speech decoded once per candidate language by the decode check
CHECK_BELOW = 0.98  # the decode check runs only when Whisper's own share is below this
CHECK_TOKENS = 32  # tokens decoded per candidate: enough to tell fluent from forced text
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
    if max(probs.values()) < CHECK_BELOW:
        probs = decode_check(model, channels, probs, sr=sr)
    best = max(probs, key=probs.get)
    return best, probs[best], probs


def _whisper_logprobs(model, excerpts, codes, max_tokens: int) -> dict[str, list[float]]:
    """Per language code, openai-whisper's mean token log-probability on each excerpt."""
    import torch
    import whisper

    from callscan.asr.batched import _TrimmedModel

    mels = torch.stack(
        [
            whisper.log_mel_spectrogram(
                torch.from_numpy(np.ascontiguousarray(e)), model.dims.n_mels, padding=480000
            )[:, :3000]
            for e in excerpts
        ]
    ).to(model.device)
    # the whole 30 s input here: with the 15 s encoder input, forced English read as well as
    # Indonesian on a synthetic Indonesian call
    trimmed = _TrimmedModel(model, model.dims.n_audio_ctx)
    out = {}
    with torch.no_grad():
        features = trimmed.encode(mels)
        for code in codes:
            options = whisper.DecodingOptions(
                language=code, without_timestamps=True, fp16=False, sample_len=max_tokens
            )
            results, _ = trimmed.decode(features, options)
            out[code] = [r.avg_logprob for r in results]
    return out


def decode_check(model, channels, probs: dict[str, float], *, sr: int) -> dict[str, float]:
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
    from callscan.asr.faster_engine import FasterWhisper, check_logprobs

    top = sorted(probs, key=probs.get, reverse=True)[:2]
    excerpts = [speech_excerpt(y, sr, max_s=CHECK_WINDOW_S) for y in channels]
    excerpts = [e for e in excerpts if e.size >= sr]  # every channel with speech
    total_s = sum(e.size for e in excerpts) / sr
    logprob = dict.fromkeys(top, 0.0)
    if excerpts:
        scorer = check_logprobs if isinstance(model, FasterWhisper) else _whisper_logprobs
        for code, per_excerpt in scorer(model, excerpts, top, CHECK_TOKENS).items():
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
