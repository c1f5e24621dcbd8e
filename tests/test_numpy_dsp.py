"""The numpy Welch spectrum and moving mean in callscan.audio give scipy's results on real
speech without importing ``scipy.signal`` (about 0.5 s per process) or ``scipy.ndimage``
(about 0.25 s): both were imported by every ``callscan analyze`` for one call each."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from callscan.audio.decode import load
from callscan.audio.prosody import high_band_share_db, welch_psd
from callscan.audio.vad import band_levels_db, moving_mean

CLIPS = ["sample.wav", "hvb_agent_0091_20s.flac", "cv_id_19059577.flac"]


@pytest.mark.parametrize("name", CLIPS)
@pytest.mark.parametrize("sr", [8000, 16000])
def test_welch_matches_scipy_on_real_speech(data_dir, name, sr):
    audio = load(data_dir / name, sr=sr)
    y = audio.channel(0)[: sr * 20]  # the opening's first 20 s, as channel_levels reads it
    f_ref, p_ref = scipy.signal.welch(np.asarray(y, dtype=np.float64), fs=sr, nperseg=1024)
    f, p = welch_psd(y, sr=sr, nperseg=1024)
    np.testing.assert_array_equal(f, f_ref)
    np.testing.assert_allclose(p, p_ref, rtol=1e-9, atol=1e-12 * p_ref.max())


@pytest.mark.parametrize("n", [1024, 1025, 1535, 1536, 4097])
def test_welch_segment_count_and_odd_lengths_match_scipy(n):
    y = np.random.default_rng(n).standard_normal(n) + 0.5  # an offset: detrending matters
    _, p_ref = scipy.signal.welch(y, fs=8000, nperseg=1024)
    _, p = welch_psd(y, sr=8000)
    np.testing.assert_allclose(p, p_ref, rtol=1e-9)


def test_high_band_share_tells_telephone_band_from_wideband(data_dir):
    wide = load(data_dir / "cv_id_19059577.flac", sr=16000).channel(0)  # a 48 kHz recording
    phone = load(data_dir / "hvb_agent_0091_20s.flac", sr=16000).channel(0)
    assert high_band_share_db(phone, sr=16000) < -40.0 < high_band_share_db(wide, sr=16000)
    assert np.isnan(high_band_share_db(wide[:1000], sr=16000))


@pytest.mark.parametrize("half", [0, 1, 4, 12])
def test_moving_mean_is_uniform_filter_to_the_bit(data_dir, half):
    levels = band_levels_db(load(data_dir / "sample.wav").channel(0))
    for x in (levels, levels[:3], levels[:1], levels[:0]):
        ref = scipy.ndimage.uniform_filter1d(x, 2 * half + 1, axis=0, mode="nearest")
        out = moving_mean(x, half)
        assert out.dtype == ref.dtype and out.shape == ref.shape
        np.testing.assert_array_equal(out, ref)


def test_analysis_dsp_imports_no_scipy_signal_or_ndimage(data_dir):
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from callscan.audio.decode import load\n"
        "from callscan.audio.prosody import high_band_share_db\n"
        "from callscan.audio.vad import bleed_correlation\n"
        f"y = load({str(data_dir / 'fw_stereo_diarization.wav')!r})\n"
        "stereo = np.stack([y.channel(0), y.channel(min(1, y.n_channels - 1))])\n"
        "assert bleed_correlation(stereo).size > 100\n"
        "assert high_band_share_db(stereo[0], sr=16000) < 0\n"
        "print(','.join(m for m in ('scipy.signal', 'scipy.ndimage') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
