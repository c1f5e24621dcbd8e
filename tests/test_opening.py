"""The first 20 seconds: tone, clarity and content of the agent's opening (callscan.analysis.opening.score).

The clips in tests/data/opening/ are espeak-ng openings (make_openings.py there): the same four
sentences read with a lively and a monotone pitch range. Conversations are built by hand from
their known layout (openings.json), so no test here needs Whisper.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callscan.analysis.opening.profile import load_profile
from callscan.analysis.opening.score import OpeningOptions, score_opening
from callscan.audio import prosody
from callscan.audio.decode import from_array
from callscan.conversation import Conversation, Turn
from callscan.errors import ConfigError
from callscan.transcript import Word

SR = 16000


@pytest.fixture(scope="module")
def openings(data_dir) -> dict:
    folder = data_dir / "opening"
    layout = json.loads((folder / "openings.json").read_text())
    out = {}
    for name, meta in layout.items():
        y, sr = sf.read(folder / name, dtype="float32")
        assert sr == SR
        out[name.split(".")[0]] = (y, meta)
    return out


def _conv(meta: dict, *, role: str = "agent", prob: float = 0.9, channel=None) -> Conversation:
    """Agent turns at the clip's known times, words spread evenly, one probability."""
    turns = []
    for i, t in enumerate(meta["turns"]):
        ws = t["text"].split()
        step = (t["end_s"] - t["start_s"]) / len(ws)
        words = [
            Word(w, t["start_s"] + k * step, t["start_s"] + (k + 1) * step, prob)
            for k, w in enumerate(ws)
        ]
        turns.append(Turn(i, role, t["text"], role, channel, t["start_s"], t["end_s"], words))
    return Conversation(turns, language=meta["language"])


def _score(y, meta, sr=SR, **kw):
    return score_opening(from_array(y, sr), _conv(meta), **kw)


def _add_noise(y: np.ndarray, meta: dict, snr_db: float, seed: int = 0) -> np.ndarray:
    spans = [(t["start_s"], t["end_s"]) for t in meta["turns"]]
    mask = prosody.spans_mask(spans, y.size, hop_s=1 / SR)
    p_speech = float(np.mean(y[mask].astype(np.float64) ** 2))
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(y.size) * np.sqrt(p_speech / 10 ** (snr_db / 10))
    return (y + noise).astype(np.float32)


def _telephone(y: np.ndarray) -> np.ndarray:
    """8 kHz, 300-3400 Hz band (what a telephone line keeps)."""
    import scipy.signal
    import soxr

    y8 = soxr.resample(y.astype(np.float64), SR, 8000)
    sos = scipy.signal.butter(6, [300, 3400], btype="band", fs=8000, output="sos")
    return scipy.signal.sosfiltfilt(sos, y8).astype(np.float32)


# ----------------------------------------------------------------------------- the numbers


@pytest.mark.parametrize("lang", ["id", "en"])
def test_lively_vs_monotone_tone(openings, lang):
    lively = _score(*openings[f"{lang}_lively"])
    mono = _score(*openings[f"{lang}_monotone"])
    assert lively.status == mono.status == "ok"
    assert lively.tone.score >= 70
    assert mono.tone.score <= 50
    assert lively.tone.score - mono.tone.score >= 25
    # the gap comes from intonation, not from the channel: clarity barely differs
    assert abs(lively.clarity.score - mono.clarity.score) < 10
    spread_l = lively.tone.measure("intonation_st").value
    spread_m = mono.tone.measure("intonation_st").value
    assert spread_l > 2.5 and spread_m < 0.6


@pytest.mark.parametrize("name", ["id_lively", "en_lively"])
def test_noise_lowers_clarity_monotonically(openings, name):
    y, meta = openings[name]
    clean = _score(y, meta)
    noisy = [_score(_add_noise(y, meta, snr, seed=i), meta) for i, snr in enumerate((20, 10, 0))]
    scores = [clean.clarity.score] + [r.clarity.score for r in noisy]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False)), scores
    measured = [r.clarity.measure("snr_db").value for r in noisy]
    assert measured == pytest.approx([20, 10, 0], abs=1.5)
    assert "low_snr" in noisy[2].flags and "low_snr" not in noisy[0].flags


@pytest.mark.parametrize("name", ["id_lively", "id_monotone", "en_lively", "en_monotone"])
def test_telephone_band_barely_moves_scores(openings, name):
    y, meta = openings[name]
    wide = _score(y, meta)
    tel = _score(_telephone(y), meta, sr=8000)
    assert "telephone_band" in tel.flags and "telephone_band" not in wide.flags
    assert abs(tel.clarity.score - wide.clarity.score) < 10
    assert abs(tel.tone.score - wide.tone.score) < 10


def test_content_elements_with_times(openings):
    y, meta = openings["id_lively"]
    res = _score(y, meta)
    el = res.content["elements"]
    assert res.content["complete"] and res.content["excluded"] == []
    assert el["greeting"]["text"].lower() == "selamat pagi"
    assert el["company"]["text"] == "Nusantara Seluler"
    assert el["department"]["text"].startswith("bagian layanan")
    assert el["agent_name"]["text"] == "dengan Rina"
    assert el["offer_help"]["text"].lower() == "saya mendengarkan"
    first = meta["turns"][0]
    for key in ("greeting", "company", "department", "agent_name"):
        assert first["start_s"] <= el[key]["start_s"] < el[key]["end_s"] <= first["end_s"] + 0.01
    assert el["greeting"]["start_s"] < el["company"]["start_s"] < el["agent_name"]["start_s"]
    assert el["offer_help"]["start_s"] >= meta["turns"][3]["start_s"]
    en = _score(*openings["en_lively"]).content
    assert en["complete"], en["missing"]


def _text_turns(lines, *, step_s=3.0):
    turns = []
    for i, (role, text) in enumerate(lines):
        turns.append(Turn(i, role, text, role, None, 0.5 + i * step_s, 0.5 + i * step_s + 2.5))
    return turns


@pytest.mark.parametrize(
    ("lang", "lines", "flagged"),
    [
        ("id", [("agent", "Halo"), ("caller", "Halo, ini siapa?")], "halo"),
        ("id", [("agent", "Selamat siang Bapak, maaf mengganggu waktunya.")], "maaf mengganggu"),
        ("id", [("agent", "Apakah Bapak masih mengenali saya?")], "mengenali saya"),
        ("en", [("agent", "Hello?"), ("caller", "Hi, who is this?")], "hello"),
        ("en", [("agent", "Good morning, sorry to bother you, sir.")], "sorry to bother you"),
    ],
)
def test_excluded_openers_flagged(openings, lang, lines, flagged):
    y, _ = openings[f"{lang}_lively"]
    conv = Conversation(_text_turns(lines), language=lang)
    res = score_opening(from_array(y, SR), conv)
    texts = [e["text"].lower() for e in res.content["excluded"]]
    assert any(flagged in t for t in texts), res.content["excluded"]
    assert all(e["start_s"] is not None for e in res.content["excluded"])


# ----------------------------------------------------------------------------- known answers


def _glide(f_lo: float, f_hi: float, dur_s: float = 3.0) -> np.ndarray:
    """A harmonic-rich glide whose F0 moves linearly in semitones from f_lo to f_hi."""
    t = np.arange(int(dur_s * SR)) / SR
    st = np.linspace(0, 12 * np.log2(f_hi / f_lo), t.size)
    phase = 2 * np.pi * np.cumsum(f_lo * 2 ** (st / 12)) / SR
    return 0.3 * sum(np.sin(k * phase) / k for k in range(1, 8))


def test_glide_of_known_semitone_range():
    # F0 uniform over R semitones: MAD = R/4, so the robust SD is 1.4826 * R / 4
    for f_lo, r_st in ((120.0, 6.0), (200.0, 3.0), (90.0, 10.0)):
        y = _glide(f_lo, f_lo * 2 ** (r_st / 12))
        track = prosody.f0_track(y, sr=SR)
        expected = prosody.MAD_TO_SD * r_st / 4
        assert prosody.semitone_spread(track.f0_hz) == pytest.approx(expected, abs=0.15)
    flat = prosody.f0_track(_glide(150.0, 150.0), sr=SR)
    assert prosody.semitone_spread(flat.f0_hz) < 0.05
    assert np.nanmedian(flat.f0_hz) == pytest.approx(150.0, rel=0.01)


def test_octave_errors_do_not_inflate_spread():
    rng = np.random.default_rng(1)
    f0 = 200 * 2 ** (rng.normal(0, 0.5, 1000) / 12)  # SD 0.5 st
    bad = f0.copy()
    bad[::10] *= 2.0  # 10% octave jumps up
    bad[5::20] /= 2.0  # 5% down
    assert prosody.semitone_spread(f0) == pytest.approx(0.5, abs=0.06)
    assert prosody.semitone_spread(bad) < 0.75
    assert np.std(12 * np.log2(bad)) > 3.0  # the plain SD explodes


@pytest.mark.parametrize("snr", [20.0, 10.0, 3.0])
def test_snr_of_tone_in_noise(snr):
    rng = np.random.default_rng(7)
    t = np.arange(4 * SR) / SR
    amp = 0.1
    sigma = np.sqrt(amp**2 / 2 / 10 ** (snr / 10))
    y = rng.standard_normal(t.size) * sigma
    y[SR : 3 * SR] += amp * np.sin(2 * np.pi * 440 * t[SR : 3 * SR])
    got, noise_s = prosody.snr_db(y, sr=SR, speech_spans=[(1, 3)], noise_spans=[(0, 1), (3, 4)])
    assert got == pytest.approx(snr, abs=1.0)
    assert noise_s == pytest.approx(1.6, abs=0.05)  # 2 s less 100 ms erosion at each edge


def test_level_clipping_and_terminal_fall():
    t = np.arange(SR) / SR
    y = 0.5 * np.sin(2 * np.pi * 200 * t)  # RMS 0.354 -> -9.03 dB re full scale
    assert prosody.active_level_dbfs(y, sr=SR, speech_spans=[(0, 1)]) == pytest.approx(
        -9.03, abs=0.1
    )
    pct, run = prosody.clipping(np.clip(4 * y, -1, 1))
    # |2 sin| >= 0.99 for a known share of the period: 1 - (2/pi) asin(0.495)
    assert pct == pytest.approx(100 * (1 - 2 / np.pi * np.arcsin(0.99 / 2)), abs=0.5)
    assert run == pytest.approx(0.67 * SR / 200 / 2, abs=2)  # samples per clipped half-cycle
    assert prosody.clipping(y) == (0.0, 0)
    fall = prosody.f0_track(_glide(220, 220 / 2 ** (4 / 12), 1.0), sr=SR)  # 4 st fall in 1 s
    assert prosody.terminal_change_st(fall, 0.95) == pytest.approx(-1.8, abs=0.4)


# ----------------------------------------------------------------------------- edge cases


def test_silence_status(openings):
    _, meta = openings["id_lively"]
    res = _score(np.zeros(21 * SR, np.float32), meta)
    assert res.status == "silence" and res.tone is None and res.clarity is None


def test_no_agent_speech(openings):
    y, meta = openings["id_lively"]
    caller_only = _conv(meta, role="caller")
    res = score_opening(from_array(y, SR), caller_only)
    assert res.status == "no_agent_speech" and res.tone is None
    res = score_opening(from_array(y, SR), [])
    assert res.status == "no_agent_speech"


def test_short_window_is_flagged_but_scored(openings):
    y, meta = openings["id_lively"]
    short = dict(meta, turns=meta["turns"][:2])
    res = _score(y[: int(10.5 * SR)], short)
    assert res.status == "ok" and "short_window" in res.flags
    assert res.window["length_s"] == pytest.approx(9.7, abs=0.01)
    assert res.tone.score is not None


def test_window_option_and_first_speech(openings):
    y, meta = openings["id_lively"]
    res = _score(y, meta, options=OpeningOptions(window_s=8.0))
    assert res.window["start_s"] == pytest.approx(meta["turns"][0]["start_s"])
    assert res.window["end_s"] == pytest.approx(meta["turns"][0]["start_s"] + 8.0)
    assert res.window["agent_speech_s"] < 8.0


def test_too_little_speech(openings):
    y, meta = openings["id_lively"]
    tiny = dict(meta, turns=[dict(meta["turns"][0], end_s=meta["turns"][0]["start_s"] + 1.0)])
    assert _score(y, tiny).status == "too_little_speech"


def test_clipped_audio_flag_and_lower_clarity(openings):
    y, meta = openings["id_lively"]
    clipped = np.clip(y * 12, -1, 1)
    res = _score(clipped, meta)
    assert "clipped" in res.flags
    assert res.clarity.measure("clipping_pct").sub_score == 0
    assert res.clarity.score < _score(y, meta).clarity.score - 15


def test_music_or_hold_status(openings):
    _, meta = openings["id_lively"]
    t = np.arange(21 * SR) / SR
    chord = sum(0.05 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    res = _score(chord.astype(np.float32), meta)
    assert res.status == "music_or_hold" and res.tone is None


def test_stereo_measures_the_agent_channel(openings):
    mono_agent, meta = openings["id_monotone"]
    lively, _ = openings["id_lively"]
    stereo = np.stack([lively * 0.5, mono_agent])  # a lively other party on the left
    conv = _conv(meta, channel=1)
    res = score_opening(from_array(stereo, SR), conv)
    assert res.window["agent_channel"] == 1
    assert res.tone.measure("intonation_st").value < 0.6


def test_no_word_probabilities_drop_asr_measure(openings):
    y, meta = openings["en_lively"]
    conv = _conv(meta)
    for t in conv.turns:
        t.words = []
    res = score_opening(from_array(y, SR), conv)
    m = res.clarity.measure("asr_confidence")
    assert m.value is None and m.sub_score is None and "probabilit" in m.note
    assert res.clarity.score is not None


def test_result_is_explained_and_json_ready(openings):
    y, meta = openings["id_monotone"]
    d = _score(y, meta).to_dict()
    json.dumps(d)
    for group in ("tone", "clarity"):
        for m in d[group]["measures"]:
            assert {
                "id",
                "value",
                "unit",
                "target_range",
                "sub_score",
                "weight",
                "source",
                "tip",
            } <= set(m)
            assert m["source"] and m["tip"]
    intonation = d["tone"]["measures"][0]
    assert intonation["id"] == "intonation_st" and intonation["target_range"] == [4.1, 6.2]
    assert "datar" in intonation["tip"]  # Indonesian tip for a flat voice


# ----------------------------------------------------------------------------- profile


def test_bundled_profile_loads_and_cites():
    prof = load_profile()
    for group in ("tone", "clarity"):
        assert sum(s.weight for s in prof.measures[group].values()) == pytest.approx(1.0)
    assert not prof.measures["tone"]["intonation_st"].provisional
    assert not prof.measures["clarity"]["snr_db"].provisional


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            "anchors: [[4.1, 100], [1.9, 60]]",
            "tone.measures.intonation_st.anchors: values must increase",
        ),
        ("anchors: [[1.0, 0], [4.1, 140]]", "score 140 is not within 0-100"),
        ("colour: blue", "tone.measures.intonation_st.colour: unknown key (valid: name, unit"),
    ],
)
def test_bad_profile_names_file_and_key(tmp_path, patch, message):
    src = Path(load_profile().path).read_text()
    start = src.index("      anchors: [[1.0, 0], [1.9, 60]")
    end = src.index("\n", start)
    bad = tmp_path / "team.yaml"
    bad.write_text(src[:start] + "      " + patch + src[end:])
    with pytest.raises(ConfigError, match="team.yaml") as e:
        load_profile(bad)
    assert message in str(e.value)


# ----------------------------------------------------------------------------- bundled samples


def _sample(samples_dir, name):
    wav, side = samples_dir / f"{name}.wav", samples_dir / f"{name}.json"
    assert wav.is_file() and side.is_file(), f"bundled sample {name} is missing"
    from callscan.audio.decode import load

    meta = json.loads(side.read_text())
    turns = [
        Turn(i, t["role"], t["text"], t["role"], t.get("channel"), t["start_s"], t["end_s"])
        for i, t in enumerate(meta["turns"])
    ]
    conv = Conversation(turns, language=meta.get("language", "id"))
    agent_ch = (meta.get("layout") or {}).get("agent_channel")
    return score_opening(load(str(wav)), conv, agent_channel=agent_ch), meta


def test_bundled_samples(samples_dir):
    flat, flat_meta = _sample(samples_dir, "id_flat_missing_mono")
    sales, sales_meta = _sample(samples_dir, "id_sales_stereo")
    assert sales.status == flat.status == "ok"
    el = sales.content["elements"]
    assert el["greeting"]["found"] and el["greeting"]["start_s"] is not None
    assert el["agent_name"]["found"]
    first_agent = next(t for t in sales_meta["turns"] if t["role"] == "agent")
    assert first_agent["start_s"] - 0.01 <= el["greeting"]["start_s"] <= first_agent["end_s"]
    assert flat.content["excluded"], "id_flat_missing_mono opens with an excluded phrase"
    assert flat.tone.score < sales.tone.score


def test_plot_envelope_stays_within_full_scale_when_the_audio_overshoots():
    """A resampled telephone recording can peak a little past full scale; the plot (and the
    report schema, maximum 1) stay within ±1 (found on a real 8 kHz bank call)."""
    from callscan.analysis.opening.plot import opening_plot
    from callscan.audio.decode import from_array

    sr = 16000
    t = np.arange(2 * sr) / sr
    y = (1.07 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    plot = opening_plot(from_array(y, sr), {"window": {"start_s": 0.0, "end_s": 2.0}}, [])
    assert plot is not None and plot["envelope"]
    assert max(b for _, b in plot["envelope"]) == 1.0
    assert min(a for a, _ in plot["envelope"]) == -1.0
