"""Stems and lemmas of the analysis stages: one Indonesian stemmer, one English lemmatiser.

The playbook stages (:mod:`callscan.analysis.stages`, cue ``lemmas``) and the sensory-modality
stage (:mod:`callscan.analysis.modality`, lexicon ``stems``/``lemmas``) reduce words with the
same tools, loaded lazily once per process and cached per word:

* Indonesian: PySastrawi's stemmer (:func:`stem_id`), whose root dictionary also tells an
  Indonesian word from a foreign one (:func:`is_id_word`);
* English: lemminflect, as the stem of a cue word (:func:`lemma_en`: the first verb, noun or
  adjective lemma that differs from the word, out-of-vocabulary rules included) or as every
  dictionary lemma by part of speech (:func:`en_lemmas`, for the lexicon lookup).

Text normalisation (lowercase, blank punctuation and fillers) is in :mod:`callscan.text`, a core
module, because the role decision in :mod:`callscan.speakers` uses it too.

Public API
----------
stem
    A word's stem (Indonesian) or lemma (English), as cue ``lemmas`` are matched.
stem_id, is_id_word, id_stemmer
    PySastrawi: a word's root, whether a word is Indonesian, the one stemmer instance.
lemma_en, en_lemmas
    lemminflect: a word's lemma, or all of its dictionary lemmas by part of speech.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["en_lemmas", "id_stemmer", "is_id_word", "lemma_en", "stem", "stem_id"]

_LEMMA_POS = ("VERB", "NOUN", "ADJ")  # tried in this order by lemma_en


@lru_cache(maxsize=1)
def id_stemmer() -> Any:
    """The PySastrawi stemmer with its bundled root dictionary (built once: about 0.3 s)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem_id(word: str) -> str:
    """PySastrawi's root of one lowercase Indonesian word (may be empty for a non-word)."""
    return str(id_stemmer().stem(word))


@lru_cache(maxsize=200_000)
def is_id_word(word: str) -> bool:
    """True when ``word`` or its stem is a root in PySastrawi's Indonesian dictionary."""
    stemmer = id_stemmer()
    words = getattr(stemmer, "delegatedStemmer", stemmer).dictionary
    return bool(words.contains(word) or words.contains(stem_id(word)))


@lru_cache(maxsize=200_000)
def en_lemmas(word: str) -> dict[str, tuple[str, ...]]:
    """Every dictionary lemma of an English word by part of speech (``{}`` when unknown)."""
    from lemminflect import getAllLemmas

    return dict(getAllLemmas(word))


@lru_cache(maxsize=50_000)
def lemma_en(word: str) -> str:
    """The first verb, noun or adjective lemma of an English word that differs from it, else
    the word itself (lemminflect, out-of-vocabulary rules included)."""
    from lemminflect import getLemma

    for pos in _LEMMA_POS:
        lemmas = getLemma(word, upos=pos)
        if lemmas and lemmas[0] != word:
            return str(lemmas[0]).lower()
    return word


def stem(word: str, language: str) -> str:
    """A word's stem as playbook cue ``lemmas`` match it: PySastrawi for ``"id"`` (the word
    itself when the stemmer returns nothing), lemminflect otherwise."""
    if language == "id":
        return stem_id(word) or word
    return lemma_en(word)
