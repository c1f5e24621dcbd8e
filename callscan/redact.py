"""Personal data masked in what a call's reports carry (``--redact``).

Finds card numbers, Indonesian NIK, phone numbers, bank account numbers and e-mail addresses
in a call's text, written as digits or spoken as words in Indonesian and English ("nol
delapan satu dua", "kosong delapan", "four five six", "double five", "triple seven", digits
and words mixed, split by commas, dashes and fillers), and replaces each with a mask that
keeps its kind: ``[CARD]``, ``[NIK]``, ``[PHONE]``, ``[ACCOUNT]``, ``[EMAIL]``. Ordinary
numbers are kept: prices ("Rp 150.000", "dua ratus ribu"), dates, times, quantities, ticket
and order numbers, years.

How a run of digits is told apart:

* card: 13-19 digits passing the Luhn check (or a card word nearby: kartu, card, visa, ...);
* NIK: 16 digits with a province code and a birth date (day + 40 for women), or a NIK word
  nearby (nik, ktp, kependudukan, id number);
* phone: ``+`` / "plus" and a country code, ``62 8...``, ``08...`` (10-13 digits), a
  landline ``0`` + area code, or a phone word nearby (hp, wa, telepon, phone, number, ...);
* account: 8-18 digits with an account word nearby (rekening, no. rek, account, acct, va);
* e-mail: ``name@domain.tld``, or spoken ``name at gmail dot com`` / ``et ... titik com``.

Where several kinds fit, the one whose word was said nearest wins. Pattern-based: see the
README's "Security and privacy" for the measured recall (``bench/bench_redact.py``).

Word lists keep their timings: every word of a masked span gets the mask in place of the
covered characters. The work is linear in the text (runs are cut at :data:`MAX_RUN_TOKENS`).

Public API
----------
KINDS, MASKS, Span, find, redact_text, redact_words, redact_transcript, redact_turns,
redact_conversation, redact_data, summary
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callscan.conversation import Conversation, Turn
    from callscan.transcript import Transcript, Word

__all__ = [
    "KINDS",
    "MASKS",
    "Span",
    "find",
    "redact_conversation",
    "redact_data",
    "redact_text",
    "redact_transcript",
    "redact_turns",
    "redact_words",
    "summary",
]

KINDS = ("card", "nik", "phone", "account", "email")
MASKS = {kind: f"[{kind.upper()}]" for kind in KINDS}
MAX_RUN_TOKENS = 48  # a longer run of digits is cut (bounded work on any input)
_CONTEXT_BEFORE = 10  # words before a run searched for a kind's word
_CONTEXT_AFTER = 4  # words after it

# ---- words ------------------------------------------------------------------------------------

_DIGIT_WORDS = {
    # Indonesian
    "nol": "0", "kosong": "0", "satu": "1", "dua": "2", "tiga": "3", "empat": "4",
    "lima": "5", "enam": "6", "tujuh": "7", "delapan": "8", "lapan": "8", "sembilan": "9",
    # English
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEAT_WORDS = {"double": 2, "dobel": 2, "dabel": 2, "triple": 3, "tripel": 3, "tripple": 3}
_FILLERS = frozenset("eh ehm em emm hmm uh um umm ah strip dash".split())
_SEPARATORS = frozenset(",-.()–—…")
_PLUS_WORDS = frozenset(["plus"])

# a kind's words, said near a number; the distance is counted in words, "number" words weigh less
_CONTEXT = {
    "card": "kartu kartunya card cards kredit credit debit debitnya visa mastercard master amex "
    "jcb unionpay cc cvv",
    "nik": "nik niknya ktp ktpnya kependudukan identitas id identity nric",
    "phone": "hp hpnya handphone ponsel telepon telpon telp tlp tel phone mobile cell wa "
    "whatsapp call text hubungi dihubungi nomornya nomor nomer number",
    "account": "rekening rekeningnya rek norek account acct va bca bri bni mandiri",
}
_CONTEXT_WORDS = {w: kind for kind, words in _CONTEXT.items() for w in words.split()}
_WEAK_CONTEXT = frozenset("nomor nomer number nomornya id".split())  # generic: count as further

_TLDS = frozenset("com id net org co ac go sch edu io me info biz uk au sg my gov mil".split())
_EMAIL_AT = frozenset(["at", "et", "@"])
_EMAIL_DOT = frozenset(["dot", "titik", "."])
_EMAIL_STOP = frozenset(
    "email emailnya e-mail mail surel alamat address is adalah ke saya my its it's di yaitu "
    "the to ya nya kirim send me and dan atau or".split()
)

_NIK_PROVINCES = frozenset(
    "11 12 13 14 15 16 17 18 19 21 31 32 33 34 35 36 51 52 53 61 62 63 64 65 71 72 73 74 75 "
    "76 81 82 91 92 93 94 95 96".split()
)

# ---- tokens -----------------------------------------------------------------------------------

# Patterns that are never part of a run: amounts with thousands groups, dates, times.
_AMOUNT = r"(?:rp\.?\s?|idr\s?|\$|usd\s?)\d[\d.,]*|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?(?![\d.])"
_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?!\d)|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}(?!\d)"
_TIME = r"\d{1,2}[:.]\d{2}(?![\d:.]?\d)"
_TOKEN = re.compile(
    rf"(?P<amount>{_AMOUNT})|(?P<date>{_DATE})|(?P<time>{_TIME})"
    r"|(?P<digits>\d+)|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)?)|(?P<plus>\+)|(?P<other>\S)",
    re.IGNORECASE,
)
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_EMAIL_DOMAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")


@dataclass(frozen=True)
class Span:
    """A piece of personal data in a text: characters ``start`` to ``end`` and its kind."""

    start: int
    end: int
    kind: str  # one of KINDS

    @property
    def mask(self) -> str:
        return MASKS[self.kind]


@dataclass
class _Tok:
    start: int
    end: int
    kind: str  # amount, date, time, digits, word, plus, other
    text: str


def _tokens(text: str) -> list[_Tok]:
    return [
        _Tok(m.start(), m.end(), m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(text)
    ]


# ---- checks -----------------------------------------------------------------------------------


def luhn(digits: str) -> bool:
    """True when ``digits`` pass the Luhn check (card numbers)."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def nik_shaped(digits: str) -> bool:
    """True for 16 digits shaped like an Indonesian NIK: province, regency and district
    codes, a birth date (day + 40 for women, month) and a serial that is not 0000."""
    if len(digits) != 16 or digits[:2] not in _NIK_PROVINCES:
        return False
    day, month = int(digits[6:8]), int(digits[8:10])
    if day > 40:
        day -= 40
    return digits[2:4] != "00" and 1 <= day <= 31 and 1 <= month <= 12 and digits[12:] != "0000"


def _phone_kind(digits: str, plus: bool) -> str | None:
    """ "strong" (a phone by its shape), "weak" (a phone if a phone word is near) or None."""
    n = len(digits)
    if plus:
        return "strong" if 8 <= n <= 15 else None
    if digits.startswith("628") and 11 <= n <= 14:
        return "strong"
    if digits.startswith("08") and 10 <= n <= 13:
        return "strong"
    if digits.startswith("0") and not digits.startswith("00") and 9 <= n <= 12:
        return "weak"  # a landline: 0 + area code
    if 10 <= n <= 12:
        return "weak"  # a number said without its leading 0 or country code
    return None


def _classify(digits: str, plus: bool, context: dict[str, int]) -> tuple[str, bool] | None:
    """The kind of a run of digits and whether its shape alone says so (a phone starting
    08, a Luhn-valid card, a NIK with a birth date), or None for an ordinary number.

    ``context``: for each kind, the distance (in words) of its nearest word, when one is near.
    """
    n = len(digits)
    fits: dict[str, str] = {}  # kind -> "strong" | "weak"
    phone = _phone_kind(digits, plus)
    if phone:
        fits["phone"] = phone
    if 13 <= n <= 19 and not plus:
        fits["card"] = "strong" if luhn(digits) else "weak"
    if n == 16 and not plus:
        fits["nik"] = "strong" if nik_shaped(digits) else "weak"
    elif 15 <= n <= 17 and not plus:
        fits["nik"] = "weak"  # a digit lost or doubled by the recogniser
    if 8 <= n <= 18 and not plus:
        fits["account"] = "weak"
    near = [(context[k], k) for k in fits if k in context]
    if near:
        kind = min(near)[1]
        return kind, fits[kind] == "strong"
    for kind in ("phone", "nik", "card"):  # by shape alone
        if fits.get(kind) == "strong":
            return kind, True
    return None


# ---- runs of digits ---------------------------------------------------------------------------


@dataclass
class _Run:
    items: list[tuple[int, str]]  # (token index, digits it stands for)
    plus: int | None  # token index of a leading "+" / "plus"


def _runs(toks: list[_Tok]) -> list[_Run]:
    """Maximal runs of digit groups and digit words, with separators and fillers between."""
    runs: list[_Run] = []
    cur: list[tuple[int, str]] = []
    gap = 0
    repeat = 1

    def close() -> None:
        nonlocal cur, gap, repeat
        if cur:
            first = cur[0][0]
            plus = None
            j = first - 1
            while j >= 0 and toks[j].kind == "other" and toks[j].text in "()":
                j -= 1
            if j >= 0 and (toks[j].kind == "plus" or toks[j].text.lower() in _PLUS_WORDS):
                plus = j
            for k in range(0, len(cur), MAX_RUN_TOKENS):
                runs.append(_Run(cur[k : k + MAX_RUN_TOKENS], plus if k == 0 else None))
        cur, gap, repeat = [], 0, 1

    for i, t in enumerate(toks):
        low = t.text.lower()
        if t.kind == "digits":
            cur.append((i, t.text * repeat if repeat > 1 and len(t.text) == 1 else t.text))
            gap, repeat = 0, 1
        elif t.kind == "word" and low in _DIGIT_WORDS:
            cur.append((i, _DIGIT_WORDS[low] * repeat))
            gap, repeat = 0, 1
        elif t.kind == "word" and low in _REPEAT_WORDS:
            repeat = _REPEAT_WORDS[low]
            if cur:
                gap += 1
        elif cur and ((t.kind == "other" and t.text in _SEPARATORS) or low in _FILLERS):
            joined = (
                t.kind == "other" and toks[i - 1].kind == "other" and toks[i - 1].end == t.start
            )
            gap += 0 if joined else 1  # "..." is one separator
            if gap > 6:
                close()
        else:
            close()
    close()
    return runs


def _context(toks: list[_Tok], first: int, last: int, before: Sequence[str]) -> dict[str, int]:
    """Nearest distance (in words) of each kind's word around tokens ``first..last``."""
    out: dict[str, int] = {}

    def see(word: str, distance: int) -> None:
        kind = _CONTEXT_WORDS.get(word)
        if kind is None:
            return
        if word in _WEAK_CONTEXT:
            distance += 4
        if distance < out.get(kind, 1 << 30):
            out[kind] = distance

    words = 0
    j = first - 1
    stop = max(-1, first - 4 * _CONTEXT_BEFORE)  # digits and punctuation between: bounded
    while j > stop and words < _CONTEXT_BEFORE:
        if toks[j].kind == "word":
            words += 1
            see(toks[j].text.lower(), words)
        j -= 1
    if words < _CONTEXT_BEFORE:  # the previous line (the question before an answer)
        for k, word in enumerate(reversed(before[-(_CONTEXT_BEFORE - words) :])):
            see(word, words + k + 1 + 2)
    words = 0
    j = last + 1
    stop = min(len(toks), last + 1 + 4 * _CONTEXT_AFTER)
    while j < stop and words < _CONTEXT_AFTER:
        if toks[j].kind == "word":
            words += 1
            see(toks[j].text.lower(), words + 1)
        j += 1
    return out


def _best(
    run: _Run, toks: list[_Tok], before: Sequence[str], lo: int, hi: int
) -> tuple[int, int, str] | None:
    """A sub-run ``items[i:j]`` that is personal data: ``(i, j, kind)``. The longest from the
    first start that has one (``i`` at most 3 items after ``lo``, at most 19 digits), unless a
    later start is personal data by its shape and the first only by a word nearby."""
    items = run.items
    best = None
    best_strong = False
    for i in range(lo, min(lo + 4, hi)):
        if best_strong:
            break
        ends, total = [], 0
        for j in range(i + 1, hi + 1):
            total += len(items[j - 1][1])
            if total > 19:
                break
            if total >= 8:
                ends.append(j)
        for j in reversed(ends):
            digits = "".join(d for _, d in items[i:j])
            plus = run.plus is not None and i == 0
            ctx = _context(toks, items[i][0], items[j - 1][0], before)
            found = _classify(digits, plus, ctx)
            if found is not None:
                if best is None or found[1]:
                    best, best_strong = (i, j, found[0]), found[1]
                break
    return best


def _run_spans(run: _Run, toks: list[_Tok], before: Sequence[str]) -> list[Span]:
    out: list[Span] = []
    todo = [(0, len(run.items))]
    while todo:
        lo, hi = todo.pop()
        if hi - lo < 1:
            continue
        found = _best(run, toks, before, lo, hi)
        if found is None:
            continue
        i, j, kind = found
        start_tok = run.plus if (i == 0 and run.plus is not None) else run.items[i][0]
        out.append(Span(toks[start_tok].start, toks[run.items[j - 1][0]].end, kind))
        todo += [(lo, i), (j, hi)]
    return out


# ---- e-mail ---------------------------------------------------------------------------------


def _written_emails(text: str) -> list[Span]:
    out = []
    at = text.find("@")
    while at != -1:
        a = at
        while a > 0 and text[a - 1] in _EMAIL_LOCAL:
            a -= 1
        b = at + 1
        while b < len(text) and text[b] in _EMAIL_DOMAIN:
            b += 1
        domain = text[at + 1 : b].rstrip(".-")
        b = at + 1 + len(domain)
        local = text[a:at].lstrip(".")
        a = at - len(local)
        if local and "." in domain and re.fullmatch(r"[A-Za-z]{2,}", domain.rsplit(".", 1)[1]):
            out.append(Span(a, b, "email"))
        at = text.find("@", b if b > at else at + 1)
    return out


def _spoken_emails(toks: list[_Tok]) -> list[Span]:
    """``name [dot name] at domain dot tld`` (also ``et``, ``titik``)."""
    out = []
    words = [(i, t) for i, t in enumerate(toks) if t.kind in ("word", "digits") or t.text == "@"]
    for k, (i, t) in enumerate(words):
        if t.text.lower() not in _EMAIL_AT or k == 0:
            continue
        # domain: word (dot word)+ ending in a top-level domain
        m = k + 1
        if m >= len(words):
            continue
        end = None
        m += 1
        while m + 1 < len(words) and words[m][1].text.lower() in _EMAIL_DOT:
            if words[m + 1][1].text.lower() in _TLDS:
                end = words[m + 1][0]
            m += 2
        if end is None:
            continue
        # local part: up to 5 words back, stopping at a stop word
        start = None
        n = k - 1
        taken = 0
        while n >= 0 and taken < 5:
            word = words[n][1].text.lower()
            if word in _EMAIL_STOP or words[n][0] < i - 12:
                break
            start = words[n][0]
            n -= 1
            taken += 1
        if start is None:
            continue
        # a written local part with dots: "andi.pratama" is tokens andi . pratama
        while start > 0 and toks[start - 1].text == "." and start - 2 >= 0:
            if toks[start - 2].kind not in ("word", "digits"):
                break
            if toks[start - 2].text.lower() in _EMAIL_STOP:
                break
            start -= 2
        out.append(Span(toks[start].start, toks[end].end, "email"))
    return out


# ---- the API --------------------------------------------------------------------------------


def find(text: str, before: str = "") -> list[Span]:
    """Personal data in ``text``, in order, not overlapping.

    ``before``: the text said just before (the previous turn or segment), whose last words
    count as context (the agent's "nomor rekeningnya?" before the caller's digits).
    """
    if not text:
        return []
    toks = _tokens(text)
    before_words = [w.lower() for w in re.findall(r"[^\W\d_]+", before[-200:])]
    spans = _written_emails(text) + _spoken_emails(toks)
    for run in _runs(toks):
        spans += _run_spans(run, toks, before_words)
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[Span] = []
    for s in spans:
        if out and s.start < out[-1].end:
            continue  # an e-mail's digits, or a run inside an e-mail
        out.append(s)
    return out


_REPEATED_MASK = re.compile(
    r"(" + "|".join(re.escape(m) for m in MASKS.values()) + r")(?:[\s,.\-]*\1)+"
)


def collapse(text: str) -> str:
    """One mask for a row of the same mask (``[PHONE] [PHONE] [PHONE]`` -> ``[PHONE]``)."""
    return _REPEATED_MASK.sub(r"\1", text)


def redact_text(text: str, before: str = "") -> str:
    """``text`` with its personal data replaced by masks (see :func:`find`)."""
    spans = find(text, before)
    if not spans:
        return text
    parts, pos = [], 0
    for s in spans:
        parts += [text[pos : s.start], s.mask]
        pos = s.end
    parts.append(text[pos:])
    return collapse("".join(parts))


def redact_words(words: Sequence[Word], before: str = "") -> int:
    """Mask, in place, every word of a span of personal data found in the words read as one
    text; timings are kept. Returns the number of spans."""
    if not words:
        return 0
    offsets, pos = [], 0
    for w in words:
        offsets.append(pos)
        pos += len(w.text) + 1
    text = " ".join(w.text for w in words)
    spans = find(text, before)
    if not spans:
        return 0
    new = [w.text for w in words]
    for s in spans:
        for k, w in enumerate(words):
            a, b = offsets[k], offsets[k] + len(w.text)
            if b <= s.start or a >= s.end:
                continue
            lo, hi = max(s.start, a) - a, min(s.end, b) - a
            if new[k] == w.text:
                new[k] = w.text[:lo] + s.mask + w.text[hi:]
            else:  # a second span in the same word: mask the whole word
                new[k] = s.mask
    for w, t in zip(words, new, strict=True):
        w.text = t
    return len(spans)


def redact_transcript(transcript: Transcript) -> None:
    """Mask personal data in every segment's text and words, in place (timings kept)."""
    before = ""
    for seg in transcript.segments:
        original = seg.text
        redact_words(seg.words, before)
        seg.text = redact_text(seg.text, before)
        before = original


def redact_turns(turns: Iterable[Turn]) -> None:
    """Mask personal data in turns' texts and words, in place (timings kept)."""
    before = ""
    for turn in turns:
        original = turn.text
        redact_words(turn.words, before)
        turn.text = redact_text(turn.text, before)
        before = original


def redact_conversation(conversation: Conversation) -> None:
    """Mask personal data in a conversation's turns and its transcript, in place."""
    if conversation.transcript is not None:
        redact_transcript(conversation.transcript)
    redact_turns(conversation.turns)


_KEEP_KEYS = frozenset(["source", "path", "schema_version", "callscan_version", "report"])


def redact_data(data: Any) -> Any:
    """A JSON-native value (a report) with personal data masked in every string; word lists
    (dicts with ``text`` and ``probability``) are masked word by word, their timings kept.
    File names (``source``, ``path``) are kept. Returns a new value."""
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, list):
        if data and all(isinstance(x, dict) and "text" in x and "probability" in x for x in data):
            return _redact_word_dicts(data)
        return [redact_data(x) for x in data]
    if isinstance(data, dict):
        return {k: v if k in _KEEP_KEYS else redact_data(v) for k, v in data.items()}
    return data


def _redact_word_dicts(words: list[dict]) -> list[dict]:
    from callscan.transcript import Word

    objs = [Word(str(w["text"]), 0.0, 0.0, 0.0) for w in words]
    redact_words(objs)
    return [
        {**redact_data({k: v for k, v in w.items() if k != "text"}), "text": o.text}
        for w, o in zip(words, objs, strict=True)
    ]


def summary(conversation: Conversation) -> dict[str, Any]:
    """What a report records about redaction: that it was applied, and the masks in the
    turns by kind (never the values)."""
    counts = {kind: 0 for kind in KINDS}
    for turn in conversation.turns:
        for kind, mask in MASKS.items():
            counts[kind] += turn.text.count(mask)
    return {"applied": True, "counts": counts, "total": sum(counts.values())}
