"""callscan.audio.decode on valid input: formats, rates, channels, resampling, memory, real clips."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callscan.audio import decode as audio
from callscan.audio.decode import SAMPLE_RATE, Audio, AudioInfo, from_array, load, probe

FREQS_HZ = (440.0, 1000.0)  # Hz, tone of channel 0 and channel 1: checks channel order
AMPLITUDE = 0.5  # full scale
DURATION_S = 2.0  # s, of the generated test files


def sines(sr: int, channels: int, duration_s: float = DURATION_S) -> np.ndarray:
    """One sine per channel, shape (n_samples, channels), float32 (soundfile's layout)."""
    t = np.arange(round(duration_s * sr)) / sr
    return np.stack(
        [AMPLITUDE * np.sin(2 * np.pi * FREQS_HZ[c] * t) for c in range(channels)], axis=1
    ).astype(np.float32)


def dominant_hz(x: np.ndarray, sr: int) -> float:
    """Frequency of the strongest FFT bin of a 1-D signal, in Hz."""
    spectrum = np.abs(np.fft.rfft((x - x.mean()) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * sr / len(x))


def check_tones(a: Audio, channels: int) -> None:
    """Each channel of ``a`` holds its own tone (FREQS_HZ) within 2 %, at a sane level."""
    assert a.y.shape[0] == channels
    for c in range(channels):
        assert dominant_hz(a.channel(c), a.sr) == pytest.approx(FREQS_HZ[c], rel=0.02)
        assert 0.2 < float(np.sqrt(np.mean(a.channel(c) ** 2))) < 0.5  # sine RMS is 0.354


# (format, subtype, sample rate in Hz, channels, file extension)
CASES = [
    ("WAV", "PCM_16", 16000, 1, "wav"),
    ("WAV", "PCM_16", 8000, 2, "wav"),
    ("WAV", "ULAW", 8000, 1, "wav"),
    ("WAV", "ALAW", 8000, 2, "wav"),
    ("WAV", "GSM610", 8000, 1, "wav"),
    ("WAV", "PCM_U8", 8000, 1, "wav"),
    ("WAV", "PCM_16", 11025, 1, "wav"),
    ("WAV", "PCM_16", 22050, 2, "wav"),
    ("WAV", "PCM_16", 44100, 2, "wav"),
    ("WAV", "PCM_16", 48000, 2, "wav"),
    ("WAV", "PCM_16", 96000, 1, "wav"),
    ("WAV", "PCM_24", 44100, 2, "wav"),
    ("WAV", "PCM_32", 32000, 2, "wav"),
    ("WAV", "FLOAT", 48000, 2, "wav"),
    ("FLAC", "PCM_16", 44100, 2, "flac"),
    ("OGG", "VORBIS", 44100, 2, "ogg"),
    ("OGG", "OPUS", 48000, 2, "opus"),
    ("MP3", "MPEG_LAYER_III", 44100, 2, "mp3"),
]


@pytest.mark.parametrize("fmt,subtype,sr,channels,ext", CASES, ids=lambda v: str(v))
def test_load_formats_and_rates(
    tmp_path: Path, fmt: str, subtype: str, sr: int, channels: int, ext: str
) -> None:
    path = tmp_path / f"tone.{ext}"
    sf.write(path, sines(sr, channels), sr, format=fmt, subtype=subtype)

    a = load(path)

    assert a.sr == SAMPLE_RATE and a.y.dtype == np.float32 and a.y.flags.c_contiguous
    assert a.y.shape == (channels, round(DURATION_S * SAMPLE_RATE))
    assert abs(a.duration_s - DURATION_S) <= 0.001
    check_tones(a, channels)
    assert a.info == AudioInfo(
        path=str(path),
        format=fmt,
        codec=subtype,
        sample_rate_hz=sr,
        channels=channels,
        duration_s=pytest.approx(DURATION_S, abs=0.001),
        size_bytes=path.stat().st_size,
        decoder="soundfile",
    )
    assert a.info.warnings == ()
    assert not a.identical_channels


def test_probe_reads_header_only(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    sf.write(path, sines(8000, 2), 8000, subtype="ULAW")
    info = probe(str(path))
    assert (info.format, info.codec, info.sample_rate_hz, info.channels) == ("WAV", "ULAW", 8000, 2)
    assert info.duration_s == DURATION_S and info.decoder == "soundfile" and info.warnings == ()
    assert info.path == str(path)  # the path string as given


def test_load_other_target_rate(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, sines(44100, 2), 44100)
    a = load(path, sr=8000)
    assert a.sr == 8000 and a.y.shape == (2, 16000)
    check_tones(a, 2)


def test_dc_offset_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "dc.wav"
    sf.write(path, sines(8000, 1) * 0.5 + 0.3, 8000, subtype="PCM_16")
    a = load(path)
    assert float(a.y.mean()) == pytest.approx(0.3, abs=0.005)
    check_tones(a, 1)


def test_nan_and_inf_samples_become_zero(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    y = sines(16000, 2)
    y[100, 0], y[200, 1], y[300, 0] = np.nan, np.inf, -np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, y, 16000, subtype="FLOAT")

    with caplog.at_level("WARNING", logger="callscan"):
        a = load(path)

    assert np.isfinite(a.y).all()
    assert a.y[0, 100] == 0 and a.y[1, 200] == 0 and a.y[0, 300] == 0  # 16 kHz: not resampled
    np.testing.assert_array_equal(a.y[:, 1000:2000], y[1000:2000].T)
    assert a.info.warnings == ("replaced 3 non-finite samples (NaN or inf) with 0",)
    assert "replaced 3 non-finite samples" in caplog.text


def test_nan_samples_at_8k_do_not_spread(tmp_path: Path) -> None:
    y = sines(8000, 1)
    y[4000:4010] = np.nan
    path = tmp_path / "nan8k.wav"
    sf.write(path, y, 8000, subtype="FLOAT")
    a = load(path)
    assert np.isfinite(a.y).all()
    check_tones(a, 1)


def test_identical_channels_mono_saved_as_stereo(tmp_path: Path) -> None:
    mono = sines(44100, 1)
    path = tmp_path / "dual_mono.wav"
    sf.write(path, np.hstack([mono, mono]), 44100, subtype="PCM_16")
    a = load(path)
    assert a.n_channels == 2 and a.identical_channels
    np.testing.assert_array_equal(a.channel(0), a.channel(1))


def test_identical_channels_through_a_lossy_codec(tmp_path: Path) -> None:
    mono = sines(44100, 1)
    noise = np.random.default_rng(1).normal(0, 0.01, mono.shape).astype(np.float32)  # -31 dB
    path = tmp_path / "dual_mono.mp3"
    sf.write(path, np.hstack([mono, mono + noise]), 44100, format="MP3")
    assert load(path).identical_channels


@pytest.mark.parametrize("crosstalk", [0.0, 0.1, 0.3])  # -inf, -20 dB, -10 dB of leakage
def test_two_parties_with_crosstalk_are_not_identical(tmp_path: Path, crosstalk: float) -> None:
    y = sines(8000, 2)  # a different "voice" (tone) per channel
    y = y + crosstalk * y[:, ::-1]  # each channel also carries some of the other
    path = tmp_path / "two_party.wav"
    sf.write(path, y, 8000, subtype="PCM_16")
    assert load(path).identical_channels is False


def test_identical_channels_needs_two_channels() -> None:
    assert from_array(np.ones(16000, np.float32), 16000).identical_channels is False


def test_channel_and_mono(tmp_path: Path) -> None:
    path = tmp_path / "st.wav"
    sf.write(path, sines(16000, 2), 16000, subtype="FLOAT")
    a = load(path)
    assert a.channel(1).ndim == 1 and np.shares_memory(a.channel(1), a.y)
    m = a.mono()
    assert m.shape == (a.y.shape[1],) and m.dtype == np.float32
    assert not np.shares_memory(m, a.y)
    np.testing.assert_allclose(m, (a.y[0] + a.y[1]) / 2, atol=1e-7)
    one = from_array(a.y[0], 16000)
    assert not np.shares_memory(one.mono(), one.y)
    np.testing.assert_array_equal(one.mono(), a.y[0])


def test_real_clip_jfk_flac(data_dir: Path) -> None:
    path = data_dir / "fw_jfk.flac"
    raw, _ = sf.read(path, dtype="float64")
    left, right = raw.T
    # The data: one speech signal on both channels, but not bit-identical (the channels differ
    # by up to 0.07 full scale; the difference is 31.5 dB below the signal, correlation 0.9996).
    assert np.abs(left - right).max() > 0.05 and np.corrcoef(left, right)[0, 1] > 0.999
    diff_db = 10 * np.log10(np.mean((left - right) ** 2) / np.mean(left**2))
    assert -33 < diff_db < -30

    a = load(path)

    assert (a.info.format, a.info.codec) == ("FLAC", "PCM_24")
    assert (a.info.channels, a.info.sample_rate_hz) == (2, 44100)
    assert a.info.duration_s == pytest.approx(11.0, abs=0.01)
    assert a.y.shape == (2, 176000)
    assert a.identical_channels is True  # the same signal: a mono recording saved as stereo


def test_real_clip_stereo_diarization(data_dir: Path) -> None:
    a = load(data_dir / "fw_stereo_diarization.wav")
    assert (a.info.format, a.info.channels, a.info.sample_rate_hz) == ("WAV", 2, 16000)
    assert a.info.duration_s == 5.0 and a.y.shape == (2, 80000)
    raw, _ = sf.read(data_dir / "fw_stereo_diarization.wav", dtype="float32")
    np.testing.assert_array_equal(a.y, raw.T)  # 16 kHz in, 16 kHz out: samples untouched
    assert a.identical_channels is False


def test_real_clip_sample_wav(data_dir: Path) -> None:
    a = load(data_dir / "sample.wav")
    assert (a.info.channels, a.info.sample_rate_hz, a.info.duration_s) == (1, 16000, 30.0)
    assert a.y.shape == (1, 480000) and a.n_channels == 1
    assert a.identical_channels is False


@pytest.mark.slow
@pytest.mark.parametrize("sr,channels,minutes", [(8000, 1, 10.0), (22050, 2, 5.0)])
def test_long_file_memory_stays_near_one_copy(
    tmp_path: Path, sr: int, channels: int, minutes: float
) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, sines(sr, channels, minutes * 60), sr, subtype="PCM_16")

    tracemalloc.start()
    try:
        a = load(path)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    n = round(minutes * 60 * SAMPLE_RATE)
    assert a.y.shape == (channels, n) and a.y.nbytes == channels * n * 4
    ratio = peak_bytes / a.y.nbytes
    assert ratio < 1.5, f"peak traced memory is {ratio:.2f} x the output array"
    # Beyond the output, only a few blocks: decoding the whole file first would add its size
    # (19 MB and 26 MB here as float32).
    extra_mb = (peak_bytes - a.y.nbytes) / 1e6
    assert extra_mb < 12, f"{extra_mb:.1f} MB traced beyond the output array"
    for start_s in (0.0, minutes * 60 / 2, minutes * 60 - 2.0):  # resampler state carried on
        i = round(start_s * SAMPLE_RATE)
        for c in range(channels):
            chunk = a.y[c, i : i + 2 * SAMPLE_RATE]
            assert dominant_hz(chunk, SAMPLE_RATE) == pytest.approx(FREQS_HZ[c], rel=0.02)
    # Across block boundaries the resampled sine matches the ideal one closely (the first and
    # last few ms ring: the tone starts and stops abruptly).
    t = np.arange(200, n - 200) / SAMPLE_RATE
    ideal = AMPLITUDE * np.sin(2 * np.pi * FREQS_HZ[0] * t)
    assert np.abs(a.y[0, 200 : n - 200] - ideal).max() < 1e-3


def test_from_array_resamples_and_copies() -> None:
    y = sines(8000, 2).T.copy()  # (channels, n)
    a = from_array(y, 8000)
    assert a.sr == SAMPLE_RATE and a.y.shape == (2, 32000) and a.y.dtype == np.float32
    check_tones(a, 2)
    assert a.info.path == "<array>" and a.info.sample_rate_hz == 8000
    assert a.info.channels == 2 and a.info.duration_s == DURATION_S

    same = from_array(y[0], SAMPLE_RATE, path="chan0")
    assert same.y.shape == (1, y.shape[1]) and same.info.path == "chan0"
    np.testing.assert_array_equal(same.y[0], y[0])
    assert not np.shares_memory(same.y, y)


def test_from_array_scales_integers() -> None:
    pcm = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    np.testing.assert_allclose(from_array(pcm, 16000).y[0], [0, 0.5, -1, 32767 / 32768])
    u8 = np.array([128, 192, 0], dtype=np.uint8)
    np.testing.assert_allclose(from_array(u8, 16000).y[0], [0, 0.5, -1])


def test_audio_info_to_dict_is_json() -> None:
    info = AudioInfo("a.wav", "WAV", "PCM_16", 8000, 1, 2.5, 40044, "soundfile", ("w",))
    d = info.to_dict()
    assert json.loads(json.dumps(d)) == {
        "path": "a.wav",
        "format": "WAV",
        "codec": "PCM_16",
        "sample_rate_hz": 8000,
        "channels": 1,
        "duration_s": 2.5,
        "size_bytes": 40044,
        "decoder": "soundfile",
        "warnings": ["w"],
    }


def test_loaded_info_to_dict_is_json(data_dir: Path) -> None:
    d = load(data_dir / "fw_jfk.flac").info.to_dict()
    assert json.loads(json.dumps(d))["channels"] == 2


def test_library_prints_nothing(data_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    load(data_dir / "sample.wav")
    probe(data_dir / "fw_jfk.flac")
    assert capfd.readouterr() == ("", "")


def test_constants() -> None:
    assert audio.SAMPLE_RATE == 16000
    assert audio.MAX_DURATION_S == 4 * 3600.0
    assert audio.MIN_SAMPLE_RATE_HZ == 4000


@pytest.mark.parametrize("channels", [1, 2])
def test_channel_peaks_match_numpy_over_axis_0(channels: int) -> None:
    """The per-channel peak used for the silence and over-full-scale checks: each channel's
    largest absolute sample, negative peaks included (as numpy's axis-0 reduction gives)."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 0.3, (48000, channels)).astype(np.float32)
    x[100, 0] = -0.99  # the largest magnitude is a negative sample
    expected = np.maximum(x.max(axis=0), -x.min(axis=0))
    np.testing.assert_array_equal(audio._peaks(x), expected)
    assert audio._peaks(x).dtype == np.float32
