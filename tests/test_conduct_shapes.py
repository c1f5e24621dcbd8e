"""Conduct slips in shapes the earlier rules missed on the blind call sets (issue 14, round 5):
blame put on a colleague or partner by what they are said to do ("lose things all the time",
"miles behind", "never submitted the reversal", "cuek", "nggak update"), and fault put on the
customer in plain words ("down to you", "next time submit ...", "Bapak juga sih"). The wording
here is new (none of it is from a labelled set); each positive has a hard negative beside it:
the same topic with no blame."""

from __future__ import annotations

import pytest

from callscan.analysis.stages import check
from callscan.conversation import parse_text


def flagged(text: str, lang: str, rule: str) -> bool:
    return rule in check(parse_text(f"agent: {text}", language=lang)).violations()


BLAME_COLLEAGUE = [
    ("en", "Honestly, the claims team downstairs lose paperwork constantly, it's chaos."),
    ("en", "It's the spare parts warehouse, they're weeks behind on everything."),
    ("en", "The rep you spoke to never logged the cancellation, that's why."),
    ("en", "The cleaning crews are useless at turning up on time."),
    ("en", "That's the roofing subcontractor again, I'm afraid."),
    ("id", "Anak-anak gudang tuh lambat banget kalau soal retur."),
    ("id", "Itu agen lapangan kami yang salah kasih harga, Bu."),
    ("id", "Orang ekspedisinya memang cuek, nggak pernah mau angkat telepon."),
    ("id", "Itu dari pihak maskapai yang nggak update jadwalnya, Pak."),
    ("id", "Hasilnya telat karena memang lab-nya yang lambat, Pak."),
    ("id", "Itu ekspedisi rekanan kami yang bermasalah, Kak."),
    ("en", "Honestly, the depot staff are useless with updates."),
]
NOT_BLAME_COLLEAGUE = [
    ("en", "The claims team will call you back by Friday with the reference."),
    ("en", "The warehouse is closed on Sundays, so it ships Monday."),
    ("en", "The rep you spoke to noted everything, so I can see the history."),
    ("id", "Tim gudang akan kirim ulang barangnya besok pagi."),
    ("id", "Sistem kami belum update karena sedang pemeliharaan, Bu."),
    ("id", "Agen lapangan kami akan datang hari Kamis jam sepuluh."),
    ("id", "Hasil lab-nya sudah keluar, Pak, nanti dikirim lewat email."),
]
BLAME_CUSTOMER = [
    ("en", "Well, that one's down to you, I'm afraid."),
    ("en", "It's all in the terms you signed last year."),
    ("en", "Next time just read the email before you click."),
    ("en", "You must have turned auto-renew on yourself."),
    ("id", "Ibu juga sih, harusnya tanya dulu sebelum transfer."),
    ("id", "Harusnya Bapak udah tahu, itu ada di kontrak."),
    ("id", "Ya kebanyakan pelanggan nggak baca petunjuk pemakaian dulu."),
    ("id", "Mungkin Bapak nggak sadar kalau langganannya otomatis."),
    ("id", "Nomor yang Ibu isi kurang satu digit, makanya gagal."),
    ("id", "Kemungkinan Bapak salah simpan kartunya, Pak."),
    ("en", "Are you really the policyholder, though?"),
]
NOT_BLAME_CUSTOMER = [
    ("en", "That choice is down to you, both plans work."),
    ("en", "Next time you call, you'll go straight to my team."),
    ("en", "The terms are in the email I just sent you."),
    ("id", "Harusnya Bapak sudah menerima SMS konfirmasinya hari ini."),
    ("id", "Kalau Ibu mau, petunjuk pemakaiannya saya kirim lewat WhatsApp."),
    ("id", "Nomor yang Ibu isi sudah benar, tinggal tunggu verifikasi."),
    ("id", "Kemungkinan Bapak bisa ambil kartunya besok siang."),
    ("en", "Are you the policyholder, or calling for someone else?"),
    ("id", "Kurir kami kemarin buru-buru, Bu, salah kirim alamatnya. Hari ini saya kirim ulang."),
]


CASES = [
    *[(lang, text, "blame_colleague", True) for lang, text in BLAME_COLLEAGUE],
    *[(lang, text, "blame_colleague", False) for lang, text in NOT_BLAME_COLLEAGUE],
    *[(lang, text, "blame_customer", True) for lang, text in BLAME_CUSTOMER],
    *[(lang, text, "blame_customer", False) for lang, text in NOT_BLAME_CUSTOMER],
]


@pytest.mark.parametrize(("lang", "text", "rule", "slip"), CASES)
def test_each_shape_is_flagged_and_each_hard_negative_is_not(lang, text, rule, slip):
    assert flagged(text, lang, rule) is slip


REST = {  # the rest of the call: the opening is judged in the start of a call of normal length
    "en": "\ncaller: I want to change my delivery date.\nagent: Sure, which date suits you?"
    "\ncaller: Next Tuesday.\nagent: Done, Tuesday it is.\ncaller: Great.\nagent: Thanks, bye.",
    "id": "\ncaller: Saya mau ganti jadwal kirim.\nagent: Baik, mau tanggal berapa?"
    "\ncaller: Selasa depan.\nagent: Sudah saya ganti ke Selasa.\ncaller: Oke.\nagent: Terima kasih.",
}


def opening_flagged(call: str, lang: str) -> bool:
    conversation = parse_text(call + REST[lang], language=lang)
    return "excluded_phrases" in check(conversation).violations()


# Openings that stand in for a greeting plus introduction (round 6): the agent names
# themself or the company only once the caller has asked who it is, a hello that only checks
# who answered, and a request to bother the customer before the introduction.
EXCLUDED_OPENINGS = [
    ("en", "agent: hi\ncaller: hi, sorry, who is this?\nagent: it's Corinne at Oakhill Kitchens."),
    (
        "en",
        "agent: Hello? Is this Mrs. Okafor?\ncaller: Yes. Who's calling?\nagent: Dan here, from Tidewater Pools.",
    ),
    ("en", "agent: hey can I bother you a sec, this is Marco from Finch Print\ncaller: uh sure"),
    (
        "id",
        "agent: Halo?\ncaller: Halo, ini Bengkel Sinar Jaya, bukan?\nagent: Iya betul, dengan Yogi. Ada yang bisa dibantu?",
    ),
    (
        "id",
        "agent: Halo, apa benar ini dengan Ibu Ratna?\ncaller: Iya, ini siapa ya?\nagent: Saya Dimas dari Laundry Bersih Kilat, Bu.",
    ),
    (
        "id",
        "agent: halo bisa ganggu sebentar pak saya rizal dari asuransi mitra teduh\ncaller: iya ada apa",
    ),
]
PROPER_OPENINGS = [
    (
        "en",
        "agent: hi\ncaller: hi\nagent: sorry, line was bad there - it's Corinne at Oakhill Kitchens, how can I help?",
    ),
    (
        "en",
        "agent: Hello, this is Dan from Tidewater Pools. Is this Mrs. Okafor?\ncaller: Yes. Who's calling?",
    ),
    (
        "en",
        "agent: Hi, this is Marco from Finch Print, sorry to bother you, have you got a sec?\ncaller: uh sure",
    ),
    (
        "id",
        "agent: Halo, Bengkel Sinar Jaya dengan Yogi, ada yang bisa dibantu?\ncaller: Halo, ini Bengkel Sinar Jaya, bukan?",
    ),
    (
        "id",
        "agent: Selamat pagi, saya Dimas dari Laundry Bersih Kilat. Apa benar ini dengan Ibu Ratna?\ncaller: Iya.",
    ),
    (
        "id",
        "agent: halo selamat siang pak saya rizal dari asuransi mitra teduh bisa ganggu sebentar\ncaller: iya ada apa",
    ),
]


@pytest.mark.parametrize(
    ("lang", "call", "slip"),
    [
        *[(lang, c, True) for lang, c in EXCLUDED_OPENINGS],
        *[(lang, c, False) for lang, c in PROPER_OPENINGS],
    ],
)
def test_an_opening_the_caller_had_to_question_is_excluded_and_a_proper_one_is_not(
    lang, call, slip
):
    assert opening_flagged(call, lang) is slip
