"""Parties of a call: turns, who spoke them, agent or caller, talk metrics.

Modules
-------
assign
    :func:`~callscan.speakers.assign.assign_speakers`: words -> turns by channel (stereo) or
    by diarization (mono), then roles and talk metrics.
diarize
    Speaker embeddings and clustering for mono recordings.
roles
    :func:`~callscan.speakers.roles.decide_roles`: agent or caller, with a confidence.
metrics
    :func:`~callscan.speakers.metrics.talk_metrics`: talk share, overlap, silences, pace.
"""

from callscan.speakers.assign import (
    SpeakersOptions,
    SpeakersResult,
    assign_speakers,
    check_options,
    file_metadata,
)

__all__ = [
    "SpeakersOptions",
    "SpeakersResult",
    "assign_speakers",
    "check_options",
    "file_metadata",
]
