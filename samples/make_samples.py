"""Build callscan's bundled sample calls from the dialogue scripts in ``samples/scripts/``.

Everything these files contain is SYNTHETIC: scripted customer-service dialogues written for
callscan and spoken by the espeak-ng speech synthesizer. No real people, no real customers,
no real companies (the company names are made up).

Run from the repository root::

    .venv/bin/python samples/make_samples.py                # build every call
    .venv/bin/python samples/make_samples.py id_sales_stereo  # build one call
    .venv/bin/python samples/make_samples.py --measure      # build, then re-measure WER
                                                           # with Whisper base (slow on CPU)

Needs the ``espeak-ng`` program on PATH (Debian: ``apt-get install espeak-ng``; tested with
1.51) and numpy, soundfile, soxr, scipy, librosa and pyyaml from callscan's environment.
espeak-ng is GPL-licensed; it is only run here as an external program to make the audio and is
not a dependency of callscan.

For each ``scripts/NAME.yaml`` it writes ``NAME.wav`` and the sidecar ``NAME.json`` (layout,
voices, the exact time of every turn, stages, sensory wording, conduct flags, the agent's
measured pitch spread and the last measured Whisper base WER). The output is deterministic:
the same script, espeak-ng version and library versions give the same bytes.

How a call is made:

* every turn is synthesized on its own with espeak-ng (22.05 kHz), resampled to 16 kHz with
  soxr, and trimmed of leading and trailing silence below -40 dBFS, so the ``start_s`` and
  ``end_s`` recorded in the sidecar are the times of the spoken audio in the file;
* turns are placed one after the other with the gap the script gives (a negative gap is an
  overlap, only used on stereo files), after a short lead-in;
* stereo files carry the agent on ``agent_channel`` and the caller on the other channel;
  mono files mix both; a very faint fixed noise floor (seeded) replaces digital silence;
* ``codec: pcm_mulaw`` files are band-limited to 300-3400 Hz, resampled to 8 kHz and written
  as G.711 mu-law WAV, like a telephone line.

A script may respell a word for the synthesizer (``respell``), when espeak-ng's Indonesian
rules mis-stress or mis-voice it; the sidecar's turn text is always the correct spelling (what
a transcript should say) and the respellings are listed in the sidecar.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import yaml
from scipy import signal

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
GENERATOR = "samples/make_samples.py"
SR = 16000  # working rate; every call is composed at 16 kHz
TRIM_DBFS = -40.0
LEAD_IN_S = 0.40
TAIL_S = 0.60
NOISE_DBFS = -72.0  # RMS of the faint noise floor
ROLES = ("agent", "caller")


# ----------------------------------------------------------------------------- espeak-ng


def espeak_binary() -> str:
    exe = shutil.which("espeak-ng")
    if not exe:
        sys.exit("make_samples: espeak-ng not found on PATH (Debian: apt-get install espeak-ng)")
    return exe


def espeak_data_dir(exe: str) -> Path:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Data at:\s*(\S+)", out)
    if not m:
        sys.exit(f"make_samples: cannot find espeak-ng's data folder in {out!r}")
    return Path(m.group(1))


def espeak_version(exe: str) -> str:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"text-to-speech:\s*([0-9][^\s]*)", out)
    return m.group(1) if m else "unknown"


class Espeak:
    """espeak-ng with the scripts' own voice variants.

    Custom variants (``variants:`` in a script) live in a private copy of espeak-ng's data
    folder made of symbolic links plus the variant files, passed with ``--path``.
    """

    def __init__(self, variants: dict[str, str]):
        self.exe = espeak_binary()
        self.version = espeak_version(self.exe)
        self.tmp = Path(tempfile.mkdtemp(prefix="callscan-samples-"))
        self.path: Path | None = None
        if variants:
            self.path = self.tmp / "data"
            src = espeak_data_dir(self.exe)
            dst = self.path / "espeak-ng-data"
            (dst / "voices" / "!v").mkdir(parents=True)
            for entry in src.iterdir():
                if entry.name != "voices":
                    os.symlink(entry, dst / entry.name)
            for entry in (src / "voices").iterdir():
                if entry.name != "!v":
                    os.symlink(entry, dst / "voices" / entry.name)
            for entry in (src / "voices" / "!v").iterdir():
                os.symlink(entry, dst / "voices" / "!v" / entry.name)
            for name, body in variants.items():
                text = f"language variant\nname {name}\n{body.strip()}\n"
                (dst / "voices" / "!v" / name).write_text(text, encoding="utf-8")

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def command(self, voice: dict) -> list[str]:
        cmd = [self.exe]
        if self.path is not None:
            cmd.append(f"--path={self.path}")
        cmd += ["-v", str(voice["voice"])]
        for key, flag in (("speed", "-s"), ("pitch", "-p"), ("amplitude", "-a"), ("word_gap", "-g")):
            if voice.get(key) is not None:
                cmd += [flag, str(int(voice[key]))]
        return cmd

    def describe(self, voice: dict) -> str:
        parts = [f"espeak-ng {self.version} -v {voice['voice']}"]
        for key, flag in (("speed", "-s"), ("pitch", "-p"), ("amplitude", "-a"), ("word_gap", "-g")):
            if voice.get(key) is not None:
                parts.append(f"{flag} {int(voice[key])}")
        return " ".join(parts)

    def synth(self, text: str, voice: dict) -> np.ndarray:
        """One utterance as float32 at 16 kHz, silence below -40 dBFS trimmed off both ends."""
        out = self.tmp / "utt.wav"
        subprocess.run([*self.command(voice), "-w", str(out), "--", text], check=True)
        y, sr = sf.read(out, dtype="float64")
        if y.ndim > 1:
            y = y.mean(axis=1)
        y = soxr.resample(y, sr, SR, quality="VHQ")
        return trim(y).astype(np.float64)


def trim(y: np.ndarray, dbfs: float = TRIM_DBFS) -> np.ndarray:
    """Cut samples quieter than ``dbfs`` from both ends."""
    loud = np.flatnonzero(np.abs(y) >= 10.0 ** (dbfs / 20.0))
    if loud.size == 0:
        raise ValueError("utterance is silent")
    return y[loud[0] : loud[-1] + 1]


# ----------------------------------------------------------------------------- scripts


def load_script(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("name", path.stem)
    if data["name"] != path.stem:
        raise ValueError(f"{path}: name {data['name']!r} differs from the file name")
    layout = data["layout"]
    if layout["channels"] not in (1, 2):
        raise ValueError(f"{path}: channels must be 1 or 2")
    if layout["channels"] == 2 and layout.get("agent_channel") not in (0, 1):
        raise ValueError(f"{path}: a stereo call needs agent_channel 0 or 1")
    for turn in data["turns"]:
        if turn["role"] not in ROLES:
            raise ValueError(f"{path}: unknown role {turn['role']!r}")
    return data


def spoken_text(text: str, respell: dict[str, str]) -> str:
    """The text given to espeak-ng: ``text`` with whole-word respellings applied."""
    for word, said in respell.items():
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", said, text)
    return text


def channel_of(role: str, layout: dict) -> int:
    if layout["channels"] == 1:
        return 0
    agent = int(layout["agent_channel"])
    return agent if role == "agent" else 1 - agent


# ----------------------------------------------------------------------------- building


def band_limit(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Telephone band, 300-3400 Hz (zero-phase, so turn times do not move)."""
    sos = signal.butter(6, [300.0, 3400.0], btype="bandpass", fs=sr, output="sos")
    return signal.sosfiltfilt(sos, y)


def noise_floor(n: int, seed: int) -> np.ndarray:
    # RandomState keeps its stream across numpy versions, unlike Generator.
    rs = np.random.RandomState(seed)
    return rs.standard_normal(n) * 10.0 ** (NOISE_DBFS / 20.0)


def compose(script: dict, espeak: Espeak, turns: list[dict] | None = None):
    """Synthesize and place the turns; returns (audio[channels, n] at 16 kHz, placed turns)."""
    layout = script["layout"]
    n_ch = int(layout["channels"])
    respell = script.get("respell") or {}
    voices = script["voices"]
    gains = {role: float(voices[role].get("gain", 0.8)) for role in ROLES}
    clips, placed = [], []
    t = LEAD_IN_S
    prev_end = None
    for turn in turns if turns is not None else script["turns"]:
        role = turn["role"]
        y = espeak.synth(spoken_text(turn["text"], respell), voices[role])
        y = y / max(np.abs(y).max(), 1e-9) * gains[role]  # same peak level for every turn
        gap = float(turn.get("gap", 0.5))
        if prev_end is not None:
            if gap < 0 and n_ch == 1:
                raise ValueError(f"{script['name']}: overlaps need a stereo layout")
            t = prev_end + gap
        start = int(round(t * SR))
        ch = channel_of(role, layout)
        clips.append((ch, start, y))
        end = start + len(y)
        placed.append(
            {
                "role": role,
                "channel": ch,
                "start_s": round(start / SR, 3),
                "end_s": round(end / SR, 3),
                "text": turn["text"],
                **({"stage": turn["stage"]} if turn.get("stage") else {}),
            }
        )
        prev_end = max(prev_end or 0.0, end / SR) if gap < 0 else end / SR
    total = max(start + len(y) for _, start, y in clips) + int(TAIL_S * SR)
    audio = np.zeros((n_ch, total))
    for ch, start, y in clips:
        audio[ch, start : start + len(y)] += y
    for ch in range(n_ch):
        audio[ch] += noise_floor(total, seed=1000 + ch)
    return audio, placed


def encode(audio: np.ndarray, layout: dict) -> tuple[np.ndarray, int, str]:
    """Final samples (frames x channels), sample rate and soundfile subtype."""
    codec = layout.get("codec", "pcm_s16le")
    sr = int(layout["sample_rate_hz"])
    if codec == "pcm_mulaw":
        audio = np.stack([band_limit(ch) for ch in audio])
    if sr != SR:
        audio = np.stack([soxr.resample(ch, SR, sr, quality="VHQ") for ch in audio])
    audio = np.clip(audio, -1.0, 1.0)
    subtype = {"pcm_s16le": "PCM_16", "pcm_mulaw": "ULAW"}[codec]
    return audio.T.astype(np.float64), sr, subtype


# ----------------------------------------------------------------------------- measures


def f0_spread_semitones(y: np.ndarray, sr: int, mask_s: list[tuple[float, float]] | None = None):
    """Robust F0 spread: 1.4826 * MAD of 12*log2(f0/median f0) over voiced frames (pYIN)."""
    import librosa

    if sr != SR:
        y = soxr.resample(y, sr, SR, quality="VHQ")
    hop = 160
    f0, voiced, _ = librosa.pyin(
        y.astype(np.float32), fmin=60.0, fmax=400.0, sr=SR, frame_length=1024, hop_length=hop
    )
    times = np.arange(len(f0)) * hop / SR
    keep = voiced & np.isfinite(f0)
    if mask_s is not None:
        inside = np.zeros_like(keep)
        for a, b in mask_s:
            inside |= (times >= a) & (times <= b)
        keep &= inside
    f = f0[keep]
    if f.size < 10:
        return None, None, int(f.size)
    st = 12.0 * np.log2(f / np.median(f))
    spread = 1.4826 * np.median(np.abs(st - np.median(st)))
    return round(float(spread), 2), round(float(np.median(f)), 1), int(f.size)


def agent_pitch(data: np.ndarray, sr: int, layout: dict, turns: list[dict], window_s=20.0):
    """F0 spread of the agent's speech in the first ``window_s`` seconds of the call."""
    spans = [(t["start_s"], min(t["end_s"], window_s)) for t in turns
             if t["role"] == "agent" and t["start_s"] < window_s]  # fmt: skip
    ch = 0 if layout["channels"] == 1 else int(layout["agent_channel"])
    y = data[: int(window_s * sr), ch]
    spread, median, frames = f0_spread_semitones(y, sr, spans)
    return {
        "window_s": [0.0, window_s],
        "f0_median_hz": median,
        "f0_spread_semitones": spread,
        "voiced_frames": frames,
        "method": "librosa.pyin 60-400 Hz, hop 10 ms, agent turns only; "
        "spread = 1.4826 * MAD of 12*log2(f0/median f0)",
    }


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- sidecar


def sidecar(script: dict, espeak: Espeak, placed: list[dict], sr: int, duration: float):
    layout = script["layout"]
    n_ch = int(layout["channels"])
    respell = script.get("respell") or {}
    return {
        "synthetic": True,
        "generator": GENERATOR,
        "script": f"samples/scripts/{script['name']}.yaml",
        "description": " ".join(str(script.get("description", "")).split()),
        "language": script["language"],
        "call_type": script["call_type"],
        "duration_s": round(duration, 3),
        "layout": {
            "channels": n_ch,
            "sample_rate_hz": sr,
            "codec": layout.get("codec", "pcm_s16le"),
            "band_hz": [300, 3400] if layout.get("codec") == "pcm_mulaw" else None,
            "agent_channel": int(layout["agent_channel"]) if n_ch == 2 else None,
        },
        "voices": {role: espeak.describe(script["voices"][role]) for role in ROLES},
        "voice_variants": script.get("variants") or {},
        "turns": placed,
        "stages_covered": script.get("stages_covered", []),
        "stages_missing": script.get("stages_missing", []),
        "caller_sensory_wording": script.get("caller_sensory_wording", []),
        "conduct": {
            "excluded_openers": [],
            "bare_no": [],
            "slang": [],
            **(script.get("conduct") or {}),
        },
        "agent_voice": script["agent_voice"],
        "respellings": [{"word": w, "spoken_as": s} for w, s in respell.items()],
    }


def build(script: dict, out_dir: Path = HERE) -> dict:
    if script.get("folder"):  # a probe call kept out of the bundled set (e.g. extra/)
        out_dir = out_dir / script["folder"]
        out_dir.mkdir(exist_ok=True)
    espeak = Espeak(script.get("variants") or {})
    try:
        audio, placed = compose(script, espeak)
        data, sr, subtype = encode(audio, script["layout"])
        wav = out_dir / f"{script['name']}.wav"
        sf.write(wav, data, sr, subtype=subtype, format="WAV")
        # read back what was written (mu-law is lossy) for the pitch measure
        written, _ = sf.read(wav, dtype="float64", always_2d=True)
        meta = sidecar(script, espeak, placed, sr, len(written) / sr)
    finally:
        espeak.close()
    meta["agent_pitch_first_20s"] = agent_pitch(written, sr, script["layout"], placed)
    meta["audio_sha256"] = sha256_file(wav)
    side = out_dir / f"{script['name']}.json"
    old = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
    # a WER measured on these exact bytes stays valid; otherwise it must be measured again
    if old.get("audio_sha256") == meta["audio_sha256"] and old.get("wer_base"):
        meta["wer_base"] = old["wer_base"]
    else:
        meta["wer_base"] = None
    write_json(side, meta)
    return meta


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def script_paths(names: list[str]) -> list[Path]:
    paths = sorted(SCRIPTS.glob("*.yaml"))
    if names:
        wanted = {n.removesuffix(".yaml") for n in names}
        paths = [p for p in paths if p.stem in wanted]
        missing = wanted - {p.stem for p in paths}
        if missing:
            sys.exit(f"make_samples: no script for {', '.join(sorted(missing))}")
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="calls to build (default: every script)")
    ap.add_argument("--measure", action="store_true",
                    help="afterwards, measure Whisper base WER and store it in the sidecars")  # fmt: skip
    args = ap.parse_args(argv)
    for path in script_paths(args.names):
        meta = build(load_script(path))
        p = meta["agent_pitch_first_20s"]
        print(
            f"{meta['script']}: {meta['duration_s']:.1f} s, {meta['layout']['channels']} ch, "
            f"{meta['layout']['sample_rate_hz']} Hz {meta['layout']['codec']}, "
            f"{len(meta['turns'])} turns, agent F0 spread {p['f0_spread_semitones']} st"
            + ("" if meta["wer_base"] else "  (WER not measured for these bytes)")
        )
    if args.measure:
        sys.path.insert(0, str(HERE))
        import tune_report

        return tune_report.main([*args.names, "--write"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
