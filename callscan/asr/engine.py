"""What the engine-neutral transcription needs from an ASR engine.

An engine is a loaded model that can *decode*; everything around decoding (the language
choice, packing speech regions into windows, mapping times back to the file, building the
:class:`callscan.transcript.Transcript`) lives once, in :mod:`callscan.asr.regions` and
:mod:`callscan.asr.language`. Two engines implement :class:`Engine`:

* :class:`callscan.asr.whisper_engine.OpenAIWhisper` (openai-whisper, the default);
* :class:`callscan.asr.faster_engine.FasterWhisper` (faster-whisper, optional extra).

:func:`callscan.asr.load_model` returns one of them. Segments cross this interface as
whisper-style dicts (``start``, ``end``, ``text``, ``words`` with ``word``, ``start``,
``end``, ``probability``; ``avg_logprob``, ``no_speech_prob``, ``compression_ratio``,
``temperature``), times in seconds from the start of the audio given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from callscan.asr.options import TranscribeOptions

__all__ = ["Engine", "FromWindows", "SegmentDict"]

SegmentDict = dict[str, Any]  # one whisper-style segment (see the module docstring)
MIN_SPEECH_S = 0.5  # under half a second of speech says nothing about the language


@dataclass
class FromWindows:
    """The call's language, decided as the transcription encodes its packed windows.

    An engine that can (``Engine.reads_language_in_windows``) takes this for the language of
    :meth:`~callscan.asr.engine.Engine.decode_windows`: before decoding, it reads Whisper's
    language distribution from the encoder's output for ``windows`` (each channel's first
    window, a channel's first 15 s of speech) and calls :meth:`decide` with one
    distribution per window, in order; the windows are then decoded in the language chosen.
    The encoder runs once for the language and the transcription, where a check of its own
    encoded each channel's first speech again (0.25 s of a 5-minute stereo call's critical
    path). ``settle(readings)`` turns ``(distribution, weight)`` readings into the call's
    language (:func:`callscan.asr.language.settle`, with its decode check); the result is
    kept in ``detected``.
    """

    windows: list[int]  # indices of the windows read, in the engine's list of windows
    speech_s: list[float]  # seconds of speech in each (its weight; under MIN_SPEECH_S: skipped)
    settle: Callable[[list[tuple[dict[str, float], float]]], tuple[str, float, dict[str, float]]]
    detected: tuple[str, float, dict[str, float]] | None = None

    def read(
        self,
        batch_size: int,
        ahead: dict[int, Any],
        encode: Callable[[int], Any],
        distribution: Callable[[Any, int], dict[str, float]],
    ) -> str:
        """The language to decode in, as an engine reads it: ``encode(start)`` encodes the
        batch of windows from ``start`` (kept in ``ahead`` for its turn, so no window is
        encoded twice) and ``distribution(encoded, row)`` is Whisper's language distribution
        for one row of an encoded batch."""
        found = []
        for index in self.windows:
            start = index - index % batch_size
            if start not in ahead:
                ahead[start] = encode(start)
            found.append(distribution(ahead[start], index - start))
        return self.decide(found)

    def decide(self, distributions: Sequence[dict[str, float]]) -> str:
        """The language to decode in, from Whisper's distribution on each of ``windows``."""
        readings = [
            (dict(d), s)
            for d, s in zip(distributions, self.speech_s, strict=True)
            if s >= MIN_SPEECH_S
        ]
        self.detected = self.settle(readings)
        return self.detected[0]


@runtime_checkable
class Engine(Protocol):
    """A loaded Whisper model behind one engine."""

    name: str  # the engine, as reported in Transcript.engine: "openai-whisper", "faster-whisper"
    detect_window_s: float  # seconds of speech per channel :meth:`language_probs` reads
    runs_on_torch: bool  # torch's threads are set around its work (else it sets its own)
    # decode_windows takes a callscan.asr.engine.FromWindows for its language: the call's
    # language read from the windows' encoding (else it is checked on excerpts first)
    reads_language_in_windows: bool

    @property
    def is_multilingual(self) -> bool:
        """False for English-only models (``tiny.en``, ``base.en``, ...)."""
        ...

    @property
    def long_form(self) -> bool:
        """True when :meth:`transcribe_channel` decodes a whole channel itself; False when a
        channel without speech regions is decoded as one region, in packed windows."""
        ...

    def transcribe_channel(
        self, y: np.ndarray, language: str, options: TranscribeOptions
    ) -> list[SegmentDict]:
        """One whole 16 kHz channel with the engine's own long-form transcription."""
        ...

    def decode_windows(
        self,
        audios: list[np.ndarray],
        language: str | FromWindows,
        options: TranscribeOptions,
        *,
        batch_size: int = 8,
    ) -> list[list[SegmentDict]]:
        """Decode packed windows (1-D float32 16 kHz, each at most 30 s) in batches, in
        ``language`` (a :class:`~callscan.asr.engine.FromWindows` only where the engine
        ``reads_language_in_windows``).

        Returns, per window, its segments with word timestamps, times relative to the
        window.
        """
        ...

    def language_probs(self, excerpt: np.ndarray) -> dict[str, float]:
        """Whisper's language distribution (code -> probability) on a speech excerpt."""
        ...

    def check_logprobs(
        self, excerpts: list[np.ndarray], codes: list[str], max_tokens: int
    ) -> dict[str, list[float]]:
        """Per language code, the mean token log-probability of each excerpt decoded
        (greedy, at most ``max_tokens`` tokens, no timestamps) forced to that language
        (:func:`callscan.asr.language.decode_check`)."""
        ...
