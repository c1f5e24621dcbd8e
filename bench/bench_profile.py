"""Benchmark: what a team profile's vocabulary does to transcripts and findings, both ways.

Runs real ASR (Whisper base, CPU): keep the runs few.

1. The bundled samples (``samples/*.wav``), each analysed without and with the sample profile
   of its language (``samples/profile_id.yaml`` / ``profile_en.yaml``): WER against the script,
   the contact stage (status and which elements were heard), the scripted-greeting rule, every
   stage and step status, and the profile's names in the transcript: how many of the names the
   script says were recognised, and how many were written where the script has none (invented).
   ``extra/id_no_greeting_stereo`` has no greeting and no name: the profile must not make one
   appear.
2. Real English clips (HarperValleyBank, one party per file, 8 kHz) with an UNRELATED profile
   (the English sample profile: other company, agents and products): WER must be unchanged or
   better, and none of the profile's names may appear.

    .venv/bin/python bench/bench_profile.py                       # both parts, openai-whisper
    .venv/bin/python bench/bench_profile.py --part samples --engine faster-whisper
    .venv/bin/python bench/bench_profile.py --json out.json

Prints Markdown tables (the ones in ``samples/README.md``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "samples"
REAL = ROOT.parent / "shared" / "data" / "audio-real" / "harper-valley-bank"
REAL_CLIPS = (  # the four shortest files (49-54 s), three agent sides and one caller side
    "audio/agent/0091a706bc604188.wav",
    "audio/agent/eb82ec7b5f0944ca.wav",
    "audio/agent/ff0296d00e5e4184.wav",
    "audio/caller/0091a706bc604188.wav",
)
UNRELATED_PROFILE = SAMPLES / "profile_en.yaml"


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def count(term: str, text_words: list[str]) -> int:
    """Occurrences of a (multi-word) term in a word list."""
    t = words(term)
    n = len(t)
    return sum(1 for i in range(len(text_words) - n + 1) if text_words[i : i + n] == t)


def with_vocabulary(path: Path) -> Path:
    """A copy of a team profile with ``asr_vocabulary: true`` (what this benchmark measures;
    the profiles' own default is off), next to the original so relative names still work."""
    import tempfile

    text = path.read_text(encoding="utf-8")
    if "asr_vocabulary:" not in text:
        text += "\nasr_vocabulary: true\n"
    folder = Path(tempfile.mkdtemp(prefix="callscan-bench-"))
    copy = folder / path.name
    copy.write_text(text, encoding="utf-8")
    return copy


def name_counts(profile, reference: str, hypothesis: str) -> dict[str, int]:
    """Profile names said in the script, recognised, and written where not said (invented)."""
    ref, hyp = words(reference), words(hypothesis)
    said = recognised = invented = 0
    for term in profile.vocabulary():
        r, h = count(term, ref), count(term, hyp)
        said += r
        recognised += min(r, h)
        invented += max(0, h - r)
    return {"said": said, "recognised": recognised, "invented": invented}


def sample_row(name: str, report: dict, card: dict, profile) -> dict:
    from callscan.asr.wer import wer

    reference = " ".join(t["text"] for t in card["turns"])
    hypothesis = " ".join(t["text"] for t in report["conversation"]["turns"])
    stages = report["stages"]
    contact = next(s for s in stages["stages"] if s["id"] == "contact")
    greeting = next((r for r in stages["rules"] if r["id"] == "scripted_greeting"), None)
    agent_first = next(
        (t["text"] for t in report["conversation"]["turns"] if t["role"] == "agent"), ""
    )
    return {
        "call": name,
        "wer": round(wer(reference, hypothesis, card["language"]), 3),
        "contact": contact["status"],
        "contact_elements": sorted(contact["elements"]),
        "scripted_greeting": greeting["status"] if greeting else None,
        "stages": {s["id"]: s["status"] for s in stages["stages"]},
        "names": name_counts(profile, reference, hypothesis),
        "agent_first_turn": agent_first,
    }


def run_samples(model, engine: str, names: list[str]) -> list[dict]:
    from callscan.pipeline import AnalyzeOptions, analyze
    from callscan.profile import load_profile

    rows = []
    for side in [*sorted(SAMPLES.glob("*.json")), *sorted((SAMPLES / "extra").glob("*.json"))]:
        if names and side.stem not in names:
            continue
        card = json.loads(side.read_text(encoding="utf-8"))
        profile_path = SAMPLES / f"profile_{card['language']}.yaml"
        profile = load_profile(profile_path)
        for with_profile in (False, True):
            options = AnalyzeOptions(
                language=card["language"],
                engine=engine,
                threads=1,
                profile=str(with_vocabulary(profile_path)) if with_profile else None,
            )
            t0 = time.perf_counter()
            report = analyze(side.with_suffix(".wav"), options, model=model)
            row = sample_row(side.stem, report, card, profile)
            row.update(profile=with_profile, seconds=round(time.perf_counter() - t0, 1))
            rows.append(row)
            print(
                f"  {side.stem:24s} profile={with_profile!s:5s} WER {row['wer']:.3f} "
                f"contact {row['contact']} {row['contact_elements']} names {row['names']} "
                f"({row['seconds']} s)",
                file=sys.stderr,
            )
    return rows


def run_real(model, engine: str) -> list[dict]:
    from callscan import asr
    from callscan.asr.wer import wer
    from callscan.audio.decode import load
    from callscan.audio.vad import load_vad, speech_regions
    from callscan.profile import load_profile
    from callscan.speakers.assign import SpeakersOptions

    refs = {}
    for line in (REAL / "references.tsv").read_text(encoding="utf-8").splitlines():
        file, lang, text = line.split("\t", 2)
        refs[file] = text
    profile = load_profile(UNRELATED_PROFILE)
    vad = load_vad()
    rows = []
    for clip in REAL_CLIPS:
        recording = load(str(REAL / clip))
        regions = speech_regions(recording, SpeakersOptions().vad, model=vad)
        spans = [[(r.start_s, r.end_s) for r in channel] for channel in regions]
        for with_profile in (False, True):
            options = asr.TranscribeOptions(
                model="base",
                language="en",
                threads=1,
                engine=engine,
                vocabulary=profile.vocabulary() if with_profile else (),
            )
            transcript = asr.transcribe(model, recording, options, regions=spans)
            hypothesis = " ".join(s.text for s in transcript.segments)
            row = {
                "clip": clip,
                "profile": with_profile,
                "wer": round(wer(refs[clip], hypothesis, "en"), 3),
                "names": name_counts(profile, refs[clip], hypothesis),
            }
            rows.append(row)
            print(f"  {clip:36s} profile={with_profile!s:5s} WER {row['wer']:.3f} "
                  f"names {row['names']}", file=sys.stderr)  # fmt: skip
    return rows


def sample_table(rows: list[dict]) -> str:
    out = [
        "| call | profile | WER | contact | contact elements heard | scripted greeting "
        "| names said / recognised / invented | stages changed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    plain = {r["call"]: r for r in rows if not r["profile"]}
    for r in rows:
        base = plain[r["call"]]
        changed = [
            f"{k}: {base['stages'][k]} -> {v}"
            for k, v in r["stages"].items()
            if r["profile"] and base["stages"].get(k) != v
        ]
        n = r["names"]
        out.append(
            f"| `{r['call']}` | {'yes' if r['profile'] else 'no'} | {r['wer']:.2f} "
            f"| {r['contact']} | {', '.join(r['contact_elements']) or '-'} "
            f"| {r['scripted_greeting']} | {n['said']} / {n['recognised']} / {n['invented']} "
            f"| {'; '.join(changed) or ('-' if r['profile'] else '')} |"
        )
    return "\n".join(out)


def real_table(rows: list[dict]) -> str:
    out = [
        "| clip | WER without | WER with unrelated profile | profile names written |",
        "|---|---|---|---|",
    ]
    by = {(r["clip"], r["profile"]): r for r in rows}
    total = {False: 0.0, True: 0.0}
    for clip in dict.fromkeys(r["clip"] for r in rows):
        a, b = by[(clip, False)], by[(clip, True)]
        total[False] += a["wer"]
        total[True] += b["wer"]
        out.append(f"| `{clip}` | {a['wer']:.3f} | {b['wer']:.3f} | {b['names']['invented']} |")
    n = len(rows) // 2 or 1
    out.append(f"| mean | {total[False] / n:.3f} | {total[True] / n:.3f} | |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("samples", "real", "both"), default="both")
    ap.add_argument("--engine", default="openai-whisper")
    ap.add_argument("--calls", default="", help="comma-separated sample names (default: all)")
    ap.add_argument("--json", type=Path, help="write every row as JSON")
    args = ap.parse_args(argv)

    from callscan import asr

    model = asr.load_model("base", engine=args.engine, threads=1)
    result: dict = {"engine": args.engine}
    if args.part in ("samples", "both"):
        names = [n for n in args.calls.split(",") if n]
        result["samples"] = run_samples(model, args.engine, names)
        print(f"\n### Samples, {args.engine} base\n\n" + sample_table(result["samples"]))
    if args.part in ("real", "both"):
        result["real"] = run_real(model, args.engine)
        print(
            f"\n### Real English clips, unrelated profile, {args.engine} base\n\n"
            + real_table(result["real"])
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
