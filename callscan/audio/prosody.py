"""Signal measures of one talker's speech: F0 track, pitch spread, level, SNR, clipping, endings.

These are the acoustic building blocks of :mod:`callscan.analysis.opening.score`. Every function takes a 1-D
float signal ``y`` (full scale ±1) and ``sr`` plus spans of speech in seconds *relative to the
start of* ``y``; none of them knows about calls, roles or scores.

F0 is tracked with YIN (:func:`yin`, ``librosa.yin`` ported to numpy: the same F0 to within
1e-5 of it, without importing librosa, numba or scipy, about 1.4 s per process) on the signal
resampled to 8 kHz (so wideband and telephone audio are analysed on the same band), and a
frame counts as voiced only when

* its normalised autocorrelation at the YIN period is at least ``voicing_threshold``
  (a periodicity check YIN itself does not make), and
* its level is within ``voicing_range_db`` of the loudest frames, and
* it lies inside the given speech spans (tones and music are never measured as a voice).

Pitch spread is a *robust* standard deviation, ``1.4826 x MAD`` of the semitone values: octave
jumps of a few frames, common on telephone audio, barely move a median, while they inflate a
plain standard deviation 4-5x (docs/research/voice-measures.md section 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callscan.errors import CallscanError

F0_SR = (
    8000  # Hz, F0 is tracked at this rate (covers 300-3400 Hz telephone band and wideband alike)
)
F0_FRAME_LENGTH = 512  # samples at F0_SR: 64 ms, two periods of the lowest F0
HOP_LENGTH = 80  # samples at F0_SR: 10 ms between frames
HOP_S = HOP_LENGTH / F0_SR  # s, 0.01
FMIN_HZ = 65.0  # Hz, lowest F0 tracked (low male voices)
FMAX_HZ = 500.0  # Hz, highest F0 tracked (raised female voices)
VOICING_THRESHOLD = 0.6  # normalised autocorrelation at the period that makes a frame voiced
VOICING_RANGE_DB = 30.0  # dB, voiced frames are at most this far below the loudest frames
MAD_TO_SD = 1.4826  # scales a median absolute deviation to a normal standard deviation
SILENCE_DB = -100.0  # dB, level of a digitally silent frame
MAX_SNR_DB = 60.0  # dB, SNR is capped here (digital silence has no measurable noise)
CLIP_LEVEL = 0.99  # |sample| at or above this fraction of full scale counts as clipped
RANGE_FLOOR = 0.5  # second pass floor = this x the 35th percentile of the first pass
RANGE_CEILING = 1.9  # second pass ceiling = this x the 65th percentile of the first pass
MIN_RANGE_FRAMES = 50  # voiced frames needed before the speaker's range is estimated
BLOCK_FRAMES = 256  # frames tracked at a time (each is independent; the temporaries fit in cache)
_EPS = 1e-10  # power floor: silence is -100 dB, not -inf


@dataclass
class F0Track:
    """Frame-wise F0 of a signal, 10 ms hop."""

    times_s: np.ndarray  # frame centres in s from the start of the signal, shape (n,)
    f0_hz: np.ndarray  # YIN F0 in Hz, NaN where not voiced, shape (n,)
    periodicity: np.ndarray  # normalised autocorrelation at the YIN period (0-1), shape (n,)
    level_db: np.ndarray  # frame RMS in dB re full scale, shape (n,)
    voiced: np.ndarray  # bool, shape (n,)

    @property
    def voiced_s(self) -> float:
        """Voiced time, in seconds."""
        return float(self.voiced.sum() * HOP_S)

    def semitones(self) -> np.ndarray:
        """F0 of the voiced frames in semitones re 100 Hz, shape (n_voiced,)."""
        return 12.0 * np.log2(self.f0_hz[self.voiced] / 100.0)


def spans_mask(spans, n_frames: int, *, hop_s: float = HOP_S) -> np.ndarray:
    """Boolean frame mask, True for frames whose centre lies in one of ``spans`` (seconds)."""
    mask = np.zeros(n_frames, dtype=bool)
    for a, b in spans:
        i = max(0, int(np.ceil(a / hop_s)))
        j = min(n_frames, int(np.floor(b / hop_s)) + 1)
        if j > i:
            mask[i:j] = True
    return mask


def to_f0_rate(y: np.ndarray, *, sr: int) -> np.ndarray:
    """``y`` resampled to :data:`F0_SR` (float32)."""
    import soxr

    y = np.asarray(y, dtype=np.float32)
    return y if sr == F0_SR else soxr.resample(y, sr, F0_SR, quality="HQ").astype(np.float32)


def f0_track(
    y: np.ndarray,
    *,
    sr: int,
    speech_spans=None,
    fmin: float = FMIN_HZ,
    fmax: float = FMAX_HZ,
    voicing_threshold: float = VOICING_THRESHOLD,
    voicing_range_db: float = VOICING_RANGE_DB,
    two_pass: bool = True,
) -> F0Track:
    """Track F0 with YIN (:func:`yin`) plus a periodicity and level voicing decision.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape (n_samples,), full scale ±1.
    sr : int
        Sample rate of ``y`` in Hz (resampled to 8 kHz here).
    speech_spans : list of (start_s, end_s), optional
        Only frames inside these spans (seconds from the start of ``y``) can be voiced.
        None: the whole signal.
    fmin, fmax : float
        F0 search range in Hz.
    voicing_threshold : float
        Minimum normalised autocorrelation at the YIN period.
    voicing_range_db : float
        Frames more than this many dB below the 99th-percentile frame level are unvoiced.
    two_pass : bool
        Track again within the speaker's own range, ``[0.72 x q35, 1.9 x q65]`` of the first
        pass (De Looze & Hirst's two-pass method), so YIN cannot jump to a harmonic.

    Returns
    -------
    F0Track
    """
    x = to_f0_rate(y, sr=sr)
    if x.size < F0_FRAME_LENGTH:
        x = np.pad(x, (0, F0_FRAME_LENGTH - x.size))
    track = _yin_pass(x, fmin, fmax, speech_spans, voicing_threshold, voicing_range_db)
    if two_pass and track.voiced.sum() >= MIN_RANGE_FRAMES:
        q35, q65 = np.percentile(track.f0_hz[track.voiced], [35, 65])
        lo = max(fmin, RANGE_FLOOR * q35)
        hi = min(fmax, RANGE_CEILING * q65)
        if hi > 1.5 * lo:
            track = _yin_pass(x, lo, hi, speech_spans, voicing_threshold, voicing_range_db)
    return track


def frame_signal(x: np.ndarray, *, frame_length: int, hop_length: int) -> np.ndarray:
    """Frames of ``x`` (1-D) centred on samples ``0, hop_length, ...`` (zero-padded by
    ``frame_length // 2`` on each side), shape ``(n_frames, frame_length)``: a read-only
    view, as ``librosa.util.frame(np.pad(x, frame_length // 2), ...).T``."""
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.pad(x, frame_length // 2)
    return sliding_window_view(padded, frame_length)[::hop_length]


def yin_frames(
    frames: np.ndarray, *, fmin: float, fmax: float, sr: float, trough_threshold: float = 0.1
) -> np.ndarray:
    """YIN F0 in Hz of each frame of ``frames`` (``(n_frames, frame_length)``, see
    :func:`frame_signal`), shape ``(n_frames,)``.

    ``librosa.yin`` (librosa 0.11, ISC licence) step for step in numpy: the difference
    function from an FFT autocorrelation, its cumulative mean normalisation, the first trough
    below ``trough_threshold`` (else the global minimum) refined by parabolic interpolation.
    Every operation is done in librosa's order and precision, with numpy's FFT where librosa
    uses scipy's (whose import costs 0.08 s of a one-call process): the F0 is librosa's to
    within 1e-5 of it (tests/test_prosody_yin.py; it was to the bit with scipy's FFT, and no
    report compared changed), without importing librosa (and numba) for it. Frames
    are processed :data:`BLOCK_FRAMES` at a time (each frame is independent): the FFT's
    temporaries stay in cache, and a call's first track takes 20 ms, not 170 ms.
    """
    frame_length = frames.shape[-1]
    if not 0 < fmin < fmax <= sr / 2 or sr / fmin >= frame_length - 1:
        raise CallscanError(
            f"YIN needs 0 < fmin < fmax <= sr / 2 and a frame longer than one period of fmin "
            f"(fmin {fmin:g} Hz, fmax {fmax:g} Hz, sr {sr:g} Hz, frame {frame_length} samples)"
        )
    blocks = [
        _yin_block(frames[i : i + BLOCK_FRAMES], fmin, fmax, sr, trough_threshold)
        for i in range(0, frames.shape[0], BLOCK_FRAMES)
    ]
    return np.concatenate(blocks) if blocks else np.zeros(0)


def next_fast_len(target: int) -> int:
    """The smallest 5-smooth number (2^a 3^b 5^c) at or above ``target``: an FFT length as fast
    as pocketfft gets for a real transform (``scipy.fft.next_fast_len(target, real=True)``)."""
    best = 1 << max(0, (target - 1).bit_length())  # a power of two at or above it
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            n = p35
            while n < target:
                n *= 2
            best = min(best, n)
            p35 *= 3
        p5 *= 5
    return best


def _yin_block(frames, fmin, fmax, sr, trough_threshold) -> np.ndarray:
    """:func:`yin_frames` of up to :data:`BLOCK_FRAMES` frames."""
    frame_length = frames.shape[-1]
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    # autocorrelation up to max_period (librosa.autocorrelate: power spectrum, inverse FFT)
    n_fft = next_fast_len(2 * frame_length - 1)
    spec = np.fft.rfft(frames, n=n_fft, axis=-1)
    acf = np.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=-1)[:, : max_period + 1]
    # difference function d(k) = 2 (acf(0) - acf(k)) - sum_{m<k} y(m)^2, with librosa's
    # zeroed first energy term (it sets d(0) = 0 before reading the energies)
    diff = np.cumsum(np.square(frames[:, : max_period + 1]), axis=-1)
    diff[:, 0] = 0
    diff[:, 1:] = 2 * (acf[:, 0:1] - acf[:, 1:]) - diff[:, :max_period]
    # cumulative mean normalised difference over periods min_period..max_period
    mean = np.cumsum(diff[:, 1:], axis=-1) / np.arange(1, max_period + 1)
    den = mean[:, min_period - 1 : max_period]
    cmnd = diff[:, min_period : max_period + 1] / (den + np.finfo(den.dtype).tiny)
    # parabolic shift of each inner lag (0 where the optimum is over a bin away)
    left, mid, right = cmnd[:, :-2], cmnd[:, 1:-1], cmnd[:, 2:]
    curve = right + left - 2 * mid
    slope = (right - left) / 2
    shifts = np.zeros_like(cmnd)
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts[:, 1:-1] = np.where(np.abs(slope) >= np.abs(curve), 0.0, -slope / curve)
    # troughs: local minima (librosa.util.localmin), the first lag against the second
    trough = np.zeros(cmnd.shape, dtype=bool)
    trough[:, 1:-1] = (mid < left) & (mid <= right)
    trough[:, -1] = cmnd[:, -1] < cmnd[:, -2]
    trough[:, 0] = cmnd[:, 0] < cmnd[:, 1]
    below = trough & (cmnd < trough_threshold)
    lag = np.where(below.any(axis=-1), np.argmax(below, axis=-1), np.argmin(cmnd, axis=-1))
    period = min_period + lag + np.take_along_axis(shifts, lag[:, None], axis=-1)[:, 0]
    return np.asarray(sr / period)


def yin(
    x: np.ndarray,
    *,
    fmin: float,
    fmax: float,
    sr: float,
    frame_length: int = F0_FRAME_LENGTH,
    hop_length: int = HOP_LENGTH,
    trough_threshold: float = 0.1,
) -> np.ndarray:
    """YIN F0 track of ``x`` (1-D) in Hz, one value per ``hop_length`` samples, frames
    centred: ``librosa.yin(x, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length,
    hop_length=hop_length, center=True)``, to within 1e-5 of it (:func:`yin_frames`)."""
    frames = frame_signal(x, frame_length=frame_length, hop_length=hop_length)
    return yin_frames(frames, fmin=fmin, fmax=fmax, sr=sr, trough_threshold=trough_threshold)


def _yin_pass(x, fmin, fmax, speech_spans, voicing_threshold, voicing_range_db) -> F0Track:
    frames = frame_signal(x, frame_length=F0_FRAME_LENGTH, hop_length=HOP_LENGTH)
    f0 = yin_frames(frames, fmin=fmin, fmax=fmax, sr=F0_SR)
    n = f0.size
    r, level = np.empty(n), np.empty(n)
    for i in range(0, n, BLOCK_FRAMES):  # a block at a time, as the YIN itself
        block = slice(i, i + BLOCK_FRAMES)
        r[block], level[block] = _periodicity_and_level(frames[block], f0[block])
    times = np.arange(n) * HOP_S
    inside = np.ones(n, bool) if speech_spans is None else spans_mask(speech_spans, n)
    loud_ref = np.percentile(level[inside], 99) if inside.any() else SILENCE_DB
    voiced = inside & (r >= voicing_threshold) & (level >= loud_ref - voicing_range_db)
    voiced &= level > SILENCE_DB + 10.0
    f0_out = np.where(voiced, f0, np.nan)
    return F0Track(times, f0_out, r, level, voiced)


def _periodicity_and_level(frames: np.ndarray, f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: the normalised autocorrelation at the YIN period (0-1) and the level (dB)."""
    max_period = int(np.ceil(F0_SR / FMIN_HZ))
    width = F0_FRAME_LENGTH - max_period
    period = np.clip(np.rint(F0_SR / f0).astype(int), 1, max_period)
    a = frames[:, :width].astype(np.float64)
    idx = period[:, None] + np.arange(width)[None, :]
    b = np.take_along_axis(frames, idx, axis=1).astype(np.float64)
    num = np.sum(a * b, axis=1)
    den = np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1)) + _EPS
    r = np.clip(num / den, 0.0, 1.0)
    level = 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + _EPS)
    return r, level


def semitone_spread(f0_hz: np.ndarray) -> float:
    """Robust F0 spread in semitones: 1.4826 x median absolute deviation of 12*log2(F0).

    NaN (unvoiced) entries are ignored; NaN when fewer than 2 voiced values remain.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64)
    f0 = f0[np.isfinite(f0) & (f0 > 0)]
    if f0.size < 2:
        return float("nan")
    st = 12.0 * np.log2(f0)
    return float(MAD_TO_SD * np.median(np.abs(st - np.median(st))))


def harmonicity_db(periodicity: np.ndarray) -> float:
    """Median harmonics-to-noise ratio in dB from autocorrelation peaks: 10*log10(r / (1 - r))."""
    r = np.clip(np.asarray(periodicity, dtype=np.float64), 1e-4, 0.9999)
    if r.size == 0:
        return float("nan")
    return float(np.median(10.0 * np.log10(r / (1.0 - r))))


def level_sd_db(track: F0Track) -> float:
    """Standard deviation of the voiced frames' level in dB (loudness variation)."""
    lv = track.level_db[track.voiced]
    return float(np.std(lv)) if lv.size >= 2 else float("nan")


def _power_frames(y: np.ndarray, *, sr: int, frame_s: float = 0.02):
    n = int(round(frame_s * sr))
    m = y.size // n
    p = np.mean(np.asarray(y[: m * n], dtype=np.float64).reshape(m, n) ** 2, axis=1)
    return p, n / sr


def active_level_dbfs(y: np.ndarray, *, sr: int, speech_spans) -> float:
    """Mean power over the speech spans, in dB re full scale (a full-scale square wave is 0 dB)."""
    p, hop = _power_frames(y, sr=sr)
    mask = spans_mask(speech_spans, p.size, hop_s=hop) if p.size else np.zeros(0, bool)
    if not mask.any():
        return float("nan")
    return float(10.0 * np.log10(np.mean(p[mask]) + _EPS))


def snr_db(y: np.ndarray, *, sr: int, speech_spans, noise_spans, erode_s: float = 0.1):
    """Signal-to-noise ratio of the speech spans against the noise spans, in dB.

    The noise spans are shrunk by ``erode_s`` on each side (speech tails and VAD padding leak
    into them otherwise). Speech power is the mean power over the speech frames minus the noise
    power (those frames hold speech plus noise). Capped at :data:`MAX_SNR_DB`.

    Returns
    -------
    snr_db : float
        NaN when there is no noise frame or no speech frame.
    noise_s : float
        Seconds of noise frames used.
    """
    p, hop = _power_frames(y, sr=sr)
    speech = spans_mask(speech_spans, p.size, hop_s=hop)
    shrunk = [(a + erode_s, b - erode_s) for a, b in noise_spans if b - a > 2 * erode_s]
    noise = spans_mask(shrunk, p.size, hop_s=hop) & ~speech
    if not speech.any() or not noise.any():
        return float("nan"), float(noise.sum() * hop)
    pn = float(np.mean(p[noise]))
    ps = float(np.mean(p[speech])) - pn
    if pn <= _EPS:
        return MAX_SNR_DB, float(noise.sum() * hop)
    snr = 10.0 * np.log10(max(ps, _EPS) / pn)
    return float(min(MAX_SNR_DB, snr)), float(noise.sum() * hop)


def clipping(y: np.ndarray, *, level: float = CLIP_LEVEL) -> tuple[float, int]:
    """Share of samples at full scale (percent) and the longest run of such samples."""
    y = np.asarray(y)
    if y.size == 0:
        return 0.0, 0
    hit = np.abs(y) >= level
    if not hit.any():
        return 0.0, 0
    edges = np.diff(np.concatenate(([0], hit.astype(np.int8), [0])))
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return float(100.0 * hit.mean()), int(runs.max())


def terminal_change_st(track: F0Track, end_s: float, *, span_s: float = 0.5, min_frames: int = 8):
    """F0 change over the last ``span_s`` of voicing before ``end_s``, in semitones.

    A least-squares line through the semitone values of the voiced frames in
    ``[end_s - span_s, end_s]``, evaluated over the frames' time span: negative for a falling
    ending. NaN when fewer than ``min_frames`` frames are voiced there.
    """
    sel = track.voiced & (track.times_s >= end_s - span_s) & (track.times_s <= end_s)
    if sel.sum() < min_frames:
        return float("nan")
    t = track.times_s[sel]
    st = 12.0 * np.log2(track.f0_hz[sel] / 100.0)
    st = st - np.median(st)
    st = np.clip(st, -6.0, 6.0)  # an octave error at the very end must not decide the sign
    slope = np.polyfit(t - t[0], st, 1)[0]
    return float(slope * (t[-1] - t[0]))


def tonal_frames(y: np.ndarray, *, sr: int, frame_length: int = 512, k: int = 6) -> np.ndarray:
    """Per 32 ms frame: share of the frame's energy in its ``k`` strongest FFT bins.

    Near 1 for tones, ringback and plain melodies; 0.6-0.85 for speech (callscan.audio.vad uses the
    median of the same figure to drop tonal VAD regions). Shape (n_samples // frame_length,).
    """
    n = y.size // frame_length
    if n == 0:
        return np.zeros(0)
    frames = np.asarray(y[: n * frame_length], dtype=np.float64).reshape(n, frame_length)
    power = np.abs(np.fft.rfft(frames * np.hanning(frame_length), axis=1)) ** 2
    total = power.sum(axis=1) + _EPS
    return np.sort(power, axis=1)[:, -k:].sum(axis=1) / total


def welch_psd(y: np.ndarray, *, sr: int, nperseg: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Welch's power spectral density: ``scipy.signal.welch(y, fs=sr, nperseg=nperseg)``'s
    defaults (periodic Hann window, half overlap, each segment's mean removed, one-sided
    density, segments averaged) in numpy alone: importing ``scipy.signal`` costs a process
    about half a second. ``y`` must hold at least ``nperseg`` samples.

    Returns
    -------
    (freqs_hz, psd)
    """
    x = np.asarray(y, dtype=np.float64)
    step = nperseg // 2
    n_seg = (x.size - nperseg) // step + 1
    segs = np.lib.stride_tricks.sliding_window_view(x, nperseg)[::step][:n_seg]
    win = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(nperseg) / nperseg)  # periodic Hann
    spec = np.abs(np.fft.rfft((segs - segs.mean(axis=1, keepdims=True)) * win, axis=1)) ** 2
    psd = spec.mean(axis=0) / (sr * float((win * win).sum()))
    psd[1 : -1 if nperseg % 2 == 0 else None] *= 2.0  # one-sided: DC and Nyquist once
    return np.fft.rfftfreq(nperseg, 1.0 / sr), psd


def high_band_share_db(y: np.ndarray, *, sr: int) -> float:
    """Energy above 3.6 kHz relative to 300-3400 Hz, in dB (below -40 dB: telephone band)."""
    if sr < 8000 or y.size < 1024:
        return float("nan")
    f, p = welch_psd(y, sr=sr, nperseg=1024)
    band = p[(f >= 300) & (f <= 3400)].sum() + _EPS
    high = p[(f >= 3600) & (f <= min(7000, sr / 2))].sum() + _EPS
    return float(10.0 * np.log10(high / band))
