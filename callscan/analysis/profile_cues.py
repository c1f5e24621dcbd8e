"""A team profile's names as playbook cues.

The bundled playbooks write ``<COMPANY>``, ``<AGENT_NAME>``, ``<PRODUCT>``, ``<COMPETITOR>``
and ``<GREETING>`` where a team's own names belong (the contact stage's self and company
introduction, the competitor-bashing rule). Without a profile these macros match nothing
(:data:`callscan.analysis.playbook.NO_MATCH`), so a call is checked exactly as before; with
one, :func:`apply` compiles the playbook again with the profile's names in them (cached per
playbook file and profile).

Public API
----------
profile_macros, apply, name_regex
"""

from __future__ import annotations

import re

from callscan.analysis.playbook import Playbook, with_macros
from callscan.profile import Name, TeamProfile

__all__ = ["apply", "name_regex", "profile_macros"]

_WORD = re.compile(r"\w+")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_CLAUSE_END = re.compile(r"[,.;:!?]")


def name_regex(text: str) -> str | None:
    """A regex for a name as it appears in normalised turns (lowercase, punctuation blanked):
    its words in order, with or without spaces between them ("NusaTel" = "nusa tel")."""
    words = _WORD.findall(text.lower())
    if not words:
        return None
    return r"\s*".join(re.escape(w) for w in words)


def _alternation(forms: list[str]) -> str | None:
    parts = {p for p in map(name_regex, forms) if p}
    if not parts:
        return None
    ordered = sorted(parts, key=lambda p: (-len(p), p))  # longest first: the whole name wins
    return "(?:" + "|".join(ordered) + ")"


def _forms(names: tuple[Name, ...], *, first_names: bool = False) -> list[str]:
    out = [f for n in names for f in n.forms]
    if first_names:  # agents introduce themselves by first name: "Dewi Lestari" -> "Dewi"
        out += [f.split()[0] for n in names for f in n.forms if len(f.split()) > 1]
    return out


def _greeting_openers(lines: tuple[str, ...]) -> list[str]:
    """The first clause of each scripted greeting, up to a placeholder ("Selamat pagi")."""
    out = []
    for line in lines:
        head = _PLACEHOLDER.split(line)[0]
        head = _CLAUSE_END.split(head)[0].strip()
        if head:
            out.append(head)
    return out


def profile_macros(profile: TeamProfile) -> dict[str, str]:
    """Playbook macros from a profile's names (only for the groups it fills)."""
    groups = {
        "COMPANY": _forms(profile.companies),
        "AGENT_NAME": _forms(profile.agents, first_names=True),
        "PRODUCT": _forms(profile.products),
        "COMPETITOR": _forms(profile.competitors),
        "GREETING": _greeting_openers(profile.greeting),
    }
    out = {}
    for macro, forms in groups.items():
        regex = _alternation(forms)
        if regex:
            out[macro] = regex
    return out


def apply(playbook: Playbook, profile: TeamProfile | None) -> Playbook:
    """``playbook`` with the profile's names in its profile macros (itself without a profile)."""
    if profile is None:
        return playbook
    return with_macros(playbook, profile_macros(profile))
