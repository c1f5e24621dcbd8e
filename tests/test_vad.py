"""Speech regions: silero-vad per channel, crosstalk gating on stereo, tones and music."""

from __future__ import annotations

import numpy as np
import pytest

from callscan.audio import decode as audio_mod
from callscan.audio import vad

SR = 16000
BLEED_DB = -25.0  # the other party's level in a channel, as phone lines leak it


@pytest.fixture(scope="module")
def vad_model():
    import torch

    torch.set_num_threads(1)
    return vad.load_vad()


@pytest.fixture(scope="module")
def parties(data_dir):
    """Agent (two real utterances) and caller (JFK) on separate tracks, 20 s, with overlap."""
    stereo = audio_mod.load(data_dir / "fw_stereo_diarization.wav")
    jfk = audio_mod.load(data_dir / "fw_jfk.flac").mono()
    agent, caller = np.zeros(20 * SR, np.float32), np.zeros(20 * SR, np.float32)
    agent[: stereo.y.shape[1]] += stereo.channel(0)  # 0.3-4.7 s
    agent[int(8 * SR) : int(10 * SR)] += stereo.channel(0)[: 2 * SR]  # cuts in on the caller
    agent[int(16.5 * SR) :] += stereo.channel(1)[: int(3.5 * SR)]  # 16.8-18.9 s
    caller[int(5.5 * SR) : int(5.5 * SR) + jfk.size] += jfk  # 5.8-16 s
    return agent, caller


def _overlap_s(a, b) -> float:
    return sum(max(0.0, min(x.end_s, y.end_s) - max(x.start_s, y.start_s)) for x in a for y in b)


def _mix(agent, caller, *, noise_db=None, seed=0):
    """Agent on the left with the caller's bleed; caller (plus optional noise) on the right."""
    g = 10 ** (BLEED_DB / 20)
    left = agent + g * caller
    right = caller + g * agent
    if noise_db is not None:
        rng = np.random.default_rng(seed)
        right = right + 10 ** (noise_db / 20) * rng.standard_normal(right.size).astype(np.float32)
    return audio_mod.from_array(np.stack([left, right]), SR)


@pytest.mark.slow
def test_bleed_at_minus_25_db_is_not_agent_speech(parties, vad_model):
    agent, caller = parties
    truth = vad.speech_regions(audio_mod.from_array(agent, SR), model=vad_model)[0]
    call = _mix(agent, caller)
    plain = vad.speech_regions(call, vad.VadOptions(crosstalk_gate=False), model=vad_model)
    gated = vad.speech_regions(call, model=vad_model)
    # silero alone takes the bleed for speech (seconds of it); the gate leaves almost none.
    assert vad.total_s(plain[0]) - _overlap_s(plain[0], truth) > 3.0
    assert vad.total_s(gated[0]) - _overlap_s(gated[0], truth) < 0.1
    assert _overlap_s(gated[0], truth) / vad.total_s(truth) >= 0.9


@pytest.mark.slow
def test_agent_speech_kept_when_caller_channel_is_noisy(parties, vad_model):
    agent, caller = parties
    truth = vad.speech_regions(audio_mod.from_array(agent, SR), model=vad_model)[0]
    for noise_db in (-40.0, -25.0):  # white noise at 20 and about 5 dB below the caller
        gated = vad.speech_regions(_mix(agent, caller, noise_db=noise_db), model=vad_model)
        assert _overlap_s(gated[0], truth) / vad.total_s(truth) >= 0.9
        assert vad.total_s(gated[0]) - _overlap_s(gated[0], truth) < 0.1


def test_bleed_level_is_measured(parties, vad_model):
    agent, caller = parties
    call = _mix(agent, caller)
    spans = [vad._silero(call.channel(c), vad_model, vad.VadOptions()) for c in (0, 1)]
    _, coupling = vad.gate_crosstalk(call.y, spans, vad.VadOptions())
    assert coupling == pytest.approx([BLEED_DB, BLEED_DB], abs=1.0)


def test_two_talkers_without_bleed_keep_their_overlap(data_dir, vad_model):
    call = audio_mod.load(data_dir / "fw_stereo_diarization.wav")  # both talk at 0.3-2.5 s
    plain = vad.speech_regions(call, vad.VadOptions(crosstalk_gate=False), model=vad_model)
    gated = vad.speech_regions(call, model=vad_model)
    for c in (0, 1):
        assert _overlap_s(gated[c], plain[c]) >= 0.85 * vad.total_s(plain[c])


def _tones_and_music(seconds: float = 24.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    ringback = (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t)) * ((t % 6) < 2)
    dtmf = np.sin(2 * np.pi * 697 * t) + np.sin(2 * np.pi * 1209 * t)
    notes = 262 * 2 ** (np.array([0, 4, 7, 12, 7, 4, 2, 5]) / 12)
    f = notes[(t * 3).astype(int) % notes.size]
    phase = 2 * np.pi * np.cumsum(f) / SR
    music = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
    y = np.zeros_like(t)
    third = t.size // 3
    y[:third] = 0.3 * ringback[:third]
    y[third : third + SR] = 0.3 * dtmf[:SR]  # a key press
    y[third + 2 * SR : 2 * third] = 0.2 * np.sin(2 * np.pi * 1000 * t[: 2 * third - third - 2 * SR])
    y[2 * third :] = 0.2 * music[2 * third :]  # hold music
    return y.astype(np.float32)


def test_hold_music_tones_and_silence_are_not_speech(vad_model):
    y = _tones_and_music()
    mono = vad.speech_regions(audio_mod.from_array(y, SR), model=vad_model)
    assert vad.total_s(mono[0]) < 0.5
    stereo = vad.speech_regions(
        audio_mod.from_array(np.stack([y, np.zeros_like(y)]), SR), model=vad_model
    )
    assert vad.total_s(stereo[0]) < 0.5 and stereo[1] == []


def test_real_speech_is_found(data_dir, vad_model):
    from callscan.speakers.diarize import read_rttm

    regions = vad.speech_regions(audio_mod.load(data_dir / "sample.wav"), model=vad_model)[0]
    reference = [vad.Region(a, b) for a, b, _ in read_rttm(data_dir / "sample.rttm")]
    covered = sum(_overlap_s([r], regions) for r in reference)
    assert covered / sum(r.duration_s for r in reference) >= 0.9
    assert regions[0].to_dict().keys() == {"start_s", "end_s"}


def test_identical_channels_are_not_gated_against_each_other(data_dir, vad_model):
    mono = audio_mod.load(data_dir / "sample.wav").y[0]
    both = vad.speech_regions(audio_mod.from_array(np.stack([mono, mono]), SR), model=vad_model)
    assert both[0] == both[1] and vad.total_s(both[0]) > 15.0


def test_crosstalk_levels_of_a_long_call_work_a_block_at_a_time():
    """The gate's frame and band levels never copy the whole call (issue 16: memory near one
    copy of the audio for any length): 30 minutes of one channel (115 MB of float32) is
    measured with a few MB of working memory, and the blocks join up exactly."""
    import tracemalloc

    rng = np.random.default_rng(3)
    y = (0.05 * rng.standard_normal(30 * 60 * SR)).astype(np.float32)
    tracemalloc.start()
    levels = vad.frame_levels_db(y, smooth=3)
    bands = vad.band_levels_db(y)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    n = -(-y.size // vad.FRAME)
    assert levels.shape == (n,) and bands.shape[0] == n
    assert peak_mb < 60, f"{peak_mb:.0f} MB for a 115 MB channel"  # was 460 MB (float64 copy)
    start = 4096 * vad.FRAME - 3 * vad.FRAME  # frames on both sides of a block edge
    piece = y[start : start + 8 * vad.FRAME]
    plain = vad.frame_levels_db(y)  # unsmoothed, to compare frame by frame
    np.testing.assert_allclose(vad.frame_levels_db(piece), plain[4093:4101], atol=1e-9)
    np.testing.assert_allclose(vad.band_levels_db(piece), bands[4093:4101], atol=1e-3)


def test_onnx_and_torchscript_models_find_the_same_regions(data_dir, parties, vad_model):
    """The sequence model on onnxruntime (a 16 s block per call, the default when
    onnxruntime is installed) finds exactly what silero's TorchScript model finds frame by
    frame, gate and tone removal included: on the real phone clip, the real two-talker
    stereo clip and the mixed call with bleed."""
    jit, onnx = vad.load_vad("jit"), vad.load_vad("onnx")
    assert vad_model.__class__ is onnx.__class__  # "auto" picks onnx: onnxruntime is here
    calls = [
        audio_mod.load(data_dir / "sample.wav"),
        audio_mod.load(data_dir / "fw_stereo_diarization.wav"),
        _mix(*parties),
    ]
    for call in calls:
        found = vad.speech_regions(call, model=onnx)
        assert sum(vad.total_s(c) for c in found) > 5.0
        assert found == vad.speech_regions(call, model=jit)


def test_an_unknown_backend_is_a_clear_error():
    from callscan.errors import CallscanError

    with pytest.raises(CallscanError, match="unknown speech detection backend 'tflite'"):
        vad.load_vad("tflite")


def test_the_two_channels_on_two_threads_find_what_one_after_the_other_finds(parties, vad_model):
    stereo = _mix(*parties)
    options = vad.VadOptions(crosstalk_gate=False)
    together = vad.speech_regions(stereo, options, model=vad_model)
    alone = [
        vad._to_regions(
            vad._drop_tones(
                stereo.channel(c), vad._silero(stereo.channel(c), vad_model, options), options
            ),
            SR,
        )
        for c in (0, 1)
    ]
    assert together == alone and together[0] and together[1]


def test_an_error_on_the_right_channels_thread_comes_out_as_it_was(parties, vad_model, monkeypatch):
    stereo = _mix(*parties)
    real = vad._silero

    def failing(y, model, options):
        if y is stereo.channel(1) or np.shares_memory(y, stereo.channel(1)):
            raise ValueError("right channel failed")
        return real(y, model, options)

    monkeypatch.setattr(vad, "_silero", failing)
    with pytest.raises(ValueError, match="right channel failed"):
        vad.speech_regions(stereo, model=vad_model)
