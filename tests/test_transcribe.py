"""Transcription with the real Whisper base model on real speech."""

from __future__ import annotations

import pytest
from references import JFK, LEFT, RIGHT

from callscan import asr
from callscan.asr.wer import wer
from callscan.audio.decode import load


@pytest.fixture(scope="module")
def jfk_result(base_model, data_dir):
    return asr.transcribe(base_model, load(str(data_dir / "fw_jfk.flac")))


@pytest.mark.slow
def test_jfk_base_wer(jfk_result):
    assert wer(JFK, jfk_result.text, "en") <= 0.10


@pytest.mark.slow
def test_jfk_language_auto_detected_among_id_en(jfk_result):
    assert jfk_result.language == "en"
    assert jfk_result.language_probability > 0.9
    assert set(jfk_result.language_probs) == {"id", "en"}


@pytest.mark.slow
def test_jfk_identical_channels_decoded_once(jfk_result):
    # fw_jfk.flac holds the same signal on both channels: one party, decoded once
    assert jfk_result.n_channels == 1
    assert {s.channel for s in jfk_result.segments} == {0}


@pytest.mark.slow
def test_words_have_ordered_times_and_probabilities(jfk_result):
    words = jfk_result.words()
    assert [w.text for w in words][:4] == ["And", "so", "my", "fellow"]
    assert all(0.0 <= w.start_s <= w.end_s <= jfk_result.duration_s + 0.05 for w in words)
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:], strict=False))
    assert all(0.0 < w.probability <= 1.0 for w in words)
    assert "Americans" in [w.text.strip(",.") for w in words]
    seg = jfk_result.segments[0]
    assert -1.0 < seg.avg_logprob < 0.0 and 0.0 <= seg.no_speech_prob < 0.5


@pytest.mark.slow
def test_tiny_en_offline_model_also_transcribes(data_dir):
    model = asr.load_model("tiny.en")
    result = asr.transcribe(
        model, load(str(data_dir / "fw_jfk.flac")), asr.TranscribeOptions(model="tiny.en")
    )
    assert result.language == "en"
    assert wer(JFK, result.text, "en") <= 0.15


@pytest.mark.slow
def test_stereo_channels_transcribed_separately(base_model, data_dir):
    result = asr.transcribe(base_model, load(str(data_dir / "fw_stereo_diarization.wav")))
    assert result.n_channels == 2
    assert wer(LEFT, result.channel_text(0), "en") <= 0.15
    assert wer(RIGHT, result.channel_text(1), "en") <= 0.15


@pytest.mark.slow
def test_forced_language_is_reported_with_probability_one(base_model, data_dir):
    options = asr.TranscribeOptions(language="en")
    result = asr.transcribe(base_model, load(str(data_dir / "fw_jfk.flac")), options)
    assert (result.language, result.language_probability, result.language_probs) == ("en", 1.0, {})


@pytest.mark.slow
def test_transcript_round_trips_through_json(jfk_result):
    import json

    from callscan.transcript import Transcript

    again = Transcript.from_dict(json.loads(json.dumps(jfk_result.to_dict())))
    assert again.text == jfk_result.text
    assert again.words()[3].text == "fellow"


def test_asr_transcribe_stays_the_function_after_its_module_is_imported():
    # the implementation module (callscan/asr/regions.py) must not shadow the public function
    import callscan
    import callscan.asr.regions

    assert callable(asr.transcribe) and callscan.transcribe is asr.transcribe


def test_language_errors_speak_of_library_options():
    from callscan.asr.language import parse_languages
    from callscan.errors import CallscanError

    assert parse_languages(" ID, english,id") == ("id", "en")
    with pytest.raises(CallscanError) as info:
        parse_languages(" , ")
    assert str(info.value) == "no language given (use Whisper codes such as id, en)"
    assert info.value.option == "languages"
    with pytest.raises(CallscanError) as info:
        parse_languages("", option="language")
    assert info.value.option == "language"


@pytest.mark.slow
def test_a_short_turn_is_decoded_in_the_calls_language(base_model, data_dir):
    """A one-word turn ("selama", cut from a real Indonesian sentence) is read as English by
    Whisper on its own ("Thanks a lot."); in a call whose language is Indonesian every window,
    that turn's included, is decoded in Indonesian."""
    import dataclasses

    import numpy as np

    sentence = load(str(data_dir / "cv_id_19059577.flac"))
    y, sr = sentence.channel(0), sentence.sr
    word = y[int(4.9 * sr) : int(5.45 * sr)]  # "selama"
    gap = np.zeros(sr, dtype=np.float32)
    alone = dataclasses.replace(sentence, y=np.concatenate([gap, word, gap])[None])
    span = [(0.9, 1.1 + word.size / sr)]
    # the word alone: Whisper's language for it, checked on the audio, is English
    assert asr.call_language(base_model, alone, asr.TranscribeOptions())[0] == "en"
    # a stereo call: the sentence on the caller's channel, the word alone on the agent's after it
    call_y = np.zeros((2, y.size + alone.y.shape[1]), dtype=np.float32)
    call_y[0, : y.size] = y
    call_y[1, y.size :] = alone.y[0]
    call = dataclasses.replace(sentence, y=call_y)
    offset = y.size / sr
    regions = [[(0.0, offset)], [(offset + a, offset + b) for a, b in span]]
    result = asr.transcribe(base_model, call, asr.TranscribeOptions(), regions=regions)
    assert result.language == "id"
    turn = result.channel_text(1).lower()
    assert "selam" in turn and "thank" not in turn
