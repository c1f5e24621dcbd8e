"""Character n-gram TF-IDF of turn texts: the lexical half of the turn classifier's conduct models.

Blame, competitor bashing and slang are said in words a sentence embedding blurs ("lo", "bro",
"KW", "reyot", "Accounts ran it twice"): the conduct labels' models add the turn's character
2-5-grams within word boundaries to its embedding features. Measured by cross-validation over
whole source sets (``scripts/train_turn_classifier.py``), the call-level average precision of
the four conduct labels rose from 0.73-0.90 (embeddings alone) to 0.93-0.98.

The weighting is scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
sublinear_tf=True)`` (lower-cased text, ``1 + ln(tf)`` times the fitted idf, rows of unit
length), reimplemented here in a few lines so that inference needs no scikit-learn; a test
checks it against scikit-learn's own output.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["Tfidf", "char_wb_ngrams"]

_WHITE_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """The ``lo``-``hi`` character n-grams of each word of ``text`` (lower-cased), the word
    padded with one space each side; a word shorter than ``n`` gives itself once (as
    scikit-learn's ``char_wb`` analyzer does)."""
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        for n in range(lo, hi + 1):
            offset = 0
            out.append(w[offset : offset + n])
            while offset + n < len(w):
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return out


@dataclass(frozen=True, eq=False)
class Tfidf:
    """A fitted vocabulary of character n-grams and their idf weights."""

    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]  # n-gram -> column
    idf: Any  # numpy array, one weight per column

    def rows(self, texts: list[str]) -> list[dict[int, float]]:
        """Each text's sparse TF-IDF row (column -> weight), of unit length."""
        lo, hi = self.ngram_range
        out = []
        for text in texts:
            counts = Counter(
                self.vocabulary[g] for g in char_wb_ngrams(text, lo, hi) if g in self.vocabulary
            )
            row = {j: (1.0 + math.log(c)) * float(self.idf[j]) for j, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in row.values()))
            out.append({j: v / norm for j, v in row.items()} if norm > 0 else {})
        return out

    def scores(self, texts: list[str], coef: np.ndarray) -> np.ndarray:
        """``rows(texts) @ coef.T``: shape (len(texts), len(coef))."""
        import numpy as np

        out = np.zeros((len(texts), len(coef)))
        for i, row in enumerate(self.rows(texts)):
            if row:
                cols = np.fromiter(row, dtype=np.int64, count=len(row))
                vals = np.fromiter(row.values(), dtype=np.float64, count=len(row))
                out[i] = coef[:, cols] @ vals
        return out

    def to_dict(self) -> dict[str, Any]:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {
            "analyzer": "char_wb",
            "ngram_range": list(self.ngram_range),
            "sublinear_tf": True,
            "vocabulary": terms,
            "idf": [round(float(self.idf[self.vocabulary[t]]), 6) for t in terms],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Tfidf:
        import numpy as np

        if raw.get("analyzer") != "char_wb" or raw.get("sublinear_tf") is not True:
            raise ValueError("lexical features: only sublinear char_wb TF-IDF is supported")
        lo, hi = (int(v) for v in raw["ngram_range"])
        terms = [str(t) for t in raw["vocabulary"]]
        idf = np.asarray(raw["idf"], dtype=np.float64)
        if len(terms) != len(idf) or len(set(terms)) != len(terms) or not 1 <= lo <= hi:
            raise ValueError("lexical features: vocabulary and idf do not fit")
        return cls((lo, hi), {t: i for i, t in enumerate(terms)}, idf)
