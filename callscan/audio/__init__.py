"""Audio in: decode a call file, find its speech, measure its voice.

Modules
-------
decode
    :func:`~callscan.audio.decode.load` a recording as 16 kHz float32, one row per channel
    (:class:`~callscan.audio.decode.Audio`), with one-line errors for unusable files.
vad
    :func:`~callscan.audio.vad.speech_regions`: silero-vad per channel, crosstalk-gated.
prosody
    Pitch, loudness and voice-quality measures used by the opening score and diarization.
"""

from callscan.audio.decode import Audio, AudioInfo, load

__all__ = ["Audio", "AudioInfo", "load"]
