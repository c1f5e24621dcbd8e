"""The call-language check on every real and sample recording: 30 s against 15 s of speech.

openai-whisper's language distribution is read from each channel's first non-silent speech
through the encoder: either 30 s (Whisper's whole input) or 15 s through half of the
encoder's input positions (what the default engine does with the base model, as it decodes
its packed windows). Everything else is the shipped check (:func:`callscan.asr.call_language`:
allowed languages id and en, the decode check below 0.98). A third column reads the 15 s
again with the language-token pass in float32 instead of the bfloat16 encoder the default
uses where the CPU has it (``OpenAIWhisper.exact_language``; the decode check is float32
either way). For each recording: the language chosen, its share, and the seconds the check
took, each way; whether they agree.

Recordings: ``samples/*.wav`` and ``samples/extra/*.wav`` (synthetic Indonesian and English
calls), ``../shared/data/audio`` (real English speech), ``../shared/data/audio-real``
(HarperValleyBank's 22 one-party files, 8 kHz; the Common Voice Indonesian clip).

With ``--engine faster-whisper`` the same two windows on the CTranslate2 copy (no float32
column: CTranslate2 runs int8).

A last column is the language as the pipeline now finds it: read from the encoder's output of
each channel's first packed window of speech as the transcription encodes it
(:class:`callscan.asr.engine.FromWindows`, the same decode check when unsure), against the
15 s check on the audio that it replaced.

Usage::

    .venv/bin/python bench/bench_language.py [--json bench/out/language.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def recordings() -> list[Path]:
    found = [*ROOT.glob("samples/*.wav"), *ROOT.glob("samples/extra/*.wav")]
    for pattern in ("*.wav", "*.mp3", "*.flac"):
        found += SHARED.glob(f"audio/{pattern}")
    found += SHARED.glob("audio-real/common-voice-id/*.wav")
    found += SHARED.glob("audio-real/harper-valley-bank/audio/*/*.wav")
    return sorted(found)


def read_in_windows(engine, audio, options) -> dict:
    """The language the transcription reads from each channel's first packed window (speech
    regions from the VAD, as the pipeline decodes them)."""
    from callscan import asr
    from callscan.audio.vad import load_vad, speech_regions
    from callscan.speakers.assign import SpeakersOptions

    regions = speech_regions(audio, SpeakersOptions().vad, model=load_vad())
    spans = [[(r.start_s, r.end_s) for r in channel] for channel in regions]
    transcript = asr.transcribe(engine, audio, options, regions=spans)
    return {
        "language": transcript.language,
        "share": round(transcript.language_probability, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "language.json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--engine",
        default="openai-whisper",
        choices=("openai-whisper", "faster-whisper"),
        help="faster-whisper: 30 s (a whole input) against 15 s (half), no float32 column",
    )
    args = parser.parse_args()

    from callscan import asr
    from callscan.audio.decode import load

    engine = asr.load_model("base", engine=args.engine, threads=args.threads)
    options = asr.TranscribeOptions(engine=args.engine, threads=args.threads)
    ways = [(30.0, False), (15.0, False)]
    if args.engine == "openai-whisper":
        ways.append((15.0, True))
    keys = [f"{w:.0f}s" + ("-float32" if exact else "") for w, exact in ways]
    rows = []
    print(f"{'recording':44s} {'30 s':>18s} {'15 s':>18s} {'15 s, float32':>18s} {'windows':>12s}")
    for path in recordings():
        audio = load(str(path))
        row: dict = {
            "recording": str(path.relative_to(path.parents[1])),
            "channels": audio.n_channels,
        }
        for window, exact in ways:
            engine.detect_window_s = window
            engine.exact_language = exact  # float32 language-token pass (the bf16 default's)
            start = time.perf_counter()
            language, share, _ = asr.call_language(engine, audio, options)
            row[f"{window:.0f}s" + ("-float32" if exact else "")] = {
                "language": language,
                "share": round(share, 4),
                "seconds": round(time.perf_counter() - start, 3),
            }
        engine.detect_window_s, engine.exact_language = 15.0, False  # as loaded
        row["windows"] = read_in_windows(engine, audio, options)
        row["agree_windows"] = row["windows"]["language"] == row["15s"]["language"]
        row["agree"] = row["30s"]["language"] == row["15s"]["language"]
        if "15s-float32" in row:
            row["agree_float32"] = row["15s"]["language"] == row["15s-float32"]["language"]
        rows.append(row)
        cells = [
            f"{row[k]['language']} {row[k]['share']:.3f} {row[k]['seconds']:5.2f}s" for k in keys
        ]
        cells.append(f"{row['windows']['language']} {row['windows']['share']:.3f}")
        print(f"{row['recording'][:44]:44s} " + " ".join(f"{c:>18s}" for c in cells), flush=True)
    total = {k: round(sum(r[k]["seconds"] for r in rows), 2) for k in keys}
    agree = sum(r["agree"] for r in rows)
    agree_windows = sum(r["agree_windows"] for r in rows)
    summary = (
        f"\n{len(rows)} recordings ({args.engine}); 30 s and 15 s: the same language on {agree}"
    )
    summary += f"; read in the windows and the 15 s check: the same on {agree_windows}"
    record = {
        "engine": args.engine,
        "rows": rows,
        "total_s": total,
        "agree": agree,
        "agree_windows": agree_windows,
    }
    if "15s-float32" in keys:
        record["agree_float32"] = agree32 = sum(r["agree_float32"] for r in rows)
        diff = max(abs(r["15s"]["share"] - r["15s-float32"]["share"]) for r in rows)
        summary += (
            f"; 15 s with the bfloat16 and the float32 language pass: the same on {agree32}, "
            f"shares at most {diff:.4f} apart"
        )
    print(f"{summary}; seconds in all: {total}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
