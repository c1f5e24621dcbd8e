"""faster-whisper's batched decode (issue 17): each batch encoded once, decoded in two passes.

The first pass stops at :func:`first_pass_tokens`; a window that reached it with a repetition
loop is kept cut (it fails the guards either way), any other that reached it is decoded again
in full. The slow tests check on real windows that this gives what one uncut decode gives,
and that the whole decode, fallback included, gives the same text every time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from callscan.asr.faster_engine import FW_MAX_TOKENS, _on_own_thread, first_pass_tokens


def test_the_ct2_model_is_made_on_a_thread_that_has_ended_before_it_is_used():
    import threading

    made = _on_own_thread(lambda: threading.current_thread())
    assert made is not threading.current_thread()
    assert not made.is_alive()  # CTranslate2 decodes slower while the loading thread lives
    with pytest.raises(ValueError, match="bad folder"):  # errors come out as they were
        _on_own_thread(lambda: (_ for _ in ()).throw(ValueError("bad folder")))


def test_the_first_pass_allows_more_than_speech_and_never_more_than_whisper():
    assert first_pass_tokens(15.0) == 106  # 6 a second + 16: fast speech measured 5.4
    assert first_pass_tokens(1.0) == 22
    assert first_pass_tokens(30.0) == 196
    assert first_pass_tokens(60.0) == FW_MAX_TOKENS == 224


@pytest.fixture(scope="module")
def engine():
    from callscan import asr

    return asr.load_model("base", engine="faster-whisper", threads=1)


def _windows(paths: list[Path]) -> list:
    """The packed speech windows of each file's channels, as the pipeline cuts them."""
    from callscan.asr.chunking import pack, render
    from callscan.audio import vad
    from callscan.audio.decode import load

    model = vad.load_vad()
    out = []
    for path in paths:
        audio = load(str(path))
        regions = vad.speech_regions(audio, model=model)
        for ch, found in enumerate(regions):
            spans = [(r.start_s, r.end_s) for r in found]
            out += [render(w, audio.channel(ch), 16000) for w in pack(spans)]
    return out


@pytest.mark.slow
def test_two_passes_give_the_uncut_decode_and_cut_only_loops(engine, samples_dir):
    from callscan import asr
    from callscan.asr.guards import loops_anywhere

    # 8 windows; beam search turns the fourth (11.7 s) into a 224-token loop
    audios = _windows([samples_dir / "id_complaint_mono.wav"])
    batch = engine.encode_batch(audios, "id", asr.TranscribeOptions(engine="faster-whisper"))
    rows = list(range(len(audios)))
    two = batch.decode(rows, 0.0)
    uncut = batch.generate(rows, 0.0, FW_MAX_TOKENS)
    limit = first_pass_tokens(max(batch.durations))
    eot = batch.tokenizer.eot
    cut = 0
    for a, b in zip(two, uncut, strict=True):
        if a["tokens"] != b["tokens"]:  # only a loop at the first pass's limit is cut there
            assert len(a["tokens"]) == limit < len(b["tokens"])
            assert loops_anywhere([t for t in a["tokens"] if t < eot])
            assert loops_anywhere([t for t in b["tokens"] if t < eot])
            cut += 1
        else:
            assert a["avg_logprob"] == b["avg_logprob"]
    assert cut == 1  # the loop stopped at 106 tokens, not 224
    assert limit == 106


CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[2])
import json
import subprocess
import sys
from pathlib import Path
from test_faster_batch import _windows
from callscan import asr
engine = asr.load_model("base", engine="faster-whisper", threads=1)
options = asr.TranscribeOptions(engine="faster-whisper")
out = engine.decode_windows(_windows([Path(sys.argv[1])]), "en", options)
print(json.dumps([[[s["temperature"], s["text"]] for s in w] for w in out]))
"""


@pytest.mark.slow
def test_the_fallback_is_batched_and_gives_the_same_text_every_time(samples_dir):
    # Two of the call's six windows read too repetitive at temperature 0 (compression
    # ratio): both are sampled again, in one batch, seeded. (Seeded per process: CTranslate2
    # 4.8 seeds its sampler once per thread, so the same process decoding again draws on.)
    path = samples_dir / "en_complaint_mono_8k.wav"
    runs = []
    for _ in range(2):
        run = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(Path(__file__).parent)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(run.stdout.strip().splitlines()[-1]))
    sampled = [w for w in runs[0] if any(t > 0 for t, _ in w)]
    assert len(sampled) == 2
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_the_faster_whisper_engine_never_imports_torch(samples_dir):
    """Its language check and transcription run on CTranslate2 alone (torch's import was
    0.8 s of a call's language step)."""
    code = (
        "import sys\n"
        "from callscan import asr\n"
        "from callscan.audio.decode import load\n"
        "engine = asr.load_model('base', engine='faster-whisper', threads=1)\n"
        "options = asr.TranscribeOptions(engine='faster-whisper', threads=1)\n"
        f"audio = load({str(samples_dir / 'en_sales_stereo.wav')!r})\n"
        "language = asr.call_language(engine, audio, options)\n"
        "words = asr.transcribe(engine, audio, options, language=language).words()\n"
        "print(language[0], len(words) > 20, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["en", "True", "False"], out.stdout + out.stderr[-2000:]


@pytest.mark.slow
def test_windows_encoded_one_by_one_give_the_batched_output_to_the_bit(engine, samples_dir):
    # encode_rows encodes each window alone (faster on CPU: no fresh pages for a batch's
    # attention buffers on every call); the decoder must read exactly what a batch gives
    import numpy as np

    from callscan.asr.faster_engine import _window_features, encode_rows

    audios = _windows([samples_dir / "id_complaint_mono.wav"])[:4]
    features = _window_features(engine, audios)
    together = np.asarray(engine.model.encode(features))
    alone = np.asarray(encode_rows(engine.model, features))
    assert alone.shape == together.shape and alone.shape[0] == 4
    assert np.array_equal(alone, together)
