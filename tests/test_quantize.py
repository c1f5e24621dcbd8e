"""Weight precision of the openai-whisper engine (callscan.asr.quantize).

The default on x86 is float16-stored weights with float32 arithmetic (fbgemm's packed
half-precision GEMM), with the encoder in bfloat16 where the CPU has bfloat16 instructions:
either must decode real speech as float32 does, with the values the decoder guards read
(mean log-probability, no-speech probability, compression ratio) and the language
distribution within rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from callscan import asr
from callscan.asr import quantize
from callscan.audio.decode import load
from callscan.errors import CallscanError


def test_fp16_linear_matches_a_float32_linear():
    torch.manual_seed(0)
    plain = torch.nn.Linear(512, 2048)
    packed = quantize.fp16_linear(plain.weight, plain.bias)
    x = torch.randn(3, 7, 512)  # (batch, positions, features), as the decoder passes
    with torch.no_grad():
        want, got = plain(x), packed(x)
    assert got.shape == want.shape and got.dtype == torch.float32
    # float16 keeps 11 significant bits of each weight: 5e-4 relative, summed over 512 terms
    assert torch.allclose(got, want, rtol=0, atol=2e-3 * float(want.abs().max()))
    assert float((got - want).abs().mean()) < 1e-3 * float(want.abs().mean())


def test_a_large_fp16_linear_is_packed_in_pieces_with_the_same_output():
    torch.manual_seed(0)
    n_rows = 2 * quantize.PACK_ROWS + 1000  # three pieces, the last one short
    weight, bias = torch.randn(n_rows, 64), torch.randn(n_rows)
    pieces = quantize.fp16_linear(weight, bias)
    assert len(pieces.packed) == 3
    x = torch.randn(2, 5, 64)
    with torch.no_grad():
        got = pieces(x)
        whole = torch.ops.quantized.linear_dynamic_fp16(
            x, torch.ops.quantized.linear_prepack_fp16(weight, bias)
        )
    assert got.shape == (2, 5, n_rows)
    assert torch.equal(got, whole)  # each output is one row's dot product either way


def test_weights_packed_on_threads_are_the_weights_packed_in_turn():
    from concurrent.futures import ThreadPoolExecutor

    torch.manual_seed(0)
    n_rows = 3 * quantize.PACK_ROWS + 10
    weight, bias = torch.randn(n_rows, 64), torch.randn(n_rows)
    with ThreadPoolExecutor(2) as pool:
        threaded = quantize.fp16_linear(weight, bias, pool=pool)
    in_turn = quantize.fp16_linear(weight, bias)
    x = torch.randn(3, 4, 64)
    with torch.no_grad():
        assert torch.equal(threaded(x), in_turn(x))


def test_a_model_packed_on_threads_gives_the_logits_of_one_packed_in_turn(monkeypatch):
    from callscan.asr import weights

    x = torch.randint(0, 50000, (2, 6))
    features = torch.randn(2, 750, 512)
    logits = []
    for workers in (2, 1):
        monkeypatch.setattr("os.cpu_count", lambda w=workers: w)
        model = quantize.quantize_fp16(weights.load_whisper("base"))
        with torch.no_grad():
            logits.append(model.decoder(x, features))
    assert torch.equal(logits[0], logits[1])


def test_unknown_precision_is_a_library_error():
    with pytest.raises(CallscanError, match="unknown precision 'int4'"):
        quantize.quantize(torch.nn.Module(), "int4")


def test_default_precision_is_bf16_or_fp16_where_fbgemm_runs():
    engines = torch.backends.quantized.supported_engines
    flags = ""
    with open("/proc/cpuinfo") as f:
        flags = next((line for line in f if line.startswith("flags")), "")
    bf16 = "avx512_bf16" in flags.split() or "amx_bf16" in flags.split()
    assert quantize.cpu_has_bf16() is bf16
    if "fbgemm" in engines or "x86" in engines:
        expected = "bf16" if bf16 else "fp16"
    else:
        expected = "float32"
    assert quantize.default_precision() == expected


@pytest.fixture(scope="module")
def float32_model():
    return asr.load_model("base", quantize="float32")


@pytest.mark.slow
def test_default_model_has_half_precision_weights_and_logits(base_model, float32_model, data_dir):
    precision = quantize.default_precision()
    if precision not in ("fp16", "bf16"):
        assert not hasattr(base_model.module.decoder, "logits_fp16")
        return
    decoder = base_model.module.decoder
    assert hasattr(decoder, "logits_fp16")
    assert "fp16" in repr(decoder.blocks[0].mlp[0])
    encoder_layer = repr(base_model.module.encoder.blocks[0].mlp[0])
    assert ("fp16" in encoder_layer) is (precision == "fp16")
    assert getattr(base_model.module, "encoder_autocast", None) == (
        "bfloat16" if precision == "bf16" else None
    )
    # the logits on real speech: the float32 model's within 1e-3 (they span about 50)
    y = load(str(data_dir / "fw_jfk.flac")).channel(0)
    import whisper

    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(y)))[None]
    tokens = torch.tensor([[50258, 50259, 50359, 50364, 1668, 452, 7177, 3274]])
    with torch.no_grad():
        want = float32_model.module(mel, tokens)
        got = base_model.module(mel, tokens)
    assert float(want.max() - want.min()) > 10
    assert torch.allclose(got, want, atol=1e-3, rtol=0)
    assert torch.equal(got.argmax(-1), want.argmax(-1))


@pytest.mark.slow
@pytest.mark.parametrize(("precision", "tolerance"), [("fp16", 1e-3), ("bf16", 5e-3)])
def test_fp16_and_bf16_decode_real_speech_as_float32_does(
    precision, tolerance, float32_model, data_dir
):
    # bf16 runs everywhere (oneDNN emulates it where the CPU has no bfloat16 instructions)
    model = asr.load_model("base", quantize=precision)
    rec = load(str(data_dir / "fw_stereo_diarization.wav"))
    windows = [rec.channel(0)[: 15 * 16000], rec.channel(1)[: 15 * 16000]]
    options = asr.TranscribeOptions(language="en", threads=1)
    torch.set_num_threads(1)
    want = float32_model.decode_windows(windows, "en", options)
    got = model.decode_windows(windows, "en", options)
    assert [[s["text"] for s in w] for w in got] == [[s["text"] for s in w] for w in want]
    assert sum(len(w) for w in want) >= 2
    for w_got, w_want in zip(got, want, strict=True):
        for a, b in zip(w_got, w_want, strict=True):
            assert a["tokens"] == b["tokens"]
            # what the guards read (callscan.asr.guards, batched._failed)
            assert a["avg_logprob"] == pytest.approx(b["avg_logprob"], abs=tolerance)
            assert a["no_speech_prob"] == pytest.approx(b["no_speech_prob"], abs=tolerance)
            assert a["compression_ratio"] == b["compression_ratio"]
            assert [w["start"] for w in a["words"]] == [w["start"] for w in b["words"]]
    # the language distribution the language check reads
    excerpt = np.ascontiguousarray(rec.channel(0)[: 30 * 16000])
    p_want = float32_model.language_probs(excerpt)
    p_got = model.language_probs(excerpt)
    for code in ("en", "id"):
        assert p_got[code] == pytest.approx(p_want[code], abs=tolerance)
