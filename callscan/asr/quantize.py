"""Smaller weights for openai-whisper on CPU: float16-stored or dynamic int8 linear layers.

openai-whisper's layers are its own ``whisper.model.Linear`` (an ``nn.Linear`` that casts its
weights to the input's dtype, which on CPU float32 is a no-op); torch's quantiser accepts only
plain ``nn.Linear``, so their class is set back to ``nn.Linear`` first. Two precisions
(:data:`PRECISIONS`):

* ``"fp16"``: every linear layer's weights stored as float16 and the products computed in
  float32 (torch's dynamic ``float16`` linear, fbgemm's packed half-precision GEMM), and the
  logits (the decoder's product with the 51865 x 512 token embedding, which is not a
  ``Linear``) likewise through a float16 copy of the embedding. The decoder reads its weights
  at every token; half of them is half the memory traffic. The result is the float32 one
  within the rounding of the weights to 11 significant bits (logits within 1e-4).
* ``"int8"``: dynamic int8 (weights per output channel, activations quantised on the fly per
  tensor). No faster than ``"fp16"`` on this path (measured on the 26 real clips of
  bench/bench_wer_real.py: 48 s against 45 s, float32 128 s, one contended thread), and the
  activations' rounding changes the decodes (WER English HVB 14.3 -> 13.1, English other
  10.8 -> 17.1, Indonesian 33.3 -> 41.7). ``"fp16"`` gave the float32 text on all 26.

* ``"bf16"``: ``"fp16"``'s decoder, and the encoder computed in bfloat16 (``torch.autocast``:
  oneDNN's bfloat16 GEMMs and attention, float32 weights kept) on CPUs that have bfloat16
  instructions (AVX512-BF16 or AMX). The encoder runs 2.4x faster (8 windows of 15 s: 0.78 s
  against 1.89 s on 2 threads); the features it gives the decoder are rounded to 8
  significant bits, so the text can change: measured on the real clips
  (bench/bench_wer_real.py) before it became the default where the instructions exist. The
  language check's decode check encodes in float32 all the same
  (``TrimmedModel.encode(exact=True)``: it compares two languages' mean log-probabilities
  through a sharp softmax); its language-token pass uses the bfloat16 encoder (the same
  language on 35 recordings, shares within 2e-4).

``"float32"`` leaves the model as loaded.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["PRECISIONS", "default_precision", "quantize", "quantize_fp16", "quantize_int8"]

PRECISIONS = ("float32", "fp16", "bf16", "int8")


def default_precision() -> str:
    """``"bf16"`` on an x86 CPU with bfloat16 instructions (:func:`cpu_has_bf16`), else
    ``"fp16"`` where torch has fbgemm's kernels (x86), else ``"float32"`` (ARM builds of
    torch have no half-precision packed linear)."""
    import torch

    engines = torch.backends.quantized.supported_engines
    if "fbgemm" not in engines and "x86" not in engines:
        return "float32"
    return "bf16" if cpu_has_bf16() else "fp16"


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 products natively (the ``avx512_bf16`` or
    ``amx_bf16`` flag of ``/proc/cpuinfo``; False where that file does not exist). Without,
    oneDNN emulates them, slower than float32."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _plain_linear(model: Any) -> Any:
    """``model`` in float32 with every ``whisper.model.Linear`` made a plain ``nn.Linear``."""
    import torch
    from whisper.model import Linear

    model = model.float()
    for module in model.modules():
        if type(module) is Linear:
            module.__class__ = torch.nn.Linear
    return model


def quantize_int8(model: Any, *, per_channel: bool = True) -> Any:
    """Return ``model`` (modified in place) with every linear layer dynamically int8.

    ``per_channel``: one weight scale per output channel (else one per layer).
    """
    import torch
    from torch.ao.quantization import (
        default_dynamic_qconfig,
        per_channel_dynamic_qconfig,
        quantize_dynamic,
    )

    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    return quantize_dynamic(
        _plain_linear(model), {torch.nn.Linear: qconfig}, dtype=torch.qint8, inplace=True
    )


def quantize_fp16(model: Any, *, logits: bool = True, encoder: bool = True) -> Any:
    """Return ``model`` (modified in place) with every linear layer's weights stored as
    float16 (products in float32) and, with ``logits``, the decoder's output projection too
    (:func:`fp16_logits`). ``encoder=False`` leaves the encoder's layers as they are."""
    import torch

    model = _plain_linear(model)
    parts = [model] if encoder else [model.decoder]
    places = [
        (parent, name)
        for parent in [m for part in parts for m in part.modules()]
        for name, child in list(parent.named_children())
        if type(child) is torch.nn.Linear
    ]

    def pack(place: tuple[Any, str]) -> tuple[Any, str, Any]:
        layer = getattr(*place)
        return place[0], place[1], fp16_linear(layer.weight, layer.bias)

    with _packing_pool() as pool:
        if logits:  # the largest packing first: the layers' fill in around it
            fp16_logits(model.decoder, pool=pool)
        # each float32 layer is let go as soon as its packed copy replaces it
        for parent, name, module in pool.map(pack, places):
            setattr(parent, name, module)
    return model


def _packing_pool() -> Any:
    """Threads packing weights side by side: fbgemm's packing leaves the interpreter free,
    and a matrix packs the same whichever thread packs it. The decoder's layers and the
    logits of ``base`` 0.20 -> 0.11 s on 2 cores (a one-call process packs them at the end
    of the model's load, when speech detection has left a core free)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(4, os.cpu_count() or 1))
    return ThreadPoolExecutor(workers, thread_name_prefix="callscan-pack")


PACK_ROWS = 16384  # output rows packed together at most (see :func:`fp16_linear`)


def fp16_linear(weight: Any, bias: Any = None, *, pool: Any = None) -> Any:
    """A module computing ``x @ weight.T + bias`` from a float16-packed copy of ``weight``
    (fbgemm's ``linear_dynamic_fp16``: float32 input, arithmetic and output). Packed once,
    here (torch's own quantiser packs a zero matrix first, doubling the load time).

    A matrix of more than :data:`PACK_ROWS` output rows (the 51865-token logits) is packed
    in pieces of rows, whose products are joined: fbgemm's packing of the whole logits
    matrix takes 0.46 s, in 4 pieces 0.24 s, with the same output to the bit (each output
    is one row's dot product either way) and the same time per decoder step. ``pool`` (an
    executor): the pieces are packed on its threads."""
    return _fp16_linear_class()(weight, bias, pool)


@functools.cache
def _fp16_linear_class() -> type:
    import torch

    class Fp16Linear(torch.nn.Module):
        """``nn.Linear`` with float16-stored weights (see :func:`fp16_linear`)."""

        def __init__(
            self, weight: torch.Tensor, bias: torch.Tensor | None, pool: Any = None
        ) -> None:
            super().__init__()
            self.out_features, self.in_features = weight.shape
            pieces = -(-self.out_features // PACK_ROWS)
            with torch.no_grad():
                w = weight.detach().float()
                b = None if bias is None else bias.detach().float()
                rows = w.chunk(pieces)
                biases = [None] * len(rows) if b is None else b.chunk(pieces)
                pack = torch.ops.quantized.linear_prepack_fp16
                row_pieces = list(zip(rows, biases, strict=True))
                mapped = (pool.map if pool is not None else map)(
                    lambda piece: pack(piece[0].contiguous(), piece[1]), row_pieces
                )
                self.packed = list(mapped)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.float()
            if len(self.packed) == 1:
                return torch.ops.quantized.linear_dynamic_fp16(x, self.packed[0])
            return torch.cat(
                [torch.ops.quantized.linear_dynamic_fp16(x, p) for p in self.packed], dim=-1
            )

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, fp16"

    return Fp16Linear


def quantize(model: Any, precision: str) -> Any:
    """``model`` in ``precision`` (one of :data:`PRECISIONS`), modified in place."""
    from callscan.errors import CallscanError

    if precision == "float32":
        return model
    if precision == "fp16":
        return quantize_fp16(model)
    if precision == "bf16":
        model = quantize_fp16(model, encoder=False)
        model.encoder_autocast = "bfloat16"  # read by callscan.asr.batched.TrimmedModel.encode
        return model
    if precision == "int8":
        return quantize_int8(model)
    raise CallscanError(f"unknown precision '{precision}' (choose from: {', '.join(PRECISIONS)})")


def fp16_logits(decoder: Any, *, pool: Any = None) -> Any:
    """Make ``decoder`` (a ``whisper.model.TextDecoder``) compute its logits through a
    float16-stored copy of the token embedding (:func:`fp16_linear`): 2 ms instead of 12 ms
    per step of 8 rows on one thread. The embedding itself stays float32 for the input
    tokens. Returns ``decoder``, modified in place."""
    import types

    decoder.logits_fp16 = fp16_linear(decoder.token_embedding.weight, pool=pool)
    decoder.forward = types.MethodType(_decoder_forward, decoder)
    return decoder


def _decoder_forward(self: Any, x: Any, xa: Any, kv_cache: dict | None = None) -> Any:
    """``whisper.model.TextDecoder.forward`` with the logits from ``self.logits_fp16``, its
    position read from the first block's self-attention entry of ``kv_cache`` (whisper reads
    the first entry, which is that one in a decode's cache; a cache of cross-attention
    entries alone, as the word alignment is given, starts at position 0)."""
    first = self.blocks[0].attn.key
    offset = kv_cache[first].shape[1] if kv_cache and first in kv_cache else 0
    x = self.token_embedding(x) + self.positional_embedding[offset : offset + x.shape[-1]]
    x = x.to(xa.dtype)
    for block in self.blocks:
        x = block(x, xa, mask=self.mask, kv_cache=kv_cache)
    return self.logits_fp16(self.ln(x))
