"""Conduct rules as a QA reviewer applies them (../shared/data/dev-calls/README.md).

Each violation is checked in both languages on wording the labelled calls do not use, and on
hard negatives: the ordinary colloquial register, ownership apologies, explanations that are
not blame, a greeting followed by an introduction. Negotiation rules apply only where a
price or discount negotiation happens.
"""

from __future__ import annotations

import pytest

from callscan.analysis.stages import StageOptions, check
from callscan.conversation import parse_text


def run(text: str, language: str = "id", call_type: str = "auto"):
    conv = parse_text(text.strip(), language=language)
    return check(conv, options=StageOptions(call_type=call_type))


def failed(text: str, language: str = "id") -> set[str]:
    return set(run(text, language).violations())


CONDUCT = {
    "blame_colleague",
    "blame_customer",
    "trash_competitor",
    "slang_jargon",
    "repeated_apology",
    "excluded_phrases",
}

# ---------------------------------------------------------------- violations, Indonesian

ID_POSITIVE = [
    ("blame_colleague", "agent: itu kesalahan dari tim gudang pak, mereka yang kirim"),
    ("blame_colleague", "agent: kurirnya memang suka asal lempar paket bu"),
    ("blame_colleague", "agent: teknisi yang kemarin datang itu memang nggak becus pak"),
    ("blame_colleague", "agent: gara-gara vendor atm telat isi uang, bu"),
    ("blame_colleague", "agent: cs sebelumnya yang salah input datanya kak"),
    ("blame_colleague", "agent: vendor atm-nya yang telat isi uang, bukan kami pak"),
    ("blame_customer", "agent: ibu beneran sudah transfer? yang bener aja bu"),
    ("blame_customer", "agent: makanya lain kali dibaca dulu syaratnya pak"),
    ("blame_customer", "agent: kalau begitu berarti salah ibu sendiri"),
    ("blame_customer", "agent: ibu sendiri yang lupa bayar tagihan bulan lalu"),
    ("blame_customer", "agent: kakak salah pilih alamat pengiriman kali"),
    ("blame_customer", "agent: bapak kurang teliti waktu isi formulir"),
    ("blame_customer", "agent: ah banyak orang juga bilang begitu pak"),
    ("trash_competitor", "agent: jangan pakai provider sebelah pak, sinyalnya jelek banget"),
    ("trash_competitor", "agent: asuransi lain itu suka dipersulit klaimnya bu"),
    ("slang_jargon", "agent: oke kak, paketnya otw ya"),
    ("slang_jargon", "agent: mantul kak, udah aku proses"),
    ("slang_jargon", "agent: paketnya masih di hub, nanti handover ke last mile"),
    ("excluded_phrases", "agent: Halo, bisa ganggu sebentar?\ncaller: iya\nagent: ada promo"),
    ("excluded_phrases", "agent: Halo?\ncaller: halo, ini bank?\nagent: iya, ada apa?"),
]


@pytest.mark.parametrize("rule,text", ID_POSITIVE)
def test_violation_found_id(rule, text):
    r = run(text)
    assert rule in r.violations(), text
    hit = r.rule(rule).hits[0]  # every failed rule cites the turn and the words
    assert hit.speaker == "agent" and hit.text and hit.turn >= 0


EN_POSITIVE = [
    ("blame_colleague", "agent: honestly the courier keeps getting the address wrong"),
    ("blame_colleague", "agent: that'll be the billing department again, sorry"),
    ("blame_colleague", "agent: our installers are pretty sloppy, to be fair"),
    ("blame_colleague", "agent: it's on the warehouse, not us"),
    ("blame_colleague", "agent: that's not us, that's the collection agency calling"),
    ("blame_customer", "agent: did you even read the email we sent?"),
    ("trash_competitor", "agent: their coverage is a joke, honestly"),
    ("blame_customer", "agent: you should have locked your card when you lost it"),
    ("blame_customer", "agent: that's your own mistake, the terms are clear"),
    ("blame_customer", "agent: either you shared the code or someone saw it"),
    ("blame_customer", "agent: customers tell us that all the time"),
    ("trash_competitor", "agent: the other banks are crooks, they hide every fee"),
    ("trash_competitor", "agent: your current provider is a rip-off, honestly"),
    ("slang_jargon", "agent: yo, what's up, how can I help"),
    ("slang_jargon", "agent: the parcel is at the hub waiting for last mile"),
    ("excluded_phrases", "agent: Hello?\ncaller: hi is this the bank\nagent: yes what do you need"),
    ("excluded_phrases", "agent: Sorry to bother you, do you have a minute?\ncaller: sure"),
]


@pytest.mark.parametrize("rule,text", EN_POSITIVE)
def test_violation_found_en(rule, text):
    r = run(text, "en")
    assert rule in r.violations(), text
    assert r.rule(rule).hits[0].text


# ---------------------------------------------------------------- hard negatives

ID_NEGATIVE = [
    # the colloquial register and code-switching are not slang
    "agent: siap kak, nggak apa-apa kok, gimana kalau saya cek dulu ya, sip",
    "agent: oke banget kak, nanti aku follow up by email ya, thanks",
    # an explanation or an ownership apology is not blame
    "agent: mohon maaf atas kesalahan petugas kami, pak, kami perbaiki hari ini",
    "agent: blangko sempat kosong, bu, jadi antreannya panjang",
    "agent: tim kami akan segera memproses, estimasinya dua hari kerja",
    "agent: kalau ibu belum paham, bagian cs kami siap bantu kapan saja",
    "agent: salah satu teknisi kami akan datang besok jam sembilan",
    "agent: kalau bapak salah input, silakan ulangi dari menu awal",
    # a warning about fraud is not competitor bashing
    "agent: hati-hati penipuan yang mengatasnamakan bank, bu, jangan beri kode otp",
    # a greeting with an introduction, then a line check
    "agent: selamat pagi, dengan rina dari bank sejahtera\ncaller: halo?\nagent: halo?",
    "agent: selamat pagi pak, saya rina dari bank sejahtera, boleh minta waktunya sebentar?",
    # two apologies are fine
    "agent: mohon maaf atas kendalanya pak\ncaller: iya\nagent: maaf menunggu, sudah saya proses",
]


@pytest.mark.parametrize("text", ID_NEGATIVE)
def test_no_violation_id(text):
    assert not failed(text) & CONDUCT, text


EN_NEGATIVE = [
    "agent: oh no, that's terrible, they said it was delivered? let me check",
    "agent: the billing team always gets back to you within a day",
    "agent: they always get back to you within a day, the courier is quick",
    "agent: thanks to our partners we can offer free installation",
    "agent: you should have received a text with the code",
    "agent: whatever works best for you, we can do either date",
    "agent: hello, this is harper valley national bank, my name is ann\ncaller: hi",
    "agent: hello\ncaller: hi\nagent: thank you for calling northgate bank, this is sam\n"
    "caller: my card\nagent: which card\ncaller: visa\nagent: done\ncaller: thanks",
    "agent: that's so sweet of you to say, have a great day",
    "agent: sorry about that\ncaller: ok\nagent: sorry, could you repeat the number?",
]


@pytest.mark.parametrize("text", EN_NEGATIVE)
def test_no_violation_en(text):
    assert not failed(text, "en") & CONDUCT, text


# ---------------------------------------------------------------- repeated apology


def test_repeated_apology_is_counted_mechanically():
    # every token counts, "maaf mengganggu" and "maaf menunggu" included (README rule)
    text = (
        "agent: maaf mengganggu pak\ncaller: ya\nagent: maaf menunggu\ncaller: ya\nagent: maaf ya"
    )
    r = run(text)
    assert r.rule("repeated_apology").count == 3 and "repeated_apology" in r.violations()
    en = "agent: sorry for the wait\ncaller: ok\nagent: I apologise\ncaller: ok\nagent: sorry?"
    r = run(en, "en")
    assert r.rule("repeated_apology").count == 3 and "repeated_apology" in r.violations()
    assert [h.turn for h in r.rule("repeated_apology").hits] == [0, 2, 4]


def test_bare_hello_excused_by_an_introduction_says_so():
    text = (
        "agent: halo\ncaller: halo\nagent: dengan rina dari bank sejahtera, ada yang bisa dibantu"
    )
    r = run(text + "\ncaller: saldo\nagent: baik\ncaller: ya\nagent: sudah\ncaller: makasih")
    assert r.rule("excluded_phrases").status == "pass"
    assert "bare_hello_opening excused by introduction" in r.rule("excluded_phrases").note


# ---------------------------------------------------------------- negotiation only where it happens

COMPLAINT_ID = """
agent: selamat pagi, dengan rina dari bank sejahtera, ada yang bisa dibantu?
caller: saldo saya terpotong dua kali, saya mau batal saja langganannya
agent: mohon maaf pak, bisa dicicil juga nanti pengembaliannya, saya buatkan tiket
"""


def test_negotiation_rules_na_on_a_complaint_call():
    r = run(COMPLAINT_ID)
    for rid in ("ask_interests", "value_before_discount", "staged_concessions"):
        out = r.rule(rid)
        assert out.status == "n/a" and out.note == "no negotiation heard", (rid, out)
    en = "agent: good morning\ncaller: I want to cancel, my router is broken\nagent: sorry"
    r = run(en, "en")
    assert {r.rule(x).status for x in ("ask_interests", "value_before_discount")} == {"n/a"}


def test_negotiation_rules_apply_when_the_caller_asks_for_a_discount():
    r = run("caller: mahal, bisa diskon?\nagent: langsung saya kasih diskon maksimal 30% pak")
    assert r.rule("value_before_discount").status == "fail"
    assert r.rule("value_before_discount").hits[0].text  # the price cut that came first
    r = run("caller: bisa diskon?\nagent: bisa dicicil tiga kali pak", call_type="sales")
    assert r.rule("value_before_discount").status == "pass"
    assert r.rule("staged_concessions").status == "pass"


# ---------------------------------------------------------------- mechanisms, new wording
# Each mechanism added for calls written by others (issue 14), checked on wording none of the
# labelled calls uses, with a hard negative beside it.

ID_MECHANISMS = [
    # a colleague or partner called bad in so many words
    ("blame_colleague", "agent: teknisi kami itu memang payah bu, nanti saya laporkan"),
    ("blame_colleague", "agent: kurirnya lelet banget kak, bukan dari kami"),
    ("blame_colleague", "agent: kami sudah berkali-kali protes ke pihak ekspedisi pak"),
    # the customer's own action suggested as the cause, the records held against them
    ("blame_customer", "agent: mungkin bapak tidak sengaja klik tautannya"),
    ("blame_customer", "agent: ibu sendiri yang isi formulirnya kan"),
    ("blame_customer", "agent: di data kami tercatat ada persetujuan dari nomor ibu"),
    # a rival the caller named, called a fraud or cheap
    ("trash_competitor", "agent: Maju Finance mah abal-abal pak"),
    ("trash_competitor", "agent: rugi bapak kalau pindah ke sebelah"),
    # asking for the customer's time instead of greeting them
    ("excluded_phrases", "agent: halo pak, lagi sibuk nggak?\ncaller: kenapa\nagent: ada promo"),
]

ID_MECHANISM_NEGATIVES = [
    "agent: teknisi kami sudah cek, kerusakannya cukup parah pak, kami ganti unitnya",
    "agent: bapak sendiri yang tentukan jadwalnya ya",
    "agent: mungkin bapak mau ganti paket yang lebih kecil",
    "agent: di sistem tercatat pembayaran dari rekening bapak sudah masuk",
    "agent: selamat pagi bu, saya dina dari bank mentari, ada waktu sebentar?",
]

EN_MECHANISMS = [
    ("blame_colleague", "agent: our vendor is honestly hopeless with these orders"),
    ("blame_colleague", "agent: we've had so many complaints about that courier"),
    ("blame_customer", "agent: maybe you accidentally tapped the upgrade button"),
    ("blame_customer", "agent: our records show you confirmed the order by text"),
    ("trash_competitor", "agent: they're cowboys, that lot, trust me"),
    ("trash_competitor", "agent: well, you get what you pay for with them"),
]

EN_MECHANISM_NEGATIVES = [
    "agent: the technician said the damage is terrible, so we'll replace the unit",
    "agent: maybe you could try restarting the router first",
    "agent: our records show you paid on the fifth, so that's all fine",
]


@pytest.mark.parametrize("rule,text", ID_MECHANISMS)
def test_mechanism_found_id(rule, text):
    r = run(text)
    assert rule in r.violations(), text
    assert r.rule(rule).hits[0].speaker == "agent"


@pytest.mark.parametrize("text", ID_MECHANISM_NEGATIVES)
def test_mechanism_negatives_id(text):
    assert not failed(text) & CONDUCT, text


@pytest.mark.parametrize("rule,text", EN_MECHANISMS)
def test_mechanism_found_en(rule, text):
    r = run(text, "en")
    assert rule in r.violations(), text
    assert r.rule(rule).hits[0].text


@pytest.mark.parametrize("text", EN_MECHANISM_NEGATIVES)
def test_mechanism_negatives_en(text):
    assert not failed(text, "en") & CONDUCT, text
