"""The first 20 seconds: the agent's tone and clarity, and the opening's content, explained.

:func:`score_opening` takes the decoded call, its turns (roles and times) and optionally the
VAD regions, and returns an :class:`OpeningResult`:

* ``window``: the first ``window_s`` seconds counted from the first speech of either party
  (ringing and silence before it do not count) and how much of it the agent spoke;
* ``tone`` (0-100): intonation variety, speaking rate, pausing, loudness variation, falling
  endings, warmth of wording; ``clarity`` (0-100): ASR confidence, SNR, articulation rate,
  speech level, clipping, harmonicity, fillers. Every measure carries its value, unit, target
  range, sub-score, weight, source and a tip in the call's language;
* ``content``: the scripted-greeting elements (from the playbook's ``scripted_greeting`` rule
  and the profile's department cue) with their times, and excluded openers (the playbook's
  ``excluded_phrases`` rule);
* ``status`` says whether the opening could be scored ("ok") or why not ("no_agent_speech",
  "too_little_speech", "silence", "music_or_hold"); ``flags`` lists caveats of a scored
  result ("short_window", "clipped", "telephone_band", "low_snr", "music_or_hold",
  "agent_channel_assumed", "no_transcript").

Only the agent's speech is measured: on stereo, the agent's channel within the agent's turns
(or the VAD regions of that channel); on mono, the agent's turn spans of the mono signal.
Weights, ranges, sources and tips come from ``models/opening_profile.yaml``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from callscan.analysis.opening.content import opening_content
from callscan.analysis.opening.measures import (
    Acoustics,
    ChannelLevels,
    NoiseEstimate,
    Window,
    WordMeasures,
    acoustic_measures,
    channel_levels,
    estimate_noise,
    find_window,
    speech_tonality,
    timed_turns,
    word_measures,
)
from callscan.analysis.opening.profile import MeasureSpec, OpeningProfile, load_profile
from callscan.conversation import AGENT, Conversation, Turn, guess_language

if TYPE_CHECKING:
    from callscan.audio.decode import Audio
    from callscan.audio.vad import Region

Settings = dict[str, float]  # the profile's thresholds (OpeningProfile.settings)

log = logging.getLogger("callscan")

OPENING_WINDOW_S = 20.0  # s, the window scored, from the first speech
OK, NO_AGENT_SPEECH, TOO_LITTLE, SILENCE, MUSIC = (
    "ok",
    "no_agent_speech",
    "too_little_speech",
    "silence",
    "music_or_hold",
)


@dataclass(frozen=True)
class OpeningOptions:
    """How :func:`score_opening` runs."""

    window_s: float | None = None  # s scored from the first speech (None: the profile's, 20.0)
    profile_path: str | None = None  # a team's scoring profile YAML (None: the bundled one)
    language: str | None = None  # "id" or "en" for tips and wording (None: the conversation's)
    playbook_path: str | None = None  # playbook for the content check (None: bundled, by language)
    content: bool = True  # check the opening's wording against the playbook


@dataclass
class Measure:
    """One sub-measure, explained."""

    id: str  # e.g. "intonation_st"
    name: str  # display name in the call's language
    value: float | None  # measured value (None: not assessable)
    unit: str  # unit of value
    target_range: tuple[float | None, float | None]  # values scoring 100 (None: open end)
    sub_score: float | None  # 0-100 (None: not assessable)
    weight: float  # weight in the score as configured (dropped when not assessable)
    source: str  # where the range comes from
    provisional: bool  # True: the range is our own guess, to be calibrated
    tip: str  # plain-language advice in the call's language
    note: str = ""  # why not assessable, or detail (e.g. the curt word heard)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value"] = None if self.value is None else round(self.value, 3)
        d["sub_score"] = None if self.sub_score is None else round(self.sub_score, 1)
        d["target_range"] = list(self.target_range)
        return d


@dataclass
class Score:
    """A 0-100 score and the measures it is made of."""

    score: float | None  # weighted mean of the assessable sub-scores (None: too little assessable)
    measures: list[Measure]  # every configured measure, assessable or not

    def measure(self, measure_id: str) -> Measure:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": None if self.score is None else round(self.score, 1),
            "measures": [m.to_dict() for m in self.measures],
        }


@dataclass
class OpeningResult:
    """The scored opening of one call."""

    status: str  # "ok" or why it was not scored (see module docstring)
    flags: list[str]  # caveats: "short_window", "clipped", "telephone_band", ...
    language: str  # language of names and tips
    window: dict[str, Any]  # start_s, end_s, length_s, agent_speech_s, agent_channel, ...
    tone: Score | None  # None unless status is "ok"
    clarity: Score | None  # None unless status is "ok"
    content: dict[str, Any] = field(default_factory=dict)  # elements and excluded openers
    info: dict[str, Any] = field(default_factory=dict)  # unscored figures, timings, notes
    profile: str = ""  # scoring profile file

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "flags": list(self.flags),
            "language": self.language,
            "window": self.window,
            "tone": None if self.tone is None else self.tone.to_dict(),
            "clarity": None if self.clarity is None else self.clarity.to_dict(),
            "content": self.content,
            "info": self.info,
            "profile": self.profile,
        }


# ----------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class AgentChannel:
    """The channel the agent is measured on."""

    index: int  # 0 on mono or when the channels carry the same signal
    assumed: bool  # True: stereo, but nothing told the agent's channel (0 taken)


@dataclass(frozen=True)
class Screening:
    """Whether the window can be scored, and the caveats the channel itself gives."""

    status: str  # OK or why not (SILENCE, NO_AGENT_SPEECH, MUSIC, TOO_LITTLE)
    flags: tuple[str, ...]  # "telephone_band", "clipped"
    levels: ChannelLevels  # the window's level, band and clipping


@dataclass(frozen=True)
class Reading:
    """One measure's value before scoring, with the words that explain it."""

    value: float | None  # None: not assessable
    note: str = ""  # why not assessable (shown when value is None)
    kind: str | None = None  # tip kind to use ("curt"); None: from the target range
    detail: str = ""  # what the value rests on (shown when assessed)


@dataclass(frozen=True)
class SubScores:
    """The two scores of an opening."""

    tone: Score
    clarity: Score


@dataclass(frozen=True)
class Measures:
    """Everything measured in a scoreable window."""

    acoustics: Acoustics
    noise: NoiseEstimate
    words: WordMeasures

    @property
    def cpu_s(self) -> dict[str, float]:
        """CPU seconds of the timed parts: "f0", "loudness", "snr"."""
        return {**self.acoustics.cpu_s, **self.noise.cpu_s}


PRAISE_MIN = 80.0  # a measure scoring at least this gets its praise ("ok" tip), never a correction

# Notes and details of the measures, per language (the call's language; English otherwise).
NOTES: dict[str, dict[str, str]] = {
    "en": {
        "not_measured": "not measured",
        "not_assessable": "not assessable",
        "no_text": "no transcript words in the window",
        "few_voiced": "only {voiced} s voiced (need {need} s)",
        "few_syllables": "{n} syllables in the transcript (need {need})",
        "no_ending": "no statement end with enough voicing",
        "endings": "{n} statement endings, changes in semitones: {changes}",
        "polite": "polite: {kinds}",
        "curt": "; curt: {words}",
        "no_probabilities": "no word probabilities (Whisper words needed)",
        "no_noise": "no non-speech frames to measure noise",
        "clip_run": "longest full-scale run {n} samples",
        "fillers": "{n} heard in {words} words; Whisper drops many fillers",
    },
    "id": {
        "not_measured": "tidak diukur",
        "not_assessable": "tidak dapat dinilai",
        "no_text": "tidak ada kata transkrip di jendela ini",
        "few_voiced": "hanya {voiced} dtk bersuara (perlu {need} dtk)",
        "few_syllables": "{n} suku kata di transkrip (perlu {need})",
        "no_ending": "tidak ada akhir pernyataan yang cukup bersuara",
        "endings": "{n} akhir pernyataan, perubahan dalam semiton: {changes}",
        "polite": "sopan: {kinds}",
        "curt": "; ketus: {words}",
        "no_probabilities": "tidak ada probabilitas kata (perlu kata dari Whisper)",
        "no_noise": "tidak ada bingkai tanpa ucapan untuk mengukur derau",
        "clip_run": "deret sampel skala penuh terpanjang {n} sampel",
        "fillers": "{n} terdengar dalam {words} kata; Whisper sering melewatkan kata pengisi",
    },
}
# The kinds of polite wording (opening_profile.yaml warmth ids), per language
POLITE_KINDS: dict[str, dict[str, str]] = {
    "en": {"address": "address", "please": "please", "thanks": "thanks",
           "glad_to_help": "glad to help", "greeting": "greeting"},
    "id": {"address": "sapaan", "please": "silakan/mohon", "thanks": "terima kasih",
           "glad_to_help": "senang membantu", "greeting": "salam"},
}  # fmt: skip


def note(language: str, key: str, **fields: Any) -> str:
    """A measure's note or detail in ``language`` (English when callscan has no words for it)."""
    text = NOTES.get(language, NOTES["en"]).get(key) or NOTES["en"][key]
    return text.format(**fields) if fields else text


NOT_MEASURED = Reading(None, "not measured")
NO_TEXT = "no transcript words in the window"


def _agent_channel(
    audio: Audio, agent_turns: list[Turn], agent_channel: int | None
) -> AgentChannel:
    if audio.n_channels == 1 or audio.identical_channels:
        return AgentChannel(0, False)
    if agent_channel is not None:
        return AgentChannel(int(agent_channel), False)
    chans = [t.channel for t in agent_turns if t.channel is not None]
    if chans:
        return AgentChannel(max(set(chans), key=chans.count), False)
    return AgentChannel(0, True)


def _status(seg: np.ndarray, sr: int, window: Window, levels: ChannelLevels, st: Settings) -> str:
    if levels.level_db < st["silence_dbfs"]:
        return SILENCE
    if not window.speech:
        return NO_AGENT_SPEECH
    tonality = speech_tonality(seg, sr, window.relative_speech)
    if tonality is not None and tonality > st["tone_share"]:
        return MUSIC
    if window.agent_speech_s < st["min_agent_speech_s"]:
        return TOO_LITTLE
    return OK


def screen_window(
    seg: np.ndarray, sr: int, window: Window, sample_rate_hz: int, st: Settings
) -> Screening:
    """Status of the window (scoreable or why not) and the channel's own caveats."""
    levels = channel_levels(seg, sr)
    flags = []
    if sample_rate_hz <= st["narrowband_hz"] or levels.high_band_db < st["narrowband_db"]:
        flags.append("telephone_band")
    if levels.clipped_pct >= st["clip_pct"] or levels.clipped_run_samples >= st["clip_run"]:
        flags.append("clipped")
    return Screening(_status(seg, sr, window, levels, st), tuple(flags), levels)


def _content(
    turns: list[Turn],
    timed: list[Turn],
    window: Window,
    language: str,
    profile: OpeningProfile,
    options: OpeningOptions,
) -> dict[str, Any]:
    """The opening's content from the turns in the window (all turns when none has times)."""
    in_window = [
        t
        for t in timed
        if t.start_s is not None
        and t.end_s is not None
        and t.end_s > window.start_s
        and t.start_s < window.end_s
    ] or (turns if not timed else [])
    return opening_content(in_window, language, profile, playbook_path=options.playbook_path)


def measure_window(
    y: np.ndarray, sr: int, window: Window, agent_turns: list[Turn], levels: ChannelLevels,
    profile: OpeningProfile, language: str, *, fillers: re.Pattern[str] | None,
) -> Measures:  # fmt: skip
    """The acoustic measures, the noise and the word measures of a scoreable window."""
    st = profile.settings
    seg = window.segment(y, sr)
    acoustics = acoustic_measures(seg, sr, window, agent_turns, min_voiced_s=st["min_voiced_s"],
                                  falling_st=st["falling_st"])  # fmt: skip
    noise = estimate_noise(y, sr, window, level_db=levels.level_db, tone_share=st["tone_share"])
    words = word_measures(agent_turns, window, language, profile, pause_s=st["pause_min_s"],
                          fillers=fillers)  # fmt: skip
    return Measures(acoustics, noise, words)


def measure_flags(measures: Measures, st: Settings) -> list[str]:
    """Caveats from the measures: music or hold in the gaps, low SNR, no transcript."""
    noise = measures.noise
    flags = []
    if noise.music_or_hold:
        flags.append("music_or_hold")
    if noise.snr_db is not None and noise.snr_db < st["low_snr_db"]:
        flags.append("low_snr")
    if not measures.words.words:
        flags.append("no_transcript")
    return flags


# ----------------------------------------------------------------------------- scoring


def _few_voiced(a: Acoustics, st: Settings, language: str = "en") -> str:
    return note(language, "few_voiced", voiced=f"{a.voiced_s:.1f}", need=f"{st['min_voiced_s']:g}")


def _few_syllables(w: WordMeasures, st: Settings, language: str = "en") -> str:
    return note(language, "few_syllables", n=w.syllables, need=st["min_syllables"])


def tone_readings(
    a: Acoustics, w: WordMeasures, st: Settings, language: str = "en"
) -> dict[str, Reading]:
    """The tone measures' values: intonation, rate, pauses, loudness, endings, warmth.

    Notes and details are in ``language`` ("id" or "en").
    """
    few = _few_voiced(a, st, language)
    rate_ok = w.syllables >= st["min_syllables"]
    speaking = w.speaking_s
    rate = w.syllables / speaking if rate_ok and speaking else None
    changes = [round(c, 1) for c in a.terminal_changes_st]
    curt = note(language, "curt", words=", ".join(w.curt_words)) if w.curt_words else ""
    kinds = POLITE_KINDS.get(language, POLITE_KINDS["en"])
    polite = ", ".join(kinds.get(k, k) for k in w.polite_kinds)
    return {
        "intonation_st": Reading(a.intonation_st, few),
        "speaking_rate_syl_s": Reading(rate, _few_syllables(w, st, language)),
        "pause_ratio_pct": Reading(100.0 * w.pause_s / speaking if speaking else None),
        "loudness_sd_db": Reading(a.loudness_sd_db, few),
        "falling_endings_pct": Reading(
            a.falling_endings_pct,
            note(language, "no_ending"),
            detail=note(language, "endings", n=len(a.terminal_changes_st), changes=changes),
        ),
        "warmth_count": Reading(
            float(len(w.polite_kinds)) if w.words else None,
            note(language, "no_text"),
            kind="curt" if w.curt_words else None,
            detail=note(language, "polite", kinds=polite) + curt,
        ),
    }


def clarity_readings(
    a: Acoustics,
    n: NoiseEstimate,
    w: WordMeasures,
    levels: ChannelLevels,
    st: Settings,
    language: str = "en",
) -> dict[str, Reading]:
    """The clarity measures' values: confidence, SNR, articulation, level, clipping, HNR, fillers.

    Notes and details are in ``language`` ("id" or "en").
    """
    rate_ok = w.syllables >= st["min_syllables"]
    articulation = w.syllables / w.phonation_s if rate_ok and w.phonation_s else None
    fillers = note(language, "fillers", n=w.fillers, words=w.words)
    return {
        "asr_confidence": Reading(w.confidence, note(language, "no_probabilities")),
        "snr_db": Reading(n.snr_db, note(language, "no_noise")),
        "articulation_rate_syl_s": Reading(articulation, _few_syllables(w, st, language)),
        "level_dbfs": Reading(n.level_dbfs),
        "clipping_pct": Reading(
            levels.clipped_pct,
            detail=note(language, "clip_run", n=levels.clipped_run_samples),
        ),
        "harmonicity_db": Reading(a.harmonicity_db, _few_voiced(a, st, language)),
        "filler_rate_per_100w": Reading(
            100.0 * w.fillers / w.words if w.words else None,
            note(language, "no_text"),
            detail=fillers,
        ),
    }


def _tip_kind(spec: MeasureSpec, value: float) -> str:
    lo, hi = spec.target_range
    if lo is not None and value < lo:
        return "low"
    if hi is not None and value > hi:
        return "high"
    return "ok"


def explain(spec: MeasureSpec, reading: Reading, language: str) -> Measure:
    """One measure scored against its target range, with its tip in ``language``.

    The tip agrees with the sub-score: a measure scoring :data:`PRAISE_MIN` or more gets its
    praise (the ``ok`` tip), never a correction, even when its value is a little outside the
    range that scores 100.
    """
    name = spec.name.get(language) or spec.name.get("en", spec.id)
    value = reading.value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        why = reading.note or note(language, "not_assessable")
        if why == NOT_MEASURED.note:
            why = note(language, "not_measured")
        return Measure(spec.id, name, None, spec.unit, spec.target_range, None, spec.weight,
                       spec.source, spec.provisional, "", why)  # fmt: skip
    sub = spec.sub_score(value)
    kind = reading.kind if reading.kind is not None else _tip_kind(spec, value)
    if kind == "curt":
        sub = 0.0
    elif kind in ("low", "high") and sub >= PRAISE_MIN:
        kind = "ok"
    return Measure(spec.id, name, float(value), spec.unit, spec.target_range, sub, spec.weight,
                   spec.source, spec.provisional, spec.tip(kind, language), reading.detail)  # fmt: skip


def _score(measures: list[Measure], min_share: float) -> float | None:
    total = sum(m.weight for m in measures)
    used = [(m.weight, m.sub_score) for m in measures if m.sub_score is not None]
    w = sum(weight for weight, _ in used)
    if total <= 0 or w / total < min_share or w <= 0:
        return None
    return sum(weight * sub for weight, sub in used) / w


def group_score(
    profile: OpeningProfile,
    group: str,
    readings: dict[str, Reading],
    language: str,
    min_share: float,
) -> Score:
    """Every configured measure of ``group`` explained, and their weighted score."""
    out = [
        explain(spec, readings.get(mid, NOT_MEASURED), language)
        for mid, spec in profile.measures[group].items()
    ]
    return Score(_score(out, min_share), out)


def sub_scores(
    profile: OpeningProfile, language: str, measures: Measures, levels: ChannelLevels
) -> SubScores:
    """Tone and clarity: each measure's sub-score and tip, and the weighted scores."""
    st = profile.settings
    share = st["min_weight_share"]
    a, n, w = measures.acoustics, measures.noise, measures.words
    tone = group_score(profile, "tone", tone_readings(a, w, st, language), language, share)
    clarity = group_score(
        profile, "clarity", clarity_readings(a, n, w, levels, st, language), language, share
    )
    return SubScores(tone, clarity)


def _info(measures: Measures, levels: ChannelLevels) -> dict[str, Any]:
    a, n, w = measures.acoustics, measures.noise, measures.words
    band_db = levels.high_band_db
    return {
        "voiced_s": round(a.voiced_s, 3),
        "syllables": w.syllables,
        "words": w.words,
        "pauses": [[round(x, 3), round(y, 3)] for x, y in w.pauses],
        "terminal_changes_st": [round(c, 2) for c in a.terminal_changes_st],
        "noise_s": round(n.noise_s, 3),
        "high_band_db": None if math.isnan(band_db) else round(band_db, 1),
        "clipped_run_samples": levels.clipped_run_samples,
    }


# ----------------------------------------------------------------------------- main


def _no_window() -> dict[str, Any]:
    return {"start_s": None, "end_s": None, "agent_speech_s": 0.0}


def _turns_and_language(
    conv: Conversation | list[Turn], options: OpeningOptions
) -> tuple[list[Turn], str]:
    turns = conv.turns if isinstance(conv, Conversation) else list(conv)
    language = options.language or (conv.language if isinstance(conv, Conversation) else None)
    language = language or guess_language(" ".join(t.text for t in turns))
    return turns, language if language in ("id", "en") else "en"


def score_opening(
    audio: Audio,
    conversation_or_turns: Conversation | list[Turn],
    *,
    agent_channel: int | None = None,
    regions: Sequence[Sequence[Region]] | None = None,
    options: OpeningOptions | None = None,
) -> OpeningResult:
    """Score the agent's tone and clarity in the first seconds of a call.

    The steps: the window (:func:`~callscan.analysis.opening.measures.find_window`), its status
    (:func:`screen_window`), the content, the acoustic measures, the noise, the word measures
    (:mod:`callscan.analysis.opening.measures`), then the sub-scores and tips
    (:func:`sub_scores`).

    Parameters
    ----------
    audio : callscan.audio.decode.Audio
        The decoded call (16 kHz, 1 or 2 channels); ``info.sample_rate_hz`` tells telephone band.
    conversation_or_turns : Conversation or list of Turn
        Turns with roles; times (``start_s``/``end_s``) and, from Whisper, words with
        probabilities. Text-only turns give no window and no acoustic scores.
    agent_channel : int, optional
        Stereo: the agent's channel (default: the channel of the agent's turns, else 0).
    regions : list of list of Region, optional
        VAD regions per channel (``SpeakersResult.regions``); used for the window start and,
        on stereo without timed agent turns, as the agent's speech.
    options : OpeningOptions, optional

    Returns
    -------
    OpeningResult
    """
    import time

    options = options or OpeningOptions()
    profile = load_profile(options.profile_path)
    st = profile.settings
    turns, language = _turns_and_language(conversation_or_turns, options)
    cpu: dict[str, float] = {}
    t_start = time.process_time()

    timed = timed_turns(turns)
    agent_turns = [t for t in timed if t.role == AGENT]
    channel = _agent_channel(audio, agent_turns, agent_channel)
    flags = ["agent_channel_assumed"] if channel.assumed else []
    window_s = float(options.window_s or st["window_s"])
    window = find_window(audio, timed, regions, channel.index, window_s=window_s,
                         pause_s=st["pause_min_s"])  # fmt: skip
    if window is None:
        return OpeningResult(NO_AGENT_SPEECH, flags, language, _no_window(), None, None,
                             profile=profile.path)  # fmt: skip
    flags += ["short_window"] if window.short else []
    y = np.asarray(audio.channel(window.agent_channel), dtype=np.float32)
    screening = screen_window(window.segment(y, audio.sr), audio.sr, window,
                              audio.info.sample_rate_hz, st)  # fmt: skip
    flags += screening.flags
    info: dict[str, Any] = {"sample_rate_hz": audio.info.sample_rate_hz}
    content: dict[str, Any] = {}
    if options.content:
        t0 = time.process_time()
        content = _content(turns, timed, window, language, profile, options)
        cpu["content"] = time.process_time() - t0
    if screening.status != OK:
        info["cpu_s"] = {k: round(v, 4) for k, v in cpu.items()}
        return OpeningResult(screening.status, flags, language, window.to_dict(), None, None,
                             content, info, profile.path)  # fmt: skip

    measures = measure_window(y, audio.sr, window, agent_turns, screening.levels, profile,
                              language, fillers=_fillers(language, options))  # fmt: skip
    flags += measure_flags(measures, st)
    scores = sub_scores(profile, language, measures, screening.levels)
    cpu.update({**measures.cpu_s, "total": time.process_time() - t_start})
    info.update(_info(measures, screening.levels))
    info["cpu_s"] = {k: round(v, 4) for k, v in cpu.items()}
    log.debug("opening: tone %s, clarity %s", scores.tone.score, scores.clarity.score)
    return OpeningResult(OK, flags, language, window.to_dict(), scores.tone, scores.clarity,
                         content, info, profile.path)  # fmt: skip


def _fillers(language: str, options: OpeningOptions) -> re.Pattern[str] | None:
    from callscan.analysis.playbook import load_playbook

    try:
        return load_playbook(options.playbook_path, language=language).fillers
    except Exception:  # fillers are optional; a broken playbook is reported by content
        return None
