"""Text normalisation shared by the speakers and analysis stages (core: imports nothing of callscan).

Every stage that matches words in a turn first lowercases it and blanks what it does not match
on. One function does it for all of them, :func:`normalise`; the stages differ only in what
they blank, so that is a parameter:

* the playbook stages (:mod:`callscan.analysis.stages`) blank punctuation (:data:`PUNCT`)
  and the playbook's fillers, and keep every other character, so a cue span indexes the turn;
* the sensory-modality stage (:mod:`callscan.analysis.modality`) blanks everything but word
  characters (:data:`NONWORD`), folds the typographic apostrophe and blanks the lexicon's
  fillers, then reads tokens (:data:`TOKEN`) off the same-length text;
* the role decision (:mod:`callscan.speakers.roles`) needs no offsets: ``compact=True`` drops
  apostrophes and collapses the blanks into single spaces.

Why a core module and not ``callscan/analysis/text.py``: :mod:`callscan.speakers` comes before
:mod:`callscan.analysis` in the pipeline and may not import it, yet the role cues match the
same normalised text. The stemmers and lemmatisers, which only the analysis stages use, live in
:mod:`callscan.analysis.text`.

Public API
----------
normalise
    Lowercase ``text`` and blank characters and filler words, offsets kept (or compacted).
find_tokens
    ``(start, end, word)`` of every token of a normalised text.
PUNCT, NONWORD, WORD, TOKEN, WORD_BREAK
    The character classes and token patterns the stages use.
"""

from __future__ import annotations

import re

__all__ = ["NONWORD", "PUNCT", "TOKEN", "WORD", "WORD_BREAK", "find_tokens", "normalise"]

PUNCT = re.compile(r"[,.;:!\"()\[\]{}…“”«»]")  # punctuation only: words, apostrophes, ? stay
NONWORD = re.compile(r"[^a-z0-9'\-]")  # everything but lowercase ASCII words, ' and -
WORD_BREAK = re.compile(r"[^\w']")  # everything but (Unicode) word characters and '
WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # a word, hyphenated compounds whole
TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")  # a word, apostrophes and hyphens inside
_APOSTROPHE = "\u2019"  # typographic apostrophe, folded to ' when asked


def _lower(text: str) -> str:
    """``text.lower()`` with the same length: a character whose lowercase is longer stays."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)  # "İ" -> "i̇"


def normalise(
    text: str,
    fillers: re.Pattern[str] | None = None,
    *,
    blank: re.Pattern[str] = PUNCT,
    fold_apostrophe: bool = False,
    compact: bool = False,
) -> str:
    """Lowercase ``text`` and blank the characters ``blank`` matches and the ``fillers`` words.

    Parameters
    ----------
    text : str
        One turn, as written.
    fillers : re.Pattern, optional
        Filler words ("eh", "um"), matched on the lowercased text and blanked.
    blank : re.Pattern, default PUNCT
        Characters replaced one for one by a space.
    fold_apostrophe : bool, default False
        Read the typographic apostrophe (U+2019) as ``'``.
    compact : bool, default False
        Drop apostrophes and collapse blanks into single spaces ("I'm  ok." -> "im ok"): for
        matching a whole turn when no offsets are needed.

    Returns
    -------
    str
        Unless ``compact``, exactly as long as ``text``, so a span of it indexes ``text``.

    Examples
    --------
    >>> normalise("Eh, saya LIHAT.", re.compile(r"\\beh\\b"))
    '    saya lihat '
    >>> normalise("I’m calling, ok?", blank=WORD_BREAK, fold_apostrophe=True, compact=True)
    'im calling ok'
    """
    low = text.lower() if compact else _lower(text)
    if fold_apostrophe:
        low = low.replace(_APOSTROPHE, "'")
    low = blank.sub(" ", low)
    if fillers is not None:
        low = fillers.sub(lambda m: " " * len(m.group()), low)
    if compact:
        low = " ".join(low.replace("'", "").split())
    return low


def find_tokens(norm: str, pattern: re.Pattern[str] = TOKEN) -> list[tuple[int, int, str]]:
    """``(start, end, word)`` of every match of ``pattern`` in a normalised text."""
    return [(m.start(), m.end(), m.group()) for m in pattern.finditer(norm)]
