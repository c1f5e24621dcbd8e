"""Word error rate with Whisper's text normalisers, numbers compared as spoken words.

English text goes through openai-whisper's ``EnglishTextNormalizer`` (spellings,
contractions, fillers), other languages through its ``BasicTextNormalizer`` (case,
punctuation). Whisper's English normaliser turns spoken numbers into digits ("one hundred
and thirty four dollars" -> "$134"), which counts a six-word number as one word; here it is
the other way round: digits are spelled out as they are spoken (:func:`number_words`, English
and Indonesian), so a number costs as many words as it has when said.

Digits can be said in more than one way ("4512": "four thousand five hundred twelve" or
"four five one two"; "1961": "nineteen sixty one"; "0812": "nol delapan satu dua" or "kosong
delapan ..."). :func:`wer` and :func:`errors` score each number of the hypothesis in the
reading that matches the reference best; :func:`normalize` gives one reading (the cardinal,
digit by digit for a leading zero or 8 digits and more). WER = (substitutions + deletions +
insertions) / reference words.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "digit_words",
    "edit_distance",
    "errors",
    "normalize",
    "number_words",
    "ordinal_words",
    "wer",
]

_EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_ID_ONES = "nol satu dua tiga empat lima enam tujuh delapan sembilan".split()
_ID_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))
_NUMBER_WORDS = frozenset(
    _EN_ONES
    + _EN_TENS[2:]
    + ["hundred", "oh"]
    + [w for _, w in _EN_SCALES]
    + _ID_ONES
    + ["sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu", "kosong"]
    + [w for _, w in _ID_SCALES]
)
DIGITS_FROM = 8  # integers this long (or with a leading zero) default to digit by digit


def _en_below_1000(n: int) -> list[str]:
    out: list[str] = []
    if n >= 100:
        out += [_EN_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        out.append(_EN_TENS[n // 10])
        n %= 10
        if n:
            out.append(_EN_ONES[n])
    elif n or not out:
        out.append(_EN_ONES[n])
    return out


def _id_below_1000(n: int) -> list[str]:
    out: list[str] = []
    if n >= 100:
        out += ["seratus"] if n // 100 == 1 else [_ID_ONES[n // 100], "ratus"]
        n %= 100
    if n >= 20:
        out += [_ID_ONES[n // 10], "puluh"]
        n %= 10
        if n:
            out.append(_ID_ONES[n])
    elif n >= 12:
        out += [_ID_ONES[n - 10], "belas"]
    elif n == 11:
        out.append("sebelas")
    elif n == 10:
        out.append("sepuluh")
    elif n or not out:
        out.append(_ID_ONES[n])
    return out


def number_words(n: int, language: str = "en") -> list[str]:
    """A non-negative integer as it is said: ``17750`` -> "seventeen thousand seven hundred
    fifty" (English, no "and") or "tujuh belas ribu tujuh ratus lima puluh" (``"id"``).

    Languages other than Indonesian are read in English.
    """
    if n < 0:
        raise ValueError("number_words takes a non-negative integer")
    if language == "id":
        if n == 0:
            return ["nol"]
        out: list[str] = []
        for value, name in _ID_SCALES:
            if n >= value:
                out += number_words(n // value, "id") + [name]
                n %= value
        if n >= 1000:
            out += ["seribu"] if n // 1000 == 1 else _id_below_1000(n // 1000) + ["ribu"]
            n %= 1000
        if n or not out:
            out += _id_below_1000(n)
        return out
    out = []
    for value, name in _EN_SCALES:
        if n >= value:
            out += number_words(n // value, "en") + [name]
            n %= value
    if n or not out:
        out += _en_below_1000(n)
    return out


def ordinal_words(n: int, language: str = "en") -> list[str]:
    """An ordinal as it is said: 21 -> "twenty first"; Indonesian 2 -> "kedua"."""
    words = number_words(n, language)
    if language == "id":
        return ["pertama"] if n == 1 else ["ke" + words[0]] + words[1:]
    last = words[-1]
    if last in _EN_ORDINAL:
        last = _EN_ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return words[:-1] + [last]


def digit_words(digits: str, language: str = "en", zero: str | None = None) -> list[str]:
    """A digit string read digit by digit: "0812" -> "zero eight one two" ("nol delapan ...")."""
    ones = _ID_ONES if language == "id" else _EN_ONES
    return [zero if d == "0" and zero else ones[int(d)] for d in digits]


def _year_words(n: int) -> list[str] | None:
    """English pairs reading of 1000-9999: 1961 -> "nineteen sixty one", 1500 -> "fifteen
    hundred", 1905 -> "nineteen oh five" (None for round thousands)."""
    hi, lo = divmod(n, 100)
    if not 10 <= hi <= 99 or n % 1000 == 0:
        return None
    if lo == 0:
        return number_words(hi) + ["hundred"]
    return number_words(hi) + (["oh"] + number_words(lo) if lo < 10 else number_words(lo))


def _integer_readings(digits: str, language: str) -> list[list[str]]:
    """Ways to say an integer written as ``digits``; the first is the default."""
    n = int(digits)
    cardinal = number_words(n, language)
    by_digit = digit_words(digits, language)
    readings = (
        [by_digit, cardinal]
        if digits[0] == "0" and len(digits) > 1 or len(digits) >= DIGITS_FROM
        else [cardinal, by_digit]
    )
    if language == "id":
        readings.append(digit_words(digits, language, zero="kosong"))
    else:
        readings.append(digit_words(digits, language, zero="oh"))
        year = _year_words(n) if len(digits) == 4 else None
        if year:
            readings.append(year)
    unique: list[list[str]] = []
    for r in readings:
        if r not in unique:
            unique.append(r)
    return unique


_AM_PM = re.compile(r"\b([ap])\.?\s?m\b\.?")


def _times(s: str, language: str) -> str:
    """ "9:30" -> "9 30", "11:00" -> "11" (and "9.30" before am/pm, or in Indonesian)."""

    def repl(m: re.Match) -> str:
        hour, minute = str(int(m.group(1))), m.group(2)
        return hour if minute == "00" else f"{hour} {int(minute)}"

    if language == "id":
        s = re.sub(r"\b(\d{1,2})[:.](\d\d)\b(?![.,]?\d)", repl, s)
    else:
        s = re.sub(r"\b(\d{1,2}):(\d\d)\b", repl, s)
        s = re.sub(r"\b(\d{1,2})\.(\d\d)(?=\s?[ap]\.?\s?m\b)", repl, s)
        s = _AM_PM.sub(r"\1m", s)
    return s


class _Numbers:
    """Replaces each written number by a placeholder word and keeps its readings."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.readings: list[list[list[str]]] = []

    def placeholder(self, readings: list[list[str]]) -> str:
        i = len(self.readings)
        self.readings.append(readings)
        letters = ""
        while True:
            i, r = divmod(i, 26)
            letters += chr(ord("a") + r)
            if i == 0:
                break
        return f" qqnum{letters}qq "

    def __call__(self, s: str) -> str:
        s = _times(s, self.language)
        if self.language == "id":
            s = re.sub(r"\brp\.?\s?(?=\d)", "¤ ", s)  # rupiah, said after the amount
            # 1.750.000 / 1,750,000 are thousands; a comma between digits is a decimal comma
            s = re.sub(r"\b\d{1,3}(?:\.\d{3})+\b(?![.,]\d)", lambda m: m[0].replace(".", ""), s)
            s = re.sub(r"\b\d{1,3}(?:,\d{3})+\b(?![.,]\d)", lambda m: m[0].replace(",", ""), s)
            s = re.sub(r"(\d),(\d)", r"\1.\2", s)
            s = re.sub(r"\bke-?\s?(\d+)\b", lambda m: self._ordinal(m[1]), s)
        else:
            s = re.sub(r"(\d),(\d)", r"\1\2", s)
        number = r"([$£€]|¤ )?(\d+(?:\.\d+)?)(%|¢|st\b|nd\b|rd\b|th\b)?"
        return re.sub(number, self._replace, s)

    def _ordinal(self, digits: str) -> str:
        return " " + " ".join(ordinal_words(int(digits), self.language)) + " "

    def _replace(self, m: re.Match) -> str:
        currency, value, suffix = m[1], m[2], (m[3] or "").lower()
        language = self.language
        if suffix in ("st", "nd", "rd", "th") and "." not in value:
            return self._ordinal(value)
        whole, _, fraction = value.partition(".")
        readings = _integer_readings(whole, language)
        unit, cents = _unit(currency, int(whole), language), []
        if fraction:
            point = "koma" if language == "id" else "point"
            if unit and language != "id" and len(fraction) == 2:  # $4.50: four dollars fifty
                cents = number_words(int(fraction)) + ["cents"]
            else:
                readings = [r + [point] + digit_words(fraction, language) for r in readings]
        readings = [r + unit + cents for r in readings]
        if suffix == "%":
            readings = [r + ["persen" if language == "id" else "percent"] for r in readings]
        elif suffix == "¢":
            readings = [r + ["cents"] for r in readings]
        return self.placeholder(readings)


def _unit(currency: str, n: int, language: str) -> list[str]:
    if currency == "¤ ":
        return ["rupiah"]
    if not currency:
        return []
    names = {"$": "dollar", "£": "pound", "€": "euro"}
    return [names[currency] + ("" if n == 1 else "s")]


_PLACEHOLDER = re.compile(r"^qqnum([a-z]+)qq$")


def _index(letters: str) -> int:
    return sum((ord(c) - ord("a")) * 26**k for k, c in enumerate(letters))


def _tokens(text: str, language: str) -> tuple[list[str], list[list[list[str]]]]:
    """Normalised words of ``text`` with placeholders for numbers, and each number's readings."""
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    numbers = _Numbers(language)
    if language == "en":
        norm: Callable[[str], str] = EnglishTextNormalizer()
        norm.standardize_numbers = numbers  # type: ignore[attr-defined]
        text = _times(text.lower(), language)
    else:
        text = numbers(text.lower())
        norm = BasicTextNormalizer()
    words = norm(text).split()
    # "one hundred and thirty four" = "one hundred thirty four"; "a hundred" = "one hundred"
    out: list[str] = []
    for i, w in enumerate(words):
        before = out[-1] if out else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if w == "and" and _is_number(before) and _is_number(after) and after != "oh":
            continue
        if w == "a" and after in ("hundred", "thousand", "million", "billion"):
            w = "one"
        out.append(w)
    return out, numbers.readings


def _is_number(word: str) -> bool:
    return word in _NUMBER_WORDS or bool(_PLACEHOLDER.match(word))


def _expand(tokens: list[str], readings: list[list[list[str]]], choice: list[int]) -> list[str]:
    out: list[str] = []
    for t in tokens:
        m = _PLACEHOLDER.match(t)
        out += readings[_index(m[1])][choice[_index(m[1])]] if m else [t]
    return out


def normalize(text: str, language: str = "en") -> list[str]:
    """Normalised word list of ``text``, numbers spelled out in their default reading."""
    tokens, readings = _tokens(text, language)
    return _expand(tokens, readings, [0] * len(readings))


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two word lists."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def errors(reference: str, hypothesis: str, language: str = "en") -> tuple[int, int, int]:
    """Word errors of ``hypothesis`` against ``reference``, after normalisation.

    Each number written in digits in the hypothesis is read in the way that matches the
    reference best (chosen one number at a time). Returns ``(errors, reference words,
    hypothesis words)``.
    """
    ref = normalize(reference, language)
    tokens, readings = _tokens(hypothesis, language)
    choice = [0] * len(readings)
    best = edit_distance(ref, _expand(tokens, readings, choice))
    for k, options in enumerate(readings):
        for alt in range(1, len(options)):
            trial = choice[:k] + [alt] + choice[k + 1 :]
            d = edit_distance(ref, _expand(tokens, readings, trial))
            if d < best:
                best, choice = d, trial
    return best, len(ref), len(_expand(tokens, readings, choice))


def wer(reference: str, hypothesis: str, language: str = "en") -> float:
    """Word error rate of ``hypothesis`` against ``reference`` after normalisation."""
    n_errors, n_ref, n_hyp = errors(reference, hypothesis, language)
    if not n_ref:
        return 0.0 if not n_hyp else 1.0
    return n_errors / n_ref
