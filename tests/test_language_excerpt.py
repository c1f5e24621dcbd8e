"""The language-detection excerpt is sized to the speech used, never a copy of the call
(issue 16: a 2-hour call's excerpt once took 2.97 GB)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from callscan.asr.language import DETECT_WINDOW_S, nonsilent_intervals, speech_excerpt
from callscan.audio.decode import load

DATA = Path(__file__).resolve().parent / "data"
SR = 16000


@pytest.mark.slow  # importing librosa (numba) alone takes seconds in a fresh process
def test_blockwise_split_is_librosas_split_on_real_speech():
    import librosa

    y = load(DATA / "sample.wav").channel(0)
    want = librosa.effects.split(y, top_db=35.0, frame_length=1024, hop_length=256)
    got = np.array(nonsilent_intervals(y, top_db=35.0))
    assert want.shape[0] > 5 and np.array_equal(want, got)


def test_excerpt_from_regions_takes_only_their_samples_up_to_the_limit():
    y = np.arange(60 * SR, dtype=np.float32)  # each sample its own index
    regions = [(1.0, 2.0), (10.0, 10.5), (30.0, 59.0)]
    e = speech_excerpt(y, SR, regions=regions, max_s=5.0)
    assert e.size == 5 * SR and e.dtype == np.float32
    expected = np.concatenate([y[SR : 2 * SR], y[10 * SR : 10 * SR + SR // 2]])
    assert np.array_equal(e[: expected.size], expected)
    assert e[expected.size] == 30 * SR  # then the third region, cut at the limit
    assert speech_excerpt(y, SR, regions=[]).size == 0  # no speech regions: nothing to hear
    assert not np.shares_memory(e, y)


def test_excerpt_of_a_long_call_allocates_a_bounded_amount():
    rng = np.random.default_rng(0)
    y = np.zeros(40 * 60 * SR, np.float32)  # 40 minutes, 154 MB of float32
    for start in range(0, y.size, 300 * SR):  # 10 s of noise "speech" every 5 minutes
        y[start : start + 10 * SR] = rng.normal(0, 0.1, 10 * SR)
    tracemalloc.start()
    try:
        e = speech_excerpt(y, SR)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert e.size == int(DETECT_WINDOW_S * SR)
    assert np.array_equal(e[: 10 * SR], y[: 10 * SR])  # the first speech, in order
    assert peak < 40 * 2**20, peak / 2**20  # blocks and one float per frame, not the call


def test_callscans_language_table_is_whispers():
    # callscan.asr.language_codes copies whisper's tables so that checking --languages
    # imports no torch on the main thread
    from whisper.tokenizer import LANGUAGES, TO_LANGUAGE_CODE

    from callscan.asr import language_codes

    assert language_codes.LANGUAGES == LANGUAGES
    assert language_codes.TO_LANGUAGE_CODE == TO_LANGUAGE_CODE


def test_checking_the_languages_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from callscan.asr.language import parse_languages\n"
        "assert parse_languages('id, English') == ('id', 'en')\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "n", [1, 255, 256, 257, 1024, 5000, 1 << 19, (1 << 19) + 1, 3 * (1 << 19) - 7]
)
def test_split_is_the_framewise_split_at_every_length(n):
    """Hop sums give each centred, zero-padded frame's mean square, whatever the length and
    however the blocks fall (the reference: every frame computed alone)."""
    rng = np.random.default_rng(n)
    y = (rng.normal(0, 0.1, n) * (rng.random(n) > 0.5)).astype(np.float32)
    y[: n // 3] *= 1e-4  # a quiet stretch, cut off at 35 dB
    padded = np.concatenate([np.zeros(512), y.astype(np.float64), np.zeros(1024)])
    power = np.array([np.mean(padded[i * 256 : i * 256 + 1024] ** 2) for i in range(1 + n // 256)])
    loud = 10 * np.log10(np.maximum(power, 1e-10)) - 10 * np.log10(max(power.max(), 1e-10)) > -35
    edges = np.flatnonzero(np.diff(loud.astype(np.int8))) + 1
    bounds = ([0] if loud[0] else []) + edges.tolist() + ([loud.size] if loud[-1] else [])
    want = [
        (min(a * 256, n), min(b * 256, n)) for a, b in zip(bounds[::2], bounds[1::2], strict=True)
    ]
    assert nonsilent_intervals(y, top_db=35.0) == want
