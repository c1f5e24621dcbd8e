"""What the opening's scores are made of: the window, and the acoustic and word measures in it.

Each step is a plain function returning a small frozen dataclass; :mod:`.score` turns them into
sub-scores and tips. Times are seconds from the start of the call unless a name says otherwise
(``relative_speech`` is in seconds from the window's start).

Public API
----------
Window, find_window
    The scored window (from the first speech of either party) and the agent's speech in it.
ChannelLevels, channel_levels
    Level, high-band share and clipping of the agent's channel in the window.
speech_tonality
    Median tonal share of the agent's speech (music or hold when near 1).
Acoustics, acoustic_measures
    Intonation, harmonicity, loudness variation and falling statement endings (F0 track).
NoiseEstimate, estimate_noise
    SNR against the non-speech of any party, active speech level, music or hold in the gaps.
WordMeasures, word_measures
    Syllables, pauses, politeness and curt words, fillers and ASR confidence.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from callscan.audio import prosody
from callscan.conversation import AGENT, Turn
from callscan.util import merge_spans

if TYPE_CHECKING:
    from callscan.analysis.opening.profile import OpeningProfile
    from callscan.audio.decode import Audio
    from callscan.audio.vad import Region

Span = tuple[float, float]  # (start_s, end_s)

TONAL_HOP = 512  # samples per frame of prosody.tonal_frames
MUSIC_MIN_S = 0.5  # s of loud tonal non-speech that flag music or hold
MUSIC_BELOW_LEVEL_DB = 30.0  # tonal frames quieter than the window's level by more are ignored

# ----------------------------------------------------------------------------- spans


def clip_spans(spans: Iterable[Span], lo: float, hi: float) -> list[Span]:
    """The parts of ``spans`` inside [lo, hi] (empty parts dropped)."""
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def total_s(spans: Iterable[Span]) -> float:
    """Summed length of ``spans``, in seconds."""
    return float(sum(b - a for a, b in spans))


def timed_turns(turns: Iterable[Turn]) -> list[Turn]:
    """The turns that have both a start and an end time."""
    return [t for t in turns if t.start_s is not None and t.end_s is not None]


def turn_spans(turns: Iterable[Turn]) -> list[Span]:
    """(start_s, end_s) of the timed turns among ``turns``."""
    return [(t.start_s, t.end_s) for t in turns if t.start_s is not None and t.end_s is not None]


def agent_phonation(
    agent_turns: Sequence[Turn], lo: float, hi: float, pause_s: float
) -> list[Span]:
    """Agent speech spans in [lo, hi]: turn spans, split at word gaps >= pause_s when known."""
    spans: list[Span] = []
    for t in agent_turns:
        if t.start_s is None or t.end_s is None:
            continue
        words = [w for w in t.words if w.end_s > w.start_s]
        if words:
            spans += [(w.start_s, w.end_s) for w in words]
        else:
            spans.append((t.start_s, t.end_s))
    return clip_spans(merge_spans(spans, gap_s=pause_s - 1e-6), lo, hi)


def pauses_between(speech: Sequence[Span], other: Sequence[Span], pause_s: float) -> list[Span]:
    """Gaps >= pause_s between consecutive agent spans that no other party's speech fills."""
    out = []
    for (_, b), (a, _) in zip(speech, speech[1:], strict=False):
        if a - b >= pause_s and not any(x < a and y > b for x, y in other):
            out.append((b, a))
    return out


# ----------------------------------------------------------------------------- window


@dataclass(frozen=True)
class Window:
    """The scored window and who speaks in it."""

    start_s: float  # first speech of either party (turns or VAD regions)
    end_s: float  # start_s + the window length, or the end of the call
    agent_channel: int  # channel measured (0 on mono)
    speech: tuple[Span, ...]  # the agent's speech spans inside the window
    others: tuple[Span, ...]  # other parties' timed turns, merged (whole call)
    any_speech: tuple[Span, ...]  # speech of any party, turns and VAD regions, merged
    short: bool  # the call ends before the full window

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def agent_speech_s(self) -> float:
        return total_s(self.speech)

    @property
    def relative_speech(self) -> list[Span]:
        """The agent's speech spans in seconds from the window's start."""
        return [(a - self.start_s, b - self.start_s) for a, b in self.speech]

    def segment(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The window's samples of a signal of the whole call."""
        return y[int(self.start_s * sr) : int(self.end_s * sr)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "length_s": round(self.length_s, 3),
            "agent_speech_s": round(self.agent_speech_s, 3),
            "agent_channel": self.agent_channel,
            "first_agent_speech_s": round(self.speech[0][0], 3) if self.speech else None,
        }


def find_window(
    audio: Audio,
    timed: Sequence[Turn],
    regions: Sequence[Sequence[Region]] | None,
    agent_channel: int,
    *,
    window_s: float,
    pause_s: float,
) -> Window | None:
    """The window from the first speech of either party; None when nothing has a time.

    On stereo without timed agent turns, the agent channel's VAD regions are the agent's speech.
    """
    agent_turns = [t for t in timed if t.role == AGENT]
    region_spans = [(r.start_s, r.end_s) for chan in (regions or []) for r in chan]
    starts = [a for a, _ in turn_spans(timed)] + [a for a, _ in region_spans]
    if not starts:
        return None
    w0 = max(0.0, min(starts))
    w1 = min(w0 + window_s, audio.duration_s)
    speech = agent_phonation(agent_turns, w0, w1, pause_s)
    if not agent_turns and regions and audio.n_channels == 2 and not audio.identical_channels:
        own = [(r.start_s, r.end_s) for r in regions[agent_channel]]
        speech = clip_spans(merge_spans(own), w0, w1)
    others = merge_spans(turn_spans(t for t in timed if t.role != AGENT))
    any_speech = merge_spans(turn_spans(timed) + region_spans)
    short = w1 - w0 < window_s - 0.05
    return Window(w0, w1, agent_channel, tuple(speech), tuple(others), tuple(any_speech), short)


# ----------------------------------------------------------------------------- channel


@dataclass(frozen=True)
class ChannelLevels:
    """Level, band and clipping of the agent's channel in the window."""

    level_db: float  # mean power of the window, dB re full scale (-100 when empty)
    high_band_db: float  # energy above 3.6 kHz re 300-3400 Hz, dB (NaN: not measurable)
    clipped_pct: float  # share of samples at full scale, percent
    clipped_run_samples: int  # longest run of full-scale samples


def channel_levels(seg: np.ndarray, sr: int) -> ChannelLevels:
    """Level, high-band share and clipping of the window's samples."""
    band_db = prosody.high_band_share_db(seg, sr=sr)
    clip_pct, clip_run = prosody.clipping(seg)
    level_db = (
        10 * math.log10(float(np.mean(seg.astype(np.float64) ** 2)) + 1e-10) if seg.size else -100
    )
    return ChannelLevels(level_db, band_db, clip_pct, clip_run)


def speech_tonality(seg: np.ndarray, sr: int, relative_speech: Sequence[Span]) -> float | None:
    """Median tonal share of the frames of the agent's speech (None: too short to tell)."""
    sp = np.concatenate([seg[int(a * sr) : int(b * sr)] for a, b in relative_speech])
    tonal = prosody.tonal_frames(sp, sr=sr)
    return float(np.median(tonal)) if tonal.size else None


# ----------------------------------------------------------------------------- acoustics


@dataclass(frozen=True)
class Acoustics:
    """F0-based measures of the agent's speech in the window (None: too little voicing)."""

    voiced_s: float  # voiced time found by the F0 tracker
    voiced_enough: bool  # voiced_s reaches the profile's min_voiced_s
    intonation_st: float | None  # robust F0 spread, semitones
    harmonicity_db: float | None  # median harmonics-to-noise ratio
    loudness_sd_db: float | None  # SD of the voiced frames' level
    terminal_changes_st: tuple[float, ...]  # F0 change at each statement end, semitones
    falling_endings_pct: float | None  # share of statement ends falling by falling_st or more
    cpu_s: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


def statement_ends(agent_turns: Sequence[Turn], lo: float, hi: float) -> list[float]:
    """Times where an agent statement (not a question) ends, inside (lo, hi]."""
    ends: list[float] = []
    for t in agent_turns:
        words = [w for w in t.words if w.text.strip()]
        if words:
            for i, w in enumerate(words):
                last = i == len(words) - 1
                if w.text.rstrip().endswith((".", "!")) or (
                    last and not w.text.rstrip().endswith("?")
                ):
                    ends.append(w.end_s)
        elif t.end_s is not None and not t.text.rstrip().endswith("?"):
            ends.append(t.end_s)
    return [e for e in ends if lo < e <= hi]


def acoustic_measures(
    seg: np.ndarray,
    sr: int,
    window: Window,
    agent_turns: Sequence[Turn],
    *,
    min_voiced_s: float,
    falling_st: float,
) -> Acoustics:
    """Intonation, harmonicity, loudness variation and falling endings from one F0 track."""
    cpu: dict[str, float] = {}
    t0 = time.process_time()
    track = prosody.f0_track(seg, sr=sr, speech_spans=window.relative_speech)
    cpu["f0"] = time.process_time() - t0
    voiced_ok = track.voiced_s >= min_voiced_s
    spread = prosody.semitone_spread(track.f0_hz) if voiced_ok else None
    hnr = prosody.harmonicity_db(track.periodicity[track.voiced]) if voiced_ok else None
    t0 = time.process_time()
    loud_sd = prosody.level_sd_db(track) if voiced_ok else None
    cpu["loudness"] = time.process_time() - t0
    ends = [e - window.start_s for e in statement_ends(agent_turns, window.start_s, window.end_s)]
    changes = [c for c in (prosody.terminal_change_st(track, e) for e in ends) if not math.isnan(c)]
    falling = 100.0 * sum(c <= falling_st for c in changes) / len(changes) if changes else None
    return Acoustics(
        track.voiced_s, voiced_ok, spread, hnr, loud_sd, tuple(changes), falling, cpu_s=cpu
    )


# ----------------------------------------------------------------------------- noise


@dataclass(frozen=True)
class NoiseEstimate:
    """Noise and level of the agent's channel (noise: non-speech from the call start)."""

    snr_db: float | None  # speech re noise (None: no non-speech frames)
    noise_s: float  # seconds of noise frames used
    level_dbfs: float | None  # active speech level (None: no speech frames)
    music_or_hold: bool  # loud tonal non-speech (music or hold) found and left out
    cpu_s: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


def noise_gaps(any_speech: Sequence[Span], end_s: float) -> list[Span]:
    """Stretches before ``end_s`` where nobody speaks."""
    gaps: list[Span] = []
    pos = 0.0
    for a, b in list(any_speech) + [(end_s, end_s)]:
        if a > pos:
            gaps.append((pos, min(a, end_s)))
        pos = max(pos, b)
    return gaps


def music_frames(
    pre: np.ndarray, sr: int, gaps: Sequence[Span], *, tone_share: float, level_db: float
) -> np.ndarray:
    """Indices of loud tonal frames (``TONAL_HOP`` samples) inside ``gaps``."""
    tonal = prosody.tonal_frames(pre, sr=sr)
    if not tonal.size:
        return np.zeros(0, dtype=np.intp)
    hop = TONAL_HOP / sr
    loud = prosody.spans_mask(gaps, tonal.size, hop_s=hop) & (tonal > tone_share)
    frames = pre[: tonal.size * TONAL_HOP].reshape(-1, TONAL_HOP)
    frame_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    loud &= frame_db > level_db - MUSIC_BELOW_LEVEL_DB
    return np.flatnonzero(loud)


def estimate_noise(
    y: np.ndarray, sr: int, window: Window, *, level_db: float, tone_share: float
) -> NoiseEstimate:
    """SNR of the agent's speech against the gaps nobody speaks in, without music or hold."""
    t0 = time.process_time()
    gaps = noise_gaps(window.any_speech, window.end_s)
    pre = y[: int(window.end_s * sr)]
    idx = music_frames(pre, sr, gaps, tone_share=tone_share, level_db=level_db)
    hop = TONAL_HOP / sr
    music = bool(idx.size * hop >= MUSIC_MIN_S)
    if music:
        gaps = [g for g in gaps if not any(g[0] <= i * hop < g[1] for i in idx)]
    snr, noise_s = prosody.snr_db(pre, sr=sr, speech_spans=list(window.speech), noise_spans=gaps)
    level = prosody.active_level_dbfs(
        window.segment(y, sr), sr=sr, speech_spans=window.relative_speech
    )
    cpu = {"snr": time.process_time() - t0}
    return NoiseEstimate(
        None if math.isnan(snr) else snr,
        noise_s,
        None if math.isnan(level) else level,
        music,
        cpu_s=cpu,
    )


# ----------------------------------------------------------------------------- words


@dataclass(frozen=True)
class WordMeasures:
    """What the agent's words in the window tell: rate, pauses, warmth, fillers, confidence."""

    words: int  # words heard (or prorated from turns without word times)
    syllables: int  # syllables of those words
    phonation_s: float  # the agent's speech time
    pauses: tuple[Span, ...]  # the agent's own pauses (no other party speaking)
    polite_kinds: tuple[str, ...]  # kinds of polite wording heard, sorted
    curt_words: tuple[str, ...]  # curt or rude words heard
    fillers: int  # fillers heard
    confidence: float | None  # geometric mean of the word probabilities (None: none known)

    @property
    def pause_s(self) -> float:
        return total_s(self.pauses)

    @property
    def speaking_s(self) -> float:
        """Speech plus the agent's own pauses."""
        return self.phonation_s + self.pause_s


def agent_words(agent_turns: Sequence[Turn], lo: float, hi: float) -> tuple[list[str], list[float]]:
    """(texts, probabilities) of the agent's words in [lo, hi]; turns without words prorated."""
    texts: list[str] = []
    probs: list[float] = []
    for t in agent_turns:
        if t.words:
            for w in t.words:
                if lo <= (w.start_s + w.end_s) / 2 <= hi:
                    texts.append(w.text)
                    probs.append(w.probability)
        elif t.start_s is not None and t.end_s is not None:
            words = t.text.split()
            share = total_s(clip_spans([(t.start_s, t.end_s)], lo, hi)) / max(
                t.end_s - t.start_s, 1e-6
            )
            texts += words[: int(round(share * len(words)))]
    return texts, probs


def syllable_count(word: str, language: str) -> int:
    """Syllables of one word (:func:`callscan.speakers.metrics.count_syllables`)."""
    from callscan.speakers.metrics import count_syllables

    return count_syllables(word, language)


def word_measures(
    agent_turns: Sequence[Turn],
    window: Window,
    language: str,
    profile: OpeningProfile,
    *,
    pause_s: float,
    fillers: re.Pattern[str] | None,
) -> WordMeasures:
    """Count the agent's words, syllables, pauses, polite and curt wording and fillers."""
    texts, probs = agent_words(agent_turns, window.start_s, window.end_s)
    syl = sum(syllable_count(w, language) for w in texts)
    pauses = pauses_between(window.speech, window.others, pause_s)
    joined = " ".join(texts)
    polite = profile.polite.get(language, {})
    kinds = sorted(k for k, rx in polite.items() if rx is not None and rx.search(joined))
    curt_rx = profile.curt.get(language)
    curt = [m.group() for m in curt_rx.finditer(joined)] if curt_rx is not None else []
    n_fill = len(fillers.findall(joined)) if fillers is not None and texts else 0
    conf = math.exp(sum(math.log(max(p, 1e-6)) for p in probs) / len(probs)) if probs else None
    return WordMeasures(
        words=len(texts),
        syllables=syl,
        phonation_s=window.agent_speech_s,
        pauses=tuple(pauses),
        polite_kinds=tuple(kinds),
        curt_words=tuple(curt),
        fillers=n_fill,
        confidence=conf,
    )
