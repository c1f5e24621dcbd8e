"""The turn classifier's character n-gram TF-IDF (callscan.analysis.char_ngrams) gives exactly
scikit-learn's TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
weights, so weights trained with scikit-learn score the same at inference without it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from callscan.analysis.char_ngrams import Tfidf, char_wb_ngrams

CORPUS = [
    "Itu mah orang gudang yang lelet, Kak, bukan salah kami.",
    "yo bro santuy aja, paketnya OTW kok",
    "Honestly the depot staff are useless with updates.",
    "You probably didn't read the terms, people never do.",
    "Baik, Bu, saya cek dulu nomor pesanannya ya.",
    "Thanks for waiting, I've raised ticket RF-2231 for the refund.",
    "a b  c\tdd",
]


def fitted(corpus):
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    vec.fit(corpus)
    vocab = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    return vec, Tfidf((2, 5), vocab, np.asarray(vec.idf_))


def dense(tfidf: Tfidf, texts):
    out = np.zeros((len(texts), len(tfidf.vocabulary)))
    for i, row in enumerate(tfidf.rows(texts)):
        for j, v in row.items():
            out[i, j] = v
    return out


def test_ngrams_are_scikit_learns():
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))
    analyse = vec.build_analyzer()
    for text in CORPUS:
        assert char_wb_ngrams(text, 2, 5) == analyse(text)


def test_weights_are_scikit_learns_and_survive_the_file():
    vec, tfidf = fitted(CORPUS)
    texts = [*CORPUS, "Orang gudangnya emang lelet bro", "", "zzz"]
    np.testing.assert_allclose(dense(tfidf, texts), vec.transform(texts).toarray(), atol=1e-12)
    back = Tfidf.from_dict(tfidf.to_dict())
    np.testing.assert_allclose(dense(back, texts), vec.transform(texts).toarray(), atol=1e-6)
    coef = np.random.default_rng(0).normal(size=(3, len(tfidf.vocabulary)))
    np.testing.assert_allclose(
        tfidf.scores(texts, coef), vec.transform(texts).toarray() @ coef.T, atol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abkou gdy.,?!-'\t\nAÉé", max_size=60))
def test_any_text_matches_scikit_learn(text):
    vec, tfidf = fitted(CORPUS)
    np.testing.assert_allclose(dense(tfidf, [text]), vec.transform([text]).toarray(), atol=1e-12)


def test_a_bad_lexical_block_is_refused():
    _, tfidf = fitted(CORPUS)
    raw = tfidf.to_dict()
    with pytest.raises(ValueError):
        Tfidf.from_dict({**raw, "analyzer": "word"})
    with pytest.raises(ValueError):
        Tfidf.from_dict({**raw, "idf": raw["idf"][:-1]})
