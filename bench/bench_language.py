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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "language.json")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from callscan import asr
    from callscan.audio.decode import load

    engine = asr.load_model("base", threads=args.threads)
    options = asr.TranscribeOptions(threads=args.threads)
    rows = []
    print(f"{'recording':44s} {'30 s':>18s} {'15 s':>18s} {'15 s, float32':>18s}")
    for path in recordings():
        audio = load(str(path))
        row: dict = {
            "recording": str(path.relative_to(path.parents[1])),
            "channels": audio.n_channels,
        }
        for window, exact in ((30.0, False), (15.0, False), (15.0, True)):
            engine.detect_window_s = window
            engine.exact_language = exact  # float32 language-token pass (the bf16 default's)
            start = time.perf_counter()
            language, share, _ = asr.call_language(engine, audio, options)
            row[f"{window:.0f}s" + ("-float32" if exact else "")] = {
                "language": language,
                "share": round(share, 4),
                "seconds": round(time.perf_counter() - start, 3),
            }
        row["agree"] = row["30s"]["language"] == row["15s"]["language"]
        row["agree_float32"] = row["15s"]["language"] == row["15s-float32"]["language"]
        rows.append(row)
        cells = [
            f"{row[k]['language']} {row[k]['share']:.3f} {row[k]['seconds']:5.2f}s"
            for k in ("30s", "15s", "15s-float32")
        ]
        line = f"{row['recording'][:44]:44s} {cells[0]:>18s} {cells[1]:>18s} {cells[2]:>18s}"
        print(line, flush=True)
    total = {k: round(sum(r[k]["seconds"] for r in rows), 2) for k in ("30s", "15s", "15s-float32")}
    agree = sum(r["agree"] for r in rows)
    agree32 = sum(r["agree_float32"] for r in rows)
    diff = max(abs(r["15s"]["share"] - r["15s-float32"]["share"]) for r in rows)
    print(
        f"\n{len(rows)} recordings; 30 s and 15 s: the same language on {agree}; 15 s with the "
        f"bfloat16 and the float32 language pass: the same on {agree32}, shares at most "
        f"{diff:.4f} apart; seconds in all: {total}"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    record = {"rows": rows, "total_s": total, "agree": agree, "agree_float32": agree32}
    args.json.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
