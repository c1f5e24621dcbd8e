"""Whisper's word-alignment median filter as a selection network: the same values, faster.

``whisper.timing.find_alignment`` smooths the alignment heads' attention weights with
``median_filter(weights, 7)``, which on CPU sorts every 7-frame window
(``x.unfold(-1, 7, 1).sort()``): 8.7 ms for one 15 s window's weights (6 heads x 60 tokens x
750 frames) on 2 threads, about 0.1 s of a 5-minute call's alignment. The median of 7 values
is one of them, and a 13-comparator network of elementwise minima and maxima (Paeth's
``opt_med7``) selects the same one: 0.5 ms, the same values (tested against whisper's on real
and random weights, ties included).

:func:`median_filter` pads as whisper's does (reflect) and gives way to whisper's own where the
network does not apply: another width, 1-2-D input, a row too short to pad, or NaN (a
minimum propagates NaN where a sort orders it last). :func:`use_fast_median` installs it in
place of whisper's (``find_alignment`` looks ``median_filter`` up in its module at call time).
"""

from __future__ import annotations

from typing import Any

# (i, j): put the smaller of values i and j at i, the larger at j; the median ends at 3
MEDIAN_OF_7 = (
    (0, 5), (0, 3), (1, 6), (2, 4), (0, 1), (3, 5), (2, 6),
    (2, 3), (3, 6), (4, 5), (1, 4), (1, 3), (3, 4),
)  # fmt: skip
WIDTH = 7


def median_filter(x: Any, filter_width: int) -> Any:
    """``whisper.timing.median_filter``: a median filter of ``filter_width`` along the last
    dimension of ``x`` (a torch tensor), the same values."""
    import torch
    import torch.nn.functional as F

    own = _whisper_median_filter()
    half = WIDTH // 2
    if filter_width != WIDTH or x.ndim <= 2 or x.shape[-1] <= half or x.is_cuda:
        return own(x, filter_width)
    if bool(torch.isnan(x).any()):
        return own(x, filter_width)
    n = x.shape[-1]
    padded = F.pad(x, (half, half, 0, 0), mode="reflect")
    values = [padded[..., i : i + n] for i in range(WIDTH)]
    for i, j in MEDIAN_OF_7:
        values[i], values[j] = (
            torch.minimum(values[i], values[j]),
            torch.maximum(values[i], values[j]),
        )
    return values[half]


def _whisper_median_filter():
    import whisper.timing

    return getattr(whisper.timing, "_whisper_median_filter", whisper.timing.median_filter)


def use_fast_median() -> None:
    """Make openai-whisper's word alignment use :func:`median_filter`. Idempotent."""
    import whisper.timing

    if not hasattr(whisper.timing, "_whisper_median_filter"):  # keep whisper's own, once
        whisper.timing._whisper_median_filter = whisper.timing.median_filter
    whisper.timing.median_filter = median_filter
