"""Batched decoding of packed speech windows through openai-whisper's own decoder.

Each window (at most 15 s of packed speech, see :mod:`callscan.asr.chunking`) is one item of
a batch: the encoder and the greedy decoder run once for the whole batch (whisper's own
``DecodingTask`` on the encoder features, its cross-attention read per head, see
:mod:`callscan.asr.decoding_task`; with ``base`` the encoder reads 15 s, not 30 s, see
:class:`TrimmedModel`), with the decoder guards of :mod:`callscan.asr.guards`. Windows whose
decode fails Whisper's own checks (compression ratio > 2.4 or mean log-probability < -1) or
was ended as a repetition loop are decoded again alone with Whisper's temperature fallback.
Windows that pass but that greedy decoding is unsure of (:func:`unsure`) are decoded again
together with beam search, and the beam's text kept when the model scores it higher.
Segments and word timestamps are then built per window with openai-whisper's own code
(``add_word_timestamps``), as ``whisper.transcribe`` does for one window.
"""

from __future__ import annotations

import numpy as np

from callscan.asr.decoding_task import task_class
from callscan.asr.guards import (
    COMPRESSION_RATIO_MAX,
    LOGPROB_MIN,
    decode_guard,
    looping,
    silent,
)


def _failed(result, guarded: bool = False) -> bool:
    """Whisper's checks on a decode; ``guarded``: a decoder guard ended it (loop, overrun)."""
    if guarded or result.compression_ratio > COMPRESSION_RATIO_MAX:
        return True
    return result.avg_logprob < LOGPROB_MIN and not silent(
        result.avg_logprob, result.no_speech_prob
    )


def decode_options(language: str, options, temperature: float):
    import whisper

    kwargs = dict(language=language, task="transcribe", fp16=False, temperature=temperature)
    prompt = options.prompt()  # the vocabulary (names and terms), then initial_prompt
    if prompt:
        kwargs["prompt"] = prompt
    if temperature == 0 and options.beam_size:
        kwargs["beam_size"] = options.beam_size
    return whisper.DecodingOptions(**kwargs)


def temperature_fallback(model, features, language: str, options, first, duration_s=None):
    """Decode one window again with rising temperature until it passes (whisper's ladder).

    When no temperature passes, whisper.transcribe keeps the last try (sampled at T=1.0: on
    poor audio, words of other languages and scripts). Here the try with the best mean
    log-probability among those that are not repetition loops (nor ended by a decoder guard)
    is kept, as faster-whisper does.
    Sampling is seeded: the same call gives the same transcript every time.
    """
    import torch

    tries = [first]  # (result, ended by a guard)
    # sampling is seeded, so the same call gives the same report every time (the caller's
    # random state is left as it was)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        for t in options.temperatures:
            if t == 0:
                continue
            results, guarded = model.decode(
                features[None],
                decode_options(language, options, t),
                None if duration_s is None else [duration_s],
            )
            if not _failed(results[0], guarded[0]):
                return results[0]
            tries.append((results[0], guarded[0]))
    no_loop = [r for r, g in tries if not g and r.compression_ratio <= COMPRESSION_RATIO_MAX] or [
        r for r, _ in tries
    ]
    return max(no_loop, key=lambda r: r.avg_logprob)


def _retry(model, features, language: str, options, first, duration_s: float):
    """A failed greedy decode of one window decoded again with the temperature fallback
    (:func:`temperature_fallback`). Beam search first was measured and dropped: with 5 beams
    all 26 real clips of bench/bench_wer_real.py gave the same text (windows that fail greedy
    failed beam search too)."""
    return temperature_fallback(model, features, language, options, first, duration_s)


def unsure(result, options) -> bool:
    """A greedy decode that passed whisper's checks (temperature 0) but whose mean
    log-probability is below ``options.unsure_logprob``: worth a beam search. Never with
    beam search already on, nor for silence."""
    if options.beam_size or options.unsure_logprob is None or result.temperature != 0:
        return False
    if silent(result.avg_logprob, result.no_speech_prob):
        return False
    return result.avg_logprob < options.unsure_logprob


def _beam_where_unsure(model, features, results: list, durations, language: str, options):
    """Decode the batch's :func:`unsure` windows again with beam search, together (width
    ``UNSURE_BEAM_SIZE``); a beam decode replaces the greedy one in ``results`` (in place)
    when it passes whisper's checks and has the higher mean log-probability.

    Measured (README, "Beam search where greedy is unsure"): on the 26 real clips of
    ``bench/bench_wer_real.py``, 5 of 50 windows re-decoded at the -0.5 default, English
    HarperValleyBank 14.3% -> 13.8% WER, English other 10.8% unchanged, the Indonesian clip
    33.3% -> 16.7%; on the five synthetic samples 0.135 -> 0.106 (English complaint), 0.077 ->
    0.081, and Indonesian 0.324 -> 0.281, 0.243, 0.291 -> 0.194.
    """
    import dataclasses

    from callscan.asr.options import UNSURE_BEAM_SIZE

    chosen = [i for i, r in enumerate(results) if unsure(r, options)]
    if not chosen:
        return
    beam = dataclasses.replace(options, beam_size=UNSURE_BEAM_SIZE)
    again, guarded = model.decode(
        features[chosen], decode_options(language, beam, 0.0), [durations[i] for i in chosen]
    )
    for i, result, ended in zip(chosen, again, guarded, strict=True):
        if not _failed(result, ended) and result.avg_logprob > results[i].avg_logprob:
            results[i] = result


def _segments(result, tokenizer, duration_s: float) -> list[dict]:
    """Split one window's tokens into segments at timestamp tokens (as whisper.transcribe)."""
    import torch

    tokens = torch.tensor(result.tokens)
    is_ts = tokens.ge(tokenizer.timestamp_begin)
    precision = 0.02  # seconds per timestamp token

    def seg(start: float, end: float, toks) -> dict:
        toks = toks.tolist()
        text_tokens = [t for t in toks if t < tokenizer.eot]
        return {
            "seek": 0,
            "start": start,
            "end": min(end, duration_s),
            "text": tokenizer.decode(text_tokens),
            "tokens": toks,
            "temperature": result.temperature,
            "avg_logprob": result.avg_logprob,
            "compression_ratio": result.compression_ratio,
            "no_speech_prob": result.no_speech_prob,
        }

    out = []
    cuts = (torch.where(is_ts[:-1] & is_ts[1:])[0] + 1).tolist()
    last = 0
    for cut in cuts:
        piece = tokens[last:cut]
        start = (piece[0].item() - tokenizer.timestamp_begin) * precision
        end = (piece[-1].item() - tokenizer.timestamp_begin) * precision
        out.append(seg(start, end, piece))
        last = cut
    rest = tokens[last:]
    if any(t < tokenizer.eot for t in rest.tolist()):  # text after the last timestamp pair
        ts = rest[rest.ge(tokenizer.timestamp_begin)]
        start = (ts[0].item() - tokenizer.timestamp_begin) * precision if len(ts) else 0.0
        if out:
            start = max(start, out[-1]["end"])
        out.append(seg(start, duration_s, rest))
    return [s for s in out if s["text"].strip()]


class TrimmedModel:
    """The model as whisper's decoding and alignment see it, with a shorter encoder input.

    Whisper's encoder always reads 30 s (3000 mel frames, 1500 positions) and most of a short
    window is padding. The encoder here reads only the frames the batch's longest window needs
    (the positional embedding cut to match, as whisper.cpp's ``audio_ctx``); ``dims`` reports
    that context, so ``whisper.decoding.decode`` takes the features as they are. With
    ``features``, a call ``model(mel, tokens)`` (``find_alignment``) reuses them instead of
    running the encoder again. On the benchmark and sample.wav the WER is unchanged and the
    transcription about 1.5x faster (README).
    """

    def __init__(self, model, n_audio_ctx: int, features=None, cross=None):
        import dataclasses

        self._model = model
        self.dims = dataclasses.replace(model.dims, n_audio_ctx=n_audio_ctx)
        self._features = features  # (1, n_audio_ctx, n_audio_state)
        self._cross = cross  # the cross-attention keys and values of those features
        self.kept_cross: dict | None = None  # a decode keeps its cross-attention here

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __call__(self, mel, tokens):
        return self._model.decoder(tokens, self._features, kv_cache=self._cross)

    def decode(self, features, options, durations_s=None):
        """``whisper.decoding.decode`` on encoder features of this context, with the decoder
        guards of :mod:`callscan.asr.guards` (``durations_s``: per row, the window's length).

        Returns the results and, per result, whether a guard ended it (a repetition loop, or
        text past the window's end): a failed decode.
        """
        task = task_class()(self, options)
        if not options.beam_size:  # one row per window (greedy or one sample)
            stop = decode_guard(task.tokenizer, task.sample_begin, durations_s)
            task.logit_filters.append(stop)
            results = task.run(features)
            return results, [i in stop.failed for i in range(len(results))]
        # beam search, all windows in one batch (rows window by window, a beam each); the
        # guards on each beam's row; a beam ended as a loop is a finished candidate, so the
        # chosen text is checked for a loop afterwards
        rows = None
        if durations_s is not None:
            rows = [d for d in durations_s for _ in range(options.beam_size)]
        task.logit_filters.append(decode_guard(task.tokenizer, task.sample_begin, rows))
        results = task.run(features)
        eot = task.tokenizer.eot
        return results, [looping([t for t in r.tokens if t < eot]) for r in results]

    def encode(self, mels, *, exact: bool = False):
        """The encoder on ``mels`` (batch, n_mels, 2 * n_audio_ctx); float32 features.

        A model quantised to ``"bf16"`` (:mod:`callscan.asr.quantize`) is run under
        ``torch.autocast`` in bfloat16, unless ``exact``: the language check's decode check
        computes in float32, since it compares two languages' mean log-probabilities
        through a sharp softmax (bfloat16 moved a synthetic Indonesian sample's share from
        0.997 to 0.65).

        The windows are encoded one at a time: the same features to the bit, and faster on
        CPU (8 windows of 15 s on 2 threads: 1.16-1.22 -> 0.99-1.00 s with float16-stored
        weights, 0.82-0.85 -> 0.78-0.81 s in bfloat16), as on the faster-whisper engine
        (:func:`callscan.asr.faster_engine.encode_rows`): a batch's attention buffers are
        fresh pages on every call."""
        import torch

        if len(mels) > 1:
            return torch.cat([self.encode(mels[i : i + 1], exact=exact) for i in range(len(mels))])
        dtype = getattr(self._model, "encoder_autocast", None)
        if dtype is None or exact:
            return self._encode(mels)
        with torch.autocast("cpu", dtype=getattr(torch, dtype)):
            return self._encode(mels).float()

    def _encode(self, mels):
        import torch.nn.functional as F

        enc = self._model.encoder
        x = F.gelu(enc.conv1(mels))
        x = F.gelu(enc.conv2(x)).permute(0, 2, 1)
        x = (x + enc.positional_embedding[: x.shape[1]]).to(x.dtype)
        for block in enc.blocks:
            x = block(x)
        return enc.ln_post(x)


# Models whose WER was measured unchanged with the 15 s encoder input (base: 0.099 / 0.149 on
# the benchmark / sample.wav either way). tiny.en lost accuracy with it (0.107 -> 0.153,
# 0.161 -> 0.230), so other models keep Whisper's 30 s input.
HALF_CONTEXT_MODELS = frozenset({"base"})


def audio_context(durations_s, n_audio_ctx: int = 1500, model_name: str = "base") -> int:
    """Encoder positions for a batch of windows: half of Whisper's (15 s) when every window
    fits in 15 s, else the whole 30 s. (Shorter contexts, e.g. 4 s for a 3 s window, raised
    the benchmark's WER from 0.099 to 0.206: the decoder is only reliable near 15 s or more.)"""
    if model_name not in HALF_CONTEXT_MODELS:
        return n_audio_ctx
    half = n_audio_ctx // 2
    return half if max(durations_s, default=0.0) <= half / 50 + 0.01 else n_audio_ctx


def window_mel(audio: np.ndarray, n_mels: int, n_frames: int):
    """openai-whisper's log-mel features of ``audio`` (16 kHz) as its decoding reads them,
    ``log_mel_spectrogram(audio, padding=N_SAMPLES)[:, :n_frames]``, without the spectrogram
    of 30 s of padding that the cut throws away (a 14 s window: 45 s of frames computed for 15).

    The signal gets enough zeros for ``n_frames`` frames and at least 400 more (so the end's
    reflection reads zeros, as it does after 30 s of them): every frame computed is one of
    whisper's, and the frames left out hold only zeros, which never raise the maximum that
    whisper's normalisation clamps to. The same features to the bit (tested on real speech at
    0.3-22 s, for both inputs), 0.07-0.12 -> 0.02 s for a 5-minute call's 14 windows.
    """
    import torch
    import whisper

    signal = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    padding = max(n_frames * 160 + 400 - signal.shape[-1], 400)  # HOP_LENGTH 160, N_FFT 400
    return whisper.log_mel_spectrogram(signal, n_mels, padding=padding)[:, :n_frames]


def decode_windows(model, audios: list[np.ndarray], language, options, *, batch_size: int = 8):
    """Decode packed windows in batches; return, per window, whisper-style segment dicts.

    Parameters
    ----------
    model : whisper.model.Whisper
    audios : list of np.ndarray
        1-D float32 16 kHz signals, each at most 30 s.
    language : str or callscan.asr.engine.FromWindows
        Whisper language code; or the windows to read the call's language from
        (:meth:`~callscan.asr.engine.FromWindows.read`).
    options : callscan.asr.TranscribeOptions
        Temperatures, beam size and prompt are used.
    batch_size : int
        Windows per batch.

    Returns
    -------
    list of list of dict
        For each window, its segments with ``words`` (``word``, ``start``, ``end``,
        ``probability``), times relative to the window.
    """
    import torch
    from whisper.tokenizer import get_tokenizer

    from callscan.asr.dtw import use_fast_dtw
    from callscan.asr.median_filter import use_fast_median

    use_fast_dtw()  # whisper's word-alignment DTW without loading numba for a one-call process
    use_fast_median()  # and its median filter by a selection network (the same values)

    ahead: dict[int, tuple] = {}  # batches encoded before their turn (for the language)
    if not isinstance(language, str):  # read from the batches' encoder output
        language = language.read(
            batch_size,
            ahead,
            lambda start: _encode_batch(model, audios, start, batch_size, options),
            lambda encoded, row: language_distribution(
                model, encoded[1], encoded[3][row : row + 1]
            ),
        )
    tokenizer = get_tokenizer(
        model.is_multilingual, num_languages=model.num_languages, language=language
    )
    out: list[list[dict]] = []
    for start in range(0, len(audios), batch_size):
        encoded = ahead.pop(start, None) or _encode_batch(model, audios, start, batch_size, options)
        with torch.no_grad():
            out += _decode_batch(model, encoded, language, options, tokenizer)
    return out


def _encode_batch(model, audios: list[np.ndarray], start: int, batch_size: int, options):
    """The batch of windows from ``start``: its durations, encoder context, mels and encoder
    features (the encoder run once per window)."""
    import torch

    batch = audios[start : start + batch_size]
    durations = [len(a) / 16000 for a in batch]
    n_ctx = audio_context(durations, model.dims.n_audio_ctx, options.model)
    mels = torch.stack([window_mel(a, model.dims.n_mels, 2 * n_ctx) for a in batch]).to(
        model.device
    )
    with torch.no_grad():
        features = TrimmedModel(model, n_ctx).encode(mels)
    return durations, n_ctx, mels, features


def language_distribution(model, n_ctx: int, features) -> dict[str, float]:
    """Whisper's language distribution for one window from its encoder features (1, n_ctx,
    width): ``whisper.decoding.detect_language``, one decoder step."""
    import torch
    from whisper.decoding import detect_language

    with torch.no_grad():
        _, probs = detect_language(TrimmedModel(model, n_ctx), features)
    return dict(probs[0])


def _window_cross(model, kept: dict, row: int) -> dict | None:
    """Row ``row``'s cross-attention keys and values as a batch's greedy decode computed them
    (``kept``: window -> projection -> (1, heads, positions, width / heads), see
    :func:`callscan.asr.decoding_task.task_class`), in whisper's layout, (1, positions,
    width): what the word alignment of that window would compute again from its features
    (6 layers x 2 projections of 750 x 512 x 512, 10 ms a window), the same to the bit. None
    where nothing was kept, or where the decoder is whisper's own, which reads its position
    from the cache's first entry (a model without :func:`callscan.asr.quantize.fp16_logits`,
    whose forward reads the self-attention's)."""
    if row not in kept or not hasattr(model.decoder, "logits_fp16"):
        return None
    out = {}
    for proj, kv in kept[row].items():
        heads, positions, width = kv.shape[1], kv.shape[2], kv.shape[3]
        out[proj] = kv[0].transpose(0, 1).reshape(1, positions, heads * width)
    return out


def _decode_batch(model, encoded, language: str, options, tokenizer) -> list[list[dict]]:
    """One encoded batch (:func:`_encode_batch`) decoded: per window, its segments.

    The windows whose greedy decode is final (it passed the checks and is not unsure) are
    aligned first, reading the decode's cross-attention (:func:`_window_cross`), which is
    then let go before any window is decoded again: the retries and the beam search never
    run beside it (a 5-minute call's peak memory stays where it was)."""
    durations, n_ctx, mels, features = encoded
    trimmed = TrimmedModel(model, n_ctx)
    trimmed.kept_cross = {}  # the greedy decode's cross-attention, for the word alignment
    results, guarded = trimmed.decode(features, decode_options(language, options, 0.0), durations)
    kept, trimmed.kept_cross = trimmed.kept_cross, None
    failed = [_failed(result, guarded[i]) for i, result in enumerate(results)]
    out: list[list[dict] | None] = [None] * len(results)
    for i, result in enumerate(results):
        if not failed[i] and not unsure(result, options):
            cross = _window_cross(model, kept, i)
            out[i] = _aligned(
                model, n_ctx, features, mels, i, result, durations[i], tokenizer, cross
            )
    del kept
    for i, (duration_s, result) in enumerate(zip(durations, results, strict=True)):
        if failed[i]:
            first = (result, guarded[i])
            results[i] = _retry(trimmed, features[i], language, options, first, duration_s)
    _beam_where_unsure(trimmed, features, results, durations, language, options)
    for i, result in enumerate(results):
        if out[i] is None:
            out[i] = _aligned(model, n_ctx, features, mels, i, result, durations[i], tokenizer)
    return [segments or [] for segments in out]


def _aligned(model, n_ctx, features, mels, i, result, duration_s, tokenizer, cross=None):
    """Window ``i``'s segments of its final decode, with word timestamps (``cross``: its
    cross-attention keys and values, when kept)."""
    from whisper.timing import add_word_timestamps

    if silent(result.avg_logprob, result.no_speech_prob):
        return []
    segments = _segments(result, tokenizer, duration_s)
    if segments:
        add_word_timestamps(
            segments=segments,
            model=TrimmedModel(model, n_ctx, features[i : i + 1], cross),
            tokenizer=tokenizer,
            mel=mels[i],
            num_frames=min(2 * n_ctx, int(round(duration_s * 100))),
            last_speech_timestamp=0.0,
        )
    return segments
