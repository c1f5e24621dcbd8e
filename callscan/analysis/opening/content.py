"""The opening's content: scripted-greeting elements with their times, and excluded openers.

The phrase lists are the playbook's (``scripted_greeting`` and ``excluded_phrases`` rules, matched
by :func:`callscan.analysis.stages.check`); the scoring profile adds only the department/position cue and
the comma-separated scripted form the playbook's cues do not match ("Selamat pagi, [perusahaan],
[bagian], [nama], saya mendengarkan Anda"), used where the playbook found nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from callscan.analysis.opening.profile import OpeningProfile
from callscan.conversation import AGENT, Conversation, Turn

CONTENT_ELEMENTS = ("greeting", "company", "department", "agent_name", "offer_help")


@dataclass
class _Hit:
    """A profile cue's match, shaped like the playbook's evidence."""

    turn: int  # turn index in the window's turns
    offset: int  # character offset in the turn
    text: str  # the words matched


def _element_time(turn: Turn, offset: int, length: int) -> tuple[float | None, float | None]:
    """Time of characters [offset, offset+length) of a turn: from its words, else prorated."""
    if turn.start_s is None or turn.end_s is None:
        return None, None
    n = max(len(turn.text), 1)
    if turn.words:
        pos, times = 0, []
        for w in turn.words:
            k = turn.text.find(w.text.strip(), pos)
            if k < 0:
                break
            pos = k + len(w.text.strip())
            if k < offset + length and pos > offset:
                times.append((w.start_s, w.end_s))
        if times:
            return times[0][0], times[-1][1]
    dur = turn.end_s - turn.start_s
    return turn.start_s + dur * offset / n, turn.start_s + dur * min(n, offset + length) / n


def opening_content(
    turns: list[Turn], language: str, profile: OpeningProfile, *, playbook_path: str | None = None
) -> dict:
    """Scripted-greeting elements and excluded openers in the window's turns (playbook rules)."""
    from callscan.analysis.playbook import load_playbook
    from callscan.analysis.stages import StageOptions, check

    if not any(t.role == AGENT for t in turns):
        return {"elements": {}, "excluded": [], "complete": False, "note": "no agent turns"}
    pb = load_playbook(playbook_path, language=language if language in ("id", "en") else "id")
    sub = [
        Turn(i, t.role, t.text, t.speaker, t.channel, t.start_s, t.end_s, t.words)
        for i, t in enumerate(turns)
    ]
    res = check(Conversation(sub, language=pb.language), pb, StageOptions(max_evidence=20))
    ids = {r.id for r in pb.rules}
    hits = {}
    for rule_id in ("scripted_greeting", "excluded_phrases"):
        hits[rule_id] = res.rule(rule_id).hits if rule_id in ids else []

    def entry(ev, rule: str) -> dict:
        a, b = _element_time(sub[ev.turn], ev.offset, len(ev.text))
        return {
            "text": ev.text,
            "start_s": None if a is None else round(a, 3),
            "end_s": None if b is None else round(b, 3),
            "turn": ev.turn,
            "rule": rule,
        }

    elements: dict[str, dict | None] = dict.fromkeys(CONTENT_ELEMENTS)
    for ev in hits["scripted_greeting"]:
        key = ev.rule.split(".", 1)[-1]
        if key in elements and elements[key] is None and ev.speaker == AGENT:
            elements[key] = entry(ev, ev.rule)
    for key, cues in profile.content.items():
        if elements.get(key) is not None:
            continue
        for t, rx in ((t, rx) for t in sub if t.role == AGENT for rx in cues.get(pb.language, ())):
            m = rx.search(t.text)
            if m:
                g = "x" if "x" in m.re.groupindex and m.group("x") else 0
                hit = _Hit(t.index, m.start(g), m.group(g).strip(" ,."))
                elements[key] = entry(hit, f"opening_profile.content.{key}")
                break
    excluded = [entry(ev, ev.rule) for ev in hits["excluded_phrases"] if ev.speaker == AGENT]
    found = {k: v is not None for k, v in elements.items()}
    return {
        "elements": {
            k: ({"found": True, **v} if v else {"found": False}) for k, v in elements.items()
        },
        "excluded": excluded,
        "complete": all(found.values()),
        "missing": [k for k, v in found.items() if not v],
        "playbook": pb.path,
    }
