"""The whole analysis of one call: recording or transcript in, one JSON-native report out.

Stages run in order on a :class:`callscan.conversation.Conversation`: transcription (audio
only), roles, caller modality, stage coverage. A report keeps the conversation (and the
transcript), so it can be re-rendered or re-scored without the audio.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from callscan import __version__
from callscan.conversation import Conversation, is_transcript_path
from callscan.conversation import load as load_conversation
from callscan.speakers.assign import SpeakersOptions

logger = logging.getLogger("callscan")

REPORT_SCHEMA_VERSION = "1.0"  # models/report.schema.json


@dataclass(frozen=True)
class AnalyzeOptions:
    """How to analyse a call."""

    language: str = "auto"  # "auto" or a code ("id", "en"); forces ASR and text stages
    languages: tuple[str, ...] = ("id", "en")  # auto-detection candidates
    model: str = "base"  # Whisper model for recordings
    model_path: str | None = None  # local checkpoint instead of `model`
    engine: str = "openai-whisper"  # ASR engine: "openai-whisper" or "faster-whisper"
    threads: int = 0  # torch threads (0 = callscan's default)
    speakers: SpeakersOptions = field(default_factory=SpeakersOptions)  # separation and roles
    playbook: str | None = None  # a team's playbook file instead of the bundled one
    call_type: str = "auto"  # "auto", "sales", "complaint" or "service"
    opening_seconds: float | None = None  # the opening window (None = the profile's 20 s)
    max_duration_s: float = 4 * 3600.0  # refuse longer recordings


def process_recording(
    recording, model, asr_options, speakers_options=None, *, vad_model=None, hook=None
):
    """Speech regions, transcription of those regions only, then speakers and roles.

    Parameters
    ----------
    recording : callscan.audio.decode.Audio
    model : whisper.model.Whisper
        Loaded once by the caller (:func:`callscan.asr.load_model`).
    asr_options : callscan.asr.TranscribeOptions
    speakers_options : callscan.speakers.assign.SpeakersOptions, optional

    Returns
    -------
    transcript : callscan.transcript.Transcript
    speakers : callscan.speakers.assign.SpeakersResult
    """
    from callscan import asr
    from callscan.audio.vad import load_vad, speech_regions
    from callscan.speakers.assign import assign_speakers, check_options

    speakers_options = speakers_options or SpeakersOptions()
    check_options(recording, speakers_options)  # bad overrides fail before decoding
    vad_model = vad_model or load_vad()
    regions = speech_regions(recording, speakers_options.vad, model=vad_model)
    spans = [[(r.start_s, r.end_s) for r in channel] for channel in regions]
    transcript = asr.transcribe(model, recording, asr_options, regions=spans, hook=hook)
    speakers = assign_speakers(
        recording, transcript, speakers_options, regions=regions, vad_model=vad_model
    )
    return transcript, speakers


def conversation_from_audio(path: str, options: AnalyzeOptions, *, model=None, hook=None):
    """Transcribe a recording and separate the parties.

    Returns the conversation, the :class:`callscan.speakers.assign.SpeakersResult` and the decoded
    recording.
    """
    from callscan import asr
    from callscan.audio.decode import load

    recording = load(path, max_duration_s=options.max_duration_s)
    if model is None:
        model = asr.load_model(options.model, model_path=options.model_path, engine=options.engine)
    asr_options = asr.TranscribeOptions(
        model=options.model_path or options.model,
        language=options.language,
        languages=options.languages,
        threads=options.threads,
        engine=options.engine,
    )
    transcript, speakers = process_recording(
        recording, model, asr_options, options.speakers, hook=hook
    )
    return speakers.conversation(transcript, source=path), speakers, recording


def score_opening_of(recording, conv: Conversation, speakers, options: AnalyzeOptions):
    """The agent's opening (tone, clarity, content) from the recording and its turns."""
    from callscan.analysis.opening.score import OpeningOptions, score_opening

    agent = speakers.roles.agent or ""
    agent_channel = int(agent[2:]) if speakers.mode == "stereo" and agent.startswith("ch") else None
    opening_options = OpeningOptions(window_s=options.opening_seconds, language=conv.language)
    return score_opening(
        recording,
        conv,
        agent_channel=agent_channel,
        regions=speakers.regions,
        options=opening_options,
    )


def analyze_conversation(
    conv: Conversation, options: AnalyzeOptions | None = None, *, speakers=None, opening=None
) -> dict:
    """Run the text stages on a conversation and assemble the report dictionary.

    ``speakers`` and ``opening`` are the audio-only results, when the call was a recording.
    """
    from callscan.analysis import modality, stages
    from callscan.analysis.playbook import load_playbook

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
        "speakers": _speakers_summary(speakers),
        "opening": opening.to_dict() if opening is not None else None,
        "modality": modality.detect(conv).to_dict(),
        "stages": stages.check(conv, playbook, stage_options).to_dict(),
    }


def _speakers_summary(speakers) -> dict | None:
    if speakers is None:
        return None
    data = speakers.to_dict()
    data.pop("turns")  # the conversation holds them
    return data


def analyze(path: str | Path, options: AnalyzeOptions | None = None, *, model=None, hook=None):
    """Analyse one call from a recording or a transcript file (``.txt``/``.json``)."""
    options = options or AnalyzeOptions()
    path = str(path)
    if is_transcript_path(path):
        language = None if options.language in ("", "auto") else options.language
        conv = load_conversation(path, language=language)
        return analyze_conversation(conv, options)
    conv, speakers, recording = conversation_from_audio(path, options, model=model, hook=hook)
    opening = score_opening_of(recording, conv, speakers, options)
    report = analyze_conversation(conv, options, speakers=speakers, opening=opening)
    if report["opening"] is not None:  # per-frame data for the report's opening plot
        from callscan.analysis.opening.plot import opening_plot

        turns = report["conversation"]["turns"]
        report["opening"]["plot"] = opening_plot(recording, report["opening"], turns)
    return report
