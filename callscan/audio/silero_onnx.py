"""silero-vad's sequence model on onnxruntime, without importing the silero_vad package.

silero-vad 6 ships a "sequence" ONNX model that scores a block of up to 512 frames (16 s at
16 kHz) per call (``silero_vad.sequence_vad``). Its front-end is torch-free, but importing
it runs the package's ``__init__``, which imports torch (0.8 s). callscan's speech detection
runs on the main thread while the model loads on another; with torch imported there only,
the two overlap (a 5-minute stereo call: 1.3 s in turn, 0.8 s side by side, measured with
the import and the ONNX calls alone). So the model file is found without importing the
package, and the two small pieces callscan uses are ported here from silero-vad 6.2.3 (MIT
licence, Silero Team): the block front-end (``SileroVADSequence.audio_forward``) and the
probabilities-to-regions state machine (``get_speech_timestamps_from_probs``) for the
settings callscan uses (no maximum speech length). Both give silero-vad's own numbers and
regions exactly (``tests/test_silero_onnx.py``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["SequenceVad", "model_path", "speech_spans"]

SAMPLE_RATE = 16000
FRAME = 512  # samples per frame at 16 kHz
CONTEXT = 64  # samples of the previous frame each frame is prefixed with
MAX_FRAMES = 512  # frames per ONNX call (16.4 s)
STATE = (1, 1, 128)  # LSTM hidden and cell state
MODEL_FILE = "silero_vad_16k_sequence.onnx"


def model_path() -> Path | None:
    """The sequence model inside the installed silero-vad wheel (None when the package or
    the file is missing). The package is located, not imported."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / MODEL_FILE
        if path.is_file():
            return path
    return None


def _blocks(audio: np.ndarray):
    """Blocks of (frames, CONTEXT + FRAME) samples: each frame prefixed with the last CONTEXT
    samples of the frame before (zeros for the first), the last frame zero-padded."""
    n_frames = (audio.size + FRAME - 1) // FRAME
    previous = np.zeros(CONTEXT, dtype=np.float32)
    for first in range(0, n_frames, MAX_FRAMES):
        count = min(MAX_FRAMES, n_frames - first)
        samples = audio[first * FRAME : min(audio.size, (first + count) * FRAME)]
        frames = np.zeros((count, FRAME), dtype=np.float32)
        frames.reshape(-1)[: samples.size] = samples
        contexts = np.empty((count, CONTEXT), dtype=np.float32)
        contexts[0] = previous
        if count > 1:
            contexts[1:] = frames[:-1, -CONTEXT:]
        previous = frames[-1, -CONTEXT:].copy()
        yield np.concatenate((contexts, frames), axis=1)


class SequenceVad:
    """The sequence model in an onnxruntime session (one thread, CPU)."""

    def __init__(self, path: str | Path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def audio_forward(self, audio: np.ndarray) -> np.ndarray:
        """Speech probability of every 32 ms frame of 16 kHz ``audio`` (float32, 1-D)."""
        audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        hidden = np.zeros(STATE, dtype=np.float32)
        cell = np.zeros(STATE, dtype=np.float32)
        out = []
        for block in _blocks(audio):
            probs, hidden, cell = self.session.run(
                ["speech_probs", "hn", "cn"], {"input": block, "h": hidden, "c": cell}
            )
            out.append(probs)
        return np.concatenate(out).reshape(-1) if out else np.zeros(0, dtype=np.float32)


def speech_spans(
    probs: np.ndarray,
    n_samples: int,
    *,
    threshold: float,
    min_speech_ms: int,
    min_silence_ms: int,
    speech_pad_ms: int,
) -> list[tuple[int, int]]:
    """Speech regions (start, end sample) from per-frame probabilities, as silero-vad's
    ``get_speech_timestamps_from_probs`` gives them with no maximum speech length.

    Speech starts at a frame at or above ``threshold`` and ends once the probability has
    stayed below ``threshold - 0.15`` for ``min_silence_ms``; regions not longer than
    ``min_speech_ms`` are dropped; each is padded by ``speech_pad_ms`` (half the gap when
    two regions are closer than twice that).
    """
    min_speech = SAMPLE_RATE * min_speech_ms / 1000
    min_silence = SAMPLE_RATE * min_silence_ms / 1000
    pad = SAMPLE_RATE * speech_pad_ms / 1000
    below = max(threshold - 0.15, 0.01)
    speeches: list[dict[str, int]] = []
    current: dict[str, int] = {}
    triggered = False
    silence_from = 0  # where the silence that may end the region began (0: none)
    for i, p in enumerate(probs):
        sample = FRAME * i
        if p >= threshold and silence_from:
            silence_from = 0
        if p >= threshold and not triggered:
            triggered = True
            current["start"] = sample
            continue
        if p < below and triggered:
            if not silence_from:
                silence_from = sample
            if sample - silence_from < min_silence:
                continue
            current["end"] = silence_from
            if current["end"] - current["start"] > min_speech:
                speeches.append(current)
            current = {}
            silence_from = 0
            triggered = False
    if current and n_samples - current["start"] > min_speech:
        current["end"] = n_samples
        speeches.append(current)
    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - pad))
        if i != len(speeches) - 1:
            gap = speeches[i + 1]["start"] - speech["end"]
            if gap < 2 * pad:
                speech["end"] += int(gap // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - gap // 2))
            else:
                speech["end"] = int(min(n_samples, speech["end"] + pad))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - pad))
        else:
            speech["end"] = int(min(n_samples, speech["end"] + pad))
    return [(s["start"], s["end"]) for s in speeches]
