"""Dynamic int8 quantisation of openai-whisper's linear layers for CPU decoding.

openai-whisper's layers are its own ``whisper.model.Linear`` (an ``nn.Linear`` that casts its
weights to the input's dtype, which on CPU float32 is a no-op); torch's quantiser accepts only
plain ``nn.Linear``, so their class is set back to ``nn.Linear`` first. Weights become int8 per
output channel; activations are quantised on the fly. The token-embedding product that makes
the logits is not a ``Linear`` and stays float.
"""

from __future__ import annotations


def quantize_int8(model):
    """Return ``model`` (modified in place) with every linear layer dynamically int8."""
    import torch
    from torch.ao.quantization import quantize_dynamic
    from whisper.model import Linear

    model = model.float()
    for module in model.modules():
        if type(module) is Linear:
            module.__class__ = torch.nn.Linear
    return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
