"""The encoder on a trimmed input (15 s context for 15 s windows) is whisper's own encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from callscan.asr.batched import TrimmedModel, audio_context, window_mel


def test_audio_context_is_half_for_15_second_windows_else_whole():
    assert audio_context([3.2, 14.9]) == 750
    assert audio_context([15.0]) == 750
    assert audio_context([15.2]) == 1500
    assert audio_context([]) == 750
    # only for models measured unchanged with it (tiny.en lost accuracy)
    assert audio_context([3.2], 1500, "tiny.en") == 1500
    assert audio_context([3.2], 448, "tiny.en") == 448


@pytest.mark.slow
def test_full_context_matches_whisper_and_half_context_is_its_first_half_input(
    base_model, data_dir
):
    import whisper

    from callscan.audio.decode import load

    y = load(data_dir / "fw_jfk.flac").mono()
    mel = whisper.log_mel_spectrogram(torch.from_numpy(y), padding=whisper.audio.N_SAMPLES)
    mel = mel[:, : whisper.audio.N_FRAMES][None]
    with torch.no_grad():
        full = TrimmedModel(base_model, 1500).encode(mel, exact=True)
        assert torch.allclose(full, base_model.embed_audio(mel), atol=1e-5)
        # the default's bfloat16 encoder (where the CPU has it): float32 features within
        # bfloat16's rounding on average (8 significant bits: 1.6% of the mean magnitude
        # here), the float32 encoder's exactly otherwise; the text is tested elsewhere
        fast = TrimmedModel(base_model, 1500).encode(mel)
        assert fast.dtype == torch.float32
        if getattr(base_model.module, "encoder_autocast", None):
            assert float((fast - full).abs().mean()) < 0.03 * float(full.abs().mean())
        else:
            assert torch.equal(fast, full)
        half = TrimmedModel(base_model, 750)
        features = half.encode(mel[:, :, :1500])
        assert features.shape == (1, 750, base_model.dims.n_audio_state)
        options = whisper.DecodingOptions(language="en", fp16=False, without_timestamps=True)
        results, guarded = half.decode(features, options)
        text = results[0].text.lower()
    assert "ask not what your country can do for you" in text and guarded == [False]
    assert np.isfinite(features.numpy()).all()


def _whisper_own_decode(model, features, options):
    """whisper's own decode of ``features``, with its own cross-attention (callscan's per-head
    one taken off for the call, put back after)."""
    from whisper.decoding import DecodingTask

    blocks = model.decoder.blocks
    patched = [b.cross_attn for b in blocks if "qkv_attention" in vars(b.cross_attn)]
    saved = [a.qkv_attention for a in patched]
    for a in patched:
        del a.qkv_attention
    try:
        return DecodingTask(model, options).run(features)
    finally:
        for a, f in zip(patched, saved, strict=True):
            a.qkv_attention = f


@pytest.mark.slow
def test_beam_search_decodes_a_batch_of_windows_as_whisper_does_each(base_model, data_dir):
    # whisper's beam search alone fails on more than one window (features not repeated per
    # beam); callscan's decodes the batch together, each window's cross-attention keys
    # computed once, per head, and shared by its beams: the same tokens as whisper's, window
    # by window; greedy decoding likewise, as one batch
    import whisper

    from callscan.audio.decode import load

    y = load(data_dir / "fw_jfk.flac").mono()
    halves = [y[: len(y) // 2], y[len(y) // 2 :]]
    mels = torch.stack(
        [
            whisper.log_mel_spectrogram(torch.from_numpy(h), padding=whisper.audio.N_SAMPLES)[
                :, :1500
            ]
            for h in halves
        ]
    )
    model = TrimmedModel(base_model, 750)
    options = whisper.DecodingOptions(language="en", fp16=False, beam_size=3)
    with torch.no_grad():
        features = model.encode(mels)
        own = [_whisper_own_decode(model, features[i : i + 1], options)[0] for i in range(2)]
        results, guarded = model.decode(features, options)
    assert len(results) == 2 and guarded == [False, False]
    assert "fellow americans" in results[0].text.lower()
    assert "your country" in results[1].text.lower()
    for ours, theirs in zip(results, own, strict=True):
        assert ours.tokens == theirs.tokens
        assert ours.avg_logprob == pytest.approx(theirs.avg_logprob, abs=1e-4)

    greedy = whisper.DecodingOptions(language="en", fp16=False)
    with torch.no_grad():
        own = _whisper_own_decode(model, features, greedy)
        results, guarded = model.decode(features, greedy)
    for ours, theirs in zip(results, own, strict=True):
        assert ours.tokens == theirs.tokens
        assert ours.avg_logprob == pytest.approx(theirs.avg_logprob, abs=1e-4)
        assert ours.no_speech_prob == pytest.approx(theirs.no_speech_prob, abs=1e-4)


@pytest.mark.parametrize("seconds", [0.3, 6.0, 14.99, 15.0, 15.01, 22.0])
def test_window_mel_is_whispers_padded_spectrogram_to_the_bit(seconds, data_dir):
    # whisper's own features of a window (30 s of padding, then cut) against window_mel's
    # (only the frames the cut keeps): real speech, windows shorter than, at and just past
    # the 15 s input, and a 30 s input
    import whisper

    from callscan.audio.decode import load

    y = np.tile(load(data_dir / "fw_jfk.flac").mono(), 3)  # 33 s of real speech
    audio = np.ascontiguousarray(y[: int(seconds * 16000)], dtype=np.float32)
    for n_frames in (1500, 3000):
        own = whisper.log_mel_spectrogram(torch.from_numpy(audio), padding=whisper.audio.N_SAMPLES)
        assert torch.equal(window_mel(audio, 80, n_frames), own[:, :n_frames])


def test_windows_encoded_one_at_a_time_are_the_batch_encoded_to_the_bit(base_model, data_dir):
    from callscan.audio.decode import load

    y = load(data_dir / "sample.wav").mono()
    mels = torch.stack([window_mel(y[i * 80000 : (i + 1) * 80000], 80, 1500) for i in range(3)])
    trimmed = TrimmedModel(base_model, 750)
    with torch.no_grad():
        together = trimmed.encode(mels)
        alone = torch.cat([trimmed.encode(mels[i : i + 1]) for i in range(3)])
    assert torch.equal(together, alone)


def test_word_alignment_reads_the_decodes_cross_attention_with_the_same_words(
    base_model, data_dir, monkeypatch
):
    # the alignment pass reuses the greedy decode's cross-attention keys and values instead
    # of projecting the window's features again: the same words, times and probabilities
    from callscan import asr
    from callscan.asr import batched
    from callscan.audio.decode import load

    y = load(data_dir / "sample.wav").mono()
    windows = [y[: 14 * 16000], y[14 * 16000 : 28 * 16000]]
    options = asr.TranscribeOptions(language="en", threads=1)
    calls = []
    real = batched._window_cross

    def spy(model, kept, row):
        out = real(model, kept, row)
        calls.append(out is not None and len(out) == 12)
        return out

    monkeypatch.setattr(batched, "_window_cross", spy)
    reused = batched.decode_windows(base_model.module, windows, "en", options)
    monkeypatch.setattr(batched, "_window_cross", lambda model, kept, row: None)
    computed = batched.decode_windows(base_model.module, windows, "en", options)
    assert calls == [True, True]
    assert reused == computed and reused[0] and reused[0][0]["words"]
