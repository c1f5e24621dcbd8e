"""Decoder guards: no timestamps past a window's end, and repetition loops ended early.

Whisper sometimes repeats a phrase until its 224-token limit, and with a window shorter than
its 30 s input it may go on "transcribing" past the audio's end (timestamps up to 29 s for a
14 s window, with the window's text again). In a batch every window then waits for that one:
the batch runs all 224 decoder steps, and the temperature fallback that follows runs them
again per try (two such windows cost 20 s of a 5-minute call's 68 s). ``whisper.transcribe``
notices loops only afterwards (gzip compression ratio > 2.4). The logit filter here, per row:

* ends the row once a timestamp reaches the window's end (``END_S`` before its last
  sample): no audio follows;
* when the next token would be a timestamp past the end (plus ``END_MARGIN_S``): after
  text, the segment is closed at the end instead (Whisper's closing timestamps run a little
  late); after a closing timestamp, the row ends: a new segment there would be text
  invented after the audio. (Only forbidding those timestamps made the decoder squeeze
  invented repeats into the window's last second.)
* ends the row once its text tail is one unit repeated (``MIN_REPEATS`` times or more,
  ``MIN_LOOP_TOKENS`` tokens or more) and reports it (``failed``), so the caller treats it
  as a failed decode and tries the temperature fallback, as after a 224-token loop.

The same rules, for an engine whose decoder takes no logit filter (faster-whisper), as checks
on a finished decode (engine-neutral, on token ids, text and whisper-style segment dicts):

* :func:`decode_failed` (a loop anywhere in the text, compression ratio above
  ``COMPRESSION_RATIO_MAX``, or a mean log-probability below ``LOGPROB_MIN`` on speech) says
  when to decode the window again with the temperature fallback; :func:`silent` when the
  window holds no speech; :func:`best_try` which try to keep when none passes;
* :func:`within_window` applies the window-end rule to the segments: nothing starts at or
  after the window's end, nothing ends past it, and a zero-length segment that only repeats
  earlier text is dropped.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from typing import Any

MIN_REPEATS = 3  # consecutive copies of the unit
MIN_LOOP_TOKENS = 30  # tokens in the repeated tail: "no, no, no" in real speech stays below
MAX_PERIOD = 60  # longest unit looked for, in text tokens (a sentence or two)
CHECK_EVERY = 4  # decoder steps between loop checks (the check costs Python time per row)
END_MARGIN_S = 0.2  # timestamps allowed past the window's last sample
END_S = 0.1  # a timestamp this close to the last sample ends the row
PRECISION_S = 0.02  # seconds per timestamp token
COMPRESSION_RATIO_MAX = 2.4  # whisper.transcribe's default: above this the text is a loop
LOGPROB_MIN = -1.0  # whisper.transcribe's default: below this the decode failed
NO_SPEECH_MIN = 0.6  # whisper.transcribe's default: above this (and a low logprob) = silence


def looping(text_tokens: list[int]) -> bool:
    """True when the tail of ``text_tokens`` is one unit repeated (see module constants)."""
    n = len(text_tokens)
    if n < MIN_LOOP_TOKENS:
        return False
    for period in range(1, min(MAX_PERIOD, n // MIN_REPEATS) + 1):
        unit = text_tokens[n - period :]
        repeats = 1
        end = n - period
        while end - period >= 0 and text_tokens[end - period : end] == unit:
            repeats += 1
            end -= period
        if repeats >= MIN_REPEATS and repeats * period >= MIN_LOOP_TOKENS:
            return True
    return False


def decode_guard(tokenizer, sample_begin: int, durations_s=None):
    """A ``whisper.decoding.LogitFilter`` for the rows of one greedy or sampled batch.

    ``durations_s``: per row, the window's audio length in seconds (None: no end rules).
    After decoding, the filter's ``failed`` holds the rows it ended as repetition loops.
    While a decode leaves its ended rows out (:mod:`callscan.asr.decoding_task`), it sets the
    filter's ``rows``: the row number in ``durations_s`` of each row it is given.
    """
    from whisper.decoding import LogitFilter

    ts_begin = tokenizer.timestamp_begin
    eot = tokenizer.eot
    caps: list[int] | None = None
    ends: list[int] = []
    if durations_s is not None:
        caps = [ts_begin + math.ceil((d + END_MARGIN_S) / PRECISION_S) for d in durations_s]
        ends = [ts_begin + math.floor(max(d - END_S, 0.0) / PRECISION_S) for d in durations_s]

    class DecodeGuard(LogitFilter):
        def __init__(self) -> None:
            self.failed: set[int] = set()
            self.rows: list[int] | None = None
            self._step = 0

        @staticmethod
        def _end(logits, row: int) -> None:
            logits[row, :] = float("-inf")
            logits[row, eot] = 0.0

        def apply(self, logits, tokens) -> None:
            self._step += 1
            rows = self.rows or range(tokens.shape[0])
            if caps is not None:
                for row, last in enumerate(tokens[:, -1].tolist()):
                    if last == eot:
                        continue
                    if last >= max(ends[rows[row]], ts_begin + 1):
                        self._end(logits, row)  # a timestamp at the audio's end
                        continue
                    cap = caps[rows[row]]
                    if int(logits[row].argmax()) > cap:  # a timestamp after the audio
                        if last < eot:  # closing a segment: close it at the end
                            logits[row, :] = float("-inf")
                            logits[row, cap] = 0.0
                        else:  # opening one: nothing after the audio is transcribed
                            self._end(logits, row)
            if self._step % CHECK_EVERY or tokens.shape[1] - sample_begin < MIN_LOOP_TOKENS:
                return
            for row, seq in enumerate(tokens[:, sample_begin:].tolist()):
                if seq[-1] == eot:
                    continue
                if looping([t for t in seq if t < eot]):
                    self.failed.add(rows[row])
                    self._end(logits, row)

    return DecodeGuard()


def loops_anywhere(text_tokens: Sequence[int]) -> bool:
    """True when some stretch of ``text_tokens`` (not only its tail) is one unit repeated, as
    :func:`looping` sees it: a decode that looped and then went on still failed."""
    tokens = list(text_tokens)
    return any(looping(tokens[:end]) for end in range(MIN_LOOP_TOKENS, len(tokens) + 1))


def compression_ratio(text: str) -> float:
    """Whisper's gzip compression ratio of ``text`` (high: the text repeats itself)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def silent(avg_logprob: float, no_speech_prob: float) -> bool:
    """Whisper's no-speech rule: the window is silence (its text is invented)."""
    return no_speech_prob > NO_SPEECH_MIN and avg_logprob < LOGPROB_MIN


def decode_failed(
    text_tokens: Sequence[int], text: str, avg_logprob: float, no_speech_prob: float
) -> bool:
    """Whisper's checks on one window's decode, plus the loop guard: a repetition loop
    anywhere, a compression ratio above ``COMPRESSION_RATIO_MAX``, or a mean log-probability
    below ``LOGPROB_MIN`` (unless the window is silence)."""
    if loops_anywhere(text_tokens) or compression_ratio(text) > COMPRESSION_RATIO_MAX:
        return True
    return avg_logprob < LOGPROB_MIN and not silent(avg_logprob, no_speech_prob)


def best_try(tries: Sequence[tuple[Any, bool, float]]) -> Any:
    """The try to keep when no decode passed: per try ``(result, looped, avg_logprob)``, the
    best mean log-probability among those that are not loops (among all when every one is)."""
    no_loop = [t for t in tries if not t[1]] or list(tries)
    return max(no_loop, key=lambda t: t[2])[0]


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def within_window(segments: Sequence[dict], duration_s: float) -> list[dict]:
    """The window-end rule on whisper-style segment dicts (times relative to the window).

    A segment that starts within ``END_S`` of the window's end (or after it) is dropped: no
    audio follows, its text is invented. Ends (of segments and words) are clipped to the end,
    words that start there are dropped, and so is a segment whose words all were. A segment of
    zero length (at most one timestamp step) whose text already occurs earlier in the window
    is dropped: a repeat, not speech. Returns new dicts; the input is left as it was.
    """
    out: list[dict] = []
    earlier = ""
    for seg in segments:
        start = float(seg["start"])
        if start >= duration_s - END_S:
            continue
        new = dict(seg, end=min(float(seg["end"]), duration_s))
        if seg.get("words"):
            words = [
                dict(w, end=min(float(w["end"]), duration_s))
                for w in seg["words"]
                if float(w["start"]) < duration_s - END_S
            ]
            if not words:
                continue
            new["words"] = words
            span = float(words[-1]["end"]) - float(words[0]["start"])
        else:
            span = float(new["end"]) - start
        key = _key(str(seg.get("text", "")))
        if span <= PRECISION_S and key and f" {key} " in earlier:
            continue
        earlier += " " + key + " "
        out.append(new)
    return out
