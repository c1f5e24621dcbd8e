"""Re-measure the sample calls' word error rate with Whisper base and print the table.

Run from the repository root (after ``samples/make_samples.py``)::

    .venv/bin/python samples/tune_report.py                 # every sample, print only
    .venv/bin/python samples/tune_report.py id_sales_stereo # one sample
    .venv/bin/python samples/tune_report.py --write         # also store wer_base in sidecars
    .venv/bin/python samples/tune_report.py --show          # print hypotheses too

Each channel of a stereo call is transcribed on its own and scored against the script text of
the turns on that channel, in order; a mono call against the whole script in time order.
Pooled WER = total errors / total reference words. Decoding: openai-whisper ``base`` from
callscan's offline cache, language forced to the call's language, fp16 off, word timestamps,
no conditioning on previous text, hallucination_silence_threshold 2.0, two torch threads.
Whisper base needs about 10-40 s per minute of audio on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = "base"
SETTINGS = {
    "fp16": False,
    "word_timestamps": True,
    "condition_on_previous_text": False,
    "hallucination_silence_threshold": 2.0,
}


def load_model():
    import torch

    from callscan.asr.weights import load_whisper

    torch.set_num_threads(2)
    return load_whisper(MODEL)


def transcribe(model, y, sr: int, language: str) -> str:
    import librosa
    import numpy as np
    import torch
    import whisper

    if sr != 16000:
        y = librosa.resample(y, orig_sr=sr, target_sr=16000)
    torch.manual_seed(0)  # the temperature fallback samples; keep it repeatable
    r = whisper.transcribe(model, torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)),
                           language=language, **SETTINGS)  # fmt: skip
    return r["text"].strip()


def score(reference: str, hypothesis: str, language: str) -> dict:
    from callscan.asr.wer import edit_distance, normalize

    ref, hyp = normalize(reference, language), normalize(hypothesis, language)
    errors = edit_distance(ref, hyp)
    return {"wer": round(errors / max(len(ref), 1), 3), "errors": errors, "ref_words": len(ref)}


def measure(model, wav: Path, meta: dict) -> dict:
    import soundfile as sf

    y, sr = sf.read(wav, dtype="float32", always_2d=True)
    y = y.T
    lang = meta["language"]
    turns = sorted(meta["turns"], key=lambda t: t["start_s"])
    result: dict = {
        "model": f"openai-whisper {MODEL}",
        "decode": {"language": lang, **SETTINGS, "torch_threads": 2},
        "normalizer": "callscan.asr.wer (whisper EnglishTextNormalizer / BasicTextNormalizer)",
        "channels": {},
    }
    if meta["layout"]["channels"] == 1:
        groups = {"mono": (0, turns)}
    else:
        groups = {}
        for role in ("agent", "caller"):
            ch = next(t["channel"] for t in turns if t["role"] == role)
            groups[role] = (ch, [t for t in turns if t["role"] == role])
    errors = words = 0
    for label, (ch, group) in groups.items():
        reference = " ".join(t["text"] for t in group)
        hyp = transcribe(model, y[ch], sr, lang)
        s = score(reference, hyp, lang)
        result["channels"][label] = {"channel": ch, **s, "hypothesis": hyp}
        errors += s["errors"]
        words += s["ref_words"]
    result["pooled_wer"] = round(errors / max(words, 1), 3)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="samples to measure (default: all)")
    ap.add_argument("--write", action="store_true", help="store the result as wer_base")
    ap.add_argument("--show", action="store_true", help="print the hypotheses")
    args = ap.parse_args(argv)
    sidecars = sorted(HERE.glob("*.json"))
    if args.names:
        sidecars = [p for p in sidecars if p.stem in set(args.names)]
    if not sidecars:
        sys.exit("tune_report: no sample sidecars; run samples/make_samples.py first")
    model = load_model()
    rows = []
    for side in sidecars:
        meta = json.loads(side.read_text(encoding="utf-8"))
        wav = side.with_suffix(".wav")
        res = measure(model, wav, meta)
        cells = {k: v["wer"] for k, v in res["channels"].items()}
        rows.append((side.stem, meta, res, cells))
        line = " ".join(f"{k}={v:.3f}" for k, v in cells.items())
        print(f"{side.stem:24s} {meta['duration_s']:6.1f} s  {line}  pooled={res['pooled_wer']:.3f}",
              flush=True)  # fmt: skip
        if args.show:
            for k, v in res["channels"].items():
                print(f"    [{k}] {v['hypothesis']}")
        if args.write:
            from make_samples import sha256_file, write_json

            if sha256_file(wav) != meta.get("audio_sha256"):
                sys.exit(f"tune_report: {wav.name} differs from its sidecar; rebuild it first")
            meta["wer_base"] = res
            write_json(side, meta)
    print()
    print("| sample | duration | WER agent | WER caller | WER mono | pooled |")
    print("|---|---|---|---|---|---|")
    for name, meta, res, cells in rows:
        def cell(key, cells=cells):
            return f"{cells[key]:.3f}" if key in cells else "-"

        print(f"| {name} | {meta['duration_s']:.1f} s | {cell('agent')} | {cell('caller')} | "
              f"{cell('mono')} | {res['pooled_wer']:.3f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
