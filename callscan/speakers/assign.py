"""From a transcript to time-ordered agent / caller turns, with roles and talk metrics.

* **Stereo** (one party per channel): each channel's words are kept only where that channel
  has gated speech (:func:`callscan.audio.vad.speech_regions`), which drops words Whisper heard in
  the other party's bleed and invented over music or tones; the speaker of a word is its
  channel (``ch0`` left, ``ch1`` right).
* **Mono** (or a stereo file carrying the same signal twice): the speech is diarized
  (:func:`callscan.speakers.diarize.diarize`) and each word goes to the speaker whose region it
  overlaps most (``S1``, ``S2``, ... by first appearance). A mono recording with one voice
  only (a voicemail, one party recorded) is one speaker, ``S1``: the agent when its words
  say so, else ``unknown``, never split into agent and caller.

Consecutive words of one speaker with pauses under ``max_pause_s`` form a turn. A turn's
edges come from voice activity where a speech region starts or ends near its first or last
word, else from the word timestamps, never from Whisper's segment starts. Turns of different
speakers may overlap; both are kept. Roles come from :func:`callscan.speakers.roles.decide_roles`
(or an override) and metrics from :func:`callscan.speakers.metrics.talk_metrics`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from callscan.audio.vad import Region, VadOptions
from callscan.conversation import Conversation, Turn
from callscan.errors import CallscanError
from callscan.speakers.diarize import DiarizeOptions, SpeakerRegion
from callscan.speakers.metrics import TalkMetrics, TalkMetricsOptions, talk_metrics
from callscan.speakers.roles import RoleDecision, RoleOptions, decide_roles
from callscan.transcript import Transcript, Word
from callscan.util import pattern_groups

__all__ = [
    "SpeakersOptions",
    "SpeakersResult",
    "assign_speakers",
    "build_turns",
    "check_options",
    "file_metadata",
    "mark_one_voice",
]

logger = logging.getLogger("callscan")

CHANNEL_NAMES = ("left", "right")  # channel 0 and 1 as the command line names them


@dataclass(frozen=True)
class SpeakersOptions:
    """How speakers, roles and metrics are found."""

    n_speakers: int = 2  # mono: speakers to diarize into (a call: agent and caller)
    agent_channel: int | None = None  # stereo override: the agent's channel (0 left, 1 right)
    agent_speaker: int | None = None  # mono override: the agent is speaker S<N> (1 = first to talk)
    swap_roles: bool = False  # swap agent and caller after deciding
    agent_pattern: str | None = None  # regex on the file name; named groups agent, call, date
    language: str | None = None  # role cues and syllables: "id"/"en"; None = the transcript's
    max_pause_s: float = 1.0  # a longer pause between one speaker's words starts a new turn
    word_pad_s: float = 0.15  # speech regions widened by this when words are checked
    word_min_speech: float = 0.5  # share of a word that must lie in speech, else it is dropped
    snap_s: float = 0.5  # a turn edge moves to a speech-region edge at most this far away
    vad: VadOptions = field(default_factory=VadOptions)  # speech detection and crosstalk gate
    diarize: DiarizeOptions = field(default_factory=DiarizeOptions)  # windows (n_speakers above)
    metrics: TalkMetricsOptions = field(default_factory=TalkMetricsOptions)  # metric thresholds


@dataclass
class SpeakersResult:
    """Turns with speakers and roles, the role decision, the talk metrics."""

    mode: str  # "stereo" (one party per channel) or "mono" (diarized)
    turns: list[Turn]  # time order (by start); overlapping turns are both kept
    roles: RoleDecision  # who is the agent, confidence, reasons
    metrics: TalkMetrics  # talk time, silence, interruptions, pace, latency
    metadata: dict[str, str] = field(default_factory=dict)  # named groups of agent_pattern
    regions: list[list[Region]] = field(default_factory=list)  # speech per channel
    speaker_regions: list[SpeakerRegion] = field(default_factory=list)  # mono diarization

    def conversation(self, transcript: Transcript | None = None, source: str = "") -> Conversation:
        """The turns as a :class:`Conversation` for the text stages."""
        language = transcript.language if transcript is not None else "id"
        return Conversation(
            turns=self.turns, language=language, source=source, transcript=transcript
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "roles": self.roles.to_dict(),
            "metadata": dict(self.metadata),
            "metrics": self.metrics.to_dict(),
            "turns": [t.to_dict() for t in self.turns],
            "regions": [[r.to_dict() for r in ch] for ch in self.regions],
            "speaker_regions": [r.to_dict() for r in self.speaker_regions],
        }


def file_metadata(path: str, pattern: str | None) -> dict[str, str]:
    """Named groups of ``pattern`` searched in the file name of ``path`` (empty if no match).

    Example: ``(?P<agent>[A-Z]\\d+)_(?P<call>\\d+)_(?P<date>\\d{8})`` on ``A17_5521_20240131.wav``.
    """
    if not pattern:
        return {}
    name = os.path.basename(path)
    found = pattern_groups(pattern, name, what="agent pattern", option="agent_pattern")
    if found is None:
        logger.warning("'%s': the agent pattern does not match the file name", name)
        return {}
    return found


def _distance(a: float, b: float, span: tuple[float, float]) -> float:
    """Gap between [a, b] and span (0 when they overlap)."""
    return max(0.0, span[0] - b, a - span[1])


def _overlap(a: float, b: float, span: tuple[float, float]) -> float:
    return max(0.0, min(b, span[1]) - max(a, span[0]))


def _near_speech(w: Word, spans: list[tuple[float, float]], pad_s: float, share: float) -> bool:
    """Whether at least ``share`` of the word lies in speech (spans widened by ``pad_s``)."""
    length = w.end_s - w.start_s
    if length <= 0:
        return any(_distance(w.start_s, w.start_s, s) <= pad_s for s in spans)
    inside = sum(_overlap(w.start_s, w.end_s, (a - pad_s, b + pad_s)) for a, b in spans)
    return inside >= share * length


def _snap(
    start: float, end: float, spans, snap_s: float, min_span_s: float = 0.2
) -> tuple[float, float]:
    """Move turn edges to the edges of the speech spans holding its first and last words.

    Spans shorter than ``min_span_s`` (a diarization boundary slip of a few frames) are not
    snapped to."""
    spans = [s for s in spans if s[1] - s[0] >= min_span_s]
    if not spans:
        return start, end
    first = min(spans, key=lambda s: _distance(start, start, s))
    last = min(spans, key=lambda s: _distance(end, end, s))
    if _distance(start, start, first) <= snap_s and first[0] >= start - snap_s:
        start = first[0]
    if _distance(end, end, last) <= snap_s and last[1] <= end + snap_s:
        end = last[1]
    return start, max(end, start)


def _extend(start, end, spans, max_gap_s: float, lo: float, hi: float, min_span_s: float = 0.2):
    """Widen a turn over the speaker's speech spans that lie within ``max_gap_s`` of its edges
    but hold no words (Whisper dropped a word there: "So," before "to sum up"), staying after
    ``lo`` and before ``hi`` (the speaker's previous and next turns). Spans shorter than
    ``min_span_s`` (less than a word: a diarization boundary slip) are not followed."""
    changed = True
    while changed:
        changed = False
        for a, b in spans:
            if b - a < min_span_s:
                continue
            # a span between two turns goes to the nearer one
            if lo < a < start and b >= start - max_gap_s and start - b <= a - lo:
                start, changed = a, True
            if end < b < hi and a <= end + max_gap_s and a - end < hi - b:
                end, changed = b, True
    return start, end


def build_turns(
    labelled: list[tuple[str, int | None, Word]],
    spans_by_speaker: dict[str, list[tuple[float, float]]],
    *,
    max_pause_s: float = 1.0,
    snap_s: float = 0.5,
) -> list[Turn]:
    """Group (speaker, channel, word) into turns; return them in time order, roles unknown.

    Words of one speaker separated by less than ``max_pause_s`` form a turn, also when
    another speaker talks in between (overlaps are kept).
    """
    by_speaker: dict[str, list[tuple[int | None, Word]]] = {}
    for speaker, channel, w in sorted(labelled, key=lambda x: x[2].start_s):
        by_speaker.setdefault(speaker, []).append((channel, w))
    turns = []
    for speaker, items in by_speaker.items():
        groups: list[list[tuple[int | None, Word]]] = []
        for item in items:
            if groups and item[1].start_s - groups[-1][-1][1].end_s < max_pause_s:
                groups[-1].append(item)
            else:
                groups.append([item])
        spans = spans_by_speaker.get(speaker, [])
        for i, g in enumerate(groups):
            words = [w for _, w in g]
            start, end = _snap(words[0].start_s, words[-1].end_s, spans, snap_s)
            lo = groups[i - 1][-1][1].end_s if i else float("-inf")
            hi = groups[i + 1][0][1].start_s if i + 1 < len(groups) else float("inf")
            start, end = _extend(start, end, spans, max_pause_s, lo, hi)
            turns.append(
                Turn(
                    index=0,
                    role="unknown",
                    text=" ".join(w.text for w in words),
                    speaker=speaker,
                    channel=g[0][0],
                    start_s=round(start, 3),
                    end_s=round(end, 3),
                    words=words,
                )
            )
    turns.sort(key=lambda t: (t.start_s, t.end_s))
    for i, t in enumerate(turns):
        t.index = i
    return turns


def _stereo_words(transcript, regions, options):
    labelled, spans = [], {}
    for ch in (0, 1):
        name = f"ch{ch}"
        spans[name] = [(r.start_s, r.end_s) for r in regions[ch]]
        for w in transcript.words(ch):
            if _near_speech(w, spans[name], options.word_pad_s, options.word_min_speech):
                labelled.append((name, ch, w))
    return labelled, spans


def _mono_words(transcript, regions, speaker_regions, options):
    speech = [(r.start_s, r.end_s) for r in regions]
    spans: dict[str, list[tuple[float, float]]] = {}
    for r in speaker_regions:
        spans.setdefault(r.speaker, []).append((r.start_s, r.end_s))
    labelled = []
    for w in transcript.words():
        if not _near_speech(w, speech, options.word_pad_s, options.word_min_speech):
            continue
        if not speaker_regions:
            labelled.append(("S1", None, w))
            continue
        best = max(
            speaker_regions, key=lambda r: _overlap(w.start_s, w.end_s, (r.start_s, r.end_s))
        )
        if _overlap(w.start_s, w.end_s, (best.start_s, best.end_s)) == 0.0:
            best = min(
                speaker_regions, key=lambda r: _distance(w.start_s, w.end_s, (r.start_s, r.end_s))
            )
        labelled.append((best.speaker, None, w))
    return labelled, spans


ONE_VOICE_REASON = "one voice only: the recording holds a single speaker"


def mark_one_voice(decision: RoleDecision) -> None:
    """A mono call with one voice: its speaker is the agent when the role cues (or an override)
    say so, else ``unknown``; never a caller the recording did not hold apart."""
    roles = {s: ("agent" if s == decision.agent else "unknown") for s in decision.roles}
    decision.roles = roles
    if decision.agent not in roles:
        decision.agent = None
    decision.reasons.insert(0, ONE_VOICE_REASON)


def check_options(audio, options: SpeakersOptions) -> bool:
    """Check the overrides against the recording; return True for two-party stereo.

    Raises
    ------
    CallscanError
        An override that does not fit the recording (a channel on mono, a speaker number
        on stereo or out of range) or an invalid ``agent_pattern``.
    """
    stereo = audio.n_channels == 2 and not audio.identical_channels
    if options.agent_channel is not None and not stereo:
        raise CallscanError(
            "an agent channel needs a stereo recording; on mono, give the agent speaker",
            option="agent_channel",
        )
    if options.agent_speaker is not None and stereo:
        raise CallscanError(
            "an agent speaker is for mono recordings; on stereo, give the agent channel",
            option="agent_speaker",
        )
    if options.agent_channel not in (None, 0, 1):
        raise CallscanError(
            f"agent channel must be 0 (left) or 1 (right), got {options.agent_channel}",
            option="agent_channel",
        )
    if options.agent_speaker is not None and not 1 <= options.agent_speaker <= options.n_speakers:
        raise CallscanError(
            f"agent speaker must be between 1 and {options.n_speakers}, "
            f"got {options.agent_speaker}",
            option="agent_speaker",
        )
    file_metadata(audio.info.path, options.agent_pattern)
    return stereo


def assign_speakers(
    audio,
    transcript: Transcript,
    options: SpeakersOptions | None = None,
    *,
    regions: list[list[Region]] | None = None,
    vad_model=None,
    encoder=None,
) -> SpeakersResult:
    """Turn a transcribed call into agent / caller turns with roles and talk metrics.

    Parameters
    ----------
    audio : callscan.audio.decode.Audio
        The recording the transcript was made from (16 kHz, 1 or 2 channels).
    transcript : Transcript
        Its transcript with word timestamps (channel per segment).
    options : SpeakersOptions, optional
        Speaker count, overrides, thresholds.
    regions : list of list of Region, optional
        Speech per channel from :func:`callscan.audio.vad.speech_regions`, when already computed
        (e.g. to restrict transcription to speech); computed here otherwise.
    vad_model, encoder : optional
        Models from :func:`callscan.audio.vad.load_vad` and :func:`callscan.speakers.diarize.load_encoder`,
        loaded here when needed and omitted.

    Returns
    -------
    SpeakersResult
    """
    from callscan.audio import vad
    from callscan.speakers import diarize

    options = options or SpeakersOptions()
    stereo = check_options(audio, options)
    if regions is None:
        regions = vad.speech_regions(audio, options.vad, model=vad_model)
    if len(regions) != audio.n_channels:
        raise CallscanError(
            f"got speech regions for {len(regions)} channels; the audio has {audio.n_channels}"
        )

    speaker_regions: list[SpeakerRegion] = []
    if stereo:
        labelled, spans = _stereo_words(transcript, regions, options)
        agent = f"ch{options.agent_channel}" if options.agent_channel is not None else None
        reason = (
            f"agent channel set by the user: {CHANNEL_NAMES[options.agent_channel]}"
            if options.agent_channel is not None
            else ""
        )
    else:
        from dataclasses import replace

        d_options = replace(options.diarize, n_speakers=options.n_speakers)
        speaker_regions = diarize.diarize(audio.mono(), regions[0], d_options, encoder=encoder)
        labelled, spans = _mono_words(transcript, regions[0], speaker_regions, options)
        agent = f"S{options.agent_speaker}" if options.agent_speaker is not None else None
        reason = f"agent speaker set by the user: {options.agent_speaker}" if agent else ""

    turns = build_turns(labelled, spans, max_pause_s=options.max_pause_s, snap_s=options.snap_s)
    language = options.language or (
        transcript.language if transcript.language in ("id", "en") else None
    )
    decision = decide_roles(
        turns,
        RoleOptions(
            language=language, agent_speaker=agent, override_reason=reason, swap=options.swap_roles
        ),
    )
    if not stereo and options.n_speakers > 1 and len({t.speaker for t in turns}) == 1:
        mark_one_voice(decision)
    for t in turns:
        t.role = decision.roles.get(t.speaker, "unknown")
    m_options = options.metrics
    if language and language != m_options.language:
        from dataclasses import replace

        m_options = replace(m_options, language=language)
    metrics = talk_metrics(turns, audio.duration_s, m_options)
    return SpeakersResult(
        mode="stereo" if stereo else "mono",
        turns=turns,
        roles=decision,
        metrics=metrics,
        metadata=file_metadata(audio.info.path, options.agent_pattern),
        regions=regions,
        speaker_regions=speaker_regions,
    )
