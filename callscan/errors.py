"""Exceptions raised by callscan.

Every error a user can cause (a bad file, a bad option, a broken config) is a
:class:`CallscanError` subclass whose message is one line that says what is wrong
and, where possible, what to do. The command line prints ``Error: <message>`` and
exits with status 1; it never shows a traceback for these.
"""

from __future__ import annotations


class CallscanError(Exception):
    """Base class of every error callscan raises on purpose.

    ``option`` (optional) names the library parameter the error is about (for example
    ``"max_duration_s"`` or ``"model_path"``), so that a front end can name its own flag for
    it. The message itself (``str(e)``) speaks of the library only.
    """

    def __init__(self, *args: object, option: str | None = None) -> None:
        super().__init__(*args)
        self.option = option


class AudioError(CallscanError):
    """An audio file cannot be read or is not usable (empty, corrupt, silent, ...)."""


class ModelError(CallscanError):
    """A model cannot be found, installed, verified or loaded."""


class ConfigError(CallscanError):
    """A data file in ``models/`` or a user override is invalid."""


class TranscriptError(CallscanError):
    """A transcript file cannot be read."""
