"""What every report page needs from a report dictionary: labels, times, scores, evidence.

Pure functions over the JSON-native report (:func:`callscan.pipeline.analyze`), shared by the
HTML page, the Markdown output and the agent's tips. Nothing here escapes text but
:func:`esc`, the one HTML escape that the page and its SVG both use (Markdown has its own).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from callscan.resources import load_data
from callscan.util import is_finite

LABELS_FILE = "report_assets/labels.yaml"
UI_LANGUAGES = ("en", "id")


@lru_cache(maxsize=4)
def _labels_of(language: str) -> dict[str, dict[str, str]]:
    data = load_data(LABELS_FILE)
    base = data.get("en") or {}
    own = data.get(language) or {}
    return {k: {**base.get(k, {}), **own.get(k, {})} for k in set(base) | set(own)}


class Labels:
    """Words of the page in one language; ``L("ui", "title")``, unknown ids come back as is."""

    def __init__(self, language: str) -> None:
        self.language = language if language in UI_LANGUAGES else "en"
        self._data = _labels_of(self.language)

    def __call__(self, group: str, key: str | None, **fields: Any) -> str:
        if key is None:
            return ""
        text = self._data.get(group, {}).get(key)
        if text is None:
            return str(key).replace("_", " ")
        return text.format(**fields) if fields else text

    def has(self, group: str, key: str) -> bool:
        return key in self._data.get(group, {})


# The notes the stage and rule checks write (callscan.analysis.stages), as patterns: each is
# shown through the ``notes`` labels of the page's language, with the ids in it translated.
NOTE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("not_heard", r"not heard"),
        ("heard_as", r"(?P<word>.+?) heard as (?P<heard>'.*'?)"),
        (
            "unsure",
            r"not heard, but (?P<pct>\d+%) of (?P<n>\d+) words in the (?P<part>\w+) were "
            r"unsure \(probability < (?P<p>[\d.]+)\)",
        ),
        ("missing", r"missing: (?P<items>.+)"),
        ("only", r"only (?P<items>.+)"),
        ("not_a_step", r"not a step of (?P<call_type>\w+) calls"),
        ("turned_off", r"turned off for (?P<call_type>\w+) calls in the playbook"),
        ("caller_raised_no", r"the caller raised no (?P<trigger>.+)"),
        ("excused", r"(?P<items>\w+) excused by (?P<trigger>\w+)"),
        ("not_checked", r"not checked in (?P<call_type>\w+) calls"),
        ("no_trigger", r"no (?P<trigger>.+) heard"),
        ("first_heard_after", r"first heard after (?P<n>\d+) agent turns"),
        ("heard_after", r"heard after (?P<items>.+)"),
        ("count_limit", r"(?P<n>\d+) heard, at most (?P<limit>\d+) allowed"),
        ("came_first", r"(?P<trigger>\w+) came first"),
        ("needs_times", r"needs turn times \(audio input\)"),
        ("classifier", r"classifier: turn (?P<turn>\d+), probability (?P<p>[\d.]+)"),
        (
            "opened_by_classifier",
            r"opened by the classifier: turn (?P<turn>\d+), probability (?P<p>[\d.]+)",
        ),
    )
)
ID_GROUPS = ("elements", "stages", "triggers", "rules")  # where an id in a note gets its words


def id_words(L: Labels, item: str, first: str | None = None) -> str:
    """A cue, element, stage, trigger or rule id in the page's language (else made readable)."""
    item = item.strip().strip("()'\",")
    key = item.replace(" ", "_")
    for group in ((first,) if first else ()) + ID_GROUPS:
        if L.has(group, key):
            return L(group, key)
    return item.replace("_", " ")


def note_text(L: Labels, note: str | None) -> str:
    """A stage's or rule's note in the page's language.

    The checks write their notes in English from ids and counts; a known note is rebuilt from
    those through the ``notes`` labels, its ids through :func:`id_words`. A note no pattern
    knows is shown as written.
    """
    text = (note or "").strip()
    if not text:
        return ""
    approx = re.fullmatch(r"only heard approximately: (?P<rest>.+)", text)
    if approx:
        return L("notes", "approximately", items="; ".join(
            note_text(L, part) for part in approx["rest"].split("; ")))  # fmt: skip
    if "; " in text:
        return "; ".join(note_text(L, part) for part in text.split("; "))
    for key, pattern in NOTE_PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        fields = dict(m.groupdict())
        for name in ("items", "trigger"):
            if name in fields:
                first = "triggers" if name == "trigger" else None
                sep = L("notes", "or") if " or " in fields[name] else ", "
                items = re.split(r"\s+or\s+" if " or " in fields[name] else r",\s*", fields[name])
                fields[name] = sep.join(id_words(L, x, first) for x in items)
        if "part" in fields:
            fields["part"] = L("parts", fields["part"])
        if "call_type" in fields:
            fields["call_type"] = L("call_types", fields["call_type"])
        return L("notes", key, **fields)
    return text


def unit(L: Labels, name: str | None) -> str:
    """A measure's unit in the page's language."""
    return L("units", name) if name else ""


def seconds(L: Labels, x, digits: int = 1) -> str:
    """A duration with its unit, e.g. ``4.2 s`` (``4.2 dtk`` in Indonesian)."""
    return f"{fmt_num(x, digits)} {L('ui', 'seconds')}"


def ui_language(report: dict) -> str:
    """The page's language: the call's language when callscan has words for it, else English."""
    lang = str(report.get("language") or "en")
    return lang if lang in UI_LANGUAGES else "en"


def clock(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour); an empty string for None."""
    if seconds is None or not is_finite(seconds):
        return ""
    s = int(math.floor(float(seconds) + 1e-6))
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_num(x, digits: int = 1) -> str:
    """A number for display: ``-`` for None/NaN, no trailing ``.0`` for whole numbers."""
    if not is_finite(x):
        return "–"
    text = f"{float(x):.{digits}f}"
    return text[:-2] if digits == 1 and text.endswith(".0") else text


def fmt_range(rng) -> str:
    """A target range ``[lo, hi]`` (either end may be None) as ``lo–hi``, ``≥ lo`` or ``≤ hi``."""
    lo, hi = (list(rng or []) + [None, None])[:2]
    if lo is not None and hi is not None:
        return f"{fmt_num(lo)}–{fmt_num(hi)}"
    if lo is not None:
        return f"≥ {fmt_num(lo)}"
    if hi is not None:
        return f"≤ {fmt_num(hi)}"
    return "–"


def turns(report: dict) -> list[dict]:
    """The conversation's turns."""
    return list(((report.get("conversation") or {}).get("turns")) or [])


def is_timed(report: dict) -> bool:
    """True when the turns carry times (a recording, or a timed transcript)."""
    return any(t.get("start_s") is not None and t.get("end_s") is not None for t in turns(report))


def duration_s(report: dict) -> float | None:
    """The call's length: the recording's, else the talk metrics', else the last turn's end."""
    transcript = report.get("transcript") or {}
    if is_finite(transcript.get("duration_s")):
        return float(transcript["duration_s"])
    metrics = talk_metrics(report)
    if metrics and is_finite(metrics.get("duration_s")):
        return float(metrics["duration_s"])
    ends = [t["end_s"] for t in turns(report) if is_finite(t.get("end_s"))]
    return max(ends) if ends else None


# The warnings the audio loader records (callscan.audio.decode, ``AudioInfo.warnings``; in the
# report at ``transcript.audio.warnings``), as patterns: each is shown through the
# ``audio_warnings`` labels of the page's language. A warning no pattern knows is shown as written.
AUDIO_WARNING_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        (
            "truncated",
            r"file is truncated: header declares (?P<declared>[\d.]+) s, "
            r"(?P<decoded>[\d.]+) s decoded",
        ),
        ("ffmpeg_stopped", r"ffmpeg stopped after (?P<decoded>[\d.]+) s decoded: (?P<reason>.*)"),
        ("non_finite", r"replaced (?P<n>\d+) non-finite samples \(NaN or inf\) with 0"),
        (
            "over_full_scale",
            r"samples reach (?P<peak>[\d.e+-]+) x full scale \(a float file in the wrong "
            r"units\?\); scaled down to full scale",
        ),
    )
)
MAX_AUDIO_WARNINGS = 20  # shown at most (a report is data from outside: keep the page bounded)


def audio_warnings(report: dict) -> list[str]:
    """The recording's warnings (a truncated or corrupt file cut short, NaN samples, samples
    far beyond full scale scaled down), as the loader wrote them, in English; [] for none."""
    transcript = report.get("transcript")
    audio = transcript.get("audio") if isinstance(transcript, dict) else None
    items = audio.get("warnings") if isinstance(audio, dict) else None
    if not isinstance(items, list):
        return []
    return [str(w).strip() for w in items if str(w).strip()][:MAX_AUDIO_WARNINGS]


def audio_warning_text(L: Labels, warning: str) -> str:
    """One audio warning in the page's language (see :data:`AUDIO_WARNING_PATTERNS`)."""
    for key, pattern in AUDIO_WARNING_PATTERNS:
        m = pattern.fullmatch(warning)
        if m is not None and L.has("audio_warnings", key):
            return L("audio_warnings", key, **m.groupdict())
    return warning


def talk_metrics(report: dict) -> dict | None:
    """Talk metrics: the recording's (``speakers.metrics``), or computed from timed turns."""
    speakers = report.get("speakers") or {}
    if speakers.get("metrics"):
        return speakers["metrics"]
    if not is_timed(report):
        return None
    from callscan.conversation import Turn
    from callscan.speakers.metrics import TalkMetricsOptions
    from callscan.speakers.metrics import talk_metrics as compute

    objs = [
        Turn(index=t["index"], role=t["role"], text=t["text"], speaker=t.get("speaker") or "",
             start_s=t.get("start_s"), end_s=t.get("end_s"))
        for t in turns(report)
    ]  # fmt: skip
    ends = [t.end_s for t in objs if t.end_s is not None]
    lang = "en" if report.get("language") == "en" else "id"
    return compute(objs, max(ends), TalkMetricsOptions(language=lang)).to_dict()


def roles(report: dict) -> dict[str, Any]:
    """Who is the agent and the caller, and how sure: ``{agent, caller, confidence, method}``."""
    speakers = report.get("speakers") or {}
    r = speakers.get("roles") or {}
    by_role = {v: k for k, v in (r.get("roles") or {}).items()}
    return {
        "agent": by_role.get("agent") or ("agent" if not speakers else None),
        "caller": by_role.get("caller") or ("caller" if not speakers else None),
        "confidence": r.get("confidence"),
        "low_confidence": bool(r.get("low_confidence")),
        "method": r.get("method") or "labels",
        "reasons": list(r.get("reasons") or []),
    }


def conduct_rules(report: dict) -> list[dict]:
    """The playbook's rules that were checked (status pass or fail)."""
    rules = (report.get("stages") or {}).get("rules") or []
    return [r for r in rules if r.get("status") in ("pass", "fail")]


def overall(report: dict) -> dict[str, Any]:
    """The headline figures: opening tone and clarity, stage score, conduct, caller modality."""
    opening = report.get("opening") or {}
    stages = report.get("stages") or {}
    rules = conduct_rules(report)
    caller = (report.get("modality") or {}).get("caller") or {}
    return {
        "tone": (opening.get("tone") or {}).get("score"),
        "clarity": (opening.get("clarity") or {}).get("score"),
        "stages_percent": (stages.get("scorecard") or {}).get("percent"),
        "call_type": stages.get("call_type"),
        "conduct_failed": sum(r["status"] == "fail" for r in rules),
        "conduct_checked": len(rules),
        "caller_modality": caller.get("leading"),
        "caller_modality_confidence": caller.get("confidence"),
    }


def stage_evidence(stage: dict) -> list[dict]:
    """A stage's evidence items, in turn order, one per (turn, text)."""
    items = [e for hits in (stage.get("elements") or {}).values() for e in hits]
    return _unique(items)


def _unique(items: list[dict]) -> list[dict]:
    seen, out = set(), []
    for e in sorted(items, key=lambda e: (e.get("turn") is None, e.get("turn") or 0)):
        key = (e.get("turn"), e.get("text"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def evidence_by_turn(report: dict) -> dict[int, list[str]]:
    """Every evidence text of the report, per turn index (for highlighting the transcript)."""
    out: dict[int, list[str]] = {}

    def add(turn, text):
        if isinstance(turn, int) and text:
            out.setdefault(turn, []).append(str(text))

    stages = report.get("stages") or {}
    for s in stages.get("stages") or []:
        for e in stage_evidence(s):
            add(e.get("turn"), e.get("text"))
    for r in stages.get("rules") or []:
        for e in r.get("hits") or []:
            add(e.get("turn"), e.get("text"))
    modality = report.get("modality") or {}
    for who in ("caller", "agent"):
        for e in (modality.get(who) or {}).get("evidence") or []:
            add(e.get("turn_index"), e.get("text"))
    return out


def highlight_spans(text: str, needles: list[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(piece, highlighted)`` pieces, marking each needle found in it.

    Matching is case-insensitive on the text as written; overlapping matches merge.
    """
    low = text.lower()
    marks: list[tuple[int, int]] = []
    for n in needles:
        n = n.strip().lower()
        if not n:
            continue
        i = low.find(n)
        while i >= 0:
            marks.append((i, i + len(n)))
            i = low.find(n, i + len(n))
    if not marks:
        return [(text, False)] if text else []
    marks.sort()
    merged = [list(marks[0])]
    for a, b in marks[1:]:
        if a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    pieces, pos = [], 0
    for a, b in merged:
        if a > pos:
            pieces.append((text[pos:a], False))
        pieces.append((text[a:b], True))
        pos = b
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces


def turn_start(report: dict, index: int | None) -> float | None:
    """Start time of turn ``index`` (None when untimed or unknown)."""
    if index is None:
        return None
    for t in turns(report):
        if t.get("index") == index:
            return t.get("start_s")
    return None


def esc(text: object) -> str:
    """Escape ``text`` for HTML text and attribute values (None is the empty string)."""
    from html import escape

    return escape("" if text is None else str(text), quote=True)
