"""One set of guards for both engines (issue 17): loops, text past the audio's end, threads.

The quick tests run the engine-neutral checks of :mod:`callscan.asr.guards` on crafted decodes
(the loops and the end-of-window repeats faster-whisper produced); the slow ones run both real
engines on every real clip we have, and faster-whisper in child processes whose thread
variables differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from references import JFK

from callscan.asr.guards import (
    COMPRESSION_RATIO_MAX,
    MIN_LOOP_TOKENS,
    best_try,
    compression_ratio,
    decode_failed,
    looping,
    loops_anywhere,
    silent,
    within_window,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
HVB = SHARED / "audio-real" / "harper-valley-bank"
CV_ID = SHARED / "audio-real" / "common-voice-id"


# -- the checks on crafted decodes -------------------------------------------------------


def test_a_loop_that_the_decoder_left_is_still_a_loop():
    # "1-1-1-1..." in the middle of a window, then more text: the tail is not a loop, the
    # decode is
    loop = [16, 12] * 20
    tokens = list(range(300, 320)) + loop + list(range(400, 420))
    assert not looping(tokens)
    assert loops_anywhere(tokens)
    assert not loops_anywhere(list(range(300, 400)))
    assert not loops_anywhere([7, 8] * 4 + list(range(300, 340)))  # "no, no, no, no"


def test_whispers_checks_fail_loops_and_unsure_decodes_but_not_silence():
    text = "Selamat pagi, ada yang bisa saya bantu?"
    tokens = list(range(1000, 1012))
    assert not decode_failed(tokens, text, -0.3, 0.01)
    se = "se, " * 48  # "se, se, se, ..."
    assert compression_ratio(se) > COMPRESSION_RATIO_MAX
    assert decode_failed(list(range(1000, 1010)), se, -0.2, 0.01)
    assert decode_failed([50] * MIN_LOOP_TOKENS, "1" * MIN_LOOP_TOKENS, -0.1, 0.0)
    assert decode_failed(tokens, text, -1.4, 0.1)  # unsure: try again
    assert silent(-1.4, 0.9) and not decode_failed(tokens, text, -1.4, 0.9)  # silence
    assert compression_ratio("") == 0.0


def test_the_kept_try_is_the_most_probable_that_is_not_a_loop():
    tries = [("loop", True, -0.1), ("unsure", False, -1.3), ("better", False, -1.1)]
    assert best_try(tries) == "better"
    assert best_try([("a", True, -0.5), ("b", True, -0.2)]) == "b"


def seg(start, end, text, words=None):
    out = {"start": start, "end": end, "text": text}
    if words is not None:
        out["words"] = [{"word": w, "start": s, "end": e, "probability": 0.9} for w, s, e in words]
    return out


def test_nothing_is_placed_at_or_past_the_windows_end():
    # what faster-whisper gave on sample.wav: a last segment at the window's very end,
    # repeating the one before, and a word that ran past the audio
    segments = [
        seg(0.0, 2.0, " Hello.", [(" Hello.", 0.2, 1.8)]),
        seg(2.5, 10.4, " I don't hear that New Jersey now.",
            [(" I", 2.5, 3.0), (" don't", 3.0, 9.8), (" now.", 9.8, 10.4)]),
        seg(9.95, 10.0, " I don't hear that New Jersey now.", [(" I", 9.95, 10.0)]),
        seg(10.2, 12.0, " Thank you.", [(" Thank", 10.2, 11.0)]),
    ]  # fmt: skip
    kept = within_window(segments, 10.0)
    assert [s["text"] for s in kept] == [" Hello.", " I don't hear that New Jersey now."]
    assert kept[1]["end"] == 10.0 and kept[1]["words"][-1]["end"] == 10.0
    assert all(w["end"] <= 10.0 for s in kept for w in s["words"])
    assert segments[1]["end"] == 10.4  # the input is left as it was


def test_zero_length_repeats_go_but_zero_length_new_words_stay():
    segments = [
        seg(0.0, 3.0, " Satu satu sembilan.", [(" Satu", 0.1, 0.5), (" sembilan.", 0.5, 3.0)]),
        seg(4.0, 4.0, " satu sembilan", [(" satu", 4.0, 4.0), (" sembilan", 4.0, 4.0)]),
        seg(5.0, 5.0, " Baik.", [(" Baik.", 5.0, 5.0)]),
        seg(6.0, 6.0, " now"),  # no words: the segment's own times
        seg(7.0, 7.5, " Satu satu sembilan.", [(" Satu", 7.0, 7.5)]),  # said again: kept
    ]
    kept = within_window(segments, 20.0)
    assert [s["text"] for s in kept] == [
        " Satu satu sembilan.",
        " Baik.",
        " now",
        " Satu satu sembilan.",
    ]


# -- both engines on every real clip ------------------------------------------------------


def stm_text() -> str:
    lines = (ROOT / "tests" / "data" / "sample.stm").read_text().splitlines()
    return " ".join(line.split(None, 5)[-1] for line in lines if line.strip())


def real_clips() -> list[tuple[str, Path, str, str]]:
    """(name, path, language, reference) of every real clip with a reference."""
    out = [
        ("sample.wav", ROOT / "tests/data/sample.wav", "en", stm_text()),
        ("fw_jfk.flac", ROOT / "tests/data/fw_jfk.flac", "en", JFK),
    ]
    bench = SHARED / "audio" / "bench_en_57s.wav"
    if bench.exists():  # sample + jfk + both stereo channels + hotwords ("ComfyUI")
        from references import LEFT, RIGHT

        out.append(("bench_en_57s.wav", bench, "en", " ".join([stm_text(), JFK, LEFT, RIGHT])))
    for folder in (HVB, CV_ID):
        tsv = folder / "references.tsv"
        if tsv.exists():
            for line in tsv.read_text().splitlines():
                file, language, text = line.split("\t", 2)
                out.append((f"{folder.name}/{file}", folder / file, language, text))
    return out


@pytest.fixture(scope="module")
def engines(base_model):
    from callscan import asr

    return {
        "openai-whisper": base_model,
        "faster-whisper": asr.load_model("base", engine="faster-whisper", threads=1),
    }


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_no_loops_and_nothing_past_the_end_on_any_real_clip(engine, engines):
    from callscan import asr
    from callscan.asr.wer import normalize
    from callscan.audio.decode import load
    from callscan.pipeline import process_recording

    clips = real_clips()
    assert len(clips) >= 3
    if HVB.exists():
        assert len(clips) >= 25  # the 22 bank-call files and the Indonesian clip are here
    problems = []
    for name, path, language, reference in clips:
        options = asr.TranscribeOptions(language=language, engine=engine, threads=1)
        transcript, _ = process_recording(load(str(path)), engines[engine], options)
        out = normalize(" ".join(w.text for w in transcript.words()), language)
        ref = normalize(reference, language)
        assert ref
        if len(out) > 2 * len(ref):
            problems.append(f"{name}: {len(out)} words out for {len(ref)}")
        end = transcript.duration_s
        late = [s for s in transcript.segments if s.end_s > end or s.start_s >= end]
        late += [s for s in transcript.segments for w in s.words if w.end_s > end]
        if late:
            problems.append(f"{name}: text at {late[0].start_s:.2f} s of {end:.2f} s")
    assert not problems, problems


CHILD = r"""
import json, sys
from callscan import asr
from callscan.audio.decode import load
from callscan.pipeline import process_recording
path, language, engine = sys.argv[1], sys.argv[2], sys.argv[3]
model = asr.load_model("base", engine=engine, threads=1)
options = asr.TranscribeOptions(language=language, engine=engine, threads=1)
transcript, _ = process_recording(load(path), model, options)
print(json.dumps([[s.channel, s.start_s, s.end_s, s.text] for s in transcript.segments]))
"""

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_the_same_text_whatever_the_thread_variables_say(engine, data_dir):
    # with faster-whisper, sample.wav gave different text with OMP_NUM_THREADS=1 than with 2
    # or unset (numpy's BLAS summed the mel features differently), with a repeat placed past
    # the audio's end
    outputs = []
    for value in ("1", "2", None):
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
        if value is not None:
            env.update(dict.fromkeys(THREAD_VARS, value))
        run = subprocess.run(
            [sys.executable, "-c", CHILD, str(data_dir / "sample.wav"), "en", engine],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.append(json.loads(run.stdout.strip().splitlines()[-1]))
    assert outputs[0], "the excerpt has speech"
    assert outputs[0] == outputs[1] == outputs[2]
    assert all(end <= 30.0 for _, _, end, _ in outputs[0])
