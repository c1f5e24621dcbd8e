"""callscan's findings from real recorded calls, end to end: audio in, findings out, against
the labels a QA reviewer gave the same calls.

    .venv/bin/python bench/eval_audio_calls.py [--engine faster-whisper] [--json OUT] [--errors]

The calls: the 11 real two-party HarperValleyBank calls in ``../shared/data/audio-real``
(one party per 8 kHz file, both files of a call starting at the same instant). Each call is
analysed twice, as a call centre would record it:

- **stereo**: the caller's file on the left channel and the agent's on the right (the corpus'
  own channel order; callscan is not told which is which);
- **mono**: the two files summed (the mix a mono recorder keeps), so speaker separation is
  callscan's diarization.

Scored, per layout:

- **roles**: whether the speaker callscan calls the agent is the agent (all 11 calls);
- **words to the right party**: each transcribed word's role against the party whose human
  segment (``segments.tsv``, the corpus' own times) it overlaps most; words that overlap no
  segment are not scored;
- **findings** (the 7 calls labelled in ``../shared/data/dev-calls``): the five stages, the
  complaint steps, the conduct rules, the caller's modality and the call type, scored exactly
  as ``bench/eval_devcalls.py`` scores the human and the corpus-ASR transcripts of the same
  calls, which are scored beside them (the "text" rows), so what the audio path loses shows.

Nothing here was tuned on: the findings' rules were tuned on the dev-calls transcripts, never
on callscan's own transcription of these recordings.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_vs_whisperx import HVB, SR, hvb_stereo  # noqa: E402
from eval_devcalls import (  # noqa: E402
    DEFAULT as DEVCALLS,
)
from eval_devcalls import (  # noqa: E402  (the same scoring as the transcripts')
    Group,
    add_call,
    label_shaped,
    labels,
    predict,
    table,
)


def read_calls() -> list[dict]:
    with open(HVB / "calls.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_segments() -> dict[str, list[tuple[float, float, str]]]:
    """Per call id: the human segments' (start_s, end_s, role), tags-only segments left out."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    with open(HVB / "segments.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            text = " ".join(w for w in row["human_transcript"].split() if not w.startswith("["))
            if not text.strip():
                continue
            sid = Path(row["file"]).stem
            out.setdefault(sid, []).append(
                (float(row["start_s"]), float(row["end_s"]), row["speaker_role"])
            )
    return out


def write_call(call: dict, folder: Path) -> dict[str, Path]:
    """The call's stereo (caller left, agent right) and mono (summed) 16-bit WAVs."""
    import soundfile as sf

    stereo = hvb_stereo(call, agent_left=False)
    mono = stereo.sum(axis=1)
    peak = float(np.abs(mono).max())
    if peak > 0.99:  # a sum never clips in the file
        mono *= 0.99 / peak
    paths = {
        "stereo": folder / f"{call['sid']}_stereo.wav",
        "mono": folder / f"{call['sid']}_mono.wav",
    }
    sf.write(paths["stereo"], stereo, SR, subtype="PCM_16")
    sf.write(paths["mono"], mono, SR, subtype="PCM_16")
    return paths


def word_roles(report: dict, segments: list[tuple[float, float, str]]) -> tuple[int, int]:
    """(words given the party whose human segment they overlap most, words scored)."""
    right = scored = 0
    for turn in report["conversation"]["turns"]:
        for word in turn.get("words") or []:
            s, e = word["start_s"], word["end_s"]
            best, overlap = None, 0.0
            for a, b, role in segments:
                o = min(e, b) - max(s, a)
                if o > overlap:
                    best, overlap = role, o
            if best is None:
                continue
            scored += 1
            right += turn["role"] == best
    return right, scored


def agent_is_right(report: dict, layout: str, segments) -> bool:
    """Whether the speaker callscan calls the agent is the agent: on stereo the right channel
    (the agent's file), on mono the speaker whose turns overlap the agent's human segments for
    longer than the caller's."""
    turns = report["conversation"]["turns"]
    agents = [t for t in turns if t["role"] == "agent"]
    if not agents:
        return False
    if layout == "stereo":
        return all(t.get("channel") == 1 for t in agents)
    speaker = agents[0]["speaker"]
    votes = {"agent": 0.0, "caller": 0.0}
    for t in turns:
        if t["speaker"] != speaker:
            continue
        for a, b, role in segments:
            votes[role] += max(0.0, min(t["end_s"], b) - max(t["start_s"], a))
    return votes["agent"] > votes["caller"]


def findings(report: dict) -> dict:
    """The report's findings, label-shaped as ``eval_devcalls.predict`` shapes them."""
    return label_shaped(report["stages"], report["modality"]["caller"])


def summary(g: Group) -> dict:
    s, c = g.stages, g.conduct
    return {
        "calls": g.n,
        "stage_step_p": round(s.precision, 3),
        "stage_step_r": round(s.recall, 3),
        "stage_step_f1": round(s.f1, 3),
        "conduct_p": round(c.precision, 3),
        "conduct_r": round(c.recall, 3),
        "modality_acc": round(g.modality_right / g.n, 3) if g.n else None,
        "call_type_acc": round(g.call_type_right / g.n, 3) if g.n else None,
        "per_label_f1": {k: round(v.f1, 3) for k, v in sorted(g.per_label.items())},
    }


@dataclass
class Results:
    """What :func:`evaluate` measured."""

    roles: dict[str, list[int]]  # layout -> [calls whose agent was found, calls]
    words: dict[str, list[int]]  # layout -> [words given the right party, words scored]
    groups: dict[str, Group]  # "audio-stereo", "audio-mono", "text-human", "text-corpus-asr"
    calls: list[dict]  # per call and layout: roles, words, findings, seconds


def evaluate(calls: list[dict], options, model, folder: Path) -> Results:
    """Analyse each call from audio (stereo and mono) and score it (module docstring)."""
    import callscan

    rows = {r["id"]: r for r in labels(DEVCALLS) if r["id"].startswith("hvb_")}
    segments = read_segments()
    out = Results({"stereo": [0, 0], "mono": [0, 0]}, {"stereo": [0, 0], "mono": [0, 0]}, {}, [])
    for call in calls:
        sid = call["sid"]
        paths = write_call(call, folder)
        row = rows.get(f"hvb_{sid}")
        record: dict = {"sid": sid, "labelled": row is not None}
        for layout, path in paths.items():
            t = time.perf_counter()
            report = callscan.analyze(path, options, model=model)
            seconds = time.perf_counter() - t
            right_role = agent_is_right(report, layout, segments[sid])
            out.roles[layout][0] += right_role
            out.roles[layout][1] += 1
            w_right, w_scored = word_roles(report, segments[sid])
            out.words[layout][0] += w_right
            out.words[layout][1] += w_scored
            record[layout] = {
                "agent_right": right_role,
                "role_confidence": report["speakers"]["roles"].get("confidence"),
                "words_right": w_right,
                "words_scored": w_scored,
                "seconds": round(seconds, 2),
            }
            if row is not None:
                guess = findings(report)
                record[layout]["findings"] = guess
                group = out.groups.setdefault(f"audio-{layout}", Group())
                add_call(group, f"{sid} {layout}", row, guess)
        if row is not None:
            for name, group_name in (
                (f"hvb_{sid}.txt", "text-human"),
                (f"hvb_{sid}_asr.txt", "text-corpus-asr"),
            ):
                add_call(
                    out.groups.setdefault(group_name, Group()),
                    name,
                    row,
                    predict(DEVCALLS / name, "en"),
                )
        out.calls.append(record)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="openai-whisper")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write the figures (and each call's) as JSON")
    ap.add_argument("--errors", action="store_true", help="list every disagreement")
    ap.add_argument("--calls", help="comma-separated call ids (default: all 11)")
    args = ap.parse_args()

    import callscan

    calls = read_calls()
    if args.calls:
        calls = [c for c in calls if c["sid"] in args.calls.split(",")]
    options = callscan.AnalyzeOptions(language="en", engine=args.engine, threads=args.threads)
    model = callscan.load_model(options.model, engine=args.engine, threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        res = evaluate(calls, options, model, Path(tmp))

    print(f"engine {args.engine}, {len(calls)} real HarperValleyBank calls")
    for layout in ("stereo", "mono"):
        r, n = res.roles[layout]
        wr, wn = res.words[layout]
        print(
            f"{layout}: agent found in {r} of {n} calls; words to the right party "
            f"{wr}/{wn} = {wr / max(wn, 1):.3f}"
        )
    print()
    print(table(res.groups, ("text-human", "text-corpus-asr", "audio-stereo", "audio-mono")))
    if args.errors:
        for name, g in res.groups.items():
            for e in g.errors:
                print(f"  [{name}] {e}")
    if args.json:
        out = {
            "engine": args.engine,
            "roles": res.roles,
            "words": res.words,
            "groups": {k: summary(v) for k, v in res.groups.items()},
            "errors": {k: v.errors for k, v in res.groups.items()},
            "calls": res.calls,
        }
        args.json.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
