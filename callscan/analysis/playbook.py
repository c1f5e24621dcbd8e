"""Playbooks: call stages, complaint steps and conduct rules as data (``models/playbook_*.yaml``).

A playbook is read and validated once; every regex is compiled here, so
:func:`callscan.analysis.stages.check` only matches. Any mistake in the file raises a one-line
:class:`~callscan.errors.ConfigError` that names the file, the key and the valid choices,
for example::

    'team.yaml': stages.contact.elements.greeting.strength: 'medium' is not valid (valid: strong, weak)

The schema is documented at the top of ``models/playbook_id.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.config import Checker, cached, read_yaml
from callscan.errors import ConfigError
from callscan.resources import data_path, load_data

LANGUAGES = ("id", "en")
CALL_TYPES = ("sales", "complaint", "service")
STRENGTHS = ("strong", "weak")
SPEAKERS = ("agent", "caller", "any")
WINDOWS = ("any", "first", "start", "end", "not_start", "last_half")
ANCHOR_MODES = ("first", "last")
GROUPS = ("conduct", "hold", "negotiation")
RULE_KINDS = ("forbidden", "required", "bonus", "max_count", "before", "silence", "name_use")

_TOP_KEYS = (
    "meta",
    "settings",
    "macros",
    "clitics",
    "fillers",
    "call_types",
    "triggers",
    "stages",
    "complaint_steps",
    "rules",
    "stopwords",
)
_CUE_KEYS = (
    "patterns",
    "phrases",
    "lemmas",
    "strength",
    "speaker",
    "window",
    "required",
    "weight",
    "unless",
    "excused_by",
    "excuse_void_if",
    "echo",
    "reply_to",
)
_STAGE_KEYS = (
    "order",
    "off_for",
    "weight",
    "weight_for",
    "required",
    "late_after_turns",
    "applies_if",
    "anchor",
    "present_when",
    "anchors",
    "elements",
    "void_if",
    "classifier_unless",
)
_RULE_KEYS = (
    "group",
    "kind",
    "weight",
    "call_types",
    "applies_if",
    "cues",
    "max",
    "then",
    "all",
    "excused_by",
    "name_patterns",
    "ask_name",
    "stopwords",
    "honorifics",
    "lowercase_titles",
    "verify_patterns",
    "third_party_before",
    "third_party_after",
    "vocative_before",
    "untitled_names",
)
_CALL_TYPE_KEYS = ("min_score", "cues")
_MACRO_REF = re.compile(r"<([A-Z][A-Z0-9_]*)>")
# Macros a team profile fills (callscan.analysis.profile_cues); without one they match nothing.
PROFILE_MACROS = ("COMPANY", "AGENT_NAME", "PRODUCT", "COMPETITOR", "GREETING")
NO_MATCH = r"(?!)"  # a regex that matches nothing
# Triggers that, both heard from the agent (the remedy in the apology's turn or later), raise
# the grievance when the caller's own words (the `complaint` trigger) were not heard.
GRIEVANCE_HANDLED = ("complaint_apology", "complaint_remedy")


@dataclass(frozen=True)
class PlaybookSettings:
    """Numbers a team may tune; defaults are the bundled playbooks' values."""

    start_turns: int = 3  # a speaker's first N turns form the 'start' window
    end_turns: int = 3  # a speaker's last N turns form the 'end' window
    start_window_s: float = (
        30.0  # with timed turns, anything starting in the first N s is 'start' too
    )
    end_window_s: float = 45.0  # with timed turns, anything in the last N s is 'end' too
    hold_silence_s: float = 30.0  # a gap between turns longer than this needs a hold notice
    partial_credit: float = 0.5  # share of a stage's weight when it is out_of_order or late
    max_apologies: int = 2  # default limit of kind max_count rules (apologies per call)
    semantic_min_prob: float = 0.55  # embedding class probability that confirms a weak cue
    semantic_margin: float = 0.15  # extra probability over min_prob that alone proves a step


@dataclass(frozen=True)
class Cue:
    """One compiled cue: what to look for, who must say it, and where."""

    id: str  # dotted id, e.g. "contact.introduce_self" or "blame_colleague.blame"
    regex: re.Pattern | None  # all patterns and phrases as one alternation (None: lemmas only)
    lemmas: tuple[tuple[str, ...], ...] = ()  # stem sequences, matched on consecutive words
    strength: str = "strong"  # "strong" (alone proves the element) or "weak"
    speaker: str = "agent"  # "agent", "caller" or "any"
    window: str = "any"  # "any", "first" (the speaker's first turn), "start", "end",
    # "not_start" or "last_half"
    required: bool = False  # for kind "required" rules with all: true
    weight: float = 1.0  # relative weight (call-type scores)
    unless: re.Pattern | None = None  # a turn that matches this is skipped
    excused_by: str | None = None  # rule cues: trigger id; when it is heard, no hit counts
    excuse_void_if: str | None = None  # trigger id: heard before the excuse, the excuse is void
    echo: int = 0  # a hit counts only in a turn sharing this many content stems with the
    # caller's earlier turns (a paraphrase check repeats the caller's words); 0: no condition
    reply_to: re.Pattern | None = None  # a hit counts only in a turn whose other party's last
    # turn before it matches (a bare "No." refuses only when it answers a request)


@dataclass(frozen=True)
class Stage:
    """A sales stage or a complaint step."""

    id: str  # "contact", "needs", ..., "acknowledge", ...
    group: str  # "stages" (sales flow) or "complaint_steps"
    order: int  # expected order; equal numbers are not compared
    weight: float  # scorecard weight
    required: bool  # False: absent is not counted against the agent
    elements: dict[str, Cue]  # element id -> cue
    present_when: tuple[tuple[str, ...], ...] = ()  # alternatives of element ids (all must hold)
    late_after_turns: int | None = None  # late when first seen after this many agent turns
    applies_if: tuple[str, ...] = ()  # trigger ids; N/A when none of them is heard
    off_for: tuple[str, ...] = ()  # call types the team turned this stage off for (N/A there)
    weight_for: tuple[tuple[str, float], ...] = ()  # (call type, weight): emphasis by call type
    anchor: str = "first"  # which hit places the stage for order checks: "first" or "last"
    anchors: tuple[str, ...] = ()  # example sentences for the semantic signal
    void_if: tuple[str, ...] = ()  # trigger ids; heard before the stage is complete: absent
    classifier_unless: tuple[str, ...] = ()  # trigger ids; a classifier hit in their turn is none
    # (contact completed only after the caller asked "who is this" was not on own initiative)

    def weight_in(self, call_type: str) -> float:
        """Scorecard weight on a call of ``call_type`` (``weight_for``, else ``weight``)."""
        return dict(self.weight_for).get(call_type, self.weight)


@dataclass(frozen=True)
class Rule:
    """A conduct, hold-etiquette or negotiation rule."""

    id: str  # "blame_colleague", ...
    group: str  # "conduct", "hold" or "negotiation"
    kind: str  # one of RULE_KINDS
    weight: float  # scorecard weight
    cues: dict[str, Cue] = field(default_factory=dict)  # cue id -> cue
    call_types: tuple[str, ...] = CALL_TYPES  # call types the rule applies to
    applies_if: str | None = None  # trigger id; N/A when the trigger is not heard
    max: int | None = None  # kind max_count: more hits than this fail
    then: str | None = None  # kind before: the trigger the cues must come before
    all: bool = False  # kind required: every cue with required: true must be heard
    excused_by: str | None = None  # kind silence: trigger that excuses a long gap
    name_patterns: tuple[re.Pattern, ...] = ()  # kind name_use: regexes with a (?P<name>) group
    ask_name: re.Pattern | None = None  # kind name_use: an agent turn that asks for the name
    stopwords: frozenset[str] = frozenset()  # kind name_use: words that are never names
    honorifics: str = ""  # kind name_use: regex of forms of address before a name
    verify_patterns: tuple[re.Pattern, ...] = ()  # kind name_use: agent turns that check the
    # caller's name, with a (?P<name>) group ("is this Marco?", "atas nama Bapak Hasan")
    third_party_before: re.Pattern | None = None  # kind name_use: the words just before a
    # name that make it someone else ("our technician Pak Budi", "your wife Mrs. Patel")
    third_party_after: re.Pattern | None = None  # ... and just after ("Mr. Lee from claims")
    vocative_before: re.Pattern | None = None  # kind name_use: the words just before a title
    # and a name that say it is spoken to ("thank you, Mr. Patel", "baik Pak Hendra")
    untitled_names: bool = False  # kind name_use: a capitalised word spoken to, closed by a
    # comma or a full stop, is a name too ("Take care, Linda.", "Hi Marcus, ...")
    lowercase_titles: bool = False  # kind name_use: in a turn with no capital letter (speech
    # recognition), a word after a form of address is a name too ("mister nguyen")


@dataclass(frozen=True)
class CallType:
    """Cues that vote for one call type."""

    name: str  # "sales", "complaint" or "service"
    min_score: float  # score needed to choose this type
    cues: dict[str, Cue]  # cue id -> cue (weight = votes per turn)


@dataclass(frozen=True)
class Playbook:
    """A validated, compiled playbook."""

    path: str  # file it was read from
    language: str  # "id" or "en"
    version: str  # meta.version
    name: str  # meta.name
    sources: tuple[str, ...]  # meta.sources
    settings: PlaybookSettings  # tunable numbers
    fillers: re.Pattern | None  # blanked out before matching
    call_types: dict[str, CallType]  # detection cues per type
    default_call_type: str  # chosen when no type reaches its min_score
    triggers: dict[str, Cue]  # trigger id -> cue
    stages: tuple[Stage, ...]  # sales stages then complaint steps
    rules: tuple[Rule, ...]  # conduct, hold and negotiation rules
    uses_lemmas: bool = False  # any cue needs stems
    grievance: str | None = None  # trigger id that marks a caller's grievance ("complaint")
    grievance_handled: tuple[str, ...] = ()  # agent triggers that also raise it (apology, remedy)
    stopwords: frozenset[str] = frozenset()  # stems that are not content words (cue `echo`)

    def stage(self, stage_id: str) -> Stage:
        """The stage called ``stage_id`` (KeyError if none)."""
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def summary(self) -> str:
        """``N stages, M conduct rules`` for messages."""
        return f"{len(self.stages)} stages, {len(self.rules)} conduct rules"


class _Loader(Checker):
    """Validates one parsed playbook; every error names the file and the key."""

    def __init__(self, path: str, data: dict, profile_macros: dict[str, str] | None = None):
        super().__init__(path, macro_ref=_MACRO_REF)
        self.data = data
        self.profile_macros = dict(profile_macros or {})  # replace the file's own macros
        self.clitics = ""

    def phrase(self, text: str) -> str:
        words = [re.escape(w) for w in text.lower().split()]
        suffix = f"(?:{self.clitics})?" if self.clitics else ""
        return r"\b" + r"\s+".join(w + suffix for w in words) + r"\b"

    def cue(self, raw: Any, key: str, cue_id: str, *, default_speaker: str = "agent") -> Cue:
        raw = self.mapping(raw, key, _CUE_KEYS)
        patterns = self.strings(raw.get("patterns", []), f"{key}.patterns")
        parts = [self.expand(p, f"{key}.patterns[{i}]") for i, p in enumerate(patterns)]
        parts += [self.phrase(p) for p in self.strings(raw.get("phrases", []), f"{key}.phrases")]
        lemmas = tuple(
            tuple(s.lower().split()) for s in self.strings(raw.get("lemmas", []), f"{key}.lemmas")
        )
        if not parts and not lemmas:
            raise self.fail(key, "needs at least one of patterns, phrases or lemmas")
        regex = None
        if parts:  # checked once, joined; a pattern at fault is then named by checking each alone
            joined = "|".join(f"(?:{_numbered(p, i)})" for i, p in enumerate(parts))
            try:
                regex = self.regex(joined, f"{key}.patterns")
            except ConfigError:
                for i, p in enumerate(patterns):
                    self.regex(p, f"{key}.patterns[{i}]")
                raise
        unless = None
        if "unless" in raw:
            u = self.strings(raw["unless"], f"{key}.unless")
            joined = "|".join(f"(?:{_numbered(self.expand(p, key), i)})" for i, p in enumerate(u))
            unless = self.regex(joined, f"{key}.unless")
        reply_to = None
        if "reply_to" in raw:
            r = self.strings(raw["reply_to"], f"{key}.reply_to")
            joined = "|".join(f"(?:{_numbered(self.expand(p, key), i)})" for i, p in enumerate(r))
            reply_to = self.regex(joined, f"{key}.reply_to")
        return Cue(
            id=cue_id,
            regex=regex,
            lemmas=lemmas,
            strength=self.choice(raw.get("strength", "strong"), f"{key}.strength", STRENGTHS),
            speaker=self.choice(raw.get("speaker", default_speaker), f"{key}.speaker", SPEAKERS),
            window=self.choice(raw.get("window", "any"), f"{key}.window", WINDOWS),
            required=self.boolean(raw.get("required", False), f"{key}.required"),
            weight=self.number(raw.get("weight", 1.0), f"{key}.weight"),
            unless=unless,
            excused_by=None if raw.get("excused_by") is None else str(raw["excused_by"]),
            excuse_void_if=None
            if raw.get("excuse_void_if") is None
            else str(raw["excuse_void_if"]),
            echo=self.number(raw.get("echo", 0), f"{key}.echo", integer=True, minimum=0),
            reply_to=reply_to,
        )

    def cues(self, raw: Any, key: str, prefix: str, *, default_speaker: str = "agent") -> dict:
        raw = self.mapping(raw, key)
        if not raw:
            raise self.fail(key, "needs at least one cue")
        return {
            str(k): self.cue(v, f"{key}.{k}", f"{prefix}.{k}", default_speaker=default_speaker)
            for k, v in raw.items()
        }

    def call_type_weights(self, value: Any, key: str) -> tuple[tuple[str, float], ...]:
        """``{call type: weight}``: a stage's weight on calls of that type (above 0; a team
        turns a stage off with ``off_for``, never with a zero weight)."""
        raw = self.mapping(value if value is not None else {}, key, CALL_TYPES)
        out = []
        for name, w in raw.items():
            weight = self.number(w, f"{key}.{name}")
            if weight <= 0:
                raise self.fail(
                    f"{key}.{name}", "must be above 0 (use off_for to turn a stage off)"
                )
            out.append((str(name), float(weight)))
        return tuple(out)

    def call_type_list(self, value: Any, key: str) -> tuple[str, ...]:
        items = self.strings(value, key)
        for i, v in enumerate(items):
            self.choice(v, f"{key}[{i}]", CALL_TYPES)
        return tuple(items)

    def trigger_refs(self, value: Any, key: str, triggers: dict) -> tuple[str, ...]:
        """One trigger id or a list of them (the stage applies when any is heard)."""
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else self.strings(value, key)
        for i, v in enumerate(items):
            self.trigger_ref(v, key if isinstance(value, str) else f"{key}[{i}]", triggers)
        return tuple(str(v) for v in items)

    def trigger_ref(self, value: Any, key: str, triggers: dict) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or value not in triggers:
            raise self.fail(key, f"{value!r} is not a trigger", sorted(triggers) or ["(none)"])
        return str(value)

    def load(self) -> Playbook:
        d = self.mapping(self.data, "", _TOP_KEYS)
        for req in ("meta", "stages", "rules"):
            if req not in d:
                raise self.fail(req, "missing (a playbook needs meta, stages and rules)")
        meta = self.mapping(d["meta"], "meta", ("language", "version", "name", "sources"))
        language = self.choice(meta.get("language"), "meta.language", LANGUAGES)
        settings = self.settings(d.get("settings", {}))
        macros = self.mapping(d.get("macros", {}), "macros")
        for k, v in macros.items():
            if not isinstance(v, str):
                raise self.fail(f"macros.{k}", "must be a string")
        self.macros = {
            **dict.fromkeys(PROFILE_MACROS, NO_MATCH),
            **{str(k): v for k, v in macros.items()},
            **self.profile_macros,
        }
        clitics = self.strings(d.get("clitics", []), "clitics")
        self.clitics = "|".join(re.escape(c) for c in clitics)
        fillers = self.strings(d.get("fillers", []), "fillers")
        filler_re = None
        if fillers:
            filler_re = self.regex("|".join(f"(?:{f})" for f in fillers), "fillers")
        triggers = {
            str(k): self.cue(v, f"triggers.{k}", f"trigger.{k}")
            for k, v in self.mapping(d.get("triggers", {}), "triggers").items()
        }
        call_types, default = self.call_types(d.get("call_types", {}))
        stages = self.stages(d["stages"], "stages", triggers)
        stages += self.stages(d.get("complaint_steps", {}), "complaint_steps", triggers)
        ids = [s.id for s in stages]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise self.fail(f"complaint_steps.{dup[0]}", "the same id is also a sales stage")
        rules = self.rules(d["rules"], triggers)
        everything = [*triggers.values()]
        everything += [c for s in stages for c in s.elements.values()]
        everything += [c for r in rules for c in r.cues.values()]
        everything += [c for t in call_types.values() for c in t.cues.values()]
        return Playbook(
            path=self.path,
            language=language,
            version=str(meta.get("version", "")),
            name=str(meta.get("name", Path(self.path).stem)),
            sources=tuple(self.strings(meta.get("sources", []), "meta.sources")),
            settings=settings,
            fillers=filler_re,
            call_types=call_types,
            default_call_type=default,
            triggers=triggers,
            stages=tuple(stages),
            rules=tuple(rules),
            uses_lemmas=any(c.lemmas for c in everything),
            grievance="complaint" if "complaint" in triggers else None,
            grievance_handled=GRIEVANCE_HANDLED
            if all(t in triggers for t in GRIEVANCE_HANDLED)
            else (),
            stopwords=frozenset(
                w.lower() for w in self.strings(d.get("stopwords", []), "stopwords")
            ),
        )

    def settings(self, raw: Any) -> PlaybookSettings:
        defaults = PlaybookSettings()
        names = tuple(defaults.__dataclass_fields__)
        raw = self.mapping(raw, "settings", names)
        values = {}
        for k, v in raw.items():
            integer = isinstance(getattr(defaults, k), int)
            values[k] = self.number(v, f"settings.{k}", integer=integer)
        if not 0.0 <= values.get("partial_credit", 0.5) <= 1.0:
            raise self.fail("settings.partial_credit", "must be between 0 and 1")
        return PlaybookSettings(**values)

    def call_types(self, raw: Any) -> tuple[dict[str, CallType], str]:
        raw = self.mapping(raw, "call_types", (*CALL_TYPES, "default"))
        default = self.choice(raw.get("default", "service"), "call_types.default", CALL_TYPES)
        out = {}
        for name in CALL_TYPES:
            if name not in raw:
                continue
            key = f"call_types.{name}"
            spec = self.mapping(raw[name], key, _CALL_TYPE_KEYS)
            out[name] = CallType(
                name=name,
                min_score=self.number(spec.get("min_score", 1.0), f"{key}.min_score"),
                cues=self.cues(spec.get("cues", {}), f"{key}.cues", f"call_type.{name}"),
            )
        return out, default

    def stages(self, raw: Any, group: str, triggers: dict) -> list[Stage]:
        out = []
        for sid, spec in self.mapping(raw, group).items():
            key = f"{group}.{sid}"
            spec = self.mapping(spec, key, _STAGE_KEYS)
            if "elements" not in spec:
                raise self.fail(f"{key}.elements", "missing (a stage needs at least one element)")
            elements = self.cues(spec["elements"], f"{key}.elements", str(sid))
            present_when = []
            alternatives = self.items(spec.get("present_when") or [], f"{key}.present_when")
            for i, alt in enumerate(alternatives):
                ids = self.strings(alt, f"{key}.present_when[{i}]")
                for e in ids:
                    if e not in elements:
                        raise self.fail(
                            f"{key}.present_when[{i}]", f"{e!r} is not an element", list(elements)
                        )
                present_when.append(tuple(ids))
            late = spec.get("late_after_turns")
            out.append(
                Stage(
                    id=str(sid),
                    group=group,
                    order=self.number(spec.get("order", 0), f"{key}.order", integer=True),
                    weight=self.number(spec.get("weight", 1.0), f"{key}.weight"),
                    required=self.boolean(spec.get("required", True), f"{key}.required"),
                    elements=elements,
                    present_when=tuple(present_when),
                    late_after_turns=None
                    if late is None
                    else self.number(late, f"{key}.late_after_turns", integer=True, minimum=1),
                    applies_if=self.trigger_refs(
                        spec.get("applies_if"), f"{key}.applies_if", triggers
                    ),
                    off_for=self.call_type_list(spec.get("off_for", []), f"{key}.off_for"),
                    weight_for=self.call_type_weights(spec.get("weight_for"), f"{key}.weight_for"),
                    anchor=self.choice(spec.get("anchor", "first"), f"{key}.anchor", ANCHOR_MODES),
                    anchors=tuple(self.strings(spec.get("anchors", []), f"{key}.anchors")),
                    void_if=self.trigger_refs(spec.get("void_if"), f"{key}.void_if", triggers),
                    classifier_unless=self.trigger_refs(
                        spec.get("classifier_unless"), f"{key}.classifier_unless", triggers
                    ),
                )
            )
        return out

    def rules(self, raw: Any, triggers: dict) -> list[Rule]:
        out = []
        for rid, spec in self.mapping(raw, "rules").items():
            key = f"rules.{rid}"
            spec = self.mapping(spec, key, _RULE_KEYS)
            kind = self.choice(spec.get("kind"), f"{key}.kind", RULE_KINDS)
            cues = {}
            if kind not in ("silence", "name_use") or "cues" in spec:
                if "cues" not in spec:
                    raise self.fail(f"{key}.cues", f"missing (kind {kind} needs cues)")
                cues = self.cues(spec["cues"], f"{key}.cues", str(rid))
                for cid, c in cues.items():
                    self.trigger_ref(c.excused_by, f"{key}.cues.{cid}.excused_by", triggers)
                    self.trigger_ref(c.excuse_void_if, f"{key}.cues.{cid}.excuse_void_if", triggers)
            then = self.trigger_ref(spec.get("then"), f"{key}.then", triggers)
            if kind == "before" and then is None:
                raise self.fail(f"{key}.then", "missing (kind before needs a trigger)", triggers)
            names: tuple[re.Pattern, ...] = ()
            verify: tuple[re.Pattern, ...] = ()
            ask: re.Pattern | None = None
            party: dict[str, re.Pattern | None] = {"before": None, "after": None}
            vocative: re.Pattern | None = None
            if kind == "name_use":
                pats = self.strings(spec.get("name_patterns", []), f"{key}.name_patterns")
                names = tuple(
                    self.regex(p, f"{key}.name_patterns[{i}]") for i, p in enumerate(pats)
                )
                for i, p in enumerate(names):
                    if "name" not in p.groupindex:
                        raise self.fail(f"{key}.name_patterns[{i}]", "needs a (?P<name>...) group")
                vpats = self.strings(spec.get("verify_patterns", []), f"{key}.verify_patterns")
                verify = tuple(
                    self.regex(p, f"{key}.verify_patterns[{i}]") for i, p in enumerate(vpats)
                )
                for i, p in enumerate(verify):
                    if "name" not in p.groupindex:
                        raise self.fail(
                            f"{key}.verify_patterns[{i}]", "needs a (?P<name>...) group"
                        )
                if "ask_name" in spec:
                    ask = self.regex(spec["ask_name"], f"{key}.ask_name")
                if "vocative_before" in spec:
                    vocative = self.regex(spec["vocative_before"], f"{key}.vocative_before")
                for side in party:
                    if f"third_party_{side}" in spec:
                        party[side] = self.regex(
                            spec[f"third_party_{side}"], f"{key}.third_party_{side}"
                        )
            honor = spec.get("honorifics", "")
            if honor:
                self.regex(honor, f"{key}.honorifics")
            out.append(
                Rule(
                    id=str(rid),
                    group=self.choice(spec.get("group", "conduct"), f"{key}.group", GROUPS),
                    kind=kind,
                    weight=self.number(spec.get("weight", 1.0), f"{key}.weight"),
                    cues=cues,
                    call_types=self.call_type_list(
                        spec.get("call_types", list(CALL_TYPES)), f"{key}.call_types"
                    ),
                    applies_if=self.trigger_ref(
                        spec.get("applies_if"), f"{key}.applies_if", triggers
                    ),
                    max=None
                    if spec.get("max") is None
                    else self.number(spec["max"], f"{key}.max", integer=True),
                    then=then,
                    all=self.boolean(spec.get("all", False), f"{key}.all"),
                    excused_by=self.trigger_ref(
                        spec.get("excused_by"), f"{key}.excused_by", triggers
                    ),
                    name_patterns=names,
                    verify_patterns=verify,
                    third_party_before=party["before"],
                    third_party_after=party["after"],
                    vocative_before=vocative,
                    ask_name=ask,
                    stopwords=frozenset(
                        w.lower()
                        for w in self.strings(spec.get("stopwords", []), f"{key}.stopwords")
                    ),
                    honorifics=self.expand(honor, f"{key}.honorifics"),
                    untitled_names=self.boolean(
                        spec.get("untitled_names", False), f"{key}.untitled_names"
                    ),
                    lowercase_titles=self.boolean(
                        spec.get("lowercase_titles", False), f"{key}.lowercase_titles"
                    ),
                )
            )
        return out


_EVIDENCE = re.compile(r"\(\?P<ev(\w*)>")  # a pattern's evidence group, (?P<ev>...)


def _numbered(pattern: str, i: int) -> str:
    """``pattern``'s evidence groups renamed with its number (``ev`` -> ``ev3_``): a cue's
    patterns are joined into one regex, where group names must differ."""
    return _EVIDENCE.sub(lambda m: f"(?P<ev{i}_{m[1]}>", pattern)


def _load_path(path: str, macros: tuple[tuple[str, str], ...] = ()) -> Playbook:
    p = str(Path(path))
    kind = ("playbook", macros) if macros else "playbook"
    return cached(kind, p, lambda: _Loader(p, read_yaml(p), dict(macros)).load())


def with_macros(playbook: Playbook, macros: dict[str, str]) -> Playbook:
    """``playbook`` compiled again from its file with ``macros`` replacing its own (a team
    profile's names, see :data:`PROFILE_MACROS`); cached per file, version and macro values.
    """
    if not macros:
        return playbook
    return _load_path(playbook.path, tuple(sorted(macros.items())))


def load_playbook(path: str | Path | None = None, language: str = "id") -> Playbook:
    """Read, validate and compile a playbook (cached per file and modification time).

    Parameters
    ----------
    path : str or Path, optional
        A team's own playbook YAML. ``None`` reads the bundled ``playbook_<language>.yaml``
        (or the override in ``$CALLSCAN_MODELS_DIR``).
    language : {"id", "en"}
        Which bundled playbook to read when ``path`` is None.

    Returns
    -------
    Playbook

    Raises
    ------
    ConfigError
        One line naming the file, the key and the valid choices.
    """
    if path is not None:
        return _load_path(str(path))
    if language not in LANGUAGES:
        raise ConfigError(
            f"no bundled playbook for language {language!r} (valid: {', '.join(LANGUAGES)}); "
            "give a playbook file",
            option="playbook",
        )
    name = f"playbook_{language}.yaml"
    found = data_path(name)
    if found is None:
        load_data(name)  # raises the ConfigError that names the missing file
    return _load_path(str(found))


def validate_file(path: str | Path) -> Playbook:
    """Validate a playbook file; returns it compiled or raises :class:`ConfigError`."""
    return load_playbook(path)
