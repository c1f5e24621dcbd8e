"""Playbooks load, validate with one-line errors (file, key, valid choices) and can be overridden."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from callscan.analysis.playbook import load_playbook, validate_file
from callscan.analysis.stages import StageOptions, check
from callscan.conversation import parse_text
from callscan.errors import ConfigError

MODELS = Path(__file__).resolve().parent.parent / "models"


def bundled(lang: str = "id") -> dict:
    return yaml.safe_load((MODELS / f"playbook_{lang}.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict, name: str = "team.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


@pytest.mark.parametrize("lang", ["id", "en"])
def test_bundled_playbooks_load(lang):
    pb = load_playbook(language=lang)
    assert pb.language == lang and pb.sources
    assert [s.id for s in pb.stages] == [
        "contact", "needs", "presentation", "objection", "closing",
        "acknowledge", "clarify", "resolve", "escalate", "recheck",
    ]  # fmt: skip
    groups = {r.group for r in pb.rules}
    assert groups == {"conduct", "hold", "negotiation"}
    assert pb.summary() == "10 stages, 17 conduct rules"
    assert all(s.anchors for s in pb.stages)  # semantic signal anchors for every step
    assert load_playbook(language=lang) is pb  # compiled once, cached


def test_unknown_language():
    with pytest.raises(ConfigError) as e:
        load_playbook(language="fr")
    assert (
        str(e.value)
        == "no bundled playbook for language 'fr' (valid: id, en); give a playbook file"
    )


def mutate(tmp_path, fn, lang="id") -> str:
    data = bundled(lang)
    fn(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as e:
        validate_file(path)
    return str(e.value).replace(str(path), "FILE")


def test_error_bad_strength(tmp_path):
    def fn(d):
        d["stages"]["contact"]["elements"]["greeting"]["strength"] = "medium"

    assert mutate(tmp_path, fn) == (
        "'FILE': stages.contact.elements.greeting.strength: 'medium' is not valid (valid: strong, weak)"
    )


def test_error_unknown_key(tmp_path):
    def fn(d):
        d["rules"]["blame_customer"]["severity"] = 3

    msg = mutate(tmp_path, fn)
    assert msg.startswith("'FILE': rules.blame_customer.severity: unknown key (valid: group, kind,")


def test_error_bad_kind_window_speaker_call_type(tmp_path):
    def kind(d):
        d["rules"]["bare_no"]["kind"] = "forbid"

    assert mutate(tmp_path, kind) == (
        "'FILE': rules.bare_no.kind: 'forbid' is not valid "
        "(valid: forbidden, required, bonus, max_count, before, silence, name_use)"
    )

    def window(d):
        d["rules"]["farewell"]["cues"]["farewell"]["window"] = "ending"

    assert mutate(tmp_path, window) == (
        "'FILE': rules.farewell.cues.farewell.window: 'ending' is not valid "
        "(valid: any, first, start, end, not_start, last_half)"
    )

    def speaker(d):
        d["triggers"]["objection"]["speaker"] = "customer"

    assert mutate(tmp_path, speaker) == (
        "'FILE': triggers.objection.speaker: 'customer' is not valid (valid: agent, caller, any)"
    )

    def call_type(d):
        d["stages"]["needs"]["off_for"] = ["service", "billing"]

    assert mutate(tmp_path, call_type) == (
        "'FILE': stages.needs.off_for[1]: 'billing' is not valid (valid: sales, complaint, service)"
    )

    def old_key(d):  # stages are checked on every call; `off_for` turns one off explicitly
        d["stages"]["needs"]["call_types"] = ["sales"]

    assert "stages.needs.call_types: unknown key (valid: order, off_for" in mutate(
        tmp_path, old_key
    )


def test_error_bad_regex_and_unknown_macro(tmp_path):
    def regex(d):
        d["rules"]["bare_no"]["cues"]["refusal"]["patterns"][0] = "(tidak"

    assert mutate(tmp_path, regex) == (
        "'FILE': rules.bare_no.cues.refusal.patterns[0]: "
        "invalid regex (missing ), unterminated subpattern at position 0)"
    )

    def later(d):  # a cue's patterns are checked joined; the one at fault is still named
        d["rules"]["bare_no"]["cues"]["refusal"]["patterns"].append("(?<=a+)b")

    n = len(bundled()["rules"]["bare_no"]["cues"]["refusal"]["patterns"])
    assert mutate(tmp_path, later) == (
        f"'FILE': rules.bare_no.cues.refusal.patterns[{n}]: "
        "invalid regex (look-behind requires fixed-width pattern)"
    )

    def reply_to(d):  # a cue's condition on the other party's last turn is checked too
        d["rules"]["bare_no"]["cues"]["bare"]["reply_to"] = ["(bisa"]

    assert mutate(tmp_path, reply_to) == (
        "'FILE': rules.bare_no.cues.bare.reply_to: "
        "invalid regex (missing ), unterminated subpattern at position 0)"
    )

    def macro(d):
        d["stages"]["needs"]["elements"]["open_question"]["patterns"] = ["<CUSTOMER> mau apa"]

    msg = mutate(tmp_path, macro)
    assert msg.startswith(
        "'FILE': stages.needs.elements.open_question.patterns[0]: unknown macro <CUSTOMER> (valid: "
    )
    assert all(m in msg for m in ("CL, ", "HON, ", "NAME, ", "TIME, ", "WE)"))


def test_a_macro_may_use_other_macros_but_not_itself(tmp_path):
    data = bundled()
    data["macros"]["ASKED"] = "<WE>\\s+(?:tanya|nanya)"
    data["macros"]["ASKED_TWICE"] = "<ASKED>\\s+lagi"
    data["stages"]["needs"]["elements"]["open_question"]["patterns"] = ["<ASKED_TWICE>"]
    pb = load_playbook(write(tmp_path, data))
    needs = {s.id: s for s in pb.stages}["needs"].elements["open_question"]
    assert needs.regex.search("boleh saya tanya lagi") and not needs.regex.search("saya tanya")

    def loop(d):
        d["macros"]["LOOP"] = "a<LOOP>"
        d["stages"]["needs"]["elements"]["open_question"]["patterns"] = ["<LOOP>"]

    assert mutate(tmp_path, loop) == (
        "'FILE': stages.needs.elements.open_question.patterns[0]: "
        "macros nested more than 4 deep (does a macro use itself?)"
    )


def test_error_references(tmp_path):
    def present_when(d):
        d["stages"]["contact"]["present_when"] = [["introduce_self"], ["smile"]]

    assert mutate(tmp_path, present_when) == (
        "'FILE': stages.contact.present_when[1]: 'smile' is not an element "
        "(valid: greeting, introduce_self, introduce_company, rapport, offer_help)"
    )

    def trigger(d):
        d["complaint_steps"]["recheck"]["applies_if"] = "angry_caller"

    msg = mutate(tmp_path, trigger)
    assert msg.startswith(
        "'FILE': complaint_steps.recheck.applies_if: 'angry_caller' is not a trigger (valid: "
    )
    assert all(t in msg for t in ("complaint", "hold_notice", "objection", "price_cut"))

    def triggers(d):  # a list of triggers: the stage applies when any of them is heard
        d["stages"]["objection"]["applies_if"] = ["objection", "angry_caller"]

    assert mutate(tmp_path, triggers).startswith(
        "'FILE': stages.objection.applies_if[1]: 'angry_caller' is not a trigger (valid: "
    )


def test_error_missing_and_unquoted_yes(tmp_path):
    def meta(d):
        del d["meta"]

    assert (
        mutate(tmp_path, meta) == "'FILE': meta: missing (a playbook needs meta, stages and rules)"
    )

    def yes(d):
        d["rules"]["name_use"]["stopwords"] = ["ya", True]

    assert (
        mutate(tmp_path, yes)
        == "'FILE': rules.name_use.stopwords[1]: True is not a string (quote it)"
    )

    def lang(d):
        d["meta"]["language"] = "jv"

    assert mutate(tmp_path, lang) == "'FILE': meta.language: 'jv' is not valid (valid: id, en)"


def test_error_no_cue_text_and_bad_numbers(tmp_path):
    def empty(d):
        d["rules"]["bare_no"]["cues"]["refusal"] = {"strength": "strong"}

    assert mutate(tmp_path, empty) == (
        "'FILE': rules.bare_no.cues.refusal: needs at least one of patterns, phrases or lemmas"
    )

    def weight(d):
        d["stages"]["contact"]["weight"] = -1

    assert (
        mutate(tmp_path, weight) == "'FILE': stages.contact.weight: must be a number >= 0, not -1"
    )


def test_error_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml': line \d+: invalid YAML"):
        validate_file(bad)
    with pytest.raises(ConfigError, match="no such file"):
        validate_file(tmp_path / "nope.yaml")


def test_phrases_allow_clitics(tmp_path):
    data = bundled()
    data["rules"]["excluded_phrases"]["cues"]["order_word"] = {"phrases": ["pesanan ibu"]}
    pb = load_playbook(write(tmp_path, data))
    r = check(parse_text("caller: halo\nagent: pesanannya ibu sudah dikirim", language="id"), pb)
    assert [h.text for h in r.rule("excluded_phrases").hits] == ["pesanannya ibu"]


def test_team_playbook_changes_the_result(tmp_path):
    text = "caller: rusak\nagent: mohon maaf pak\ncaller: iya\nagent: mohon maaf sekali pak"
    conv = parse_text(text, language="id")
    assert "repeated_apology" not in check(conv).violations()
    data = bundled()
    data["rules"]["repeated_apology"]["max"] = 1
    pb = load_playbook(write(tmp_path, data))
    assert "repeated_apology" in check(conv, pb).violations()


def test_models_dir_override(tmp_path, monkeypatch):
    data = bundled("en")
    data["meta"]["name"] = "team override"
    write(tmp_path, data, "playbook_en.yaml")
    monkeypatch.setenv("CALLSCAN_MODELS_DIR", str(tmp_path))
    assert load_playbook(language="en").name == "team override"


def test_weight_for_is_validated(tmp_path):
    def bad_type(d):
        d["stages"]["presentation"]["weight_for"] = {"billing": 0.5}

    assert mutate(tmp_path, bad_type) == (
        "'FILE': stages.presentation.weight_for.billing: unknown key "
        "(valid: sales, complaint, service)"
    )

    def zero(d):
        d["stages"]["presentation"]["weight_for"] = {"service": 0}

    assert mutate(tmp_path, zero) == (
        "'FILE': stages.presentation.weight_for.service: must be above 0 "
        "(use off_for to turn a stage off)"
    )

    def not_a_mapping(d):
        d["complaint_steps"]["resolve"]["weight_for"] = ["complaint"]

    assert mutate(tmp_path, not_a_mapping, "en") == (
        "'FILE': complaint_steps.resolve.weight_for: must be a mapping, not list"
    )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_bundled_emphasis_by_call_type(lang):
    pb = load_playbook(language=lang)
    assert pb.stage("presentation").weight_in("service") < pb.stage("presentation").weight
    assert pb.stage("presentation").weight_in("sales") > pb.stage("presentation").weight
    for step in ("acknowledge", "clarify", "resolve", "recheck"):
        assert pb.stage(step).weight_in("complaint") > pb.stage(step).weight_in("service")
    assert pb.stage("contact").weight_in("sales") == pb.stage("contact").weight


def test_team_sets_its_own_emphasis(tmp_path):
    text = "caller: mau tanya saldo\nagent: saldo bapak dua juta"
    conv = parse_text(text, language="id")
    data = bundled()
    data["stages"]["needs"]["weight_for"] = {"service": 3.0}
    pb = load_playbook(write(tmp_path, data))
    r = check(conv, pb, StageOptions(call_type="service"))
    assert r.stage("needs").status == "absent"
    assert (r.stage("needs").weight, r.stage("needs").emphasis) == (3.0, "more")
    assert r.potential - r.score >= 3.0  # the missing needs question costs its emphasised weight


def test_a_pattern_may_mark_its_evidence(tmp_path):
    """``(?P<ev>...)`` marks the words a hit shows (numbered per pattern once a cue's
    patterns are joined); without it the whole match is the evidence."""
    from callscan.analysis.matching import evidence_span

    data = bundled()
    data["stages"]["needs"]["elements"]["open_question"]["patterns"] = [
        r"\bboleh\s+saya\s+(?P<ev>tahu)\b",
        r"\bmau\s+(?P<ev>tanya)\s+dulu\b",
        r"\bkenapa\b",
    ]
    pb = load_playbook(write(tmp_path, data))
    rx = {s.id: s for s in pb.stages}["needs"].elements["open_question"].regex
    assert {"ev0_", "ev1_"} <= set(rx.groupindex)
    for text, evidence in [
        ("saya mau tanya dulu", "tanya"),
        ("boleh saya tahu alamatnya", "tahu"),
        ("kenapa begitu", "kenapa"),
    ]:
        m = rx.search(text)
        assert text[slice(*evidence_span(m))] == evidence
