"""Benchmark: CPU cost of the opening analysis per call, and the F0 trackers compared.

Run from the repository root, one thread, on the committed synthetic openings::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python bench/bench_opening.py

Prints one Markdown document (two tables) and writes nothing else. CPU time is
``time.process_time`` (this machine's CPU is shared, so wall time is not reported). Each clip is
scored once to warm up (numba compiles librosa's YIN kernels on the first call: about 1.3 s once
per process), then ``REPEATS`` times; the table shows the median.

Trackers compared on the agent's speech of each clip, clean and on telephone band (8 kHz,
300-3400 Hz): ``librosa.pyin`` (65-500 Hz, 10 ms hop, its own voicing) vs callscan's
``prosody.f0_track`` (``librosa.yin`` at 8 kHz, two passes, periodicity + level voicing).
Agreement: median |difference| in cents and share of frames within 50 cents, over frames voiced
by both; voicing agreement over all speech frames. pyworld (MIT) would be the permissive third
candidate but has no wheel for this platform; it is tried when importable.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data" / "opening"
REPEATS = 5  # timed runs per clip
SR = 16000  # Hz, the clips' rate


def _conv(meta):
    from callscan.conversation import Conversation, Turn
    from callscan.transcript import Word

    turns = []
    for i, t in enumerate(meta["turns"]):
        ws = t["text"].split()
        step = (t["end_s"] - t["start_s"]) / len(ws)
        words = [
            Word(w, t["start_s"] + k * step, t["start_s"] + (k + 1) * step, 0.9)
            for k, w in enumerate(ws)
        ]
        turns.append(Turn(i, "agent", t["text"], "agent", None, t["start_s"], t["end_s"], words))
    return Conversation(turns, language=meta["language"])


def _telephone(y):
    import scipy.signal
    import soxr

    y8 = soxr.resample(y.astype(np.float64), SR, 8000)
    sos = scipy.signal.butter(6, [300, 3400], btype="band", fs=8000, output="sos")
    return scipy.signal.sosfiltfilt(sos, y8).astype(np.float32)


def cost_table(clips) -> list[str]:
    from callscan.analysis.opening.score import score_opening
    from callscan.audio.decode import from_array

    rows = [
        "| clip | F0 | SNR | loudness | content | total | tone | clarity |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, (y, sr, meta) in clips.items():
        audio, conv = from_array(y, sr), _conv(meta)
        score_opening(audio, conv)  # warm-up
        runs = []
        for _ in range(REPEATS):
            t0 = time.process_time()
            res = score_opening(audio, conv)
            total = time.process_time() - t0
            runs.append({**res.info["cpu_s"], "outer": total})
        med = {
            k: statistics.median(r.get(k, 0.0) for r in runs)
            for k in ("f0", "snr", "loudness", "content", "outer")
        }
        rows.append(
            f"| {label} | {med['f0']:.3f} | {med['snr']:.3f} | {med['loudness']:.4f} | {med['content']:.3f} "
            f"| **{med['outer']:.3f}** | {res.tone.score:.1f} | {res.clarity.score:.1f} |"
        )
    return rows


def _agreement(f_a, f_b, n):
    a, b = f_a[:n], f_b[:n]
    both = np.isfinite(a) & np.isfinite(b)
    cents = np.abs(1200 * np.log2(a[both] / b[both]))
    voicing = float(np.mean(np.isfinite(a) == np.isfinite(b)))
    return (
        float(np.median(cents)) if cents.size else float("nan"),
        float(np.mean(cents < 50)) if cents.size else float("nan"),
        voicing,
    )


def tracker_table(clips) -> list[str]:
    import librosa

    from callscan.audio import prosody

    rows = [
        "| clip | pyin CPU s | pyin spread st | yin+voicing CPU s | yin spread st | median abs diff (cents) | within 50 cents | voicing agreement |",
        "|---|---|---|---|---|---|---|---|",
    ]
    librosa.pyin(np.zeros(SR // 2, np.float32) + 0.01, fmin=65, fmax=500, sr=SR)  # numba warm-up
    for label, (y, sr, meta) in clips.items():
        x = y if sr == SR else librosa.resample(y, orig_sr=sr, target_sr=SR)
        spans = [(t["start_s"], t["end_s"]) for t in meta["turns"]]
        lo, hi = spans[0][0], spans[-1][1]
        seg = x[int(lo * SR) : int(hi * SR)]
        rel = [(a - lo, b - lo) for a, b in spans]
        t0 = time.process_time()
        f0p, vflag, _ = librosa.pyin(
            seg, fmin=65, fmax=500, sr=SR, frame_length=1024, hop_length=160
        )
        t_pyin = time.process_time() - t0
        mask = prosody.spans_mask(rel, f0p.size)
        f0p = np.where(vflag & mask, f0p, np.nan)
        t0 = time.process_time()
        track = prosody.f0_track(seg, sr=SR, speech_spans=rel)
        t_yin = time.process_time() - t0
        n = min(f0p.size, track.f0_hz.size)
        med, within, voicing = _agreement(f0p, track.f0_hz, n)
        rows.append(
            f"| {label} | {t_pyin:.2f} | {prosody.semitone_spread(f0p):.2f} | {t_yin:.3f} "
            f"| {prosody.semitone_spread(track.f0_hz):.2f} | {med:.1f} | {100 * within:.0f}% | {100 * voicing:.0f}% |"
        )
    try:
        import pyworld  # noqa: F401

        rows.append("| (pyworld importable: add DIO/Harvest here) | | | | | | | |")
    except ImportError:
        rows.append(
            "| pyworld (MIT): not installable here (no wheel), not measured | | | | | | | |"
        )
    return rows


def main() -> None:
    import librosa

    layout = json.loads((DATA / "openings.json").read_text())
    clips = {}
    for name, meta in layout.items():
        y, sr = sf.read(DATA / name, dtype="float32")
        clips[name.split(".")[0]] = (y, sr, meta)
        clips[name.split(".")[0] + " (8 kHz tel.)"] = (_telephone(y), 8000, meta)
    lines = [
        f"## Opening analysis cost (CPU-s per call, median of {REPEATS}, 1 thread, librosa {librosa.__version__})",
        "",
        *cost_table(clips),
        "",
        "Budget: <= 1.5 CPU-s per call (total). First call in a process adds ~1.3 s once (numba compiles YIN).",
        "",
        "## F0 trackers on the agents' speech (one run each)",
        "",
        *tracker_table(clips),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
