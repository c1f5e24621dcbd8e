"""whisper's ``DecodingTask`` as the batched decode runs it (:mod:`callscan.asr.batched`).

Two changes to how it computes, none to what it decides:

* **Cross-attention read per head.** Each window's cross-attention keys and values are
  computed once, per head and contiguous, and read by all of the window's rows (beam search
  over a batch of windows; see :func:`task_class`).
* **Ended rows leave the batch.** whisper's greedy loop computes every row until the last
  one has ended: the first batch of 8 windows of the 5-minute bench call ran 74 steps for
  430 tokens, a quarter of its rows' work on rows that had already ended. Here a row that
  has ended is taken out of the computation (:func:`_greedy_loop`): its later tokens are end
  tokens and its log-probability sum stops, as in whisper's loop. The cross-attention keys
  and values stay where they are: the rows going on are kept as a prefix of them by swapping
  rows in place (:func:`_compact_order`), so nothing is allocated and the ended rows' keys
  are still there for the word alignment. The 5-minute call's greedy decode 1.56-1.72 ->
  1.37-1.45 s (2 threads, in the transcription as it runs).

  The tokens are whisper's own (tested on real speech); the log-probabilities agree to
  within 1e-6, not to the bit: PyTorch's fused CPU attention splits its work by the batch's
  size, so a row's numbers move in the last bits with the rows beside it (as they already
  did with the windows a batch is made of). Explicit products, which give each row the same
  numbers whatever the batch, were measured: 0.15 s slower on the same decode.
"""

from __future__ import annotations

import functools

import numpy as np


def per_head(x, heads: int):
    """(windows, positions, width) -> (windows, heads, positions, width / heads), contiguous."""
    windows, positions, width = x.shape
    return x.view(windows, positions, heads, width // heads).transpose(1, 2).contiguous()


def _cross_attention(self, q, k, v, mask=None, _own=None):
    """Cross-attention on keys and values kept per head (:func:`per_head`, 4-D), ``g`` query
    rows per key row: rows ``a * g ... a * g + g - 1`` (the beams of window ``a``, or just
    row ``a``) attend to window ``a``, as one attention with ``g`` times the queries. With
    whisper's own 3-D keys (the word alignment) it is whisper's attention, unchanged."""
    import torch.nn.functional as F

    if k.dim() == 3:  # whisper's layout: its own attention
        return _own(q, k, v, mask)
    n_batch, n_ctx, n_state = q.shape
    windows, heads = k.shape[0], k.shape[1]
    group = n_batch // windows
    q = q.reshape(windows, group * n_ctx, heads, n_state // heads).transpose(1, 2)
    a = F.scaled_dot_product_attention(q, k, v)  # whisper's scale, no mask
    return a.transpose(1, 2).reshape(n_batch, n_ctx, n_state), None


def install_attention(decoder) -> None:
    """Give ``decoder``'s cross-attention :func:`_cross_attention`. Installed once per
    decoder."""
    import types

    for block in decoder.blocks:
        if getattr(block.cross_attn, "_callscan_attention", False):
            continue
        own = block.cross_attn.qkv_attention
        block.cross_attn.qkv_attention = types.MethodType(
            functools.partial(_cross_attention, _own=own), block.cross_attn
        )
        block.cross_attn._callscan_attention = True


@functools.cache
def task_class() -> type:
    """whisper's ``DecodingTask``, with each window's cross-attention keys and values
    computed once, per head and contiguous, and read by all of the window's rows.

    * Beam search over a batch of windows: openai-whisper 20250625 repeats the token rows
      ``n_group`` times per window but not the encoder features, so its beam search works
      on one window only (a batch fails in cross-attention: openai/whisper pull requests
      2389 and 2843, open). Here the features are repeated as ``run`` expects (it keeps
      every ``n_group``-th row afterwards; the language step gets one row per window).
    * A decoder step is bound by reading the cross-attention keys and values (8 windows x
      750 positions x 512 x 4 bytes, twice, in each of 6 layers): repeating them per beam
      made beam search 5x as slow, and whisper's layout (positions, then heads) makes each
      read strided. They are computed here from one row per window and kept per head,
      contiguous (:func:`install_attention` reads them).
    * A greedy decode drops its finished rows (:func:`_greedy_loop`). The model's
      ``kept_cross`` (a dict), when set, receives each window's cross-attention keys and
      values for its word alignment: ``{row: {projection: (1, heads, positions, width)}}``.
    """
    from whisper.decoding import DecodingTask, PyTorchInference

    class Inference(PyTorchInference):
        n_group = 1
        cross_base: dict = {}  # replaced (never changed in place) by each decode, in logits
        windows: list[int] = []  # the window of each row of cross_base (likewise replaced)

        def logits(self, tokens, audio_features):
            if not self.kv_cache:
                unique = audio_features[:: self.n_group]
                # self-attention entries first and empty: the decoder reads its position
                # from the first entry's length
                rows, _, width = audio_features.shape
                empty = audio_features.new_zeros((rows, 0, width))
                cache = {}
                for block in self.model.decoder.blocks:
                    cache[block.attn.key] = cache[block.attn.value] = empty
                for block in self.model.decoder.blocks:
                    heads = block.cross_attn.n_head
                    for proj in (block.cross_attn.key, block.cross_attn.value):
                        cache[proj] = per_head(proj(unique), heads)
                # the whole cross-attention entries, whose rows a greedy decode reorders
                self.cross_base = {m: e for m, e in cache.items() if e.dim() == 4}
                self.windows = list(range(rows))
                self.kv_cache, self.hooks = self.model.install_kv_cache_hooks(cache)
            return super().logits(tokens, audio_features)

        def keep_rows(self, order: list[int]) -> None:
            """Go on with the rows ``order`` (the current row numbers, in their new order)
            of the cache. The self-attention entries are indexed (whisper's hooks copy them
            at every step anyway). The cross-attention entries stay where they are, in place:
            the rows going on are a prefix of each, ``order`` swaps an ending row out of it
            for a row going on past it (:func:`_compact_order`), so nothing new is allocated
            and the ended rows' keys and values are still there for the word alignment;
            ``windows`` follows the swaps."""
            n = len(order)
            _swap_rows(self.cross_base.values(), self.windows, order)
            for module, entry in self.kv_cache.items():
                self.kv_cache[module] = (
                    self.cross_base[module][:n] if entry.dim() == 4 else entry[order]
                )

    class Task(DecodingTask):
        def __init__(self, model, options):
            super().__init__(model, options)
            install_attention(model.decoder)
            self.inference = Inference(model, len(self.initial_tokens))
            self.inference.n_group = self.n_group
            if hasattr(self.decoder, "inference"):  # the beam search rearranges its cache
                self.decoder.inference = self.inference

        def _get_audio_features(self, mel):
            features = super()._get_audio_features(mel)
            if self.n_group == 1:
                return features
            return features.repeat_interleave(self.n_group, dim=0)

        def _detect_language(self, audio_features, tokens):  # one row per window
            return super()._detect_language(audio_features[:: self.n_group], tokens)

        def _main_loop(self, audio_features, tokens):
            if self.n_group != 1 or self.options.temperature != 0:
                return super()._main_loop(audio_features, tokens)
            return _greedy_loop(self, audio_features, tokens)

    return Task


def _swap_rows(tensors, windows: list[int], order: list[int]) -> None:
    """Swap, in place, row ``new`` and row ``old`` of each of ``tensors`` and of ``windows``
    wherever ``order[new] == old != new`` (the pairs of :func:`_compact_order`)."""
    import torch

    swaps = [(new, old) for new, old in enumerate(order) if new != old]
    for new, old in swaps:
        windows[new], windows[old] = windows[old], windows[new]
    for base in tensors if swaps else ():
        spare = torch.empty_like(base[0])
        for new, old in swaps:
            spare.copy_(base[new])
            base[new].copy_(base[old])
            base[old].copy_(spare)


def _compact_order(going: list[bool]) -> list[int]:
    """The rows that go on (``going[row]``), as a prefix: each ending row within the first
    ``sum(going)`` rows swaps places with a row going on beyond them; the others stay. Returns
    the old row number at each new place of the prefix."""
    n = sum(going)
    holes = [row for row in range(n) if not going[row]]
    movers = [row for row in range(n, len(going)) if going[row]]
    order = list(range(n))
    for hole, mover in zip(holes, movers, strict=True):
        order[hole] = mover
    return order


def _greedy_loop(task, audio_features, tokens):
    """whisper's ``DecodingTask._main_loop`` for a greedy decode, with each row dropped from
    the computation once it has ended: its later tokens are end tokens, as whisper's loop
    makes them, and its sum of log-probabilities stops, as whisper's does. The logit filters
    see the rows still decoding; one with a ``rows`` attribute (the decoder guard) is told
    which window each of them is. The model's ``kept_cross`` (a dict), when set, receives
    each window's cross-attention keys and values for its word alignment."""
    import torch

    eot = task.tokenizer.eot
    n_batch = tokens.shape[0]
    sum_logprobs = torch.zeros(n_batch, device=audio_features.device)
    no_speech_probs = [np.nan] * n_batch
    active = torch.arange(n_batch)  # the windows of the rows still decoding
    live = tokens  # their tokens
    guards = [f for f in task.logit_filters if hasattr(f, "rows")]
    try:
        for i in range(task.sample_len):
            logits = task.inference.logits(live, audio_features)
            if i == 0 and task.tokenizer.no_speech is not None:  # save no_speech_probs
                probs_at_sot = logits[:, task.sot_index].float().softmax(dim=-1)
                no_speech_probs = probs_at_sot[:, task.tokenizer.no_speech].tolist()
            logits = logits[:, -1]
            for logit_filter in task.logit_filters:
                logit_filter.apply(logits, live)
            sums = sum_logprobs[active]
            live, completed = task.decoder.update(live, logits, sums)
            sum_logprobs[active] = sums
            step = torch.full((n_batch, 1), eot, dtype=tokens.dtype, device=tokens.device)
            step[active, 0] = live[:, -1]
            tokens = torch.cat([tokens, step], dim=-1)
            if completed or tokens.shape[-1] > task.n_ctx:
                break
            going = (live[:, -1] != eot).tolist()
            if not all(going):
                order = _compact_order(going)
                task.inference.keep_rows(order)
                live = live[order]
                active = torch.tensor(task.inference.windows[: len(order)])
                for guard in guards:
                    guard.rows = active.tolist()
        kept = getattr(task.model, "kept_cross", None)
        if kept is not None:
            for row, window in enumerate(task.inference.windows):
                kept[window] = {m: e[row : row + 1] for m, e in task.inference.cross_base.items()}
    finally:
        task.inference.cleanup_caching()
        task.inference.cross_base, task.inference.windows = {}, []
        for guard in guards:
            guard.rows = None
    return tokens, sum_logprobs, no_speech_probs
