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
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from callscan.analysis.opening.content import opening_content
from callscan.analysis.opening.profile import MeasureSpec, load_profile
from callscan.audio import prosody
from callscan.conversation import AGENT, Conversation, Turn, guess_language
from callscan.util import merge_spans

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


# ----------------------------------------------------------------------------- spans


def _clip(spans, lo: float, hi: float) -> list[tuple[float, float]]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def _total(spans) -> float:
    return float(sum(b - a for a, b in spans))


def _timed(turns: list[Turn]) -> list[Turn]:
    return [t for t in turns if t.start_s is not None and t.end_s is not None]


def _agent_phonation(agent_turns: list[Turn], lo: float, hi: float, pause_s: float):
    """Agent speech spans in [lo, hi]: turn spans, split at word gaps >= pause_s when known."""
    spans = []
    for t in agent_turns:
        words = [w for w in t.words if w.end_s > w.start_s]
        if words:
            spans += [(w.start_s, w.end_s) for w in words]
        else:
            spans.append((t.start_s, t.end_s))
    return _clip(merge_spans(spans, gap_s=pause_s - 1e-6), lo, hi)


def _pauses(speech, other, pause_s: float) -> list[tuple[float, float]]:
    """Gaps >= pause_s between consecutive agent spans that no other party's speech fills."""
    out = []
    for (_, b), (a, _) in zip(speech, speech[1:], strict=False):
        if a - b >= pause_s and not any(x < a and y > b for x, y in other):
            out.append((b, a))
    return out


# ----------------------------------------------------------------------------- words


def _agent_words(agent_turns: list[Turn], lo: float, hi: float):
    """(texts, probabilities) of the agent's words in [lo, hi]; turns without words prorated."""
    texts: list[str] = []
    probs: list[float] = []
    for t in agent_turns:
        if t.words:
            for w in t.words:
                if lo <= (w.start_s + w.end_s) / 2 <= hi:
                    texts.append(w.text)
                    probs.append(w.probability)
        else:
            words = t.text.split()
            share = _total(_clip([(t.start_s, t.end_s)], lo, hi)) / max(t.end_s - t.start_s, 1e-6)
            texts += words[: int(round(share * len(words)))]
    return texts, probs


def _statement_ends(agent_turns: list[Turn], lo: float, hi: float) -> list[float]:
    """Times where an agent statement (not a question) ends, inside [lo, hi]."""
    ends = []
    for t in agent_turns:
        words = [w for w in t.words if w.text.strip()]
        if words:
            for i, w in enumerate(words):
                last = i == len(words) - 1
                if w.text.rstrip().endswith((".", "!")) or (
                    last and not w.text.rstrip().endswith("?")
                ):
                    ends.append(w.end_s)
        elif not t.text.rstrip().endswith("?"):
            ends.append(t.end_s)
    return [e for e in ends if lo < e <= hi]


# ----------------------------------------------------------------------------- scoring


def _explain(spec: MeasureSpec, value, language: str, note="", kind=None, detail=""):
    name = spec.name.get(language) or spec.name.get("en", spec.id)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Measure(spec.id, name, None, spec.unit, spec.target_range, None, spec.weight,
                       spec.source, spec.provisional, "", note or "not assessable")  # fmt: skip
    note = detail
    sub = spec.sub_score(value)
    if kind is None:
        lo, hi = spec.target_range
        kind = (
            "low"
            if lo is not None and value < lo
            else "high"
            if hi is not None and value > hi
            else "ok"
        )
    if kind == "curt":
        sub = 0.0
    return Measure(spec.id, name, float(value), spec.unit, spec.target_range, sub, spec.weight,
                   spec.source, spec.provisional, spec.tip(kind, language), note)  # fmt: skip


def _score(measures: list[Measure], min_share: float) -> float | None:
    total = sum(m.weight for m in measures)
    used = [m for m in measures if m.sub_score is not None]
    w = sum(m.weight for m in used)
    if total <= 0 or w / total < min_share or w <= 0:
        return None
    return sum(m.weight * m.sub_score for m in used) / w


def _group(profile, group, values: dict, language: str, min_share: float) -> Score:
    out = []
    for mid, spec in profile.measures[group].items():
        value, note, kind, *detail = values.get(mid, (None, "not measured", None))
        out.append(_explain(spec, value, language, note, kind, *detail))
    return Score(_score(out, min_share), out)


# ----------------------------------------------------------------------------- main


def _agent_channel(audio, agent_turns: list[Turn], agent_channel, flags: list[str]) -> int:
    if audio.n_channels == 1 or audio.identical_channels:
        return 0
    if agent_channel is not None:
        return int(agent_channel)
    chans = [t.channel for t in agent_turns if t.channel is not None]
    if chans:
        return max(set(chans), key=chans.count)
    flags.append("agent_channel_assumed")
    return 0


def score_opening(
    audio,
    conversation_or_turns: Conversation | list[Turn],
    *,
    agent_channel: int | None = None,
    regions=None,
    options: OpeningOptions | None = None,
) -> OpeningResult:
    """Score the agent's tone and clarity in the first seconds of a call.

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
    window_s = float(options.window_s or st["window_s"])
    conv = conversation_or_turns
    turns = conv.turns if isinstance(conv, Conversation) else list(conv)
    language = options.language or (conv.language if isinstance(conv, Conversation) else None)
    language = language or guess_language(" ".join(t.text for t in turns))
    language = language if language in ("id", "en") else "en"
    flags: list[str] = []
    cpu: dict[str, float] = {}
    t_start = time.process_time()

    timed = _timed(turns)
    agent_turns = [t for t in timed if t.role == AGENT]
    ch = _agent_channel(audio, agent_turns, agent_channel, flags)
    region_spans = [(r.start_s, r.end_s) for chan in (regions or []) for r in chan]
    starts = [t.start_s for t in timed] + [a for a, _ in region_spans]
    duration = audio.duration_s
    if not starts:
        return OpeningResult(NO_AGENT_SPEECH, flags, language,
                             {"start_s": None, "end_s": None, "agent_speech_s": 0.0},
                             None, None, profile=profile.path)  # fmt: skip
    w0 = max(0.0, min(starts))
    w1 = min(w0 + window_s, duration)
    if w1 - w0 < window_s - 0.05:
        flags.append("short_window")
    pause_s = st["pause_min_s"]
    speech = _agent_phonation(agent_turns, w0, w1, pause_s)
    if not agent_turns and regions and audio.n_channels == 2 and not audio.identical_channels:
        speech = _clip(merge_spans([(r.start_s, r.end_s) for r in regions[ch]]), w0, w1)
    others = merge_spans([(t.start_s, t.end_s) for t in timed if t.role != AGENT])
    window = {
        "start_s": round(w0, 3),
        "end_s": round(w1, 3),
        "length_s": round(w1 - w0, 3),
        "agent_speech_s": round(_total(speech), 3),
        "agent_channel": ch,
        "first_agent_speech_s": round(speech[0][0], 3) if speech else None,
    }
    y = np.asarray(audio.channel(ch), dtype=np.float32)
    sr = audio.sr
    seg = y[int(w0 * sr) : int(w1 * sr)]
    rel = [(a - w0, b - w0) for a, b in speech]
    info: dict[str, Any] = {"sample_rate_hz": audio.info.sample_rate_hz}

    # flags from the channel itself
    band_db = prosody.high_band_share_db(seg, sr=sr)
    if audio.info.sample_rate_hz <= st["narrowband_hz"] or band_db < st["narrowband_db"]:
        flags.append("telephone_band")
    clip_pct, clip_run = prosody.clipping(seg)
    if clip_pct >= st["clip_pct"] or clip_run >= st["clip_run"]:
        flags.append("clipped")
    seg_db = (
        10 * math.log10(float(np.mean(seg.astype(np.float64) ** 2)) + 1e-10) if seg.size else -100
    )
    status = OK
    if seg_db < st["silence_dbfs"]:
        status = SILENCE
    elif not speech:
        status = NO_AGENT_SPEECH
    else:
        sp = np.concatenate([seg[int(a * sr) : int(b * sr)] for a, b in rel])
        tonal = prosody.tonal_frames(sp, sr=sr)
        if tonal.size and float(np.median(tonal)) > st["tone_share"]:
            status = MUSIC
        elif _total(speech) < st["min_agent_speech_s"]:
            status = TOO_LITTLE
    content = {}
    if options.content:
        t0 = time.process_time()
        in_window = [t for t in timed if t.end_s > w0 and t.start_s < w1] or (
            turns if not timed else []
        )
        content = opening_content(in_window, language, profile, playbook_path=options.playbook_path)
        cpu["content"] = time.process_time() - t0
    if status != OK:
        info["cpu_s"] = {k: round(v, 4) for k, v in cpu.items()}
        return OpeningResult(status, flags, language, window, None, None, content, info,
                             profile.path)  # fmt: skip

    # F0, periodicity, loudness
    t0 = time.process_time()
    track = prosody.f0_track(seg, sr=sr, speech_spans=rel)
    cpu["f0"] = time.process_time() - t0
    voiced_ok = track.voiced_s >= st["min_voiced_s"]
    few = f"only {track.voiced_s:.1f} s voiced (need {st['min_voiced_s']:g} s)"
    spread = prosody.semitone_spread(track.f0_hz) if voiced_ok else None
    hnr = prosody.harmonicity_db(track.periodicity[track.voiced]) if voiced_ok else None
    t0 = time.process_time()
    loud_sd = prosody.level_sd_db(track) if voiced_ok else None
    cpu["loudness"] = time.process_time() - t0
    ends = [e - w0 for e in _statement_ends(agent_turns, w0, w1)]
    changes = [c for c in (prosody.terminal_change_st(track, e) for e in ends) if not math.isnan(c)]
    falling = (
        100.0 * sum(c <= st["falling_st"] for c in changes) / len(changes) if changes else None
    )

    # SNR and level (noise: non-speech of any party from the call start to the window end)
    t0 = time.process_time()
    all_speech = merge_spans([(t.start_s, t.end_s) for t in timed] + region_spans)
    gaps, pos = [], 0.0
    for a, b in all_speech + [(w1, w1)]:
        if a > pos:
            gaps.append((pos, min(a, w1)))
        pos = max(pos, b)
    pre = y[: int(w1 * sr)]
    tonal_all = prosody.tonal_frames(pre, sr=sr)
    if tonal_all.size:
        hop = 512 / sr
        loud = prosody.spans_mask(gaps, tonal_all.size, hop_s=hop) & (tonal_all > st["tone_share"])
        frame_db = 10 * np.log10(
            np.mean(pre[: tonal_all.size * 512].reshape(-1, 512) ** 2, axis=1) + 1e-10
        )
        loud &= frame_db > seg_db - 30
        if loud.sum() * hop >= 0.5:
            flags.append("music_or_hold")
            idx = np.flatnonzero(loud)
            gaps = [g for g in gaps if not any(g[0] <= i * hop < g[1] for i in idx)]
    snr, noise_s = prosody.snr_db(pre, sr=sr, speech_spans=speech, noise_spans=gaps)
    level = prosody.active_level_dbfs(seg, sr=sr, speech_spans=rel)
    cpu["snr"] = time.process_time() - t0
    if not math.isnan(snr) and snr < st["low_snr_db"]:
        flags.append("low_snr")

    # words: rate, confidence, warmth, fillers
    texts, probs = _agent_words(agent_turns, w0, w1)
    if not texts:
        flags.append("no_transcript")
    syl = sum(_syllables(w, language) for w in texts)
    phon = _total(speech)
    pauses = _pauses(speech, others, pause_s)
    speaking = phon + _total(pauses)
    rate_ok = syl >= st["min_syllables"]
    few_syl = f"{syl} syllables in the transcript (need {st['min_syllables']})"
    joined = " ".join(texts)
    polite = profile.polite.get(language, {})
    kinds = sorted(k for k, rx in polite.items() if rx is not None and rx.search(joined))
    curt_rx = profile.curt.get(language)
    curt = [m.group() for m in curt_rx.finditer(joined)] if curt_rx is not None else []
    filler_rx = _fillers(language, options)
    n_fill = len(filler_rx.findall(joined)) if filler_rx is not None and texts else 0
    conf = math.exp(sum(math.log(max(p, 1e-6)) for p in probs) / len(probs)) if probs else None
    no_text = "no transcript words in the window"

    tone_values = {
        "intonation_st": (spread, few, None),
        "speaking_rate_syl_s": (syl / speaking if rate_ok and speaking else None, few_syl, None),
        "pause_ratio_pct": (100.0 * _total(pauses) / speaking if speaking else None, "", None),
        "loudness_sd_db": (loud_sd, few, None),
        "falling_endings_pct": (
            falling,
            "no statement end with enough voicing",
            None,
            f"{len(changes)} statement endings, changes in st: {[round(c, 1) for c in changes]}",
        ),
        "warmth_count": (
            float(len(kinds)) if texts else None,
            no_text,
            "curt" if curt else None,
            "polite: " + ", ".join(kinds) + ("; curt: " + ", ".join(curt) if curt else ""),
        ),
    }
    clarity_values = {
        "asr_confidence": (conf, "no word probabilities (Whisper words needed)", None),
        "snr_db": (None if math.isnan(snr) else snr, "no non-speech frames to measure noise", None),
        "articulation_rate_syl_s": (syl / phon if rate_ok and phon else None, few_syl, None),
        "level_dbfs": (None if math.isnan(level) else level, "", None),
        "clipping_pct": (clip_pct, "", None, f"longest full-scale run {clip_run} samples"),
        "harmonicity_db": (hnr, few, None),
        "filler_rate_per_100w": (100.0 * n_fill / len(texts) if texts else None, no_text, None,
                                 f"{n_fill} heard in {len(texts)} words; Whisper drops many fillers"),
    }  # fmt: skip
    share = st["min_weight_share"]
    tone = _group(profile, "tone", tone_values, language, share)
    clarity = _group(profile, "clarity", clarity_values, language, share)
    cpu["total"] = time.process_time() - t_start
    info.update(
        {
            "voiced_s": round(track.voiced_s, 3),
            "syllables": syl,
            "words": len(texts),
            "pauses": [[round(a, 3), round(b, 3)] for a, b in pauses],
            "terminal_changes_st": [round(c, 2) for c in changes],
            "noise_s": round(noise_s, 3),
            "high_band_db": None if math.isnan(band_db) else round(band_db, 1),
            "clipped_run_samples": clip_run,
            "cpu_s": {k: round(v, 4) for k, v in cpu.items()},
        }
    )
    log.debug("opening: tone %s, clarity %s", tone.score, clarity.score)
    return OpeningResult(
        status, flags, language, window, tone, clarity, content, info, profile.path
    )


def _syllables(word: str, language: str) -> int:
    from callscan.speakers.metrics import count_syllables

    return count_syllables(word, language)


def _fillers(language: str, options: OpeningOptions):
    from callscan.analysis.playbook import load_playbook

    try:
        return load_playbook(options.playbook_path, language=language).fillers
    except Exception:  # noqa: BLE001 - fillers are optional; a broken playbook is reported by content
        return None
