"""Cost of separating the parties, per minute of audio, and DER on the real telephone clip.

    .venv/bin/python bench/bench_speakers.py [--minutes 2]

Inputs are built from tests/data: mono = sample.wav (a real two-speaker telephone excerpt)
repeated; stereo = sample.wav on the left and a 7 s-shifted copy on the right, each leaking
into the other channel at -25 dB. Times are CPU-seconds (time.process_time) with one torch
thread, per minute of audio; models are loaded before timing. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SR = 16000


def _cpu(fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the test audio")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from callscan.audio import decode as audio
    from callscan.audio import vad
    from callscan.speakers import diarize

    clip = audio.load(DATA / "sample.wav").mono()
    n = int(args.minutes * 60 * SR)
    mono = np.resize(clip, n)
    other = np.roll(mono, 7 * SR)
    g = np.float32(10 ** (-25 / 20))
    stereo = audio.from_array(np.stack([mono + g * other, other + g * mono]), SR)
    mono_audio = audio.from_array(mono, SR)
    vad_model, encoder = vad.load_vad(), diarize.load_encoder()
    minutes = n / SR / 60

    t_vad, regions = _cpu(lambda: vad.speech_regions(mono_audio, model=vad_model))
    plain = vad.VadOptions(crosstalk_gate=False)
    t_vad2, _ = _cpu(lambda: vad.speech_regions(stereo, plain, model=vad_model))
    t_gate, _ = _cpu(lambda: vad.speech_regions(stereo, model=vad_model))
    t_dia, _ = _cpu(lambda: diarize.diarize(mono, regions[0], encoder=encoder))

    real = audio.load(DATA / "sample.wav")
    real_regions = vad.speech_regions(real, model=vad_model)[0]
    hyp = diarize.diarize(real.mono(), real_regions, encoder=encoder)
    scored = diarize.der(DATA / "sample.rttm", hyp, collar_s=0.25)
    no_collar = diarize.der(DATA / "sample.rttm", hyp, collar_s=0.0)

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch threads 1; {minutes:.1f} min of audio per run; CPU-s per minute of audio.\n"
    )
    print("| step | CPU-s per audio minute | DER on sample.wav |")
    print("|---|---|---|")
    print(f"| mono: silero-vad | {t_vad / minutes:.2f} | |")
    print(f"| stereo: silero-vad on both channels | {t_vad2 / minutes:.2f} | |")
    print(f"| stereo: silero-vad + crosstalk gate | {t_gate / minutes:.2f} | |")
    print(f"| mono: diarization (embeddings + spectral clustering) | {t_dia / minutes:.2f} | |")
    print(
        f"| mono: VAD + diarization, total | {(t_vad + t_dia) / minutes:.2f} | "
        f"{scored.der:.1%} (collar 0.25 s, overlap scored); {no_collar.der:.1%} (no collar) |"
    )


if __name__ == "__main__":
    main()
