"""Speech regions per channel: silero-vad, with crosstalk gating on two-party stereo.

silero-vad ships its model inside the PyPI wheel (no hub download) and ignores hold tones
and music (``docs/research/voice-measures.md``), so Whisper is never fed them.

Telephony tones inside a region (ringback, busy, dial, DTMF, hold and test beeps, fax and modem
tones) are cut out of it, see :func:`tone_spans`. A tone is recognised by what it is: one to
three spectral lines whose frequencies stay put, within a few Hz, for hundreds of milliseconds,
at the frequencies of the ITU-T E.180 tone plans (:data:`TONE_PLAN_HZ`, DTMF pairs) or, for any
other frequency, for much longer. A voice never does that: its harmonics glide with its pitch.
How much energy a few frequencies hold is not enough on its own: a clear, high voice puts as
much of its energy in a few harmonics as a tone does.

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
    "VAD_BACKENDS",
    "VadOptions",
    "load_vad",
    "TONE_PLAN_HZ",
    "DTMF_ROWS_HZ",
    "DTMF_COLUMNS_HZ",
    "remove_tones",
    "speech_regions",
    "tone_spans",
    "total_s",
]

logger = logging.getLogger("callscan")

SAMPLE_RATE = 16000  # Hz, what silero-vad and Whisper take
FRAME = 512  # samples, silero's window at 16 kHz
FRAME_S = FRAME / SAMPLE_RATE  # s, 32 ms: the gate's time step
_EPS = 1e-10  # power floor, so silence is -100 dB rather than -inf
N_BANDS = 16  # frequency bands compared between channels to recognise bleed
CORR_CONTEXT = 4  # frames each side (4 x 32 ms) in the bleed correlation window

# Single-frequency and dual-tone telephony signals (Hz): ITU-T E.180 tone plans (Indonesia and
# most of Europe 425; 400, 450; North America 350+440 dial, 440+480 ringback, 480+620 busy;
# special information tones 950/1400/1800), 1000/1004 Hz test and hold beeps, fax and modem
# tones (1100 calling, 1300, 2100 answer, 2225).
TONE_PLAN_HZ = (350.0, 400.0, 425.0, 440.0, 450.0, 480.0, 620.0, 950.0, 1000.0, 1004.0,
                1100.0, 1300.0, 1400.0, 1800.0, 2100.0, 2225.0)  # fmt: skip
DTMF_ROWS_HZ = (697.0, 770.0, 852.0, 941.0)  # ITU-T Q.23 key pad rows
DTMF_COLUMNS_HZ = (1209.0, 1336.0, 1477.0, 1633.0)  # ... and columns
TONE_BAND_HZ = (150.0, 3800.0)  # where tone lines are looked for (a telephone channel)
TONE_PEAKS = 6  # strongest spectral peaks per frame considered as lines
TONE_BLOCK = 512  # frames analysed at a time (bounds memory on long regions)


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
    drop_tones: bool = True  # cut telephony tones out of the regions (see tone_spans)
    tone_window_s: float = 0.064  # analysis window of the tone detector
    tone_hop_s: float = 0.016  # its step
    tone_freq_tol_hz: float = 2.0  # a tone line stays within this of its frequency in every frame
    # of its run (tones drift < 1 Hz; a voice's harmonics glide further within 100-200 ms)
    tone_plan_tol: float = 0.015  # relative distance to a tone-plan frequency (Q.24 accepts 1.5%)
    tone_min_share: float = 0.7  # steady lines must hold this share of a frame's 150-3800 Hz energy
    tone_max_lines: int = 3  # ... counting at most this many lines (a tone has 1-3, a voice many)
    tone_plan_min_s: float = 0.2  # a line at a tone-plan frequency must stay that long
    tone_dtmf_min_s: float = 0.09  # a DTMF row + column pair must stay that long
    tone_steady_min_s: float = 0.3  # a line at any other frequency (another country's tones, a
    # plain melody's note) must stay that long ...
    tone_steady_tol_hz: float = 0.5  # ... within this (a synthesiser holds a note to < 0.1 Hz; a
    # voice's jitter moves its harmonics more, even over 64 ms windows)
    tone_edge_s: float = 0.1  # what is left of a region once its tones are cut, when shorter
    # than this, is a tone's onset or tail: dropped


def total_s(regions: list[Region]) -> float:
    """Summed duration of ``regions`` (assumed not to overlap), in seconds."""
    return float(sum(r.duration_s for r in regions))


VAD_BACKENDS = ("auto", "onnx", "jit")


def load_vad(backend: str = "auto"):
    """Load silero-vad's model from its installed wheel (no download).

    ``backend``: ``"onnx"`` is silero's sequence model on onnxruntime, which scores a block
    of 512 frames (16 s) per call instead of one 32 ms frame per call (a 5-minute channel in
    about 0.3 s instead of 2 s); ``"jit"`` is its TorchScript model, one frame at a time;
    ``"auto"`` is ``"onnx"`` when onnxruntime is installed (the ``fast`` extra brings it),
    else ``"jit"``. Both give the same speech probabilities (within 5e-5 on the 5-minute
    bank call) and the same regions (every real and sample clip: 35 files, 876 s of speech).
    The onnx backend is :class:`callscan.audio.silero_onnx.SequenceVad`: the model file of the
    silero-vad wheel, run without importing the package (which imports torch), so that speech
    detection and the loading of torch and Whisper overlap.

    Raises
    ------
    ModelError
        When the ``silero-vad`` package is not installed, or ``backend="onnx"`` without
        onnxruntime.
    CallscanError
        An unknown ``backend``.
    """
    import importlib.util

    from callscan.audio import silero_onnx

    if backend not in VAD_BACKENDS:
        raise CallscanError(
            f"unknown speech detection backend '{backend}' (choose from: {', '.join(VAD_BACKENDS)})"
        )
    if importlib.util.find_spec("silero_vad") is None:
        raise ModelError("speech detection needs the silero-vad package: pip install silero-vad")
    if backend == "auto":
        backend = "onnx" if importlib.util.find_spec("onnxruntime") else "jit"
    if backend == "jit":
        from silero_vad import load_silero_vad

        return load_silero_vad()
    if importlib.util.find_spec("onnxruntime") is None:
        raise ModelError(
            "the onnx speech detection backend needs onnxruntime: pip install onnxruntime"
        )
    path = silero_onnx.model_path()
    if path is None:
        raise ModelError(
            f"silero-vad's {silero_onnx.MODEL_FILE} is missing: pip install 'silero-vad>=6.2'"
        )
    return silero_onnx.SequenceVad(path)


def _silero(y: np.ndarray, model, options: VadOptions) -> list[tuple[int, int]]:
    """silero-vad regions of one 16 kHz channel, as (start, end) sample indices."""
    if y.size < FRAME or not np.any(y):
        return []
    y = np.ascontiguousarray(y, dtype=np.float32)
    min_speech_ms = int(options.min_speech_s * 1000)
    min_silence_ms = int(options.min_silence_s * 1000)
    speech_pad_ms = int(options.speech_pad_s * 1000)
    if hasattr(model, "session"):  # the sequence model (onnxruntime): a block per call
        from callscan.audio.silero_onnx import speech_spans

        return speech_spans(
            model.audio_forward(y),
            y.size,
            threshold=options.threshold,
            min_speech_ms=min_speech_ms,
            min_silence_ms=min_silence_ms,
            speech_pad_ms=speech_pad_ms,
        )
    # the TorchScript model: a frame per call
    import torch
    from silero_vad import get_speech_timestamps

    with torch.no_grad():
        found = get_speech_timestamps(
            torch.from_numpy(y),
            model,
            threshold=options.threshold,
            sampling_rate=SAMPLE_RATE,
            min_speech_duration_ms=min_speech_ms,
            min_silence_duration_ms=min_silence_ms,
            speech_pad_ms=speech_pad_ms,
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
    power = np.empty(n, dtype=np.float64)
    for f0, block in _frame_blocks(y, frame_length, np.float64):  # never a whole-call copy
        power[f0 : f0 + block.shape[0]] = np.mean(block**2, axis=1)
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
    hz = np.fft.rfftfreq(frame_length, 1 / SAMPLE_RATE)
    edges = np.geomspace(100.0, 7000.0, n_bands + 1)
    picks = [(hz >= lo) & (hz < hi) for lo, hi in zip(edges, edges[1:], strict=False)]
    bands = np.empty((n, n_bands), dtype=np.float32)  # what rfft of float32 gives
    for f0, block in _frame_blocks(y, frame_length, np.float32):  # spectra a block at a time
        spec = np.abs(np.fft.rfft(block, axis=1)) ** 2
        bands[f0 : f0 + block.shape[0]] = np.stack([spec[:, k].sum(axis=1) for k in picks], axis=1)
    return 10.0 * np.log10(bands + _EPS)


def _frame_blocks(y: np.ndarray, frame_length: int, dtype, frames_per_block: int = 512):
    """(first frame, frames) of ``y`` cut into zero-padded frames, a block of frames at a
    time in ``dtype``: per-call memory stays one block, whatever the call's length. 512
    frames (1-2 MB, their spectra as much) stay in cache: the crosstalk gate of a 5-minute
    stereo call took 0.031 s instead of 0.06 s with 4096-frame blocks (16 MB), and its first
    run 0.04 s instead of 0.2 s (fresh pages for every temporary), the same values."""
    n = -(-y.size // frame_length)
    for f0 in range(0, n, frames_per_block):
        f1 = min(n, f0 + frames_per_block)
        piece = y[f0 * frame_length : f1 * frame_length]
        block = np.zeros((f1 - f0) * frame_length, dtype=dtype)
        block[: piece.size] = piece
        yield f0, block.reshape(f1 - f0, frame_length)


def moving_mean(x: np.ndarray, half: int) -> np.ndarray:
    """Mean of ``x`` over ``2 * half + 1`` rows centred on each row (axis 0), the edge rows
    repeated past the ends: ``scipy.ndimage.uniform_filter1d(x, 2 * half + 1, axis=0,
    mode="nearest")`` (a running sum in float64, cast back to ``x``'s dtype) without the
    import of ``scipy.ndimage`` (a quarter of a second per process)."""
    if x.shape[0] == 0:
        return x.copy()
    padded = np.concatenate([np.repeat(x[:1], half, axis=0), x, np.repeat(x[-1:], half, axis=0)])
    csum = np.cumsum(padded, axis=0, dtype=np.float64)
    csum = np.concatenate([np.zeros((1, *x.shape[1:])), csum])
    size = 2 * half + 1
    return ((csum[size:] - csum[:-size]) / size).astype(x.dtype, copy=False)


def bleed_correlation(y: np.ndarray, *, context: int = CORR_CONTEXT) -> np.ndarray:
    """How much each frame of one channel looks like a copy of the other: shape (n_frames,).

    Pearson correlation of the two channels' band levels over ``2 * context + 1`` frames,
    each band's mean over the window removed, so a gain, a filter or a few ms of delay
    between the channels do not matter. Bleed (one talker on both channels) scores near 1;
    two different talkers, or a talker and silence, near 0.
    """
    a, b = (band_levels_db(y[c]) for c in (0, 1))

    def mean(x):
        return moving_mean(x, context)

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


def _spectral_lines(y: np.ndarray, options: VadOptions) -> tuple[np.ndarray, np.ndarray]:
    """The strongest spectral peaks of each analysis frame of ``y`` (16 kHz).

    Returns
    -------
    freq_hz : np.ndarray
        Shape (n_frames, TONE_PEAKS): peak frequencies (parabolic interpolation on the log
        spectrum of a Hann window, zero-padded 2x), NaN where a frame has fewer peaks.
    share : np.ndarray
        Same shape: each peak's energy (within one bin of the unpadded window on either side)
        over the frame's energy in :data:`TONE_BAND_HZ`.
    """
    win = int(round(options.tone_window_s * SAMPLE_RATE))
    hop = max(1, int(round(options.tone_hop_s * SAMPLE_RATE)))
    n = 1 + (y.size - win) // hop if y.size >= win else 0
    freq = np.full((n, TONE_PEAKS), np.nan)
    share = np.zeros((n, TONE_PEAKS))
    if n == 0:
        return freq, share
    nfft = 2 * win
    hz_per_bin = SAMPLE_RATE / nfft
    lo, hi = (int(round(f / hz_per_bin)) for f in TONE_BAND_HZ)
    half = 2  # bins of the padded spectrum on either side of a peak: one unpadded bin
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(y, dtype=np.float32), win)[::hop]
    window = np.hanning(win).astype(np.float32)
    rows = np.arange(TONE_PEAKS)
    for b0 in range(0, n, TONE_BLOCK):
        block = frames[b0 : b0 + TONE_BLOCK] * window
        power = np.abs(np.fft.rfft(block, nfft, axis=1)[:, lo - half - 1 : hi + half + 2]) ** 2
        band = power[:, half + 1 : -(half + 1)].sum(axis=1) + _EPS
        lp = 10.0 * np.log10(power + _EPS)
        inner = lp[:, 1:-1]
        peak = (inner > lp[:, :-2]) & (inner >= lp[:, 2:])
        peak[:, :half] = peak[:, -half:] = False  # peaks of the band only (integrable)
        score = np.where(peak, inner, -np.inf)
        top = np.argsort(score, axis=1)[:, ::-1][:, :TONE_PEAKS]  # strongest first
        valid = np.take_along_axis(score, top, axis=1) > -np.inf
        k = top + 1  # index into lp / power
        a, c, d = (np.take_along_axis(lp, k + o, axis=1) for o in (-1, 0, 1))
        den = a - 2 * c + d
        offset = np.where(den < 0, 0.5 * (a - d) / np.where(den < 0, den, -1.0), 0.0)
        f = (k + lo - half - 1 + offset) * hz_per_bin
        csum = np.concatenate([np.zeros((power.shape[0], 1)), np.cumsum(power, axis=1)], axis=1)
        lo_k = np.clip(k - half, 0, power.shape[1])
        hi_k = np.clip(k + half + 1, 0, power.shape[1])
        e = np.take_along_axis(csum, hi_k, axis=1) - np.take_along_axis(csum, lo_k, axis=1)
        # A weaker peak within two integration widths of a stronger one is its side lobe or the
        # same line: not a line of its own (its energy is already counted).
        near = np.abs(f[:, :, None] - f[:, None, :]) < (2 * half + 1) * hz_per_bin
        near &= rows[None, None, :] < rows[None, :, None]  # a stronger peak (earlier) is near
        valid &= ~near.any(axis=2)
        freq[b0 : b0 + block.shape[0]] = np.where(valid, f, np.nan)
        share[b0 : b0 + block.shape[0]] = np.where(valid, e / band[:, None], 0.0)
    return freq, share


def _steady_frames(freq: np.ndarray, tol_hz: float, most: int) -> np.ndarray:
    """For each line (frame, peak): how many consecutive frames, this one included, have a peak
    within ``tol_hz`` of its frequency, counting at most ``most`` frames on either side."""
    n = freq.shape[0]
    run = np.ones(freq.shape, dtype=np.int64)
    for step in (1, -1):
        alive = ~np.isnan(freq)
        for d in range(1, most + 1):
            if n <= d:
                break
            other = np.full_like(freq, np.nan)
            if step == 1:
                other[:-d] = freq[d:]
            else:
                other[d:] = freq[:-d]
            close = np.abs(freq[:, :, None] - other[:, None, :]) <= tol_hz  # NaN compares False
            alive &= close.any(axis=2)
            if not alive.any():
                break
            run += alive
    return run


def _near_any(freq: np.ndarray, targets: tuple[float, ...], rel_tol: float) -> np.ndarray:
    f = freq[..., None]
    t = np.asarray(targets)
    return (np.abs(f - t) <= rel_tol * t).any(axis=-1)


def tone_frames(y: np.ndarray, options: VadOptions | None = None) -> np.ndarray:
    """Which analysis frames of ``y`` (16 kHz, one channel) are a telephony tone.

    A frame is a tone when at most ``tone_max_lines`` steady lines hold ``tone_min_share`` of
    its 150-3800 Hz energy. A line is steady when a peak stays within ``tone_freq_tol_hz`` of
    its frequency over a run of frames lasting at least ``tone_plan_min_s`` (at a tone-plan
    frequency, :data:`TONE_PLAN_HZ`) or ``tone_dtmf_min_s`` (a DTMF row and column together),
    or within ``tone_steady_tol_hz`` for ``tone_steady_min_s`` (any other frequency).

    Returns
    -------
    np.ndarray
        Bool, shape (n_frames,); frame ``i`` covers samples ``[i * hop, i * hop + window)``.
    """
    o = options or VadOptions()
    freq, share = _spectral_lines(y, o)
    if freq.shape[0] == 0:
        return np.zeros(0, dtype=bool)

    def frames_for(seconds: float) -> int:
        return max(1, int(np.ceil((seconds - o.tone_window_s) / o.tone_hop_s - 1e-9)) + 1)

    need_plan, need_dtmf, need_any = (
        frames_for(s) for s in (o.tone_plan_min_s, o.tone_dtmf_min_s, o.tone_steady_min_s)
    )
    total = _steady_frames(freq, o.tone_freq_tol_hz, max(need_plan, need_dtmf))
    steady = _steady_frames(freq, o.tone_steady_tol_hz, need_any) >= need_any
    steady |= _near_any(freq, TONE_PLAN_HZ, o.tone_plan_tol) & (total >= need_plan)
    row = _near_any(freq, DTMF_ROWS_HZ, o.tone_plan_tol) & (total >= need_dtmf)
    col = _near_any(freq, DTMF_COLUMNS_HZ, o.tone_plan_tol) & (total >= need_dtmf)
    pair = row.any(axis=1, keepdims=True) & col.any(axis=1, keepdims=True)
    steady |= pair & (row | col)
    held = np.sort(np.where(steady, share, 0.0), axis=1)[:, ::-1][:, : o.tone_max_lines]
    return held.sum(axis=1) >= o.tone_min_share


def tone_spans(y: np.ndarray, options: VadOptions | None = None) -> list[tuple[int, int]]:
    """Where ``y`` (16 kHz, one channel) holds a telephony tone, as (start, end) sample indices.

    See :func:`tone_frames` for the decision; each tone frame covers its whole window.
    """
    o = options or VadOptions()
    frames = tone_frames(y, o)
    win = int(round(o.tone_window_s * SAMPLE_RATE))
    hop = max(1, int(round(o.tone_hop_s * SAMPLE_RATE)))
    return [(int(s) * hop, min(y.size, (int(e) - 1) * hop + win)) for s, e in _runs(frames)]


def remove_tones(
    y: np.ndarray, spans: list[tuple[int, int]], options: VadOptions | None = None
) -> list[tuple[int, int]]:
    """Cut the telephony tones out of speech ``spans`` of ``y`` (sample indices, 16 kHz).

    Only the tone parts go: a region holding a voice and a ringback keeps the voice. Leftovers
    shorter than ``tone_edge_s`` (a tone's onset or tail) are dropped.
    """
    o = options or VadOptions()
    edge = int(round(o.tone_edge_s * SAMPLE_RATE))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        tones = tone_spans(y[a:b], o)
        if not tones:
            out.append((a, b))
            continue
        cursor = 0
        pieces = []
        for s, e in tones:
            pieces.append((cursor, s))
            cursor = max(cursor, e)
        pieces.append((cursor, b - a))
        out += [(a + s, a + e) for s, e in pieces if e - s >= edge]
    return out


def _drop_tones(y: np.ndarray, spans: list[tuple[int, int]], options: VadOptions):
    return remove_tones(y, spans, options) if options.drop_tones else spans


def _both_channels(audio, model, options: VadOptions) -> list[list[tuple[int, int]]]:
    """Each channel's silero-vad regions, tones dropped. With the onnxruntime model, the
    right channel on a thread of its own while this one does the left (onnxruntime runs a
    session from several threads and leaves the interpreter free: the two channels of a
    5-minute call 0.82 -> 0.46 s on 2 free cores); the TorchScript model keeps state between
    its calls, so one channel after the other. Errors come out as they would without the
    thread."""
    from concurrent.futures import ThreadPoolExecutor

    def one(c: int) -> list[tuple[int, int]]:
        return _drop_tones(audio.channel(c), _silero(audio.channel(c), model, options), options)

    if not hasattr(model, "session"):  # the TorchScript model
        return [one(0), one(1)]
    with ThreadPoolExecutor(1, thread_name_prefix="callscan-vad") as pool:
        right = pool.submit(one, 1)
        left = one(0)
        return [left, right.result()]


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
    spans = _both_channels(audio, model, options)
    if options.crosstalk_gate:
        spans, couplings = gate_crosstalk(audio.y, spans, options)
        logger.debug("crosstalk coupling: %.1f dB into left, %.1f dB into right", *couplings)
    return [_to_regions(s, audio.sr) for s in spans]
