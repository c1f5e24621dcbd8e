"""The default engine: openai-whisper, fed callscan's own decoded 16 kHz arrays.

:class:`OpenAIWhisper` puts a loaded ``whisper.model.Whisper`` behind
:class:`callscan.asr.engine.Engine`. It only decodes: a whole channel with
``whisper.transcribe`` (when no speech regions are given), packed windows in batches
(:mod:`callscan.asr.batched`), and the language distribution and log-probabilities the
language check reads. openai-whisper's ``load_audio`` (which shells out to ffmpeg) is never
used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from callscan.asr.engine import FromWindows, SegmentDict
    from callscan.asr.options import TranscribeOptions

__all__ = ["OpenAIWhisper"]


class OpenAIWhisper:
    """openai-whisper behind :class:`~callscan.asr.engine.Engine`; otherwise the model itself.

    Every other attribute (``dims``, ``device``, ``encoder``, ``embed_audio``, ...) and a call
    go to the wrapped ``whisper.model.Whisper`` (:attr:`module`), so the engine still works
    where openai-whisper's own functions take a model.
    """

    name = "openai-whisper"
    long_form = True  # whisper.transcribe decodes a whole channel
    runs_on_torch = True
    # the call's language read from the windows' encoding (callscan.asr.engine.FromWindows)
    reads_language_in_windows = True

    def __init__(self, module: Any, *, half_context: bool = False) -> None:
        self.module = module  # whisper.model.Whisper (possibly int8-quantised)
        # Language detection reads 15 s of speech through half of the encoder's input when
        # the model decodes well from it (:data:`callscan.asr.batched.HALF_CONTEXT_MODELS`):
        # 2.3x cheaper than 30 s, the same language on all 35 real and sample recordings measured
        # (``bench/bench_language.py``).
        self.detect_window_s = 15.0 if half_context else 30.0
        # the language-token pass in float32 even where the encoder runs in bfloat16 (the
        # decode check always is): off by default, see language_probs
        self.exact_language = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "module":  # copy/pickle probes, half-built object
            raise AttributeError(name)
        return getattr(self.module, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def __repr__(self) -> str:
        return f"OpenAIWhisper({type(self.module).__name__})"

    @property
    def is_multilingual(self) -> bool:
        return bool(self.module.is_multilingual)

    def transcribe_channel(
        self, y: np.ndarray, language: str, options: TranscribeOptions
    ) -> list[SegmentDict]:
        """One whole 16 kHz channel through ``whisper.transcribe``; its segment dicts."""
        import torch
        import whisper

        decode: dict[str, Any] = dict(language=language, fp16=False, beam_size=options.beam_size)
        if options.beam_size is None:
            decode.pop("beam_size")
        with torch.no_grad():
            result = whisper.transcribe(
                self.module,
                torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)),
                verbose=None,
                temperature=options.temperatures,
                condition_on_previous_text=options.condition_on_previous_text,
                initial_prompt=options.prompt(),
                # the vocabulary before every 30 s window, not only the first
                carry_initial_prompt=bool(options.vocabulary),
                word_timestamps=True,
                hallucination_silence_threshold=options.hallucination_silence_threshold_s,
                **decode,
            )
        return list(result["segments"])

    def decode_windows(
        self,
        audios: list[np.ndarray],
        language: str | FromWindows,
        options: TranscribeOptions,
        *,
        batch_size: int = 8,
    ) -> list[list[SegmentDict]]:
        """Packed windows decoded in batches by :func:`callscan.asr.batched.decode_windows`
        (``language`` may be read from the windows' encoding: a
        :class:`~callscan.asr.engine.FromWindows`)."""
        from callscan.asr import batched

        return batched.decode_windows(self.module, audios, language, options, batch_size=batch_size)

    def language_probs(self, excerpt: np.ndarray) -> dict[str, float]:
        """openai-whisper's language distribution for a speech excerpt (code -> probability).

        The encoder reads :attr:`detect_window_s` seconds (the excerpt cut or zero-padded to
        it): with 15 s, half of its input positions, as the packed windows are decoded
        (:func:`callscan.asr.batched.audio_context`)."""
        import torch

        from callscan.asr.batched import TrimmedModel, language_distribution, window_mel

        model = self.module
        n_ctx = int(model.dims.n_audio_ctx * min(self.detect_window_s, 30.0) / 30.0)
        mel = window_mel(excerpt, model.dims.n_mels, 2 * n_ctx).to(model.device)
        trimmed = TrimmedModel(model, n_ctx)
        with torch.no_grad():
            # the bfloat16 encoder where the model has it: on 35 real and sample recordings
            # the same language each time, shares within 2e-4 of float32's, 1.45x faster
            # (bench/bench_language.py); the decode check below stays in float32
            features = trimmed.encode(mel[None], exact=self.exact_language)
        return language_distribution(model, n_ctx, features)

    def check_logprobs(
        self, excerpts: list[np.ndarray], codes: list[str], max_tokens: int
    ) -> dict[str, list[float]]:
        """Per language code, openai-whisper's mean token log-probability on each excerpt
        decoded forced to that language (greedy, at most ``max_tokens``, no timestamps)."""
        import torch
        import whisper

        from callscan.asr.batched import TrimmedModel, window_mel

        model = self.module
        mels = torch.stack([window_mel(e, model.dims.n_mels, 3000) for e in excerpts]).to(
            model.device
        )
        # the whole 30 s input here: with the 15 s encoder input, forced English read as well as
        # Indonesian on a synthetic Indonesian call
        trimmed = TrimmedModel(model, model.dims.n_audio_ctx)
        out = {}
        with torch.no_grad():
            features = trimmed.encode(mels, exact=True)
            for code in codes:
                decoding = whisper.DecodingOptions(
                    language=code, without_timestamps=True, fp16=False, sample_len=max_tokens
                )
                results, _ = trimmed.decode(features, decoding)
                out[code] = [r.avg_logprob for r in results]
        return out
