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
