"""Tone step, old rule against new: voices kept (pitch-shifted real speech), tones removed.

    .venv/bin/python bench/bench_tones.py

Old rule (before issue 17): a VAD region is dropped whole when the median share of its frames'
energy in their 6 strongest FFT bins exceeds 0.93. New rule: :func:`callscan.audio.vad.tone_spans`
(steady spectral lines at tone-plan frequencies), only the tone parts cut.

Voices: the clips of tests/data used by tests/test_tones.py, shifted up 0/3/6/9 semitones with
WORLD (tests/test_tones.py ``pitch_shift``); "VAD" is silero's speech before the tone step.
Tones: the generated signals of tests/test_tones.py at 8 and 16 kHz, alone (a region spanning the
whole signal) and between two real utterances (one region spanning all of it). Also the tone
step's CPU time per minute of speech. Prints Markdown tables and writes bench/out/bench_tones.md.
Needs pyworld (the test extra).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OUT = ROOT / "bench" / "out" / "bench_tones.md"
SR = 16000
OLD_MAX_SHARE = 0.93


def _tests():
    """tests/test_tones.py, for its generated tones and its pitch shifter (one definition)."""
    spec = importlib.util.spec_from_file_location("test_tones", ROOT / "tests" / "test_tones.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def old_share(y: np.ndarray, frame_length: int = 512, k: int = 6) -> float:
    """The old ``tone_share``: median share of the k strongest bins over the loud frames."""
    n = y.size // frame_length
    if n == 0:
        return 0.0
    frames = y[: n * frame_length].reshape(n, frame_length) * np.hanning(frame_length)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    total = power.sum(axis=1) + 1e-10
    top = np.sort(power, axis=1)[:, -k:].sum(axis=1)
    level = 10 * np.log10(total)
    loud = level > level.max() - 30.0
    return float(np.median((top / total)[loud]))


def old_rule(y, spans):
    return [(a, b) for a, b in spans if old_share(y[a:b]) <= OLD_MAX_SHARE]


def seconds(spans) -> float:
    return sum(b - a for a, b in spans) / SR


def overlap_s(spans, intervals_s) -> float:
    return sum(max(0.0, min(b / SR, e) - max(a / SR, s)) for a, b in spans for s, e in intervals_s)


def main() -> None:
    import torch

    from callscan.audio import decode, vad

    torch.set_num_threads(1)
    t = _tests()
    model = vad.load_vad()
    lines = ["## Pitch-shifted real voices: speech seconds kept by the tone step", ""]
    lines += ["| clip | shift (st) | VAD speech s | old rule kept s | new rule kept s |"]
    lines += ["|---|---:|---:|---:|---:|"]
    cpu_s = speech_s = 0.0
    for name in t.VOICES:
        y0 = decode.load(DATA / name).mono()
        for st in (0, *t.SHIFTS):
            y = t.pitch_shift(y0, st) if st else y0
            spans = vad._silero(y, model, vad.VadOptions())
            c = time.process_time()
            new = vad.remove_tones(y, spans)
            cpu_s += time.process_time() - c
            speech_s += seconds(spans)
            old = old_rule(y, spans)
            lines.append(
                f"| {name} | +{st} | {seconds(spans):.2f} | {seconds(old):.2f} | {seconds(new):.2f} |"
            )
    lines += [
        "",
        f"Tone step CPU time: {60 * cpu_s / max(speech_s, 1e-9):.2f} s per minute of speech",
        "",
    ]

    agent = decode.load(DATA / "hvb_agent_0091_20s.flac").channel(0)[2 * SR : 8 * SR]
    cv = decode.load(DATA / "cv_id_19059577.flac").channel(0)
    gap = np.zeros(int(0.3 * SR), np.float32)
    # The speech of each clip: what silero finds in it alone (seconds).
    agent_vad, cv_vad = (
        [(a / SR, b / SR) for a, b in vad._silero(c, model, vad.VadOptions())] for c in (agent, cv)
    )
    lines += ["## Generated tones: tone s removed / tone s; VAD speech s of the clips removed", ""]
    lines += [
        "| signal | rate | alone: old | alone: new | between speech: old | between speech: new |"
    ]
    lines += ["|---|---:|---:|---:|---:|---:|"]
    for name in sorted(t.TONES):
        for rate in (8000, 16000):
            y, bursts = t.TONES[name](rate)
            tone = t._line(y, rate)
            tone_s = sum(e - s for s, e in bursts)
            whole = [(0, tone.size)]
            alone = [
                max(0.0, tone_s - overlap_s(kept, bursts))
                for kept in (old_rule(tone, whole), vad.remove_tones(tone, whole))
            ]
            x = np.concatenate([agent, gap, tone, gap, cv])
            off = (agent.size + gap.size) / SR
            tone_iv = [(s + off, e + off) for s, e in bursts]
            cv_at = (x.size - cv.size) / SR
            speech_iv = agent_vad + [(s + cv_at, e + cv_at) for s, e in cv_vad]
            speech_total = sum(e - s for s, e in speech_iv)
            mixed = []
            for kept in (old_rule(x, [(0, x.size)]), vad.remove_tones(x, [(0, x.size)])):
                mixed.append(
                    f"{max(0.0, tone_s - overlap_s(kept, tone_iv)):.2f}/{tone_s:.2f}; "
                    f"{max(0.0, speech_total - overlap_s(kept, speech_iv)):.2f}"
                )
            lines.append(
                f"| {name} | {rate} | {alone[0]:.2f}/{tone_s:.2f} | {alone[1]:.2f}/{tone_s:.2f} "
                f"| {mixed[0]} | {mixed[1]} |"
            )
    text = "\n".join(lines)
    print(text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
