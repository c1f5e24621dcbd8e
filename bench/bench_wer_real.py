"""Benchmark: word error rate on every real (human-spoken) clip we have, engine by engine.

Clips (``../shared/data``): ``audio/sample.wav`` (30 s phone call, ``sample.stm``),
``audio/bench_en_57s.wav`` (its first 52.75 s: sample.wav, JFK and both stereo-diarization
channels, whose references are published; the last 4 s have none), ``audio/fw_jfk.flac``,
the 22 Harper Valley Bank files (``audio-real/harper-valley-bank``: 8 kHz, one party per
file, human transcripts) and the Common Voice Indonesian clip (``audio-real/common-voice-id``).

Configurations (``--configs``):

* ``callscan``: the default path of ``callscan transcribe`` (speech regions, packed windows,
  openai-whisper engine, default options);
* ``callscan-fw``: the same with ``--engine faster-whisper``;
* ``whisper``: plain openai-whisper, ``model.transcribe(audio)`` with its own defaults;
* ``faster-whisper``: plain faster-whisper ``WhisperModel(...).transcribe(audio)``, int8,
  beam 5, the same base weights (callscan's CTranslate2 copy).

Every tool gets the same input: the file decoded by callscan to 16 kHz (the plain tools the
mean of the channels; this machine has no ffmpeg for openai-whisper's own loader). Each
configuration runs in its own process, one torch / OpenMP thread. The language is each
tool's own choice ("auto": callscan among id, en; the plain tools among all of Whisper's);
"given" passes each clip's language. A "given" run only decodes the clips whose auto
language was wrong: with the right language detected, the decode is the same.

Transcripts are cached in ``bench/out/wer_real_cache/<config>[@tag].json``, so a re-run only
scores (``--force`` decodes again). ``--tag`` names a variant of the code being measured
(``--set`` applies a variant's knob: see VARIANTS).

    .venv/bin/python bench/bench_wer_real.py [--configs callscan,whisper] [--quick]
        [--tag TAG] [--set VARIANT] [--force]

Prints a Markdown table and writes ``bench/out/wer_real.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
CACHE = OUT / "wer_real_cache"
CONFIGS = ("callscan", "callscan-fw", "whisper", "faster-whisper")
SETS = ("English HVB", "English other", "Indonesian")
QUICK = ("sample", "jfk", "cv-id")  # --quick: one clip of each kind
BENCH_REFERENCED_S = 52.75  # bench_en_57s: the part with a reference (in the 0.5 s gap after it)

sys.path.insert(0, str(ROOT))
from tests.references import JFK, LEFT, RIGHT  # noqa: E402  (the clips' published references)

# --set NAME: a variant of the default path, for measuring a change before keeping it
# (applied in the child process before decoding)
VARIANTS = {
    "pad0": "callscan.asr.chunking.pack: no padding around speech regions",
    "pad-before": "callscan.asr.chunking.pack: padding before each region only",
    "beam5": "TranscribeOptions(beam_size=5): beam 5 on every window",
    "greedy": "TranscribeOptions(unsure_logprob=None): no beam search on unsure windows",
    "unsureX": "TranscribeOptions(unsure_logprob=-X): another bar (e.g. unsure0.45)",
    "padX": "callscan.asr.chunking.pack: X seconds of padding (e.g. pad0.1)",
    "float32": "asr.load_model(quantize='float32'): openai-whisper's weights as loaded",
    "fp16": "asr.load_model(quantize='fp16'): float16-stored weights and logits, float32 math",
    "bf16": "asr.load_model(quantize='bf16'): fp16's decoder, the encoder in bfloat16",
    "int8": "asr.load_model(quantize='int8'): dynamic int8 linear layers, per-channel weights",
    "int8pt": "asr.load_model(quantize='int8') with one weight scale per layer",
}


def clips() -> list[dict]:
    """Every real clip with its reference: id, set, path, language, reference, cut_s."""
    audio = DATA / "audio"
    stm = (audio / "sample.stm").read_text().splitlines()
    sample_ref = " ".join(line.split(None, 5)[-1] for line in stm if line.strip())
    out = [
        dict(id="sample", set="English other", path=audio / "sample.wav", ref=sample_ref),
        dict(
            id="bench_en_57s",
            set="English other",
            path=audio / "bench_en_57s.wav",
            ref=" ".join([sample_ref, JFK, LEFT, RIGHT]),
            cut_s=BENCH_REFERENCED_S,
        ),
        dict(id="jfk", set="English other", path=audio / "fw_jfk.flac", ref=JFK),
    ]
    for folder, kind in (("harper-valley-bank", "hvb"), ("common-voice-id", "cv")):
        base = DATA / "audio-real" / folder
        for line in (base / "references.tsv").read_text().splitlines():
            if not line.strip():
                continue
            file, language, text = line.split("\t")
            if kind == "hvb":
                party, name = Path(file).parent.name, Path(file).stem
                cid, set_name = f"hvb-{name[:6]}-{party}", "English HVB"
            else:
                cid, set_name = "cv-id", "Indonesian"
            out.append(dict(id=cid, set=set_name, path=base / file, ref=text, language=language))
    for c in out:
        c.setdefault("language", "en")
        c.setdefault("cut_s", None)
        c["path"] = str(c["path"])
    return out


# ----------------------------------------------------------------------------- child process


def _load(clip: dict):
    import dataclasses

    from callscan.audio.decode import load

    rec = load(clip["path"])
    if clip["cut_s"]:
        rec = dataclasses.replace(rec, y=rec.y[:, : int(clip["cut_s"] * rec.sr)])
    return rec


def _apply_variant(variant: str | None) -> dict:
    """Apply --set variants (comma-separated); returns TranscribeOptions overrides."""
    overrides: dict = {}
    for name in (variant or "").split(","):
        if name:
            overrides.update(_apply_one(name))
    return overrides


def _apply_one(variant: str) -> dict:
    import functools

    from callscan.asr import chunking

    if variant == "pad0":
        chunking.pack = functools.partial(chunking.pack, pad_s=0.0)
    elif variant == "pad-before":
        chunking.pack = functools.partial(chunking.pack, pad_after_s=0.0)
    elif variant == "beam5":
        return {"beam_size": 5}
    elif variant == "greedy":
        return {"unsure_logprob": None}
    elif re.fullmatch(r"unsure\d*\.\d+", variant):
        return {"unsure_logprob": -float(variant[6:])}
    elif variant in ("float32", "fp16", "bf16", "int8", "int8pt"):
        from callscan import asr
        from callscan.asr import quantize

        if variant == "int8pt":
            quantize.quantize_int8 = functools.partial(quantize.quantize_int8, per_channel=False)
        precision = "int8" if variant == "int8pt" else variant
        asr.load_model = functools.partial(asr.load_model, quantize=precision)
    elif re.fullmatch(r"pad\d*\.\d+", variant):
        chunking.pack = functools.partial(chunking.pack, pad_s=float(variant[3:]))
    else:
        raise SystemExit(f"unknown variant {variant!r} (choose from {', '.join(VARIANTS)})")
    return {}


def child(config: str, mode: str, ids: list[str], cache_file: Path, variant: str | None) -> None:
    """Decode the clips ``ids`` with one configuration; add them to ``cache_file``."""
    import torch

    torch.set_num_threads(1)
    from callscan import asr

    overrides = _apply_variant(variant)
    by_id = {c["id"]: c for c in clips()}
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    t0 = time.perf_counter()
    model: Any
    if config in ("callscan", "callscan-fw"):
        from callscan.audio.vad import VadOptions, load_vad, speech_regions

        engine = "faster-whisper" if config == "callscan-fw" else "openai-whisper"
        model = asr.load_model("base", engine=engine, threads=1)
        vad = load_vad()
    elif config == "whisper":
        # whisper.model.Whisper with its float32 weights, as openai-whisper loads it
        model = cast(Any, asr.load_model("base", quantize="float32")).module
    else:
        from faster_whisper import WhisperModel

        from callscan.asr.weights import ct2_dir

        model = WhisperModel(str(ct2_dir("base")), device="cpu", compute_type="int8", cpu_threads=1)
    load_s = time.perf_counter() - t0
    for cid in ids:
        clip = by_id[cid]
        language = clip["language"] if mode == "given" else None
        t1 = time.perf_counter()
        rec = _load(clip)
        if config in ("callscan", "callscan-fw"):
            regions = speech_regions(rec, VadOptions(), model=vad)
            spans = [[(r.start_s, r.end_s) for r in ch] for ch in regions]
            opts = asr.TranscribeOptions(
                language=language or "auto", threads=1, engine=engine, **overrides
            )
            result = asr.transcribe(model, rec, opts, regions=spans)
            text, detected = result.text, result.language
        elif config == "whisper":
            r = model.transcribe(rec.mono(), language=language, fp16=False)
            text, detected = r["text"], r["language"]
        else:
            segments, info = model.transcribe(rec.mono(), language=language, beam_size=5)
            text = " ".join(s.text.strip() for s in segments)
            detected = info.language
        cache.setdefault(cid, {})[mode] = dict(
            text=text.strip(),
            language=detected,
            seconds=round(time.perf_counter() - t1, 2),
            audio_s=round(rec.duration_s, 2),
        )
        cache_file.write_text(json.dumps(cache, indent=1, ensure_ascii=False))
        print(f"{config} {mode} {cid}: {time.perf_counter() - t1:.1f} s", file=sys.stderr)
    cache["_meta"] = dict(load_s=round(load_s, 2), variant=variant)
    cache_file.write_text(json.dumps(cache, indent=1, ensure_ascii=False))


# ----------------------------------------------------------------------------- parent


def run_child(config: str, mode: str, ids: list[str], cache_file: Path, variant: str | None):
    if not ids:
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    cmd = [sys.executable, __file__, "--child", config, "--mode", mode, "--cache", str(cache_file)]
    cmd += ["--ids", ",".join(ids)] + (["--set", variant] if variant else [])
    subprocess.run(cmd, env=env, check=True)


def score(rows: list[dict], mode: str) -> tuple[dict, dict]:
    """Per clip WER (errors, reference words) and per set totals for one language mode."""
    from callscan.asr.wer import edit_distance, normalize

    per: dict[str, dict] = {}
    totals: dict[str, dict] = {}
    for r in rows:
        got = r["result"].get(mode) or r["result"].get("auto")
        ref = normalize(r["clip"]["ref"], r["clip"]["language"])
        hyp = normalize(got["text"], r["clip"]["language"])
        errors = edit_distance(ref, hyp)
        per[r["clip"]["id"]] = dict(
            errors=errors,
            ref_words=len(ref),
            hyp_words=len(hyp),
            wer=errors / max(len(ref), 1),
            language=got["language"],
            seconds=got["seconds"],
        )
        t = totals.setdefault(r["clip"]["set"], dict(errors=0, ref_words=0, hyp_words=0))
        t["errors"] += errors
        t["ref_words"] += len(ref)
        t["hyp_words"] += len(hyp)
    for t in totals.values():
        t["wer"] = t["errors"] / max(t["ref_words"], 1)
    return per, totals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    ap.add_argument("--tag", default="", help="label of the code variant (cache name)")
    ap.add_argument(
        "--set", dest="variant", default=None, help="comma list of: " + ", ".join(VARIANTS)
    )
    ap.add_argument("--force", action="store_true", help="decode again (ignore the cache)")
    ap.add_argument("--no-given", action="store_true", help="skip the language-given runs")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="auto", help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    ap.add_argument("--ids", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.mode, args.ids.split(","), Path(args.cache), args.variant)
        return

    all_clips = [c for c in clips() if not args.quick or c["id"] in QUICK]
    CACHE.mkdir(parents=True, exist_ok=True)
    report: dict = {"clips": {c["id"]: c["set"] for c in all_clips}, "configs": {}}
    for config in args.configs.split(","):
        name = config + (f"@{args.tag}" if args.tag else "")
        cache_file = CACHE / f"{name}.json"
        if args.force and cache_file.exists():
            cache_file.unlink()
        cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
        todo = [c["id"] for c in all_clips if "auto" not in cache.get(c["id"], {})]
        run_child(config, "auto", todo, cache_file, args.variant)
        cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
        if not args.no_given:
            wrong = [
                c["id"]
                for c in all_clips
                if cache[c["id"]]["auto"]["language"] != c["language"]
                and "given" not in cache[c["id"]]
            ]
            run_child(config, "given", wrong, cache_file, args.variant)
            cache = json.loads(cache_file.read_text())
        rows = [dict(clip=c, result=cache[c["id"]]) for c in all_clips]
        entry = {"meta": cache.get("_meta", {})}
        for mode in ("auto", "given"):
            entry[mode], entry[f"{mode}_sets"] = score(rows, mode)
        report["configs"][name] = entry
    print_table(report, all_clips)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / ("wer_real.json" if not args.tag else f"wer_real@{args.tag}.json")
    out.write_text(json.dumps(report, indent=1))
    print(f"\nwritten: {out.relative_to(ROOT)}")


def print_table(report: dict, all_clips: list[dict]) -> None:
    names = list(report["configs"])
    print(
        f"# WER on real speech, Whisper base, {time.strftime('%Y-%m-%d')}, one thread per "
        "process; cell = language auto (language given where it differs)\n"
    )
    print("| clip | words | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))

    def cell(auto: dict, given: dict) -> str:
        a, g = auto["wer"], given["wer"]
        text = f"{100 * a:.1f}"
        if abs(a - g) > 1e-9:
            text += f" ({100 * g:.1f})"
        if "language" in auto and auto["language"] not in ("en", "id"):
            text += f" [{auto['language']}]"
        return text

    for s in SETS:
        ids = [c["id"] for c in all_clips if c["set"] == s]
        if not ids:
            continue
        for cid in ids:
            first = report["configs"][names[0]]["auto"][cid]
            cells = [
                cell(report["configs"][n]["auto"][cid], report["configs"][n]["given"][cid])
                for n in names
            ]
            print(f"| {cid} | {first['ref_words']} | " + " | ".join(cells) + " |")
        first_set = report["configs"][names[0]]["auto_sets"][s]
        cells = [
            cell(report["configs"][n]["auto_sets"][s], report["configs"][n]["given_sets"][s])
            for n in names
        ]
        print(
            f"| **{s}** | {first_set['ref_words']} | "
            + " | ".join(f"**{c}**" for c in cells)
            + " |"
        )


if __name__ == "__main__":
    main()
