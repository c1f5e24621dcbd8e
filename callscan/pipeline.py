"""The whole analysis of one call: recording or transcript in, one JSON-native report out.

Stages run in order on a :class:`callscan.conversation.Conversation`: transcription (audio
only), roles, caller modality, stage coverage. A report keeps the conversation (and the
transcript), so it can be re-rendered or re-scored without the audio.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan import __version__
from callscan.conversation import AGENT, CALLER, Conversation, from_transcript, is_transcript_path
from callscan.conversation import load as load_conversation

logger = logging.getLogger("callscan")

REPORT_SCHEMA_VERSION = "0.1"


@dataclass(frozen=True)
class AnalyzeOptions:
    """How to analyse a call."""

    language: str = "auto"  # "auto" or a code ("id", "en"); forces ASR and text stages
    languages: tuple[str, ...] = ("id", "en")  # auto-detection candidates
    model: str = "base"  # Whisper model for recordings
    model_path: str | None = None  # local checkpoint instead of `model`
    agent_channel: int | None = None  # stereo: the agent's channel (0 left, 1 right)
    playbook: str | None = None  # a team's playbook file instead of the bundled one
    call_type: str = "auto"  # "auto", "sales", "complaint" or "service"
    max_duration_s: float = 4 * 3600.0  # refuse longer recordings
    extra: dict[str, Any] = field(default_factory=dict)  # reserved for later stages


def _roles_from_channel(conv: Conversation, agent_channel: int | None) -> None:
    if agent_channel is None:
        return
    for turn in conv.turns:
        if turn.channel is not None:
            turn.role = AGENT if turn.channel == agent_channel else CALLER


def conversation_from_audio(path: str, options: AnalyzeOptions, *, model=None, hook=None):
    """Transcribe a recording and turn it into a conversation."""
    from callscan import asr
    from callscan.audio import load

    recording = load(path, max_duration_s=options.max_duration_s)
    if model is None:
        model = asr.load_model(options.model, model_path=options.model_path)
    asr_options = asr.TranscribeOptions(
        model=options.model_path or options.model,
        language=options.language,
        languages=options.languages,
    )
    transcript = asr.transcribe(model, recording, asr_options, hook=hook)
    conv = from_transcript(transcript, source=path)
    _roles_from_channel(conv, options.agent_channel)
    return conv


def analyze_conversation(conv: Conversation, options: AnalyzeOptions | None = None) -> dict:
    """Run the text stages on a conversation and assemble the report dictionary."""
    from callscan import modality, stages
    from callscan.playbook import load_playbook

    options = options or AnalyzeOptions()
    if options.language not in ("", "auto"):
        conv.language = options.language
    playbook = load_playbook(options.playbook, language=conv.language)
    stage_options = stages.StageOptions(call_type=options.call_type)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "callscan_version": __version__,
        "source": conv.source,
        "input": "audio" if conv.transcript is not None else "transcript",
        "language": conv.language,
        "conversation": conv.to_dict(),
        "transcript": conv.transcript.to_dict() if conv.transcript is not None else None,
        "modality": modality.detect(conv).to_dict(),
        "stages": stages.check(conv, playbook, stage_options).to_dict(),
    }


def analyze(path: str | Path, options: AnalyzeOptions | None = None, *, model=None, hook=None):
    """Analyse one call from a recording or a transcript file (``.txt``/``.json``)."""
    options = options or AnalyzeOptions()
    path = str(path)
    if is_transcript_path(path):
        language = None if options.language in ("", "auto") else options.language
        conv = load_conversation(path, language=language)
    else:
        conv = conversation_from_audio(path, options, model=model, hook=hook)
    return analyze_conversation(conv, options)
