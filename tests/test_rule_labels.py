"""Conduct rules on calls labelled, for that rule, by readers who never saw it.

The scripted greeting: ``tests/data/opening-labels`` (810 calls: the dev-calls and the blind
sets) and the two tuning sets ``tests/data/opening-tune*`` (400 openings written and labelled
blind to the rule) say whether each opening holds a formal greeting, the organisation's name
and the agent's own name. Without a team profile the rule must find the organisation from
where an opening puts it; before it could, 92-95% of its "missing: company" findings were
wrong. The farewell: ``tests/data/closing-labels`` (the same 810 calls) and
``tests/data/closing-tune`` (200 call endings) say whether the agent closes with a closing
courtesy; before, half of its "not heard" findings on the blind sets were wrong. The hold
rules: ``tests/data/hold-labels/all-calls.jsonl`` (the same 810 calls, read whole) and
``tests/data/hold-tune*`` (480 calls and excerpts written blind to the rules) say whether the agent
puts the customer on hold and, if so, asks first, says how long and thanks them after; before,
two in three calls the hold rules applied to on the blind sets had no hold at all. The bare
"no": ``tests/data/bare-no-labels`` (the same 810 calls) and ``tests/data/bare-no-tune*`` (520
excerpts and whole calls written blind to the rule) say whether the agent refuses a request with
a refusal and nothing else in the turn; before, the rule heard none of the blind sets' sure
bare refusals. Name use: ``tests/data/name-labels`` (the same 810 calls) and
``tests/data/name-tune*`` (260 calls written blind to the rule) say whether the agent addresses
the customer by name.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from callscan.analysis import stages
from callscan.analysis.playbook import load_playbook
from callscan.conversation import parse_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import eval_rule_labels  # noqa: E402


def _labels(rule: str) -> list[dict]:
    return eval_rule_labels.read_labels(rule)


@pytest.fixture(scope="module")
def groups():
    return eval_rule_labels.score(_labels("scripted_greeting"))


@pytest.fixture(scope="module")
def farewell_groups():
    return eval_rule_labels.score(_labels("farewell"), "farewell")


@pytest.fixture(scope="module")
def hold_groups():
    return eval_rule_labels.score(_labels("hold"), "hold")


@pytest.mark.parametrize(
    ("rule", "n"),
    [
        ("scripted_greeting", 1210),
        ("farewell", 1010),
        ("hold", 1290),
        ("bare_no", 1330),
        ("name_use", 1070),
    ],
)
def test_labelled_sets_are_whole(rule, n):
    rows = _labels(rule)
    elements = eval_rule_labels.RULES[rule][1]
    assert all({*elements, "unsure"} <= set(r) for r in rows)
    assert all(eval_rule_labels.transcript_path(r["id"]).is_file() for r in rows)
    assert len(rows) == len({r["id"] for r in rows}) == n


@pytest.mark.parametrize("group", ["tune", "dev", "heldout", "blind"])
def test_each_element_on_labelled_openings(groups, group):
    g = groups[group]
    for element, counts in g.elements.items():
        row = counts.row()
        assert row["accuracy"] >= 0.93, (group, element, row, g.errors[:20])
        assert row["present_p"] >= 0.97, (group, element, row)  # no element invented
    # what a user reads: a failed rule is a real miss (before: 35% on the blind sets)
    assert g.rule.row()["missing_p"] >= 0.85, (group, g.rule.row())


def test_blind_sets_company_recall(groups):
    company = groups["blind"].elements["company"].row()
    assert company["present_r"] >= 0.90, company  # before: 0.42


def _rules(text: str, language: str, call_type: str = "auto") -> dict:
    """The bundled playbook's rule outcomes on ``text`` (rules alone, no team profile), by id."""
    conv = parse_text(text, language=language)
    options = stages.StageOptions(classifier=False, call_type=call_type)
    result = stages.check(conv, load_playbook(language=language), options)
    return {r.id: r for r in result.rules}


def _rule(text: str, language: str):
    rule = _rules(text, language)["scripted_greeting"]
    return {h.rule.split(".", 1)[1]: h.text for h in rule.hits}, rule.note


@pytest.mark.parametrize(
    ("text", "language", "found", "missing"),
    [
        (  # a real HarperValleyBank opening (dev-calls): the bank's name, no formal greeting
            "agent: hello this is harper valley national bank my name is jennifer how can i "
            "help you today\ncaller: hi i need to check my balance",
            "en",
            {"company": "harper valley national bank", "agent_name": "my name is jennifer"},
            "missing: greeting",
        ),
        (
            "agent: Good morning, technical support, this is Arjun, may I have your ticket "
            "number?\ncaller: Sure.",
            "en",
            {"greeting": "Good morning"},
            "missing: company",
        ),
        (
            "agent: Selamat pagi, Rumah Sakit Medika Harapan, dengan Anisa di bagian "
            "pendaftaran. Ada yang bisa saya bantu, Ibu?\ncaller: Saya mau daftar.",
            "id",
            {"greeting": "Selamat pagi", "company": "Rumah Sakit Medika Harapan"},
            "",
        ),
        (  # an outbound call asking for the customer: her name is not the agent's
            "caller: halo\nagent: halo selamat pagi dengan ibu wulan\ncaller: iya saya",
            "id",
            {"greeting": "selamat pagi"},
            "missing: company, agent_name",
        ),
    ],
)
def test_openings(text, language, found, missing):
    hits, note = _rule(text, language)
    for element, evidence in found.items():
        assert hits.get(element) == evidence, hits
    assert note == missing


@pytest.mark.parametrize("group", ["tune", "dev", "heldout", "blind"])
def test_farewell_on_labelled_closes(farewell_groups, group):
    row = farewell_groups[group].elements["farewell"].row()
    assert row["accuracy"] >= 0.94, (group, row, farewell_groups[group].errors[:20])
    assert row["present_p"] >= 0.98, (group, row)  # a courtesy is never invented
    if group == "blind":  # before: half the "not heard" findings were wrong
        assert row["missing_p"] >= 0.75 and row["present_r"] >= 0.90, row


@pytest.mark.parametrize(
    ("text", "language", "heard"),
    [
        (
            "agent: Done.\ncaller: Great.\nagent: Thanks for booking with Skyway. Enjoy the conference.",
            "en",
            True,
        ),
        ("agent: Done.\ncaller: Great.\nagent: okay see you monday then bye", "en", True),
        ("agent: Done.\ncaller: Great, bye.\nagent: Thank you for the details.", "en", False),
        (
            "agent: Sudah, Bu.\ncaller: Makasih.\nagent: Sama-sama, Bu, semoga lekas sembuh ya.",
            "id",
            True,
        ),
        (
            "agent: Sudah, Pak.\ncaller: Oke.\nagent: Baik, terima kasih, Pak. Malam, Pak.",
            "id",
            True,
        ),
        ("agent: Sudah, Pak.\ncaller: Oke, makasih.\nagent: Ya, makasih.", "id", False),
    ],
)
def test_closes(text, language, heard):
    rule = _rules(text, language, "service")["farewell"]
    assert (rule.status == "pass") is heard, (rule.status, rule.note)


# (tuned on, tuned on, held out, never read row by row): the hold rules apply on a real hold,
# and their "not heard" findings are right; before on the blind sets: hold P 0.33, R 0.35,
# "thanks: not heard" P 0.17, R 0.20
HOLD_FLOORS = {
    "tune": (0.97, 0.85),
    "dev": (0.95, 0.95),
    "heldout": (0.95, 0.95),
    "blind": (0.45, 0.35),
}


@pytest.mark.parametrize("group", ["tune", "dev", "heldout", "blind"])
def test_hold_rules_on_labelled_calls(hold_groups, group):
    g = hold_groups[group]
    precision, recall = HOLD_FLOORS[group]
    errors = [] if group == "blind" else g.errors[:20]  # the blind rows are never read
    for element, counts in g.elements.items():
        row = counts.row()
        assert row["present_p"] >= precision, (group, element, row, errors)
        assert row["present_r"] >= recall, (group, element, row, errors)
        assert row["accuracy"] >= 0.95, (group, element, row)
    if group == "blind":
        hold = g.elements["hold"].row()
        assert hold["present_p"] >= 0.55 and hold["present_r"] >= 0.45, hold


def _hold(text: str, language: str) -> dict[str, str]:
    rules = _rules(text, language, "service")
    return {x: rules[x].status for x in ("hold_ask", "hold_duration", "hold_thanks")}


@pytest.mark.parametrize(
    ("text", "language", "statuses"),
    [
        (  # a real hold: asked, a length, thanks on return
            "agent: May I put you on a brief hold while I check that? It should take about two "
            "minutes.\ncaller: Sure.\nagent: Thank you for holding. The payment went through.",
            "en",
            ("pass", "pass", "pass"),
        ),
        (  # told, the notice ends the turn, the answer later
            "agent: okay let me pull up the adjuster notes please hold\ncaller: okay\n"
            "agent: okay i'm back so the adjuster approved it",
            "en",
            ("fail", "fail", "fail"),
        ),
        (  # the answer in the same turn: no wait
            "agent: Sure, just hold on one second while I open it... there, I can see it. It's "
            "the Lakeview cabin for three nights.\ncaller: Great.",
            "en",
            ("n/a", "n/a", "n/a"),
        ),
        (  # a hold on an account, and asking for the customer's time
            "agent: Good afternoon, it's Tyler from Drivewell Leasing. Got a minute?\n"
            "caller: Sure.\nagent: I see there's a hold on the account because the ID check "
            "expired.",
            "en",
            ("n/a", "n/a", "n/a"),
        ),
        (  # a transfer
            "agent: Can you hold the line while I transfer you to billing?\ncaller: Okay.",
            "en",
            ("n/a", "n/a", "n/a"),
        ),
        (
            "agent: Baik, Pak. Boleh saya minta waktunya sekitar dua menit untuk saya cek?\n"
            "caller: Iya.\nagent: Terima kasih sudah menunggu, Pak. Datanya sudah benar.",
            "id",
            ("pass", "pass", "pass"),
        ),
        (  # Javanese: asked, with a length, thanks on return
            "agent: nggih bu kula cek riyin teng gudang kinten kinten tigang menit menawi kersa "
            "ibu nengga\ncaller: nggih\nagent: matur nuwun sampun nengga bu barangipun wonten",
            "id",
            ("pass", "pass", "pass"),
        ),
        (  # an apology said with the notice is no thanks on return
            "agent: baik pak mohon maaf menunggu saya cek dulu\ncaller: iya\n"
            "agent: sudah pak datanya cocok",
            "id",
            ("fail", "fail", "fail"),
        ),
        (  # the answer in the same turn
            "agent: Saya cek dulu ya... oh iya, sudah masuk pembayarannya, Pak, tanggal 14.\n"
            "caller: Oh syukurlah.",
            "id",
            ("n/a", "n/a", "n/a"),
        ),
        (  # waiting for an SMS, and an outbound caller asking for time
            "agent: Maaf mengganggu, Kak. Boleh minta waktunya dua menit?\ncaller: Boleh.\n"
            "agent: Mohon tunggu konfirmasi lewat SMS dalam 1x24 jam.",
            "id",
            ("n/a", "n/a", "n/a"),
        ),
    ],
)
def test_holds(text, language, statuses):
    got = _hold(text, language)
    assert (got["hold_ask"], got["hold_duration"], got["hold_thanks"]) == statuses, got


# precision, recall floors of one-element rules on calls labelled by readers who never saw
# them: the sets written blind to each rule (``tests/data/bare-no-tune*``, 520 excerpts and
# whole calls; ``tests/data/name-tune*``, 260 calls), the dev-calls and the blind sets
# (measured, never read row by row). Before this round, on the blind sets: bare "no" 0.00 /
# 0.00, name use 0.94 / 0.72.
FLOORS = {
    "bare_no": {
        "tune": (0.97, 0.97),
        "dev": (0.99, 0.99),
        "heldout": (0.99, 0.99),
        "blind": (0.95, 0.55),
    },
    "name_use": {
        "tune": (0.97, 0.65),
        "dev": (0.99, 0.99),
        "heldout": (0.99, 0.99),
        "blind": (0.95, 0.80),
    },
}
_SCORES: dict[str, dict] = {}


@pytest.mark.parametrize("group", ["tune", "dev", "heldout", "blind"])
@pytest.mark.parametrize("rule", sorted(FLOORS))
def test_one_element_rules_on_labelled_calls(rule, group):
    if rule not in _SCORES:  # scored once per rule for its four groups
        _SCORES[rule] = eval_rule_labels.score(_labels(rule), rule)
    g = _SCORES[rule][group]
    precision, recall = FLOORS[rule][group]
    row = g.elements[rule].row()
    errors = [] if group == "blind" else g.errors[:20]  # the blind rows are never read
    assert row["present_p"] >= precision, (rule, group, row, errors)
    assert row["present_r"] >= recall, (rule, group, row, errors)


def _bare_no(text: str, language: str) -> str:
    return _rules(text, language, "service")["bare_no"].status


@pytest.mark.parametrize(
    ("text", "language", "status"),
    [
        ("caller: Can you waive the late fee?\nagent: I'm afraid not, sir.", "en", "fail"),
        (  # an apology and an address around it add nothing
            "caller: Can you refund it?\nagent: I do apologise, Ms. Carter, but no, we're "
            "unable to do that.",
            "en",
            "fail",
        ),
        ("caller: Can I speak to a manager?\nagent: uh no we cant do that", "en", "fail"),
        (  # BPO politeness around it
            "caller: Please extend it.\nagent: I'm sorry, ma'am, kindly note that we will not "
            "be able to do that.",
            "en",
            "fail",
        ),
        (  # a reason in the same turn
            "caller: Can you waive the fee?\nagent: No, I can't waive it, because the payment "
            "was 40 days late.",
            "en",
            "pass",
        ),
        (  # an alternative in the same turn
            "caller: Can I get cash back?\nagent: Unfortunately that's not possible, but I can "
            "put it on your card as store credit today.",
            "en",
            "pass",
        ),
        ("caller: Is there a charge?\nagent: No problem, there's no charge at all.", "en", "pass"),
        ("caller: Bisa dikembalikan, Kak?\nagent: Waduh, ndak bisa, Pak.", "id", "fail"),
        (
            "caller: Minta dihapus dendanya.\nagent: Mohon maaf sekali, Ibu, permintaan "
            "tersebut tidak dapat kami penuhi.",
            "id",
            "fail",
        ),
        ("caller: Bisa diskon?\nagent: Punten, Bu, teu tiasa.", "id", "fail"),
        ("caller: Boleh refund?\nagent: Sorry, kak, can't. Nggak bisa.", "id", "fail"),
        (  # a reason in the same turn
            "caller: Bisa dipercepat?\nagent: Tidak bisa, Pak, karena jadwalnya sudah penuh.",
            "id",
            "pass",
        ),
        (  # a factual "there is no outage", not a refusal
            "caller: Ada gangguan ya?\nagent: eee nggak ada gangguan di daerah itu pak",
            "id",
            "pass",
        ),
        # a bare "No." refuses only when it answers a request, not a question of fact
        ("caller: Can you waive the fee?\nagent: No.", "en", "fail"),
        ("agent: No.\ncaller: Can you waive the fee?", "en", "pass"),  # nothing asked before it
        (  # the caller's last turn is what it answers, not an earlier request
            "caller: Can you waive the fee?\nagent: Let me see.\ncaller: Is it blocked too?\n"
            "agent: No.",
            "en",
            "pass",
        ),
        ("caller: Is there a fee for switching plans?\nagent: No.", "en", "pass"),
        ("caller: Do I need to bring anything?\nagent: Nope.", "en", "pass"),
        ("caller: Bisa dihapus dendanya, Kak?\nagent: Nggak, Kak.", "id", "fail"),
        ("caller: Harus ke kantor ya, nggak bisa online?\nagent: nggak", "id", "fail"),
        ("caller: Ada biaya ganti paket nggak, Kak?\nagent: Nggak, Kak.", "id", "pass"),
        ("caller: Jadi diblokir nggak, Mas?\nagent: Tidak, Bu.", "id", "pass"),
        (  # refusals in passive and idiomatic forms
            "caller: Could you make an exception?\nagent: That can't be done.",
            "en",
            "fail",
        ),
        ("caller: Can you upgrade us?\nagent: That's out of the question.", "en", "fail"),
        ("caller: bisa refund nggak kak\nagent: refund nggak bisa kak", "id", "fail"),
        ("caller: Bang, bisa kagak jadi hari ini?\nagent: Kagak bisa, Bang.", "id", "fail"),
    ],
)
def test_bare_refusals(text, language, status):
    assert _bare_no(text, language) == status


@pytest.mark.parametrize(
    ("text", "language", "status"),
    [
        (  # the agent's own intro before the caller gives the same first name
            "agent: hello this is harper valley national bank my name is linda how can i help\n"
            "caller: hi my name is linda garcia i would like to schedule an appointment\n"
            "agent: what day would you like",
            "en",
            "n/a",
        ),
        (  # a payee's name is no caller's name
            "agent: what is the name of the company\ncaller: fossil gas\n"
            "agent: we will send your payment to fossil gas",
            "en",
            "n/a",
        ),
        (  # checked at the start, used at the end
            "agent: hey good evening is this marco it's jake from castle mobile\n"
            "caller: uh yeah this is marco\nagent: thanks marco have a good one",
            "en",
            "pass",
        ),
        ("caller: hi\nagent: thank you mister nguyen have a lovely trip", "en", "pass"),
        (
            "agent: atas nama bapak hasan jatuh tempo tanggal dua puluh\ncaller: iya\n"
            "agent: terima kasih pak hasan selamat sore",
            "id",
            "pass",
        ),
        (  # "saya sekarang di lobi": "sekarang" is no name
            "caller: Halo, Mbak. Saya sekarang di lobi hotel.\nagent: Baik, sekarang saya cek.",
            "id",
            "n/a",
        ),
        ("agent: dengan bapak siapa?\ncaller: Hendra\nagent: baik pak hendra", "id", "pass"),
        # a title and a name: the customer when spoken to, someone else mid-sentence
        ("caller: Hi.\nagent: Thank you, Mrs. Bianchi. Anything else?", "en", "pass"),
        ("caller: Hi.\nagent: You're welcome. Take care, Linda.", "en", "pass"),
        (
            "caller: Hi.\nagent: Mr. Lee from our claims team will call you. I've added "
            "Mrs. Patel now.",
            "en",
            "n/a",
        ),
        ("caller: Hi.\nagent: Try Mr. Muscle on it, ma'am.", "en", "n/a"),
        ("caller: Halo.\nagent: Baik, Kang Asep, wifinya sudah bisa dipakai.", "id", "pass"),
        (
            "caller: Halo.\nagent: Mohon maaf, Pak. Saya eskalasi ke atasan saya, Bu Ratih, "
            "manajer gedung.",
            "id",
            "n/a",
        ),
        (  # the name the agent checked is the account holder's, not the caller's
            "agent: Bisa bicara dengan Bapak Gunawan?\ncaller: Saya istrinya.\n"
            "agent: Terima kasih, Ibu. Bapak Gunawan bisa menghubungi kami.",
            "id",
            "n/a",
        ),
    ],
)
def test_name_use(text, language, status):
    assert _rules(text, language, "service")["name_use"].status == status


# Handled objections (a stage, scored with the turn classifier as callscan runs by default):
# ``tests/data/objection-tune`` (160 calls written blind to the rules, tuned on),
# ``objection-tune-2`` (100 whole calls written blind, never tuned on), the dev-calls and the
# blind sets (never read row by row). Before the fifteenth round: tune 0.92 / 0.44, tune-2
# 0.94 / 0.65, blind 0.91 / 0.84.
OBJECTION_FLOORS = {
    "tune": (0.93, 0.89),
    "tune-2": (0.93, 0.70),
    "dev": (0.99, 0.99),
    "heldout": (0.99, 0.99),
    "blind": (0.89, 0.86),
}


# Whether the caller raised a grievance (the complaint steps are scored only then), with the
# turn classifier as callscan runs by default: ``tests/data/grievance-tune`` and
# ``grievance-tune-2`` (written blind to the rules, tuned on), ``grievance-test`` (written
# beside them, never tuned on), the dev-calls and the blind sets (never read row by row).
# Before the sixteenth round: tune 0.72 / 0.94, test 0.90 / 0.92, blind 0.88 / 0.99.
GRIEVANCE_FLOORS = {
    "tune": (0.80, 0.95),
    "test": (0.88, 0.90),
    "dev": (0.99, 0.99),
    "heldout": (0.59, 0.99),
    "blind": (0.87, 0.96),
}


# the call-level labels scored with the turn classifier: their floors per group, and the set
# written beside the tuning sets (its group name, its folder, the group its rows fall in)
CALL_LEVEL = {
    "objection": (OBJECTION_FLOORS, "tune-2", "objection-tune-2", "tune"),
    "grievance": (GRIEVANCE_FLOORS, "test", "grievance-test", "blind"),
}


@pytest.fixture(scope="module")
def call_level_scores():
    cache: dict[str, dict] = {}

    def get(rule: str) -> dict:
        if rule not in cache:
            _, name, folder, group = CALL_LEVEL[rule]
            scores = eval_rule_labels.score(_labels(rule), rule)
            fresh = eval_rule_labels.DATA / folder / "labels.jsonl"
            rows = eval_rule_labels.read_labels(rule, [fresh])
            scores[name] = eval_rule_labels.score(rows, rule)[group]
            cache[rule] = scores
        return cache[rule]

    return get


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rule", "group"),
    [(rule, group) for rule, (floors, *_) in CALL_LEVEL.items() for group in sorted(floors)],
)
def test_call_level_labels_on_labelled_calls(call_level_scores, rule, group):
    g = call_level_scores(rule)[group]
    precision, recall = CALL_LEVEL[rule][0][group]
    row = g.elements[rule].row()
    errors = g.errors[:20] if group in ("tune", "dev") else []  # the others are never read
    assert row["present_p"] >= precision, (rule, group, row, errors)
    assert row["present_r"] >= recall, (rule, group, row, errors)


def _objection(text: str, language: str) -> str:
    conv = parse_text(text, language=language)
    return (
        stages.check(conv, options=stages.StageOptions(classifier=False)).stage("objection").status
    )


@pytest.mark.parametrize(
    ("text", "language", "status"),
    [
        (  # a protest in general words, a fair-point acknowledgement, an option and a question
            "caller: Why do I have to come in person? It's the twenty-first century.\n"
            "agent: That's a fair point. You can renew online; when did you last renew?",
            "en",
            "present",
        ),
        (
            "caller: Twelve months? No way, I can't commit to a year.\n"
            "agent: Totally get that. We could start you on the month-to-month plan instead.",
            "en",
            "present",
        ),
        (  # Betawi: "aye ngarti" and a question about what he watches
            "caller: Kagak deh, aye udah pasang parabola, ngapain bayar.\n"
            "agent: Iye Bang, aye ngarti. Kalau boleh tahu, Abang paling sering nonton apa?",
            "id",
            "present",
        ),
        (
            "caller: Waduh, DP-ne kok abot tenan, Mas.\n"
            "agent: Nggih Pak, kulo ngertos. Pripun kalau DP-nya dua puluh persen saja?",
            "id",
            "present",
        ),
        (  # "nggak ngerti apa-apa" runs a rival down: no acknowledgement (dev-calls dev_id_24)
            "caller: Wah, mahal juga. Kelana Tour cuma tiga puluh dua.\n"
            "agent: Kelana Tour itu pemandunya nggak ngerti apa-apa. Mau saya kunci harganya?",
            "id",
            "absent",
        ),
    ],
)
def test_objections_heard_and_handled_in_more_words(text, language, status):
    assert _objection(text, language) == status
