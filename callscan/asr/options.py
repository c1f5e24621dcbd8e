"""What a transcription is asked to do: :class:`TranscribeOptions` (re-exported by ``callscan.asr``).

A module of its own so that the engines and the shared region code can import the options
without importing the package that imports them (no cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENGINES", "TranscribeOptions", "UNSURE_BEAM_SIZE"]

UNSURE_BEAM_SIZE = 5  # beam width for the windows greedy decoding is unsure of


@dataclass(frozen=True)
class TranscribeOptions:
    """How to transcribe a call."""

    model: str = "base"  # Whisper model name (see WHISPER_MODELS) or a checkpoint path's label
    language: str = "auto"  # "auto" (detect among `languages`) or a Whisper code such as "id"
    languages: tuple[str, ...] = ("id", "en")  # what auto-detection may choose from
    beam_size: int | None = None  # None = greedy decoding (5x faster on CPU than beam 5)
    # greedy decoding (beam_size None): a window whose greedy text has a mean log-probability
    # below this is decoded again with beam search (width UNSURE_BEAM_SIZE), all such windows
    # of a batch together, and the beam's text kept when the model scores it higher; None:
    # never (README, "Beam search where greedy is unsure")
    unsure_logprob: float | None = -0.5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # fallback on failed decodes
    condition_on_previous_text: bool = False  # True risks repetition loops on phone audio
    initial_prompt: str | None = None  # prompt text (packed windows: each; whole channel: first)
    hallucination_silence_threshold_s: float | None = 2.0  # skip silences Whisper invents text in
    threads: int = 0  # torch intra-op threads; 0 = one per two logical CPUs
    batch_size: int = 8  # packed speech windows decoded together (with speech regions)
    engine: str = "openai-whisper"  # or "faster-whisper" (optional extra callscan[fast])
    # names and terms the recogniser should know (a team profile's, callscan.profile), never
    # sentences: openai-whisper reads them as a prompt, faster-whisper as hotwords
    vocabulary: tuple[str, ...] = ()
    # speech regions only: the vocabulary is given to the windows that start within this many
    # seconds of the channel (the opening, where greetings and names are said); later windows
    # are decoded without it, since a prompt can also pull its words into speech that never
    # said them. None: every window.
    vocabulary_window_s: float | None = 30.0

    def vocabulary_text(self) -> str | None:
        """The vocabulary as one line, ``"Nusantara Telekom, Surya, paket internet"``."""
        terms = [t.strip() for t in self.vocabulary if t.strip()]
        return ", ".join(terms) if terms else None

    def prompt(self) -> str | None:
        """openai-whisper's prompt: the vocabulary, then ``initial_prompt`` (None: neither)."""
        parts = [p for p in (self.vocabulary_text(), self.initial_prompt) if p and p.strip()]
        return " ".join(p.strip() for p in parts) if parts else None


ENGINES = ("openai-whisper", "faster-whisper")
