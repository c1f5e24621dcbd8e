"""Per-frame data of the opening for the report's plot: pitch, loudness and waveform envelope.

:func:`opening_plot` returns the compact ``opening.plot`` block of a report: one time base
(``PLOT_HOP_S`` blocks from the opening window's start) carrying the agent's pitch contour in
semitones re its own median, the frame level in dB and the waveform's min/max per block. It is
computed from the decoded recording with :mod:`callscan.audio.prosody` (the same F0 tracker and
voicing rules the opening's scores use), only inside the agent's timed turns.
"""

from __future__ import annotations

import math

import numpy as np

from callscan.audio import prosody

PLOT_HOP_S = 0.05  # s, one plotted point per 50 ms block
PLOT_MAX_S = 20.0  # s, the longest stretch plotted (the opening window)
MIN_VOICED_FRAMES = 3  # 10 ms F0 frames a block needs to get a pitch value


def _agent_spans(turns, lo: float, hi: float) -> list[tuple[float, float]]:
    spans = []
    for t in turns:
        if t.get("role") != "agent" or t.get("start_s") is None or t.get("end_s") is None:
            continue
        a, b = max(lo, float(t["start_s"])), min(hi, float(t["end_s"]))
        if b > a:
            spans.append((a - lo, b - lo))
    return spans


def opening_plot(recording, opening: dict, turns: list[dict]) -> dict | None:
    """Pitch contour, loudness and waveform envelope of the opening window.

    Parameters
    ----------
    recording : callscan.audio.decode.Audio
        The decoded call (16 kHz, 1 or 2 channels).
    opening : dict
        The report's ``opening`` block (its ``window`` gives the span and the agent's channel).
    turns : list of dict
        The report's ``conversation.turns`` (roles and times); pitch is tracked only inside the
        agent's turns.

    Returns
    -------
    dict or None
        ``{"hop_s", "t_s", "f0_st", "level_db", "envelope", "f0_median_hz"}``: ``t_s`` block
        starts in seconds from the call's start, shape (n,); ``f0_st`` the median F0 of each
        block's voiced frames in semitones re the median F0 of the whole window (None where
        unvoiced); ``level_db`` the block's RMS level in dB re full scale; ``envelope`` the
        waveform ``[min, max]`` per block (full scale ±1). None when the window has no times.
    """
    window = (opening or {}).get("window") or {}
    w0 = window.get("start_s")
    if w0 is None:
        return None
    w1 = min(float(window.get("end_s") or w0), float(w0) + PLOT_MAX_S, recording.duration_s)
    w0 = float(w0)
    if w1 - w0 < PLOT_HOP_S:
        return None
    ch = int(window.get("agent_channel") or 0)
    ch = ch if ch < recording.n_channels else 0
    sr = recording.sr
    seg = np.asarray(recording.channel(ch)[int(w0 * sr) : int(w1 * sr)], dtype=np.float32)
    block = int(round(PLOT_HOP_S * sr))
    n = seg.size // block
    if n == 0:
        return None
    blocks = seg[: n * block].reshape(n, block).astype(np.float64)
    level = 10.0 * np.log10(np.mean(blocks**2, axis=1) + 1e-10)
    # resampling a telephone recording can overshoot full scale a little: the plot's scale
    # (and the report schema) is full scale, so the envelope is clipped to it
    env = np.clip(np.stack([blocks.min(axis=1), blocks.max(axis=1)], axis=1), -1.0, 1.0)

    f0_st: list[float | None] = [None] * n
    median_hz = None
    spans = _agent_spans(turns, w0, w1)
    if spans:
        track = prosody.f0_track(seg, sr=sr, speech_spans=spans)
        voiced = track.voiced & np.isfinite(track.f0_hz)
        if voiced.any():
            median_hz = float(np.median(track.f0_hz[voiced]))
            st = np.full(track.f0_hz.shape, np.nan)
            st[voiced] = 12.0 * np.log2(track.f0_hz[voiced] / median_hz)
            per = int(round(PLOT_HOP_S / prosody.HOP_S))
            for i in range(n):
                vals = st[i * per : (i + 1) * per]
                vals = vals[np.isfinite(vals)]
                if vals.size >= MIN_VOICED_FRAMES:
                    f0_st[i] = round(float(np.median(vals)), 2)
    return {
        "hop_s": PLOT_HOP_S,
        "t_s": [round(w0 + i * PLOT_HOP_S, 3) for i in range(n)],
        "f0_st": f0_st,
        "f0_median_hz": None if median_hz is None else round(median_hz, 1),
        "level_db": [round(max(-100.0, float(x)), 1) for x in level],
        "envelope": [[round(float(a), 3), round(float(b), 3)] for a, b in env],
    }


def is_finite(x) -> bool:
    """True for a real, finite number (None and NaN are not)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
