"""Conduct rules generalise from the definitions, not from the calls they were tuned on (issue 14).

``tests/data/conduct/utterances.yaml`` holds agent utterances written from the QA definitions
(../shared/data/dev-calls/README.md), in both languages, with hard negatives beside them. Each
item runs through the real bundled playbook, as a one-turn agent call or, where context matters
(openings, apology counts), as the short call it is written as. Every item is checked against
every conduct rule, so a negative, or a positive of another rule, that a rule flags is a false
positive of that rule. Per rule and language, precision must be >= 0.90 and recall >= 0.85.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from callscan.analysis.stages import StageResult, check
from callscan.conversation import parse_text

DATA = Path(__file__).parent / "data" / "conduct" / "utterances.yaml"
RULES = (
    "blame_colleague",
    "blame_customer",
    "trash_competitor",
    "slang_jargon",
    "excluded_phrases",
    "repeated_apology",
)
MIN_PRECISION = 0.90
MIN_RECALL = 0.85
MIN_ITEMS = 25  # positives and hard negatives per language for the four wording rules
WORDING_RULES = ("blame_colleague", "blame_customer", "trash_competitor", "slang_jargon")


@cache
def utterances() -> dict:
    with open(DATA, encoding="utf-8") as f:
        return yaml.safe_load(f)


def as_call(item: str) -> str:
    """An utterance is one agent turn; an item written as lines with roles is a whole call."""
    return item if item.startswith("agent:") else f"agent: {item}"


@cache
def result(item: str, language: str) -> StageResult:
    return check(parse_text(as_call(item), language=language))


def items(language: str) -> list[tuple[str, str | None]]:
    """(utterance, the rule it violates or None) for every item of a language."""
    out = []
    for rule, group in utterances()[language].items():
        out += [(text, rule) for text in group["positive"]]
        out += [(text, None) for text in group["negative"]]
    return out


def test_the_set_is_large_and_labelled_with_known_rules():
    for language in ("id", "en"):
        groups = utterances()[language]
        assert set(groups) == set(RULES), language
        for rule in WORDING_RULES:
            for kind in ("positive", "negative"):
                assert len(groups[rule][kind]) >= MIN_ITEMS, (language, rule, kind)
        for rule in ("excluded_phrases",):
            assert min(len(groups[rule]["positive"]), len(groups[rule]["negative"])) >= 10
        texts = [t for t, _ in items(language)]
        assert len(texts) == len(set(texts)), "duplicate utterances"


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("rule", RULES)
def test_rule_precision_and_recall(rule, language):
    tp, missed, false_alarms = 0, [], []
    for text, truth in items(language):
        flagged = result(text, language).rule(rule).status == "fail"
        if truth == rule:
            if flagged:
                tp += 1
            else:
                missed.append(text)
        elif flagged:
            hit = result(text, language).rule(rule).hits[0].text
            false_alarms.append(f"{text!r} (heard {hit!r})")
    precision = tp / (tp + len(false_alarms)) if tp + len(false_alarms) else 1.0
    recall = tp / (tp + len(missed))
    why = (
        f"{rule} [{language}] P {precision:.2f} R {recall:.2f}\n"
        + "".join(f"  missed: {t!r}\n" for t in missed)
        + "".join(f"  false alarm: {t}\n" for t in false_alarms)
    )
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, why


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_violation_cites_the_agent_words(language):
    for text, rule in items(language):
        if rule is None:
            continue
        out = result(text, language).rule(rule)
        if out.status == "fail":
            hit = out.hits[0]
            turn = parse_text(as_call(text), language=language).turns[hit.turn]
            assert hit.speaker == "agent" == turn.role and hit.text.strip(), (text, hit)
            assert hit.text in turn.text, (text, hit)  # the exact words, as written
