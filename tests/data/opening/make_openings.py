"""Build the synthetic agent openings used by ``tests/test_opening.py`` and ``bench/bench_opening.py``.

Everything here is SYNTHETIC: scripted call-centre openings written for callscan and spoken by
the espeak-ng formant synthesizer (no real people, no real company). Run from the repository
root::

    .venv/bin/python tests/data/opening/make_openings.py

Needs the ``espeak-ng`` program (Debian ``apt-get install espeak-ng``, tested with 1.51) and
numpy, soundfile and soxr from callscan's environment. espeak-ng is GPL-licensed; it is only run
here as an external program to make the audio and is not a dependency of callscan.

Each clip is one agent reading the same four sentences twice, with two voice variants that
differ only in their pitch range (espeak-ng variant ``pitch <base_hz> <range_hz>``, see
voice-measures.md section 2):

* lively:   a wide pitch range (female 150/340, male 80/190 in espeak-ng's units);
* monotone: a narrow one (female 196/212, male 108/116).

The sentences are synthesized one by one at 22.05 kHz, resampled to 16 kHz (soxr VHQ), trimmed
below -40 dBFS, and placed after a 0.8 s lead-in with fixed pauses, so the time of every
sentence is known exactly; they are written to ``openings.json`` (the turn layout the tests
build their conversations from). The active speech level is set to -24 dBFS and a seeded noise
floor at -70 dBFS replaces digital silence. Output: 16 kHz mono 16-bit FLAC. The output is
deterministic for a given espeak-ng version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
SR = 16000  # Hz, output rate
LEAD_IN_S = 0.8  # s of noise floor before the first sentence
PAUSES_S = (0.6, 0.8, 0.5)  # s between the four sentences
MIN_TAIL_S = 0.6  # s of noise floor after the last sentence (at least)
TOTAL_S = 21.5  # s, clips are padded to this length (the 20 s window fits after the lead-in)
ACTIVE_DBFS = -24.0  # active speech level (RMS over the sentences, dB re full-scale square)
NOISE_DBFS = -70.0  # RMS of the noise floor
TRIM_DBFS = -40.0

TEXTS = {
    "id": [
        "Selamat pagi, Nusantara Seluler, bagian layanan pelanggan, dengan Rina.",
        "Terima kasih sudah menghubungi kami, Bapak.",
        "Dengan senang hati saya akan membantu Bapak hari ini.",
        "Silakan sampaikan keperluan Bapak, saya mendengarkan Anda.",
    ],
    "en": [
        "Good morning, Nusantara Telecom, customer care department, this is Rina speaking.",
        "Thank you for calling us today, sir.",
        "I will be glad to help you with your account.",
        "Please tell me what you need, I am listening to you.",
    ],
}
VOICES = {  # language -> (espeak voice, speed wpm, {style: pitch variant line})
    "id": ("id", 150, "female", {"lively": "pitch 150 340", "monotone": "pitch 196 212"}),
    "en": ("en-us", 160, "male", {"lively": "pitch 80 190", "monotone": "pitch 108 116"}),
}


def _data_dir(tmp: Path) -> Path:
    """A private espeak-ng data folder (symbolic links) with our four variants added."""
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    src = Path(out.stdout.split("Data at:")[1].strip())
    dst = tmp / "espeak-ng-data"
    (dst / "voices" / "!v").mkdir(parents=True)
    for entry in src.iterdir():
        if entry.name != "voices":
            os.symlink(entry, dst / entry.name)
    for entry in (src / "voices").iterdir():
        if entry.name != "!v":
            os.symlink(entry, dst / "voices" / entry.name)
    for lang, (_, _, gender, styles) in VOICES.items():
        for style, pitch in styles.items():
            text = f"language variant\nname cs_{lang}_{style}\ngender {gender}\n{pitch}\n"
            (dst / "voices" / "!v" / f"cs_{lang}_{style}").write_text(text)
    return tmp


def _synth(tmp: Path, voice: str, speed: int, text: str) -> np.ndarray:
    wav = tmp / "utt.wav"
    cmd = ["espeak-ng", f"--path={tmp}", "-v", voice, "-s", str(speed), "-w", str(wav), "--", text]
    subprocess.run(cmd, check=True)
    y, sr = sf.read(wav, dtype="float64")
    y = soxr.resample(y, sr, SR, quality="VHQ")
    loud = np.flatnonzero(np.abs(y) >= 10.0 ** (TRIM_DBFS / 20.0))
    return y[loud[0] : loud[-1] + 1]


def build(tmp: Path, lang: str, style: str, seed: int) -> tuple[np.ndarray, list[dict]]:
    base, speed, _, _ = VOICES[lang]
    parts = [_synth(tmp, f"{base}+cs_{lang}_{style}", speed, t) for t in TEXTS[lang]]
    speech = np.concatenate(parts)
    gain = 10.0 ** (ACTIVE_DBFS / 20.0) / np.sqrt(np.mean(speech**2))
    n = max(int(TOTAL_S * SR), int((LEAD_IN_S + sum(PAUSES_S) + MIN_TAIL_S) * SR) + speech.size)
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n) * 10.0 ** (NOISE_DBFS / 20.0)
    turns, pos = [], int(LEAD_IN_S * SR)
    for i, (text, part) in enumerate(zip(TEXTS[lang], parts, strict=True)):
        y[pos : pos + part.size] += gain * part
        turns.append(
            {
                "role": "agent",
                "start_s": round(pos / SR, 3),
                "end_s": round((pos + part.size) / SR, 3),
                "text": text,
            }
        )
        pos += part.size + (int(PAUSES_S[i] * SR) if i < len(PAUSES_S) else 0)
    return y, turns


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="callscan-openings-"))
    try:
        _data_dir(tmp)
        layout = {}
        for k, (lang, style) in enumerate((lg, s) for lg in VOICES for s in ("lively", "monotone")):
            y, turns = build(tmp, lang, style, seed=k)
            name = f"{lang}_{style}.flac"
            sf.write(HERE / name, y.astype(np.float32), SR, subtype="PCM_16")
            base, speed, gender, styles = VOICES[lang]
            layout[name] = {
                "language": lang,
                "style": style,
                "voice": f"espeak-ng -v {base}+cs_{lang}_{style} -s {speed} ({gender}, {styles[style]})",
                "duration_s": round(y.size / SR, 3),
                "turns": turns,
            }
        (HERE / "openings.json").write_text(json.dumps(layout, indent=1, ensure_ascii=False) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
