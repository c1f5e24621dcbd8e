"""Report size and render time for a synthetic call of a given length (default 5 minutes).

The call is built without speech recognition: a realistic English sales dialogue repeated
until the call is long enough, every turn timed and every word timed (probability 0.9), run
through callscan's own text stages (modality, stages and conduct), talk metrics and the
opening scorer (on a synthetic voiced signal under the agent's turns), so the report has every
block a real one has, the transcript kept twice (turns and ASR segments) as in a real report.

Usage: .venv/bin/python bench/bench_report.py [--minutes 5] [--repeats 5]
Prints one Markdown table and writes nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

DIALOGUE = [
    ("agent", "Good morning, Northwind Mobile, customer care, this is Daniel speaking. How can I help you today?"),
    ("caller", "Hi Daniel. I heard your radio advert about the family internet plan, and that sounds good."),
    ("agent", "Thank you for calling. What do you mostly use the internet for at home?"),
    ("caller", "My kids do their homework online, and in the evening we stream music and movies."),
    ("agent", "I see. And what matters most to you in a new plan?"),
    ("caller", "It has to be reliable. Tell me more about the speed, because the current one keeps dropping."),
    ("agent", "The family plan gives you fast and stable internet in every room, so your kids can study while the rest of the family streams movies without any buffering."),
    ("caller", "I hear you, and it sounds great, but the price is too high for us."),
    ("agent", "I understand your concern. May I ask what monthly budget you had in mind?"),
    ("caller", "Something close to what we pay now, maybe a little more if the speed is really better."),
    ("agent", "Then we can split the installation fee into monthly instalments, so your monthly cost stays close to what you pay today."),
    ("caller", "Okay, that rings a bell. My neighbour told me about that option."),
]  # fmt: skip
CLOSE = [
    ("agent", "So, to sum up: the family plan, with the installation fee in instalments, and a technician visit on Friday. Is there anything else I can help you with?"),
    ("caller", "No, that's all. Thanks."),
    ("agent", "Thank you for your time today. Have a wonderful day. Goodbye."),
]  # fmt: skip
SR = 16000  # Hz
WORD_S = 0.36  # s per word
GAP_S = 0.6  # s between turns


def _turns(minutes: float):
    from callscan.conversation import Turn
    from callscan.transcript import Word

    total = minutes * 60.0
    close_s = sum(len(t.split()) * WORD_S + GAP_S for _, t in CLOSE)
    lines, t, i = [], 0.8, 0
    while t + close_s < total - 2.0:
        role, text = DIALOGUE[i % len(DIALOGUE)]
        if i >= len(DIALOGUE):
            role, text = DIALOGUE[4 + i % (len(DIALOGUE) - 4)]  # the middle of the call repeats
        lines.append((role, text))
        t += len(text.split()) * WORD_S + GAP_S
        i += 1
    lines += CLOSE
    turns, t = [], 0.8
    for k, (role, text) in enumerate(lines):
        words = []
        for w in text.split():
            words.append(Word(w, round(t, 3), round(t + WORD_S * 0.9, 3), 0.9))
            t += WORD_S
        turns.append(Turn(k, role, text, speaker="ch0" if role == "agent" else "ch1",
                          channel=0 if role == "agent" else 1, start_s=words[0].start_s,
                          end_s=words[-1].end_s, words=words))  # fmt: skip
        t += GAP_S
    return turns, max(total, t)


def _signal(turns, duration_s: float, seed: int = 0):
    """Stereo test signal: a gliding harmonic 'voice' under each party's turns, faint noise."""
    from callscan.audio.decode import from_array

    rng = np.random.default_rng(seed)
    n = int(duration_s * SR)
    y = rng.normal(0, 0.002, size=(2, n)).astype(np.float32)
    for turn in turns:
        a, b = int(turn.start_s * SR), int(turn.end_s * SR)
        tt = np.arange(b - a) / SR
        f0 = (120 if turn.role == "agent" else 210) * 2 ** (2 * np.sin(2 * np.pi * 0.4 * tt) / 12)
        phase = 2 * np.pi * np.cumsum(f0) / SR
        voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.08
        env = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 2.5 * tt))  # syllable-like loudness
        y[turn.channel, a:b] += (voice * env).astype(np.float32)
    return from_array(y, SR, path="synthetic.wav")


def synthetic_report(minutes: float = 5.0) -> dict:
    """A complete report dictionary of a synthetic ``minutes``-long stereo call."""
    from callscan.analysis.opening.plot import opening_plot
    from callscan.analysis.opening.score import OpeningOptions, score_opening
    from callscan.conversation import Conversation
    from callscan.pipeline import AnalyzeOptions, analyze_conversation
    from callscan.speakers.metrics import TalkMetricsOptions, talk_metrics

    turns, duration = _turns(minutes)
    conv = Conversation(turns=turns, language="en", source="synthetic_5min.wav")
    recording = _signal(turns, duration)
    opening = score_opening(recording, conv, agent_channel=0, options=OpeningOptions(language="en"))
    report = analyze_conversation(conv, AnalyzeOptions(language="en"), opening=opening)
    report["input"] = "audio"
    report["transcript"] = {
        "segments": [
            {"id": t.index, "channel": t.channel, "start_s": t.start_s, "end_s": t.end_s,
             "text": t.text, "words": [w.to_dict() for w in t.words]}
            for t in turns
        ],
        "language": "en", "model": "base", "engine": "openai-whisper", "duration_s": duration,
    }  # fmt: skip
    metrics = talk_metrics(turns, duration, TalkMetricsOptions(language="en"))
    report["speakers"] = {
        "mode": "stereo",
        "roles": {"agent": "ch0", "roles": {"ch0": "agent", "ch1": "caller"}, "confidence": 0.93,
                  "low_confidence": False, "method": "wording", "reasons": [], "scores": {}},
        "metadata": {},
        "metrics": metrics.to_dict(),
        "regions": [[{"start_s": t.start_s, "end_s": t.end_s} for t in turns if t.channel == c]
                    for c in (0, 1)],
        "speaker_regions": [],
    }  # fmt: skip
    report["opening"]["plot"] = opening_plot(
        recording, report["opening"], report["conversation"]["turns"]
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the call")
    parser.add_argument("--repeats", type=int, default=5, help="renders timed per format")
    args = parser.parse_args()

    from callscan import report as reports

    t0 = time.perf_counter()
    rep = synthetic_report(args.minutes)
    build_s = time.perf_counter() - t0
    reports.validate(rep)
    rows = []
    for fmt, audience in (("json", "supervisor"), ("html", "supervisor"), ("html", "agent"),
                          ("md", "supervisor")):  # fmt: skip
        opts = reports.ReportOptions(audience=audience)
        reports.render(rep, fmt, opts)  # warm-up: labels, assets, schema
        times, text = [], ""
        for _ in range(args.repeats):
            t = time.perf_counter()
            text = reports.render(rep, fmt, opts)
            times.append(time.perf_counter() - t)
        size = len(text.encode("utf-8"))
        rows.append((fmt, audience, size, statistics.median(times)))
    turns = rep["conversation"]["turns"]
    n_words = sum(len(t["words"]) for t in turns)
    print(f"Synthetic {args.minutes:g}-minute stereo call: {len(turns)} turns, {n_words} words; "
          f"report built in {build_s:.2f} s (stages, metrics, opening and its plot).\n")  # fmt: skip
    print("| format | audience | size (KB) | < 1 MB | render (ms, median) |")
    print("|---|---|---|---|---|")
    for fmt, audience, size, secs in rows:
        ok = "yes" if size < 1_000_000 else "NO"
        print(f"| {fmt} | {audience} | {size / 1000:.0f} | {ok} | {1000 * secs:.1f} |")


if __name__ == "__main__":
    main()
