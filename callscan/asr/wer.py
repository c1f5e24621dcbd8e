"""Word error rate with Whisper's text normalisers (for tests, benchmarks and sample tuning).

English text goes through openai-whisper's ``EnglishTextNormalizer`` (spellings, numbers,
contractions); other languages through its ``BasicTextNormalizer`` (case, punctuation,
diacritics kept). WER = (substitutions + deletions + insertions) / reference words.
"""

from __future__ import annotations


def normalize(text: str, language: str = "en") -> list[str]:
    """Normalised word list of ``text``."""
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    norm = EnglishTextNormalizer() if language == "en" else BasicTextNormalizer()
    return norm(text).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two word lists."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(reference: str, hypothesis: str, language: str = "en") -> float:
    """Word error rate of ``hypothesis`` against ``reference`` after normalisation."""
    ref, hyp = normalize(reference, language), normalize(hypothesis, language)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
