"""The whole analysis of one call: recording or transcript in, one JSON-native report out.

Stages run in order on a :class:`callscan.conversation.Conversation`: transcription (audio
only), roles, caller modality, stage coverage. A report keeps the conversation (and the
transcript), so it can be re-rendered or re-scored without the audio (:func:`rescore`).

Progress goes through an optional ``hook(step, completed, total)``; the steps, in order, are
``decode``, ``model`` (when the model is loaded here), ``speech``, ``transcribe``, ``speakers``
and ``analysis`` (a transcript file has only ``analysis``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callscan import __version__
from callscan.conversation import Conversation, is_transcript_path
from callscan.conversation import load as load_conversation
from callscan.speakers.assign import SpeakersOptions

if TYPE_CHECKING:
    from callscan.audio.decode import Audio
    from callscan.speakers.assign import SpeakersResult
    from callscan.transcript import Transcript

logger = logging.getLogger("callscan")

REPORT_SCHEMA_VERSION = "1.0"  # models/report.schema.json

Hook = Callable[[str, int, int], None]  # hook(step, completed, total)


@dataclass(frozen=True)
class AnalyzeOptions:
    """How to analyse a call."""

    language: str = "auto"  # "auto" or a code ("id", "en"); forces ASR and text stages
    languages: tuple[str, ...] = ("id", "en")  # auto-detection candidates
    model: str = "base"  # Whisper model for recordings
    model_path: str | None = None  # local checkpoint instead of `model`
    engine: str = "openai-whisper"  # ASR engine: "openai-whisper" or "faster-whisper"
    threads: int = 0  # torch threads (0 = callscan's default)
    beam_size: int | None = None  # ASR beam width (None = greedy; faster-whisper: 5)
    speakers: SpeakersOptions = field(default_factory=SpeakersOptions)  # separation and roles
    playbook: str | None = None  # a team's playbook file instead of the bundled one
    profile: str | None = None  # a team profile file (callscan.profile): cues and ASR vocabulary
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
    from callscan.speakers.assign import check_options

    speakers_options = speakers_options or SpeakersOptions()
    check_options(recording, speakers_options)  # bad overrides fail before decoding
    return _transcribe_and_assign(
        recording, model, asr_options, speakers_options, vad_model=vad_model, hook=hook
    )


def _transcribe_and_assign(
    recording, model, asr_options, speakers_options: SpeakersOptions, *, vad_model=None, hook=None
):
    """:func:`process_recording` once the overrides are checked."""
    from callscan import asr
    from callscan.audio.vad import load_vad, speech_regions
    from callscan.speakers.assign import assign_speakers

    _step(hook, "speech", 0, 1)
    vad_model = vad_model or load_vad()
    regions = speech_regions(recording, speakers_options.vad, model=vad_model)
    _step(hook, "speech", 1, 1)
    spans = [[(r.start_s, r.end_s) for r in channel] for channel in regions]
    _step(hook, "transcribe", 0, 1)
    transcript = asr.transcribe(model, recording, asr_options, regions=spans, hook=hook)
    _step(hook, "transcribe", 1, 1)
    _step(hook, "speakers", 0, 1)
    speakers = assign_speakers(
        recording, transcript, speakers_options, regions=regions, vad_model=vad_model
    )
    _step(hook, "speakers", 1, 1)
    return transcript, speakers


def _step(hook: Hook | None, step: str, completed: int, total: int) -> None:
    if hook is not None:
        hook(step, completed, total)


def team_profile(options: AnalyzeOptions):
    """The :class:`callscan.profile.TeamProfile` of an analysis (None without one).

    Raises
    ------
    ConfigError
        The profile file is missing or invalid (``option="profile"``).
    """
    from callscan.errors import ConfigError
    from callscan.profile import load_profile

    if not options.profile:
        return None
    try:
        return load_profile(options.profile)
    except ConfigError as e:
        raise ConfigError(str(e), option="profile") from None


def transcribe_options(options: AnalyzeOptions):
    """The :class:`callscan.asr.TranscribeOptions` of an analysis (with the team profile's
    names and terms as the recogniser's vocabulary)."""
    from callscan import asr

    profile = team_profile(options)
    return asr.TranscribeOptions(
        model=options.model_path or options.model,
        language=options.language,
        languages=options.languages,
        beam_size=options.beam_size,
        threads=options.threads,
        engine=options.engine,
        vocabulary=profile.vocabulary() if profile is not None else (),
    )


@dataclass
class RecordingResult:
    """A decoded recording, its transcript, and its speakers (turns, roles, talk metrics)."""

    recording: Audio  # decoded, 16 kHz, its channels kept
    transcript: Transcript  # words with timestamps, per channel
    speakers: SpeakersResult  # turns, roles, talk metrics


def transcribe_recording(
    path: str | Path, options: AnalyzeOptions | None = None, *, model=None, hook: Hook | None = None
) -> RecordingResult:
    """Decode a recording, check the speaker overrides against it, load the model (unless
    given), transcribe the speech and separate the parties.

    Overrides that do not fit the recording fail before the model loads. Only
    ``options.speakers``, the ASR fields and ``max_duration_s`` are used.
    """
    from callscan import asr
    from callscan.audio.decode import load
    from callscan.speakers.assign import check_options

    options = options or AnalyzeOptions()
    team_profile(options)  # a bad profile fails before decoding
    _step(hook, "decode", 0, 1)
    recording = load(str(path), max_duration_s=options.max_duration_s)
    _step(hook, "decode", 1, 1)
    check_options(recording, options.speakers)  # bad overrides fail before loading the model
    if model is None:
        _step(hook, "model", 0, 1)
        model = asr.load_model(
            options.model,
            model_path=options.model_path,
            engine=options.engine,
            threads=options.threads,
        )
        _step(hook, "model", 1, 1)
    transcript, speakers = _transcribe_and_assign(
        recording, model, transcribe_options(options), options.speakers, hook=hook
    )
    return RecordingResult(recording, transcript, speakers)


def conversation_from_audio(path: str, options: AnalyzeOptions, *, model=None, hook=None):
    """Transcribe a recording and separate the parties.

    Returns the conversation, the :class:`callscan.speakers.assign.SpeakersResult` and the decoded
    recording.
    """
    result = transcribe_recording(path, options, model=model, hook=hook)
    conv = result.speakers.conversation(result.transcript, source=path)
    return conv, result.speakers, result.recording


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
    profile = team_profile(options)
    stage_options = stages.StageOptions(call_type=options.call_type, profile=profile)
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
        "profile": profile.to_dict() if profile is not None else None,
    }


def _speakers_summary(speakers) -> dict | None:
    if speakers is None:
        return None
    data = speakers.to_dict()
    data.pop("turns")  # the conversation holds them
    return data


def analyze(
    path: str | Path, options: AnalyzeOptions | None = None, *, model=None, hook: Hook | None = None
):
    """Analyse one call from a recording or a transcript file (``.txt``/``.json``).

    ``hook(step, completed, total)`` follows the progress (see the module docstring).
    """
    options = options or AnalyzeOptions()
    path = str(path)
    if is_transcript_path(path):
        language = None if options.language in ("", "auto") else options.language
        conv = load_conversation(path, language=language)
        _step(hook, "analysis", 0, 1)
        report = analyze_conversation(conv, options)
        _step(hook, "analysis", 1, 1)
        return report
    conv, speakers, recording = conversation_from_audio(path, options, model=model, hook=hook)
    _step(hook, "analysis", 0, 3)
    opening = score_opening_of(recording, conv, speakers, options)
    _step(hook, "analysis", 1, 3)
    report = analyze_conversation(conv, options, speakers=speakers, opening=opening)
    _step(hook, "analysis", 2, 3)
    if report["opening"] is not None:  # per-frame data for the report's opening plot
        from callscan.analysis.opening.plot import opening_plot

        turns = report["conversation"]["turns"]
        report["opening"]["plot"] = opening_plot(recording, report["opening"], turns)
    _step(hook, "analysis", 3, 3)
    return report


def rescore(
    path: str | Path,
    *,
    playbook: str | Path | None = None,
    call_type: str = "auto",
    profile: str | Path | None = None,
) -> dict:
    """Re-run stage coverage and conduct rules on a stored call, without the audio.

    ``path`` is a report JSON (or any JSON with a ``conversation``) or a transcript file;
    ``profile`` a team profile file whose names the cues use.
    Returns the report with its ``stages`` replaced (the rest kept as it was); for a
    transcript, ``{"conversation": ..., "stages": ...}``.
    """
    import json

    from callscan.analysis.playbook import load_playbook
    from callscan.analysis.stages import StageOptions, check
    from callscan.errors import CallscanError

    path = Path(path)
    conversation = load_conversation(str(path))
    pb = load_playbook(playbook, language=conversation.language)
    team = team_profile(AnalyzeOptions(profile=str(profile) if profile else None))
    result = check(conversation, pb, StageOptions(call_type=call_type, profile=team))
    data: Any = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:  # load_conversation already parsed it; be safe
            raise CallscanError(f"'{path}': cannot read JSON ({e})") from e
    if not isinstance(data, dict) or "conversation" not in data:
        data = {**(data if isinstance(data, dict) else {}), "conversation": conversation.to_dict()}
    data["stages"] = result.to_dict()
    if team is not None:
        data["profile"] = team.to_dict()
    return data
