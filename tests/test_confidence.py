"""Approximate matching of garbled words and honest ``unclear`` statuses (issue 14, item 5)."""

from __future__ import annotations

import re

from callscan.analysis import fuzzy, stages
from callscan.analysis.confidence import UNCLEAR
from callscan.conversation import Conversation, Turn, parse_text
from callscan.transcript import Word


def _turn(index: int, role: str, spoken: list[tuple[str, float]], start_s: float) -> Turn:
    """A recorded turn: words with probabilities, 0.4 s each."""
    words = [
        Word(text, start_s + 0.4 * k, start_s + 0.4 * k + 0.35, p)
        for k, (text, p) in enumerate(spoken)
    ]
    end_s = words[-1].end_s if words else start_s
    text = " ".join(w.text for w in words)
    return Turn(index, role, text, role, None, start_s, end_s, words)


def _call(opening: list[tuple[str, float]]) -> Conversation:
    sure = 0.95
    turns = [
        _turn(0, "agent", opening, 0.0),
        _turn(1, "caller", [(w, sure) for w in "Saya mau tanya tagihan bulan ini.".split()], 8.0),
        _turn(2, "agent", [(w, sure) for w in "Baik, mohon tunggu sebentar ya.".split()], 14.0),
        _turn(3, "caller", [(w, sure) for w in "Iya.".split()], 20.0),
        _turn(4, "agent", [(w, sure) for w in "Tagihan Bapak sudah benar.".split()], 30.0),
    ]
    return Conversation(turns=turns, language="id", source="<test>")


GARBLED = [
    ("Selamat", 0.81),
    ("pagi,", 0.5),
    ("Nusantara", 0.87),
    ("terlegum.", 0.48),
    ("Pengen", 0.31),
    ("suja.", 0.18),
    ("Ada", 0.55),
    ("yang", 0.96),
    ("bisa", 0.73),
    ("saya", 0.45),
    ("mantu?", 0.54),
]


def test_garbled_company_is_found_with_what_was_heard():
    turn = _call(GARBLED).turns[0]
    norm = turn.text.lower()
    company = re.compile(r"\bnusantara\s+telekom\b")
    hits = fuzzy.approximate_spans(turn, norm, company)
    assert len(hits) == 1
    a, b, heard = hits[0]
    assert turn.text[a:b] == "Nusantara terlegum"
    assert heard == "telekom heard as 'terlegum'"
    # a team's name is repaired also where the recogniser was sure of the garbled word
    sure = _turn(0, "agent", [(w, 0.99) for w, _ in GARBLED], 0.0)
    assert fuzzy.approximate_spans(sure, norm, company) == []
    named = fuzzy.approximate_spans(sure, norm, re.compile(r"\btelekom\b"), names=["Telekom"])
    assert [h[2] for h in named] == ["telekom heard as 'terlegum'"]


def test_playbook_cue_matches_a_garbled_word_and_says_so():
    result = stages.check(_call(GARBLED))
    offer = result.stage("contact").elements.get("offer_help", [])
    assert offer and offer[0].heard_as == "bantu heard as 'mantu'"
    assert offer[0].text.endswith("saya mantu")
    assert offer[0].to_dict()["heard_as"] == "bantu heard as 'mantu'"


def test_low_confidence_opening_is_unclear_and_flagged():
    result = stages.check(_call(GARBLED))
    contact = result.stage("contact")
    assert contact.status == UNCLEAR, contact
    assert result.needs_review
    assert any(r.startswith("contact:") and "opening" in r for r in result.review_reasons)
    data = result.to_dict()
    assert data["needs_review"] is True and data["review_reasons"]
    # the same opening heard clearly (still without a greeting) stays absent
    clear = stages.check(_call([(w, 0.97) for w, _ in GARBLED]))
    assert clear.stage("contact").status == stages.ABSENT
    assert not clear.needs_review and clear.review_reasons == []


def test_unclear_stage_leaves_the_scorecard_potential():
    unclear = stages.check(_call(GARBLED))
    clear = stages.check(_call([(w, 0.97) for w, _ in GARBLED]))
    weight = sum(s.weight for s in unclear.stages if s.status == UNCLEAR and s.required)
    assert weight >= unclear.stage("contact").weight
    assert unclear.potential == clear.potential - weight


def test_text_transcript_is_unchanged():
    text = "\n".join(
        [
            "agent: " + " ".join(w for w, _ in GARBLED),
            "caller: Saya mau tanya tagihan bulan ini.",
            "agent: Baik, mohon tunggu sebentar ya.",
            "caller: Iya.",
            "agent: Tagihan Bapak sudah benar.",
        ]
    )
    result = stages.check(parse_text(text, language="id"))
    assert result.stage("contact").status != UNCLEAR
    assert not result.needs_review and result.review_reasons == []
    every = [e for s in result.stages for v in s.elements.values() for e in v]
    every += [e for r in result.rules for e in r.hits]
    assert all(not e.heard_as for e in every)
    assert all("heard_as" not in e.to_dict() for e in every)


def test_bounds_short_words_and_numbers_are_never_fuzzy():
    assert fuzzy.max_edits("apa") == 0 and fuzzy.max_edits("2024") == 0
    assert fuzzy.max_edits("a1b2c") == 0
    assert fuzzy.max_edits("bantu") == 1 and fuzzy.max_edits("mengerti") == 2
    assert fuzzy.distance("mantu", "bantu", 1) == 1
    assert fuzzy.distance("tleekom", "telekom", 1) == 1  # an adjacent swap is one edit
    assert fuzzy.distance("halo", "hello", 1) == 2  # above the limit: limit + 1
    turn = _turn(0, "agent", [("apo", 0.1), ("kabar", 0.9), ("1235", 0.1)], 0.0)
    norm = turn.text.lower()
    assert fuzzy.approximate_spans(turn, norm, re.compile(r"\bapa\s+kabar\b")) == []
    assert fuzzy.approximate_spans(turn, norm, re.compile(r"\b1234\b")) == []
    # two edits are too many for a 5-letter word
    far = _turn(0, "agent", [("saya", 0.9), ("manti", 0.2)], 0.0)
    assert fuzzy.approximate_spans(far, far.text.lower(), re.compile(r"\bsaya\s+bantu\b")) == []


def test_cue_words_skip_classes_escapes_and_negative_lookarounds():
    words = fuzzy.cue_words(
        r"\bada\s+yang\s+(?:bisa|dapat)\s+(?!(?:senang|baik)\b)[a-z]+\s+bantu\b"
    )
    assert words == {"yang", "bisa", "dapat", "bantu"}


def test_forbidden_rule_never_fails_on_an_approximate_match():
    # "mantu" is one edit from the slang "mantul" as well as from "bantu"
    result = stages.check(_call(GARBLED))
    slang = [r for r in result.rules if r.group == "conduct" and r.kind == "forbidden"]
    for rule in slang:
        assert all(not e.heard_as for e in rule.hits), rule


def test_a_clipped_short_word_is_repaired_only_inside_a_cue_phrase():
    # "Go afternoon": Whisper clipped "good"; "go" is under 4 letters, so it is never repaired
    # alone, but inside the cue phrase "good afternoon" (the other word heard exactly) it is
    greeting = re.compile(r"\bgood\s+(?:morning|afternoon|evening)\b")
    assert ("good", "afternoon") in fuzzy.cue_phrases(greeting.pattern)
    assert fuzzy.cue_phrases(r"\bthis\s+is\s+(?!the\s+wrong)\w+") == {("this", "is")}
    turn = _turn(0, "agent", [("Go", 0.21), ("afternoon,", 0.68), ("Sarah", 0.9)], 0.0)
    hits = fuzzy.approximate_spans(turn, turn.text.lower(), greeting)
    assert [(turn.text[a:b], heard) for a, b, heard in hits] == [
        ("Go afternoon", "good heard as 'Go'")
    ]
    # the recogniser was sure of "go": left as heard; a different short word is never read
    sure = _turn(0, "agent", [("Go", 0.9), ("afternoon,", 0.68)], 0.0)
    assert fuzzy.approximate_spans(sure, sure.text.lower(), greeting) == []
    other = _turn(0, "agent", [("Do", 0.2), ("afternoon,", 0.68)], 0.0)
    assert fuzzy.approximate_spans(other, other.text.lower(), greeting) == []
    # the phrase's other word must be heard exactly
    alone = _turn(0, "agent", [("Go", 0.2), ("aftermoon,", 0.9)], 0.0)
    assert fuzzy.approximate_spans(alone, alone.text.lower(), greeting) == []
