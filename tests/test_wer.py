"""Word error rate: numbers compared as spoken words (English and Indonesian)."""

from __future__ import annotations

import pytest

from callscan.asr.wer import (
    digit_words,
    edit_distance,
    errors,
    normalize,
    number_words,
    ordinal_words,
    wer,
)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (134, "one hundred thirty four"),
        (1000, "one thousand"),
        (17750, "seventeen thousand seven hundred fifty"),
        (1_750_000, "one million seven hundred fifty thousand"),
        (2_000_000_001, "two billion one"),
    ],
)
def test_english_numbers(n, words):
    assert " ".join(number_words(n, "en")) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "nol"),
        (1, "satu"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (15, "lima belas"),
        (21, "dua puluh satu"),
        (100, "seratus"),
        (119, "seratus sembilan belas"),
        (250, "dua ratus lima puluh"),
        (1000, "seribu"),
        (1100, "seribu seratus"),
        (17750, "tujuh belas ribu tujuh ratus lima puluh"),
        (1_750_000, "satu juta tujuh ratus lima puluh ribu"),
        (3_000_000_000, "tiga miliar"),
        (211_001, "dua ratus sebelas ribu satu"),
    ],
)
def test_indonesian_numbers(n, words):
    assert " ".join(number_words(n, "id")) == words


def test_ordinals_and_digits():
    assert ordinal_words(1) == ["first"]
    assert ordinal_words(21) == ["twenty", "first"]
    assert ordinal_words(40) == ["fortieth"]
    assert ordinal_words(12) == ["twelfth"]
    assert ordinal_words(2, "id") == ["kedua"]
    assert ordinal_words(1, "id") == ["pertama"]
    assert digit_words("0812", "id") == ["nol", "delapan", "satu", "dua"]
    assert digit_words("0812", "id", zero="kosong")[0] == "kosong"


def test_english_digits_are_spelled_as_spoken():
    assert (
        normalize("Your balance is $134.")
        == "your balance is one hundred thirty four dollars".split()
    )
    # the reference's "a hundred and" reads the same as the digits
    assert wer("your balance is a hundred and thirty four dollars", "Your balance is $134.") == 0
    assert normalize("9:30 a.m. to 5 p.m.") == "nine thirty am to five pm".split()
    assert normalize("nine thirty a m to five p m") == "nine thirty am to five pm".split()
    assert normalize("50% off $4.50") == "fifty percent off four dollars fifty cents".split()
    assert normalize("the 21st of 3.5") == "the twenty first of three point five".split()


def test_a_number_costs_its_spoken_words():
    # one wrong digit in a six-word number is one word wrong, not the whole number
    ref = "one hundred and thirty five dollars"
    assert errors(ref, "$134") == (1, 5, 5)
    # digits where nothing was said are as many insertions as the number has words
    assert errors("your balance", "your balance 17750") == (5, 2, 7)


def test_each_number_read_the_way_the_reference_says_it():
    assert wer("my zip is seven zero zero two three", "My zip is 70023.") == 0
    assert (
        wer("call seven one five one three nine zero seven eight seven", "Call 715-139-0787") == 0
    )
    assert wer("in nineteen sixty one", "In 1961") == 0
    assert wer("in one thousand nine hundred sixty one", "In 1961") == 0
    assert wer("the code is four five one two", "The code is 4512") == 0
    assert wer("the code is four five one two", "The code is 4513") == pytest.approx(1 / 7)


def test_indonesian_digits_are_spelled_as_spoken():
    ref = "harganya satu juta tujuh ratus lima puluh ribu rupiah"
    assert wer(ref, "Harganya Rp 1.750.000.", "id") == 0
    assert wer(ref, "Harganya Rp1,750,000", "id") == 0
    # the near-miss: "17750 ribu" is wrong by as many words as are said wrong
    n_errors, n_ref, n_hyp = errors("satu juta tujuh ratus lima puluh ribu", "17750 ribu", "id")
    assert (n_ref, n_hyp) == (7, 8)
    assert n_errors == 3  # "tujuh belas ribu" for "satu juta": two wrong, one extra
    assert normalize("bunganya 12,5% per tahun, ke-2", "id") == (
        "bunganya dua belas koma lima persen per tahun kedua".split()
    )
    assert wer("nomor saya kosong delapan satu dua", "Nomor saya 0812.", "id") == 0
    assert wer("nomor saya nol delapan satu dua", "Nomor saya 0812.", "id") == 0
    assert normalize("jam 09.30", "id") == "jam sembilan tiga puluh".split()


def test_plain_text_is_unchanged():
    assert normalize("I can't hear you, Mr. Smith!") == "i can not hear you mister smith".split()
    assert normalize("Bertahun-tahun, Pak.", "id") == ["bertahun", "tahun", "pak"]
    assert edit_distance(["a", "b", "c"], ["a", "c", "d"]) == 2
    assert wer("", "") == 0.0
    assert wer("", "extra") == 1.0
