"""Speech regions per channel: silero-vad, with crosstalk gating on two-party stereo.

silero-vad ships its model inside the PyPI wheel (no hub download) and ignores hold tones
and music (``docs/research/voice-measures.md``), so Whisper is never fed them.

Regions that are tones (a few sinusoids carry nearly all their energy: ringback, DTMF, beeps,
plain synthetic melodies) are dropped as well, see :func:`tone_share`.

Crosstalk gating
----------------
On a stereo call each party has a channel, but a phone line leaks some of one party into the
other channel (bleed, typically 20-30 dB down). silero-vad is nearly level-invariant, so it
marks that bleed as speech too, and Whisper transcribes it. The gate works on short frames
(:data:`FRAME_S`), not whole regions, so pauses and quiet syllables do not decide a region:

1. For each direction, the *coupling* (dB) of channel ``j`` into channel ``i`` is estimated as
   the median of ``level_i - level_j`` over the frames where ``j`` is speech and clearly loud:
   while ``j`` talks alone, that is exactly the bleed level. It is clamped to
   ``[coupling_min_db, coupling_max_db]``.
2. A frame is speech for channel ``i`` when silero says so, when it rises
   ``floor_margin_db`` above the channel's noise floor, and when its level exceeds what bleed
   from ``j`` explains by ``margin_db``: ``level_i > level_j + coupling_ij + margin_db``.
   Real overlaps (both talking) pass on both channels: each is far above the other's bleed.
3. Kept frames are joined across gaps under ``fill_gap_s`` (inside silero's regions) and
   pieces shorter than ``min_speech_s`` are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from callscan.errors import CallscanError, ModelError

__all__ = [
    "FRAME_S",
    "Region",
    "VadOptions",
    "load_vad",
    "speech_regions",
    "total_s",
]

logger = logging.getLogger("callscan")

SAMPLE_RATE = 16000  # Hz, what silero-vad and Whisper take
FRAME = 512  # samples, silero's window at 16 kHz
FRAME_S = FRAME / SAMPLE_RATE  # s, 32 ms: the gate's time step
_EPS = 1e-10  # power floor, so silence is -100 dB rather than -inf
N_BANDS = 16  # frequency bands compared between channels to recognise bleed
CORR_CONTEXT = 4  # frames each side (4 x 32 ms) in the bleed correlation window


@dataclass(frozen=True)
class Region:
    """A stretch of speech, in seconds from the start of the file."""

    start_s: float  # start time
    end_s: float  # end time

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3)}


@dataclass(frozen=True)
class VadOptions:
    """How speech regions are found."""

    threshold: float = 0.5  # silero speech probability that starts speech
    min_speech_s: float = 0.25  # shorter speech bursts are dropped (silero and gate)
    min_silence_s: float = 0.1  # silero ends a region after this much silence
    speech_pad_s: float = 0.03  # silero pads each region by this much on both sides
    crosstalk_gate: bool = True  # stereo: drop the other party's bleed frame by frame
    margin_db: float = 8.0  # a frame must beat the bleed the other channel explains by this
    floor_margin_db: float = 12.0  # ... and the channel's own noise floor by this
    coupling_min_db: float = -45.0  # lowest bleed level (dB) the estimate may take
    coupling_max_db: float = -6.0  # highest bleed level: two equal channels are not bleed
    default_coupling_db: float = -30.0  # bleed assumed when none can be measured
    bleed_corr: float = 0.6  # band-level correlation above which a frame is the other's bleed
    min_bleed_s: float = 0.5  # bleed needed to measure the coupling, in seconds
    smooth_frames: int = 3  # frames (32 ms each) averaged into one level: ~100 ms blocks
    fill_gap_s: float = 0.3  # gated-out gaps shorter than this inside speech are kept
    max_tone_share: float = 0.93  # a region whose frames put more of their energy than this
    # in their 6 strongest FFT bins is a tone (ringback, DTMF, beep, plain melody): dropped.
    # Telephone speech measured 0.68-0.83; pure tones and 2-3 harmonic melodies 0.95-1.0.


def total_s(regions: list[Region]) -> float:
    """Summed duration of ``regions`` (assumed not to overlap), in seconds."""
    return float(sum(r.duration_s for r in regions))


def load_vad():
    """Load silero-vad's JIT model from its installed wheel (no download).

    Raises
    ------
    ModelError
        When the ``silero-vad`` package is not installed.
    """
    try:
        from silero_vad import load_silero_vad
    except ImportError as e:
        raise ModelError(
            "speech detection needs the silero-vad package: pip install silero-vad"
        ) from e
    return load_silero_vad()


def _silero(y: np.ndarray, model, options: VadOptions) -> list[tuple[int, int]]:
    """silero-vad regions of one 16 kHz channel, as (start, end) sample indices."""
    import torch
    from silero_vad import get_speech_timestamps

    if y.size < FRAME or not np.any(y):
        return []
    with torch.no_grad():
        found = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)),
            model,
            threshold=options.threshold,
            sampling_rate=SAMPLE_RATE,
            min_speech_duration_ms=int(options.min_speech_s * 1000),
            min_silence_duration_ms=int(options.min_silence_s * 1000),
            speech_pad_ms=int(options.speech_pad_s * 1000),
        )
    model.reset_states()
    return [(int(t["start"]), int(t["end"])) for t in found]


def _to_regions(spans: list[tuple[int, int]], sr: int) -> list[Region]:
    return [Region(round(int(a) / sr, 3), round(int(b) / sr, 3)) for a, b in spans]


def frame_levels_db(y: np.ndarray, *, frame_length: int = FRAME, smooth: int = 1) -> np.ndarray:
    """Power per non-overlapping frame in dB (full scale = 0 dB), averaged over ``smooth`` frames.

    Parameters
    ----------
    y : np.ndarray
        One channel, shape (n_samples,).
    frame_length : int
        Samples per frame.
    smooth : int
        Frames in the centred moving average of power (1 = none).

    Returns
    -------
    np.ndarray
        Shape (ceil(n_samples / frame_length),), float64 dB.
    """
    n = -(-y.size // frame_length)
    padded = np.zeros(n * frame_length, dtype=np.float64)
    padded[: y.size] = y
    power = np.mean(padded.reshape(n, frame_length) ** 2, axis=1)
    if smooth > 1:
        kernel = np.ones(smooth) / smooth
        power = np.convolve(power, kernel, mode="same")
    return 10.0 * np.log10(power + _EPS)


def _mask(spans: list[tuple[int, int]], n_frames: int) -> np.ndarray:
    """Frames (of FRAME samples) touched by any span."""
    m = np.zeros(n_frames, dtype=bool)
    for a, b in spans:
        m[a // FRAME : min(n_frames, -(-b // FRAME))] = True
    return m


def band_levels_db(y: np.ndarray, *, frame_length: int = FRAME, n_bands: int = N_BANDS):
    """Log power in ``n_bands`` log-spaced bands (100-7000 Hz) per non-overlapping frame.

    Returns
    -------
    np.ndarray
        Shape (n_frames, n_bands), dB.
    """
    n = -(-y.size // frame_length)
    padded = np.zeros(n * frame_length, dtype=np.float32)
    padded[: y.size] = y
    spec = np.abs(np.fft.rfft(padded.reshape(n, frame_length), axis=1)) ** 2
    hz = np.fft.rfftfreq(frame_length, 1 / SAMPLE_RATE)
    edges = np.geomspace(100.0, 7000.0, n_bands + 1)
    bands = np.stack(
        [
            spec[:, (hz >= lo) & (hz < hi)].sum(axis=1)
            for lo, hi in zip(edges, edges[1:], strict=False)
        ],
        axis=1,
    )
    return 10.0 * np.log10(bands + _EPS)


def bleed_correlation(y: np.ndarray, *, context: int = CORR_CONTEXT) -> np.ndarray:
    """How much each frame of one channel looks like a copy of the other: shape (n_frames,).

    Pearson correlation of the two channels' band levels over ``2 * context + 1`` frames,
    each band's mean over the window removed, so a gain, a filter or a few ms of delay
    between the channels do not matter. Bleed (one talker on both channels) scores near 1;
    two different talkers, or a talker and silence, near 0.
    """
    from scipy.ndimage import uniform_filter1d

    a, b = (band_levels_db(y[c]) for c in (0, 1))
    size = 2 * context + 1

    def mean(x):
        return uniform_filter1d(x, size, axis=0, mode="nearest")

    ma, mb = mean(a), mean(b)
    cov = (mean(a * b) - ma * mb).sum(axis=1)
    va = np.maximum(mean(a * a) - ma * ma, 0.0).sum(axis=1)
    vb = np.maximum(mean(b * b) - mb * mb, 0.0).sum(axis=1)
    den = np.sqrt(va * vb)
    return np.where(den > 1e-6, cov / np.maximum(den, 1e-6), 0.0)


def _coupling_db(level_i, level_j, speech_j, loud_j: float, corr, options: VadOptions) -> float:
    """Bleed level of channel j into channel i (dB): the median level difference over the
    frames where j talks louder than ``loud_j`` and channel i is a copy of j (``corr``)."""
    bleed = speech_j & (level_j > loud_j) & (level_j > level_i) & (corr > options.bleed_corr)
    if bleed.sum() * FRAME_S < options.min_bleed_s:  # no bleed to measure: assume it is low
        return options.default_coupling_db
    c = float(np.median(level_i[bleed] - level_j[bleed]))
    return float(np.clip(c, options.coupling_min_db, options.coupling_max_db))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) frame indices of the runs of True in ``mask``."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _clean(keep: np.ndarray, inside: np.ndarray, options: VadOptions) -> np.ndarray:
    """Fill short gaps (inside silero speech) and drop short pieces of a frame mask."""
    out = keep.copy()
    fill = int(round(options.fill_gap_s / FRAME_S))
    runs = _runs(keep)
    for (_, e0), (s1, _) in zip(runs, runs[1:], strict=False):
        if s1 - e0 <= fill and inside[e0:s1].all():
            out[e0:s1] = True
    shortest = int(round(options.min_speech_s / FRAME_S))
    for s, e in _runs(out):
        if e - s < shortest:
            out[s:e] = False
    return out


def gate_crosstalk(
    y: np.ndarray, spans: list[list[tuple[int, int]]], options: VadOptions
) -> tuple[list[list[tuple[int, int]]], list[float]]:
    """Keep only the frames of each channel's silero speech that bleed cannot explain.

    Parameters
    ----------
    y : np.ndarray
        Shape (2, n_samples) at 16 kHz.
    spans : list of list of (int, int)
        silero regions per channel, in samples.
    options : VadOptions
        Gate settings.

    Returns
    -------
    spans : list of list of (int, int)
        Gated regions per channel, in samples, clipped to the silero regions.
    coupling_db : list of float
        Estimated bleed level into channel 0 (from 1) and into channel 1 (from 0), in dB.
    """
    levels = [frame_levels_db(y[c], smooth=options.smooth_frames) for c in (0, 1)]
    n = levels[0].size
    speech = [_mask(spans[c], n) for c in (0, 1)]
    floors = [float(np.percentile(lv, 10)) for lv in levels]
    # On a noisy channel speech stands only a few dB above the floor: scale the margin down.
    spread = [float(np.percentile(lv, 95)) - f for lv, f in zip(levels, floors, strict=True)]
    floor_margins = [min(options.floor_margin_db, s / 2) for s in spread]
    corr = bleed_correlation(y)[:n]
    couplings = [
        _coupling_db(levels[i], levels[j], speech[j], floors[j] + floor_margins[j], corr, options)
        for i, j in ((0, 1), (1, 0))
    ]
    out = []
    for i in (0, 1):
        j = 1 - i
        above_floor = levels[i] > floors[i] + floor_margins[i]
        beats_bleed = levels[i] > levels[j] + couplings[i] + options.margin_db
        keep = _clean(speech[i] & above_floor & beats_bleed, speech[i], options)
        keep &= speech[i]
        out.append([(s * FRAME, min(y.shape[1], e * FRAME)) for s, e in _runs(keep)])
    return out, couplings


def tone_share(y: np.ndarray, *, frame_length: int = FRAME, k: int = 6) -> float:
    """Median share of energy in the ``k`` strongest FFT bins over the loud frames of ``y``.

    Near 1 for tones and plain melodies (a few sinusoids), 0.7-0.85 for speech.
    """
    n = y.size // frame_length
    if n == 0:
        return 0.0
    frames = y[: n * frame_length].reshape(n, frame_length) * np.hanning(frame_length)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    total = power.sum(axis=1) + _EPS
    top = np.sort(power, axis=1)[:, -k:].sum(axis=1)
    level = 10 * np.log10(total)
    loud = level > level.max() - 30.0
    return float(np.median((top / total)[loud]))


def _drop_tones(y: np.ndarray, spans: list[tuple[int, int]], options: VadOptions):
    return [(a, b) for a, b in spans if tone_share(y[a:b]) <= options.max_tone_share]


def speech_regions(audio, options: VadOptions | None = None, *, model=None) -> list[list[Region]]:
    """Find speech in every channel of a call.

    Mono (or a stereo file whose channels carry the same signal): plain silero-vad regions.
    Two-party stereo: silero-vad per channel, then crosstalk gating (module docstring), so a
    region is speech for a channel only where that channel's own talker is heard.

    Parameters
    ----------
    audio : callscan.audio.decode.Audio
        16 kHz audio, 1 or 2 channels.
    options : VadOptions, optional
        Thresholds and gate settings.
    model : optional
        A model from :func:`load_vad`; loaded here when omitted (pass one in for batches).

    Returns
    -------
    list of list of Region
        One list per channel of ``audio``, in time order.
    """
    options = options or VadOptions()
    if audio.sr != SAMPLE_RATE:
        raise CallscanError(f"speech detection needs 16 kHz audio, got {audio.sr} Hz")
    model = model if model is not None else load_vad()
    if audio.n_channels == 1 or audio.identical_channels:
        found = _drop_tones(audio.channel(0), _silero(audio.channel(0), model, options), options)
        return [_to_regions(found, audio.sr) for _ in range(audio.n_channels)]
    spans = [
        _drop_tones(audio.channel(c), _silero(audio.channel(c), model, options), options)
        for c in (0, 1)
    ]
    if options.crosstalk_gate:
        spans, couplings = gate_crosstalk(audio.y, spans, options)
        logger.debug("crosstalk coupling: %.1f dB into left, %.1f dB into right", *couplings)
    return [_to_regions(s, audio.sr) for s in spans]
