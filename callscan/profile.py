"""A team profile: the names a QA team writes down once (``--profile team.yaml``).

A profile lists the team's company names (with the variants and abbreviations people say),
departments, product names, agent roster, competitors and greeting script. It is validated
like every data file (:mod:`callscan.config`: one-line errors naming file, key and valid
choices; ``callscan config validate team.yaml`` recognises it) and used three ways:

* as cues: the contact check knows the company's and the agents' names, the competitor rule
  the competitors' (:mod:`callscan.analysis.profile_cues` turns them into playbook macros);
* as ASR vocabulary (:meth:`TeamProfile.vocabulary`): names and terms only, never whole
  sentences, as openai-whisper's prompt and faster-whisper's hotwords;
* in the report, which records the profile a call was analysed with.

The schema is documented in ``models/profile_example.yaml``.

Public API
----------
Name, TeamProfile, load_profile, validate_file, MAX_TERM_WORDS, VOCABULARY_MAX_CHARS
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callscan.config import Checker, cached, read_yaml

__all__ = [
    "MAX_TERM_WORDS",
    "VOCABULARY_MAX_CHARS",
    "Name",
    "TeamProfile",
    "load_profile",
    "validate_file",
]

MAX_TERM_WORDS = 6  # a name or term longer than this is a sentence, not vocabulary
MAX_TERM_CHARS = 60
VOCABULARY_MAX_CHARS = 240  # Whisper reads at most 223 prompt tokens; a short prompt invents less
_TOP_KEYS = (
    "team",
    "companies",
    "departments",
    "products",
    "agents",
    "competitors",
    "terms",
    "greeting",
    "redact",
    "asr_vocabulary",
)
_NAME_KEYS = ("name", "variants")
_SENTENCE = re.compile(r"[,;?!:\n]")  # clause or sentence punctuation
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("agent", "company")  # allowed in the greeting script


@dataclass(frozen=True)
class Name:
    """One named thing (a company, agent, product, ...) and the other ways people say it."""

    name: str  # as written, e.g. "Nusantara Telekom"
    variants: tuple[str, ...] = ()  # spoken variants and abbreviations, e.g. ("NusaTel",)

    @property
    def forms(self) -> tuple[str, ...]:
        """The name, then its variants."""
        return (self.name, *self.variants)


@dataclass(frozen=True)
class TeamProfile:
    """A validated team profile (see ``models/profile_example.yaml``)."""

    path: str  # file it was read from
    team: str = ""  # the team's own label for the profile, shown in reports
    companies: tuple[Name, ...] = ()  # the team's company (and brands)
    departments: tuple[Name, ...] = ()  # e.g. "layanan pelanggan", "billing"
    products: tuple[Name, ...] = ()  # product and plan names
    agents: tuple[Name, ...] = ()  # the agent roster (names they introduce themselves with)
    competitors: tuple[Name, ...] = ()  # competitors' names (the competitor-bashing rule)
    terms: tuple[str, ...] = ()  # other words the recogniser should know (vocabulary only)
    greeting: tuple[str, ...] = ()  # the scripted greeting(s), with {agent} / {company}
    redact: bool = False  # mask personal data in every report by default (callscan.redact)
    # give the names and terms to the recogniser too (a prompt / hotwords on the opening
    # windows). Off by default: measured on the samples it bought no finding and cost
    # Indonesian WER and some invented names (samples/README.md)
    asr_vocabulary: bool = False

    def vocabulary(self, max_chars: int = VOCABULARY_MAX_CHARS) -> tuple[str, ...]:
        """Names and terms for the recogniser, most useful first, within ``max_chars``.

        Company, agent, product and department names, the extra terms, competitors, then
        the variants; duplicates (ignoring case) dropped. Never the greeting script: whole
        sentences in a prompt are copied into the transcript.
        """
        groups = [self.companies, self.agents, self.products, self.departments]
        ordered = [n.name for g in groups for n in g]
        ordered += list(self.terms)
        ordered += [n.name for n in self.competitors]
        ordered += [v for g in (*groups, self.competitors) for n in g for v in n.variants]
        out: list[str] = []
        seen: set[str] = set()
        used = 0
        for term in ordered:
            key = term.casefold()
            if key in seen:
                continue
            cost = len(term) + (2 if out else 0)
            if used + cost > max_chars:
                break
            seen.add(key)
            out.append(term)
            used += cost
        return tuple(out)

    def vocabulary_text(self, max_chars: int = VOCABULARY_MAX_CHARS) -> str:
        """:meth:`vocabulary` as one line: ``"Nusantara Telekom, Surya, paket internet"``."""
        return ", ".join(self.vocabulary(max_chars))

    def summary(self) -> str:
        """``N companies, M agents, ...`` for messages."""
        parts = [
            (len(self.companies), "company", "companies"),
            (len(self.agents), "agent", "agents"),
            (len(self.products), "product", "products"),
            (len(self.departments), "department", "departments"),
            (len(self.competitors), "competitor", "competitors"),
        ]
        return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in parts)

    def to_dict(self) -> dict[str, Any]:
        """What a report records: the file, the team label and the vocabulary given to ASR."""
        return {
            "path": self.path,
            "team": self.team,
            "companies": [n.name for n in self.companies],
            "agents": [n.name for n in self.agents],
            "competitors": [n.name for n in self.competitors],
            "vocabulary": self.vocabulary_text() if self.asr_vocabulary else "",
            "asr_vocabulary": self.asr_vocabulary,
            "redact": self.redact,
        }


class _Loader(Checker):
    """Validates one parsed profile; every error names the file and the key."""

    def term(self, value: Any, key: str) -> str:
        text = self.text(value, key).strip()
        if (
            len(text.split()) > MAX_TERM_WORDS
            or len(text) > MAX_TERM_CHARS
            or _SENTENCE.search(text)
        ):
            raise self.fail(
                key,
                f"{text!r} looks like a sentence: names and terms only "
                f"(at most {MAX_TERM_WORDS} words, no , ; : ? !)",
            )
        return text

    def names(self, raw: Any, key: str) -> tuple[Name, ...]:
        out = []
        for i, item in enumerate(self.items(raw, key)):
            k = f"{key}[{i}]"
            if isinstance(item, dict):
                d = self.mapping(item, k, _NAME_KEYS)
                self.require(d, k, ("name",), "missing (an entry needs a name)")
                name = self.term(d["name"], f"{k}.name")
                variants = self.strings(d.get("variants", []), f"{k}.variants")
                forms = tuple(self.term(v, f"{k}.variants[{j}]") for j, v in enumerate(variants))
                out.append(Name(name, forms))
            else:
                out.append(Name(self.term(item, k)))
        return tuple(out)

    def greeting(self, raw: Any) -> tuple[str, ...]:
        lines = self.strings(raw, "greeting")
        out = []
        for i, line in enumerate(lines):
            k = f"greeting[{i}]"
            text = self.text(line, k).strip()
            for m in _PLACEHOLDER.finditer(text):
                if m.group(1) not in PLACEHOLDERS:
                    raise self.fail(k, f"unknown placeholder {{{m.group(1)}}}", PLACEHOLDERS)
            out.append(text)
        return tuple(out)

    def load(self, data: dict) -> TeamProfile:
        d = self.mapping(data, "", _TOP_KEYS)
        team = d.get("team", "")
        return TeamProfile(
            path=self.path,
            team="" if team in ("", None) else self.text(team, "team").strip(),
            companies=self.names(d.get("companies", []), "companies"),
            departments=self.names(d.get("departments", []), "departments"),
            products=self.names(d.get("products", []), "products"),
            agents=self.names(d.get("agents", []), "agents"),
            competitors=self.names(d.get("competitors", []), "competitors"),
            terms=tuple(
                self.term(t, f"terms[{i}]")
                for i, t in enumerate(self.strings(d.get("terms", []), "terms"))
            ),
            greeting=self.greeting(d.get("greeting", [])),
            redact=self.boolean(d.get("redact", False), "redact"),
            asr_vocabulary=self.boolean(d.get("asr_vocabulary", False), "asr_vocabulary"),
        )


def load_profile(path: str | Path) -> TeamProfile:
    """Read and validate a team profile (cached per file and modification time).

    Parameters
    ----------
    path : str or Path
        The team's profile YAML (schema: ``models/profile_example.yaml``).

    Returns
    -------
    TeamProfile

    Raises
    ------
    ConfigError
        One line naming the file, the key and the valid choices, e.g.
        ``'team.yaml': product: unknown key (valid: team, companies, ...)``.
    """
    p = str(Path(path))
    return cached("profile", p, lambda: _Loader(p).load(read_yaml(p)))


def validate_file(path: str | Path) -> TeamProfile:
    """Validate a profile file; returns it loaded or raises :class:`ConfigError`."""
    return load_profile(path)
