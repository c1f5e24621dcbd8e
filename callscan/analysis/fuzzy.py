"""Approximate cue matching for words the recogniser was unsure of.

Whisper garbles exactly the words the checks need ("Nusantara terlegum ... saya mantu" for
"Nusantara Telekom ... saya bantu"). Where a cue's exact match fails in a turn, the turn's
*unsure* words (word probability below :data:`UNSURE_PROBABILITY`) are compared with the cue's
literal words by Damerau-Levenshtein distance (optimal string alignment), within a bound that
grows with the word's length (:func:`max_edits`): never for words under
:data:`MIN_LETTERS` letters or words holding a digit, at most one edit for 4-7 letters, two for
longer words (the longer of the two sets the budget; a sound-alike substitution such as k/g or
o/u counts half). An unsure word within the bound of a cue word is read as that cue word and the
cue's pattern is matched again on the repaired turn; a hit that rests on a repaired word is
returned with what was heard ("bantu heard as 'mantu'").

A word under :data:`MIN_LETTERS` letters is never repaired alone ("go" could be many
words), but a clipped one is inside a two-word cue phrase ("go afternoon" read as "good
afternoon"): when the recogniser was unsure of it, the word next to it is the phrase's other
word exactly, it is the start of the cue word (two letters or more; never a different short
word: "apo kabar" stays), and the missing letters are within the bound of the phrase's letters
(:func:`cue_phrases`; "go" lacks two letters of "good", and "good afternoon" has 13 letters).

Only turns with word probabilities (a recording's turns) are repaired, so a written transcript
is never matched approximately. A team's names (``names``) are repaired also when the
recogniser was sure of the garbled word, still only in turns with word probabilities.

Public API
----------
UNSURE_PROBABILITY, MIN_LETTERS
    The word probability below which a word is unsure; the shortest word compared.
max_edits
    The edit budget of a word.
distance
    Damerau-Levenshtein distance (optimal string alignment) with an early exit.
cue_words
    The literal words of a cue pattern (outside character classes and negative look-arounds).
cue_phrases
    The literal two-word phrases of a cue pattern ("good afternoon").
approximate_spans
    ``(start, end, heard)`` of the hits a cue gets on a turn once its unsure words are repaired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from callscan.conversation import Turn
from callscan.text import WORD, find_tokens

__all__ = [
    "MIN_LETTERS",
    "UNSURE_PROBABILITY",
    "approximate_spans",
    "cue_phrases",
    "cue_words",
    "distance",
    "max_edits",
]

UNSURE_PROBABILITY = 0.6  # a word Whisper gave a lower probability is open to repair
MIN_LETTERS = 4  # shorter words are never matched approximately (ada/apa, sir/sis)
LONG_LETTERS = 8  # words this long or longer may be two edits away
_QUANTIFIER = frozenset("?*+{")
_ALIKE = frozenset(
    (p[i], p[1 - i]) for p in ("kg", "pb", "td", "fv", "sz", "ou", "ei") for i in (0, 1)
)


@lru_cache(maxsize=65536)
def max_edits(word: str) -> int:
    """Edits allowed between ``word`` and a cue word: 0 under 4 letters or with a digit,
    1 for 4-7 letters, 2 for 8 or more."""
    if len(word) < MIN_LETTERS or any(c.isdigit() for c in word) or not word.isalpha():
        return 0
    return 1 if len(word) < LONG_LETTERS else 2


def distance(a: str, b: str, limit: float) -> float:
    """Damerau-Levenshtein distance (optimal string alignment: an adjacent swap is one edit)
    between ``a`` and ``b``, a sound-alike substitution (k/g, p/b, t/d, f/v, s/z, o/u, e/i)
    counting half; any value above ``limit`` is returned as ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[float] = []
    prev: list[float] = [float(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        cur = [float(i)] + [0.0] * len(b)
        for j in range(1, len(b) + 1):
            x, y = a[i - 1], b[j - 1]
            cost = 0.0 if x == y else 0.5 if (x, y) in _ALIKE else 1.0
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


@lru_cache(maxsize=4096)
def cue_words(pattern: str) -> frozenset[str]:
    """The literal words (``MIN_LETTERS`` letters or more) a regex pattern spells out.

    Escapes (``\\b``, ``\\s``), character classes, group headers (``(?:``, ``(?P<name>``) and
    the contents of negative look-arounds (``(?!...)``: words a cue must *not* see) are
    skipped; a letter made optional by a quantifier ends the word before it.
    """
    words: set[str] = set()
    run: list[str] = []
    stack: list[bool] = []  # per open group: is it a negative look-around
    negative = 0
    i, n = 0, len(pattern)

    def flush() -> None:
        if len(run) >= MIN_LETTERS and not negative:
            words.add("".join(run))
        run.clear()

    while i < n:
        c = pattern[i]
        if c.isalpha() and c.isascii():
            if i + 1 < n and pattern[i + 1] in _QUANTIFIER:
                flush()  # "hallo?": the optional letter is not part of a fixed word
            else:
                run.append(c.lower())
            i += 1
            continue
        flush()
        if c == "\\":
            i += 2
        elif c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
        elif c == "{":
            close = pattern.find("}", i)
            i = n if close < 0 else close + 1
        elif c == "(":
            neg = pattern.startswith("(?!", i) or pattern.startswith("(?<!", i)
            stack.append(neg)
            negative += neg
            if pattern.startswith("(?P<", i) or (
                pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i)
            ):
                close = pattern.find(">", i)
                i = n if close < 0 else close + 1
            elif pattern.startswith("(?", i):
                m = re.match(r"\(\?(?:[aiLmsux-]*:|<=|<!|=|!|#[^)]*)?", pattern[i:])
                i += len(m.group()) if m else 2
            else:
                i += 1
        elif c == ")":
            if stack and stack.pop():
                negative -= 1
            i += 1
        else:
            i += 1
    flush()
    return frozenset(words)


def _without_negatives(pattern: str) -> str:
    """``pattern`` without its negative look-arounds (``(?!...)``, ``(?<!...)``)."""
    out: list[str] = []
    i, n, depth = 0, len(pattern), 0  # depth > 0: inside a negative look-around
    opened: list[bool] = []
    while i < n:
        c = pattern[i]
        if c == "\\":
            if not depth:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "(":
            neg = pattern.startswith("(?!", i) or pattern.startswith("(?<!", i)
            opened.append(neg)
            depth += neg
        if not depth:
            out.append(c)
        if c == ")" and opened and opened.pop():
            depth -= 1
        i += 1
    return "".join(out)


_UNIT = r"(?:(?<=[(|:^ ])|^)([a-z]+|\(\?:[a-z]+(?:\|[a-z]+)*\))(?![a-z?*+{])"
_PAIR = re.compile(rf"(?=(?:{_UNIT}) (?:{_UNIT.replace('(?:(?<=[(|:^ ])|^)', '')}))")


@lru_cache(maxsize=4096)
def cue_phrases(pattern: str) -> frozenset[tuple[str, str]]:
    """The literal two-word phrases a regex pattern spells out: two words, or a word and a
    group of literal alternatives, joined by ``\\s+`` (``good\\s+(?:morning|afternoon)`` gives
    ``("good", "morning")`` and ``("good", "afternoon")``); negative look-arounds skipped."""
    flat = _without_negatives(pattern.lower()).replace("\\b", "")
    flat = re.sub(r"\\s[+*]", " ", flat)
    out: set[tuple[str, str]] = set()
    for m in _PAIR.finditer(flat):
        firsts, seconds = (g.removeprefix("(?:").removesuffix(")").split("|") for g in m.groups())
        out.update((a, b) for a in firsts for b in seconds)
    return frozenset(out)


def _phrase_repairs(
    tokens: list[tuple[int, int, str]], unsure: set[int], phrases: frozenset[tuple[str, str]]
) -> list[tuple[int, int, str]]:
    """Short unsure words read as the cue word they stand for inside a two-word cue phrase."""
    out = []
    known = {w for p in phrases for w in p}  # a word the cue spells is heard right, never repaired
    for k in range(len(tokens) - 1):
        pair = (tokens[k], tokens[k + 1])
        for side in (0, 1):  # which of the two words is repaired
            a, b, tok = pair[side]
            other = pair[1 - side][2]
            if k + side not in unsure or max_edits(tok) or not tok.isalpha() or tok in known:
                continue
            found = set()
            for p in phrases:
                word = p[side]
                # a clipped word only ("go" for "good"): never a different short word ("apo")
                if p[1 - side] != other or len(tok) < 2 or not word.startswith(tok):
                    continue
                if len(word) - len(tok) <= max_edits("".join(p)):
                    found.add(word)
            if len(found) == 1:  # two cue words equally possible: do not guess
                out.append((a, b, found.pop()))
    return out


def _unsure_tokens(turn: Turn, norm: str, names: frozenset[str]) -> list[tuple[int, int, str]]:
    """Tokens of the normalised turn that lie in a word the recogniser was unsure of (or that
    may be a team's name)."""
    unsure: list[tuple[int, int]] = []
    pos = 0
    text = turn.text
    for w in turn.words:
        at = text.find(w.text, pos) if w.text else -1
        if at < 0:
            continue
        pos = at + len(w.text)
        if w.probability < UNSURE_PROBABILITY:
            unsure.append((at, pos))
    out = []
    for a, b, tok in find_tokens(norm, WORD):
        low = any(x < b and a < y for x, y in unsure)
        if low or any(0 < distance(tok, nm, _budget(tok, nm)) <= _budget(tok, nm) for nm in names):
            out.append((a, b, tok))
    return out


def _budget(a: str, b: str) -> int:
    """Edits allowed between two words: none when either cannot be fuzzy, else the longer's."""
    return min(max_edits(a), max_edits(b)) and max_edits(max(a, b, key=len))


@lru_cache(maxsize=65536)
def _closest(token: str, words: frozenset[str]) -> str | None:
    """The cue word nearest ``token`` within its budget; None when none is, or two tie.
    Cached: a call's unsure words meet the same cue vocabularies again and again, and a
    batch's calls the same words (a 5-minute call's first cue matching 0.30 -> 0.26 s)."""
    best: list[tuple[float, str]] = []
    n = len(token)
    for w in words:
        if abs(len(w) - n) > 2:  # over any budget (at most two edits)
            continue
        limit = _budget(token, w)
        if not limit or w == token:
            continue
        d = distance(token, w, limit)
        if d <= limit:
            best.append((d, w))
    if not best:
        return None
    best.sort()
    if len(best) > 1 and best[0][0] == best[1][0]:
        return None  # two cue words equally near: do not guess
    return best[0][1]


def approximate_spans(
    turn: Turn,
    norm: str,
    pattern: re.Pattern[str],
    unless: re.Pattern[str] | None = None,
    names: Iterable[str] = (),
) -> list[tuple[int, int, str]]:
    """Hits of ``pattern`` on ``turn`` once its unsure words are read as the cue's words.

    Parameters
    ----------
    turn : Turn
        The turn; only its ``words`` (with probabilities) make repairs possible.
    norm : str
        Its normalised text (same length as ``turn.text``), as the exact match saw it.
    pattern : re.Pattern
        The cue's compiled pattern.
    unless : re.Pattern, optional
        A repaired turn that matches it gives no hit.
    names : iterable of str
        A team's names (company, agents, products): repaired even when the recogniser was sure.

    Returns
    -------
    list of (start, end, heard)
        Character span in ``turn.text`` and what was heard, e.g. ``"bantu heard as 'mantu'"``;
        only hits that rest on at least one repaired word.
    """
    if not turn.words or len(norm) != len(turn.text):
        return []
    team = frozenset(w.lower() for w in names if len(w) >= MIN_LETTERS)
    vocabulary = cue_words(pattern.pattern) | team if team else cue_words(pattern.pattern)
    repairs: list[tuple[int, int, str]] = []  # (start, end, cue word) in norm
    unsure = _unsure_tokens(turn, norm, team)
    for a, b, tok in unsure:
        if tok in vocabulary or max_edits(tok) == 0:
            continue
        word = _closest(tok, vocabulary)
        if word is not None:
            repairs.append((a, b, word))
    phrases = cue_phrases(pattern.pattern)
    if phrases:
        tokens = find_tokens(norm, WORD)
        starts = {a for a, _, _ in unsure}
        low = {k for k, (a, _, _) in enumerate(tokens) if a in starts}
        words: dict[tuple[int, int], set[str]] = {}
        for a, b, word in _phrase_repairs(tokens, low, phrases):
            words.setdefault((a, b), set()).add(word)
        # a short word two phrases read differently is left as heard
        repairs += [(a, b, w.pop()) for (a, b), w in words.items() if len(w) == 1]
        repairs.sort()
    if not repairs:
        return []
    # the repaired text, and where each repaired word lies in it
    parts, placed, last, shift = [], [], 0, 0
    for a, b, word in repairs:
        parts += [norm[last:a], word]
        placed.append((a + shift, a + shift + len(word), a, b))
        shift += len(word) - (b - a)
        last = b
    parts.append(norm[last:])
    repaired = "".join(parts)
    if unless is not None and unless.search(repaired):
        return []

    def back(k: int, end: bool) -> int:
        """A position in the repaired text as a position in the turn."""
        delta = 0
        for na, nb, oa, ob in placed:
            if k < na or (k == na and not end):
                break
            if k < nb or (k == nb and end):
                return ob if end else oa
            delta = ob - nb
        return k + delta

    out = []
    for m in pattern.finditer(repaired):
        a, b = m.span()
        used = [(na, nb, oa, ob) for na, nb, oa, ob in placed if na < b and a < nb]
        if b <= a or not used:
            continue
        heard = ", ".join(
            f"{repaired[na:nb]} heard as '{turn.text[oa:ob]}'" for na, nb, oa, ob in used
        )
        out.append((back(a, False), back(b, True), heard))
    return out
