"""callscan.audio.decode on bad and odd input: exact one-line AudioError messages, salvage, ffmpeg.

Every bad file is generated in ``tmp_path``. ffmpeg is switched off by default (an autouse
fixture), so the results do not depend on what the machine has installed; the ffmpeg path is
exercised with a small fake ``ffmpeg`` shell script that prints a real ffmpeg banner and
pipes known float32 samples.
"""

from __future__ import annotations

import builtins
import os
import stat
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callscan.audio import decode as audio
from callscan.audio.decode import load, probe
from callscan.errors import AudioError, CallscanError

REAL_FIND_FFMPEG = audio.find_ffmpeg  # before the autouse fixture replaces it
INSTALL_HINT = "install it with: pip install 'callscan[ffmpeg]'"
FREQS_HZ = (440.0, 1000.0)  # Hz, tone of channel 0 and channel 1


@pytest.fixture(autouse=True)
def no_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend no ffmpeg is installed, whatever this machine has."""
    monkeypatch.setattr(audio, "find_ffmpeg", lambda: None)


def sines(sr: int, channels: int, duration_s: float = 2.0, amplitude: float = 0.5) -> np.ndarray:
    """One sine per channel, shape (n_samples, channels), float32."""
    t = np.arange(round(duration_s * sr)) / sr
    tones = [amplitude * np.sin(2 * np.pi * FREQS_HZ[c % 2] * t) for c in range(channels)]
    return np.stack(tones, axis=1).astype(np.float32)


def dominant_hz(x: np.ndarray, sr: int) -> float:
    """Frequency of the strongest FFT bin of a 1-D signal, in Hz."""
    return float(np.argmax(np.abs(np.fft.rfft(x * np.hanning(len(x))))) * sr / len(x))


def wav_header(n_frames: int, sr: int, channels: int, bits: int = 16, tag: int = 1) -> bytes:
    """A 44-byte RIFF/WAVE header declaring ``n_frames`` frames (format ``tag``)."""
    align = channels * bits // 8
    data = n_frames * align
    fmt = struct.pack("<HHIIHH", tag, channels, sr, sr * align, align, bits)
    riff = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
    return riff + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", data)


def raises(path: Path | str, message: str, **kwargs: object) -> AudioError:
    """Assert that load() and probe() both fail on ``path`` with exactly ``'path': message``."""
    expected = f"'{path}': {message}"
    for fn in (load, probe):
        with pytest.raises(AudioError) as info:
            fn(path, **kwargs)
        assert str(info.value) == expected
        assert "\n" not in str(info.value) and isinstance(info.value, CallscanError)
    return info.value


# -- the file itself --------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    err = raises(tmp_path / "nope.wav", "no such file")
    assert isinstance(err.__cause__, FileNotFoundError)
    raises(str(tmp_path / "nope.wav" / "x.wav"), "no such file")


def test_directory(tmp_path: Path) -> None:
    raises(tmp_path, "is a directory, not an audio file")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.wav"
    sf.write(path, sines(8000, 1), 8000)
    path.chmod(0)  # enough for a normal user; root reads anyway, so also refuse the open:
    real_open = builtins.open

    def guarded_open(file: object, *args: object, **kwargs: object) -> object:
        if isinstance(file, str | os.PathLike) and os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    err = raises(path, "permission denied")
    assert isinstance(err.__cause__, PermissionError)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    raises(path, "file is empty (0 bytes)")


@pytest.mark.parametrize(
    "name,content",
    [
        ("notes.wav", b"Agent: thank you for calling, how can I help?\n" * 20),
        ("call.flac", b"fLaC but not really" + bytes(100)),
        ("noise.bin", np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()),
        ("call", b"\x00" * 1000),
        ("photo.mp3", b"\x89PNG\r\n\x1a\n" + bytes(500)),
    ],
)
def test_not_audio(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    err = raises(path, "not an audio file, or a format callscan cannot read")
    assert isinstance(err.__cause__, RuntimeError)  # soundfile's error, chained


@pytest.mark.parametrize("n_bytes", [4, 11, 30, 40])
def test_wav_cut_inside_its_header(tmp_path: Path, n_bytes: int) -> None:
    full = tmp_path / "full.wav"
    sf.write(full, sines(8000, 1), 8000, subtype="PCM_16")
    path = tmp_path / "cut.wav"
    path.write_bytes(full.read_bytes()[:n_bytes])
    raises(path, "truncated or corrupt WAV header")


def test_truncated_wav_reads_what_is_there(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    full = tmp_path / "full.wav"
    sf.write(full, sines(8000, 2), 8000, subtype="PCM_16")
    data = full.read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    warning = "file is truncated: header declares 2.00 s, 1.00 s decoded"

    with caplog.at_level("WARNING", logger="callscan"):
        a = load(path)

    assert a.info.warnings == (warning,) and warning in caplog.text
    n_frames = (len(data) // 2 - 44) // 4  # 16-bit stereo frames left after the header
    assert a.info.duration_s == pytest.approx(n_frames / 8000)
    assert a.y.shape == (2, n_frames * 2)
    whole = load(full).channel(1)[: n_frames * 2]  # the same audio, up to the cut
    np.testing.assert_allclose(a.channel(1)[:-200], whole[:-200], atol=0.02)
    assert probe(path).warnings == (warning,)


def test_truncated_flac_is_salvaged(tmp_path: Path) -> None:
    full = tmp_path / "full.flac"
    sf.write(full, sines(44100, 1), 44100, format="FLAC", subtype="PCM_16")
    path = tmp_path / "cut.flac"
    path.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])

    a = load(path)  # libsndfile reports "flac decoder lost sync" at the cut

    assert len(a.info.warnings) == 1
    assert a.info.warnings[0].startswith("file is truncated: header declares 2.00 s, ")
    assert 0.5 < a.duration_s < 1.5
    assert dominant_hz(a.channel(0), a.sr) == pytest.approx(FREQS_HZ[0], rel=0.02)


# -- what the header says ---------------------------------------------------------------------


def test_zero_samples(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 1), np.float32), 8000)
    raises(path, "holds no audio (0 samples)")


@pytest.mark.parametrize("sr", [3000, 2000])
def test_sample_rate_too_low(tmp_path: Path, sr: int) -> None:
    path = tmp_path / "low.wav"
    sf.write(path, sines(sr, 1), sr)
    raises(path, f"sample rate {sr} Hz is too low (minimum 4000 Hz)")


def test_lowest_sample_rate_accepted(tmp_path: Path) -> None:
    path = tmp_path / "4k.wav"
    sf.write(path, sines(4000, 1), 4000)
    a = load(path)
    assert a.y.shape == (1, 32000)
    assert dominant_hz(a.channel(0), a.sr) == pytest.approx(FREQS_HZ[0], rel=0.02)


@pytest.mark.parametrize("channels", [3, 6])
def test_more_than_two_channels(tmp_path: Path, channels: int) -> None:
    path = tmp_path / "multi.wav"
    sf.write(path, sines(8000, channels), 8000)
    raises(
        path,
        f"has {channels} channels; callscan reads mono or stereo (one party per channel) "
        "recordings",
    )


def test_too_long_checked_from_header(tmp_path: Path) -> None:
    # A real 5-hour 8 kHz WAV, written as a sparse file: 288 MB that take no disk space.
    path = tmp_path / "five_hours.wav"
    n_frames = 5 * 3600 * 8000
    with open(path, "wb") as f:
        f.write(wav_header(n_frames, 8000, 1))
        f.truncate(44 + 2 * n_frames)
    error = raises(path, "is 5.0 h long; the limit is 4.0 h (raise max_duration_s)")
    assert error.option == "max_duration_s"  # the command line names its flag for it
    assert probe(path, max_duration_s=6 * 3600).duration_s == 5 * 3600.0


def test_max_duration_argument(tmp_path: Path) -> None:
    path = tmp_path / "two_seconds.wav"
    sf.write(path, sines(8000, 1), 8000)
    raises(
        path,
        "is 0.0 h long; the limit is 0.0 h (raise max_duration_s)",
        max_duration_s=1.0,
    )
    assert load(path, max_duration_s=2.0).duration_s == 2.0


# -- silence ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.0, 10 ** (-100 / 20)])  # all zeros; -100 dBFS tones
def test_silent(tmp_path: Path, level: float) -> None:
    path = tmp_path / "silent.wav"
    sf.write(path, sines(8000, 2, amplitude=level), 8000, subtype="FLOAT")
    with pytest.raises(AudioError) as err:
        load(path)
    assert str(err.value) == f"'{path}': is silent (peak below -90 dBFS on every channel)"
    assert probe(path).channels == 2  # the header alone is fine
    a = load(path, allow_silent=True)
    assert a.y.shape == (2, 32000) and float(np.abs(a.y).max()) < 10 ** (-90 / 20)


def test_one_silent_channel_is_not_silent(tmp_path: Path) -> None:
    y = sines(8000, 2)
    y[:, 1] = 0.0
    path = tmp_path / "one_sided.wav"
    sf.write(path, y, 8000)
    assert load(path).y.shape == (2, 32000)


def test_quiet_but_not_silent(tmp_path: Path) -> None:
    path = tmp_path / "quiet.wav"
    sf.write(path, sines(8000, 1, amplitude=10 ** (-80 / 20)), 8000, subtype="PCM_24")
    assert load(path).n_channels == 1


# -- formats that need ffmpeg -----------------------------------------------------------------

FTYP = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isomiso2" + bytes(400)


@pytest.mark.parametrize(
    "name,content,fmt",
    [
        ("call.m4a", FTYP, "M4A"),
        ("recording", FTYP, "M4A"),  # no extension: found by its magic bytes
        ("call.amr", b"#!AMR\n" + bytes(400), "AMR"),
        ("call.webm", b"\x1aE\xdf\xa3" + bytes(400), "WEBM"),
        ("call.wma", bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + bytes(400), "WMA"),
        ("call.aac", b"\xff\xf1\x50\x80" + bytes(400), "AAC"),
        ("call.3gp", FTYP, "3GP"),
    ],
)
def test_needs_ffmpeg(tmp_path: Path, name: str, content: bytes, fmt: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    raises(path, f"cannot decode {fmt} audio without ffmpeg; {INSTALL_HINT}")


def test_wav_with_codec_libsndfile_lacks_needs_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "mp3_in_wav.wav"
    path.write_bytes(wav_header(1000, 8000, 1, bits=8, tag=0x0055) + bytes(1000))
    raises(path, f"cannot decode WAV (format tag 0x0055) audio without ffmpeg; {INSTALL_HINT}")


def test_find_ffmpeg_prefers_imageio_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio.shutil, "which", lambda name: f"/usr/bin/{name}")
    bundled = types.SimpleNamespace(get_ffmpeg_exe=lambda: "/site-packages/ffmpeg-linux64")
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", bundled)
    assert REAL_FIND_FFMPEG() == "/site-packages/ffmpeg-linux64"

    def missing_binary() -> str:
        raise RuntimeError("No ffmpeg exe could be found")

    monkeypatch.setitem(
        sys.modules, "imageio_ffmpeg", types.SimpleNamespace(get_ffmpeg_exe=missing_binary)
    )
    assert REAL_FIND_FFMPEG() == "/usr/bin/ffmpeg"
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # not installed: import fails
    assert REAL_FIND_FFMPEG() == "/usr/bin/ffmpeg"
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    assert REAL_FIND_FFMPEG() is None


# A real ffmpeg 5.1 banner for an AAC .m4a (duration edited), as printed by `ffmpeg -i`.
M4A_BANNER = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:call.m4a':
  Metadata:
    major_brand     : M4A
  Duration: {duration}, start: 0.000000, bitrate: 131 kb/s
  Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, {layout}, fltp, 126 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
At least one output file must be specified
"""


def fake_ffmpeg(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    banner: str,
    pcm: np.ndarray | None = None,
    decode_error: str = "",
) -> Path:
    """Install a fake ffmpeg: `-i` alone prints ``banner``; a decode pipes ``pcm``.

    ``pcm`` is (n_samples, channels) float32, written interleaved as f32le; ``decode_error``
    goes to stderr after it, with exit status 1. Returns the file logging each call's args.
    """
    (tmp_path / "banner.txt").write_text(banner)
    (tmp_path / "pcm.f32").write_bytes(b"" if pcm is None else pcm.astype("<f4").tobytes())
    (tmp_path / "error.txt").write_text(decode_error)
    status = 1 if decode_error else 0
    script = tmp_path / "ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{tmp_path}/calls.log"\n'
        'case " $* " in\n'
        f'  *" f32le "*) cat "{tmp_path}/pcm.f32"; cat "{tmp_path}/error.txt" >&2\n'
        f"    exit {status} ;;\n"
        f'  *) cat "{tmp_path}/banner.txt" >&2; exit 1 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    monkeypatch.setattr(audio, "find_ffmpeg", lambda: str(script))
    return tmp_path / "calls.log"


@pytest.mark.parametrize("header_s", [1.5, 0.25])  # 0.25: the output outgrows the estimate
def test_ffmpeg_decode_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header_s: float
) -> None:
    pcm = sines(16000, 2, duration_s=1.5)
    banner = M4A_BANNER.format(duration=f"00:00:{header_s:05.2f}", layout="stereo")
    calls = fake_ffmpeg(tmp_path, monkeypatch, banner, pcm)
    monkeypatch.setattr(audio, "_PIPE_FRAMES", 1000)  # many reads, the last one partial
    path = tmp_path / "call.m4a"
    path.write_bytes(FTYP)

    a = load(path)

    assert a.info == audio.AudioInfo(
        path=str(path),
        format="mov,mp4,m4a,3gp,3g2,mj2",
        codec="aac",
        sample_rate_hz=44100,
        channels=2,
        duration_s=1.5,  # what decoded
        size_bytes=len(FTYP),
        decoder="ffmpeg",
    )
    assert a.sr == 16000 and a.y.shape == (2, 24000) and a.y.flags.c_contiguous
    np.testing.assert_array_equal(a.y, pcm.T)  # de-interleaved, channel order kept
    probe_args, decode_args = calls.read_text().splitlines()
    assert probe_args.split() == ["-hide_banner", "-nostdin", "-i", f"file:{path}"]
    for option in ("-i file:" + str(path), "-map 0:a:0", "-ac 2", "-ar 16000", "-f f32le -"):
        assert option in decode_args
    assert probe(path).duration_s == header_s


def test_ffmpeg_mono_at_other_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    banner = (
        "Input #0, amr, from 'file:call.amr':\n  Duration: 00:00:01.00, bitrate: 12 kb/s\n"
        "  Stream #0:0: Audio: amr_nb (samr / 0x726D6173), 8000 Hz, mono, flt\n"
    )
    pcm = sines(8000, 1, duration_s=1.0)
    calls = fake_ffmpeg(tmp_path, monkeypatch, banner, pcm)
    path = tmp_path / "call.amr"
    path.write_bytes(b"#!AMR\n" + bytes(100))
    a = load(path, sr=8000)
    assert (a.info.format, a.info.codec, a.info.channels) == ("amr", "amr_nb", 1)
    assert a.sr == 8000 and a.y.shape == (1, 8000)
    np.testing.assert_array_equal(a.y[0], pcm[:, 0])
    assert "-ac 1 -ar 8000" in calls.read_text()


def test_ffmpeg_refuses_multichannel_from_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_ffmpeg(tmp_path, monkeypatch, M4A_BANNER.format(duration="00:00:01.00", layout="5.1"))
    path = tmp_path / "surround.m4a"
    path.write_bytes(FTYP)
    raises(path, "has 6 channels; callscan reads mono or stereo (one party per channel) recordings")


def test_ffmpeg_too_long_from_banner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    banner = M4A_BANNER.format(duration="05:30:00.00", layout="stereo")
    calls = fake_ffmpeg(tmp_path, monkeypatch, banner, sines(16000, 2, 1.0))
    path = tmp_path / "long.m4a"
    path.write_bytes(FTYP)
    raises(path, "is 5.5 h long; the limit is 4.0 h (raise max_duration_s)")
    assert "f32le" not in calls.read_text()  # refused before decoding


def test_ffmpeg_decode_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    banner = M4A_BANNER.format(duration="00:00:01.00", layout="stereo")
    reason = "Error while decoding stream #0:0: Invalid data found when processing input"
    fake_ffmpeg(tmp_path, monkeypatch, banner, decode_error=f"[aac @ 0x1]\n{reason}\n")
    path = tmp_path / "bad.m4a"
    path.write_bytes(FTYP)
    with pytest.raises(AudioError) as err:
        load(path)
    assert str(err.value) == f"'{path}': ffmpeg cannot decode it: {reason}"


def test_ffmpeg_stops_midway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    banner = M4A_BANNER.format(duration="00:00:01.00", layout="stereo")
    pcm = sines(16000, 2, duration_s=0.5)
    fake_ffmpeg(tmp_path, monkeypatch, banner, pcm, decode_error="Packet corrupt\n")
    path = tmp_path / "cut.m4a"
    path.write_bytes(FTYP)
    a = load(path)
    assert a.y.shape == (2, 8000)
    assert a.info.warnings == ("ffmpeg stopped after 0.50 s decoded: Packet corrupt",)


def test_ffmpeg_finds_no_audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ffmpeg(tmp_path, monkeypatch, "file:x: Invalid data found when processing input\n")
    text = tmp_path / "notes.m4a"
    text.write_text("not audio at all\n" * 10)
    raises(text, "not an audio file, or a format callscan cannot read")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(wav_header(8000, 8000, 1)[:30])
    raises(cut, "truncated or corrupt WAV header")
