"""callscan: recorded customer-service calls -> QA findings.

The library never prints and never imports typer or rich; heavy modules (torch, whisper,
librosa) load only inside the functions that need them, so ``import callscan`` is instant.

Stages (each a module): :mod:`callscan.audio.decode` (decode, channels, 16 kHz),
:mod:`callscan.asr` (openai-whisper transcription, offline weights),
:mod:`callscan.asr.writers` (json/txt/srt/vtt).
"""

import logging

from callscan.errors import AudioError, CallscanError, ConfigError, ModelError, TranscriptError

# A library logs but never prints: without the application's own logging setup, stay quiet.
logging.getLogger("callscan").addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "AudioError",
    "CallscanError",
    "ConfigError",
    "ModelError",
    "TranscriptError",
]
