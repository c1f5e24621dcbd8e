"""The caller's sensory modality: visual, auditory, kinesthetic (olfactory, gustatory) predicates.

A transparent predicate profile, not a personality claim: every word or phrase that counts is
evidence with its turn, time, weight and lexicon rule. Lexicons are data (``models/vak_id.yaml``,
``models/vak_en.yaml``; format at the top of ``vak_id.yaml``), validated once at load.

Per turn: lowercase, blank punctuation and fillers (spans stay aligned with the text), match
phrases first, then words by surface, colloquial form or stem (PySastrawi / lemminflect); foreign
words are looked up in the other language's lexicon. Context rules drop hits inside line-quality
talk, routines, backchannel "I see", "saya rasa" (= I think) and request-forced verbs ("nonton
film", "see a doctor"); a negator just before a word weakens it. Only caller turns build the
caller profile; the agent's profile gives ``rapport``.
"""

from __future__ import annotations

import logging
import re
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.analysis.text import en_lemmas, is_id_word, stem_id
from callscan.config import Checker, cached, read_yaml
from callscan.conversation import AGENT, CALLER, UNKNOWN, Conversation, Turn
from callscan.errors import ConfigError
from callscan.resources import data_path, load_data
from callscan.text import NONWORD, TOKEN, find_tokens, normalise

log = logging.getLogger("callscan")

LANGUAGES = ("id", "en")
MODALITIES = ("visual", "auditory", "kinesthetic", "olfactory", "gustatory")
UNDETERMINED = "undetermined"
LEVELS = ("call", "turn")
RULE_KINDS = tuple("line_quality formula request_forced backchannel i_think idiom topic".split())
SCOPES = ("span", "turn")
THRESHOLD_KEYS = ("min_weight", "min_items", "min_share", "min_margin", "saturation_weight")
TOP_KEYS = ("meta", "thresholds", "fillers", "negation", "macros", "ignore_forms",
            "code_switching", "modalities", "context_rules", "advice", "notes")  # fmt: skip
ADVICE_KEYS = MODALITIES + ("undetermined", "rapport_missed", "modality_names")
META_KEYS = ("language", "version", "name", "stemmer", "sources", "notes")
_MACRO_REF = re.compile(r"<([a-z_]+)>")
_EN_POS = ("VERB", "ADJ", "NOUN", "ADV")


@dataclass(frozen=True)
class ModalityOptions:
    """How :func:`detect` scores a conversation (vary with ``dataclasses.replace``)."""

    language: str | None = None  # "id" or "en"; None = the conversation's language
    lexicon_path: str | None = None  # a lexicon YAML used instead of models/vak_<language>.yaml
    level: str = "call"  # lexicon thresholds: "call" (whole call) or "turn" (one utterance)
    min_weight: float | None = None  # override thresholds.<level>.min_weight (summed weight)
    min_items: int | None = None  # override thresholds.<level>.min_items (evidence items)
    min_share: float | None = None  # override thresholds.<level>.min_share (0-1)
    min_margin: float | None = None  # override thresholds.<level>.min_margin (weight)
    code_switching: bool = True  # also look up foreign words in the other language's lexicon
    unknown_as_caller: bool = False  # score turns whose role is "unknown" as the caller's


@dataclass
class ModalityEvidence:
    """One sensory predicate found in one turn."""

    modality: str  # visual, auditory, kinesthetic, olfactory or gustatory
    text: str  # the words matched, as written in the turn
    lemma: str  # the root / lemma / phrase id it counts as
    weight: float  # weight counted, after negation and context factors (0 when suppressed)
    turn_index: int  # Turn.index of the turn
    role: str  # "caller" or "agent"
    start_s: float | None  # start of the turn, seconds (None for text input)
    end_s: float | None  # end of the turn, seconds
    rule: str  # lexicon rule, e.g. "id:visual:stem:lihat" or "en:auditory:phrase:sounds-adj"
    negated: bool = False  # a negator stood just before the word
    suppressed_by: str | None = None  # id of the context rule that dropped it

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__, weight=round(self.weight, 3))
        d.update({k: None if d[k] is None else round(d[k], 3) for k in ("start_s", "end_s")})
        return d


@dataclass
class ModalityProfile:
    """One party's scores, leading modality and evidence."""

    role: str  # "caller" or "agent"
    scores: dict[str, float]  # summed evidence weight per modality
    leading: str  # a modality, or "undetermined" when evidence is thin
    confidence: float  # 0-1: share * min(1, leader weight / saturation_weight); 0 if undetermined
    share: float  # leader weight / all sensory weight (0-1)
    n_turns: int  # turns of this role that were scored
    evidence: list[ModalityEvidence] = field(default_factory=list)  # items that count
    suppressed: list[ModalityEvidence] = field(default_factory=list)  # items context rules dropped

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__, confidence=round(self.confidence, 3), share=round(self.share, 3))
        d["scores"] = {m: round(v, 3) for m, v in self.scores.items()}
        d["evidence"] = [e.to_dict() for e in self.evidence]
        d["suppressed"] = [e.to_dict() for e in self.suppressed]
        return d


@dataclass
class RapportResult:
    """Did the agent answer in the caller's modality after the caller showed it?"""

    modality: str | None  # the caller's leading modality (None when undetermined)
    matched: bool | None  # agent used it after the caller's first use (None when undetermined)
    caller_first_turn: int | None  # index of the caller's first turn with that modality
    agent_turns_after: int  # agent turns after that turn
    agent_matching: int  # agent evidence items in the caller's modality after that turn
    agent_other: int  # agent evidence items in other modalities after that turn
    evidence: list[ModalityEvidence] = field(default_factory=list)  # the matching agent items

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["evidence"] = [e.to_dict() for e in self.evidence]
        return d


@dataclass
class ModalityResult:
    """Result of :func:`detect` for one conversation."""

    language: str  # language of the lexicon used and of the advice ("id" or "en")
    level: str  # which thresholds were applied ("call" or "turn")
    caller: ModalityProfile  # from caller turns only
    agent: ModalityProfile  # from agent turns only
    rapport: RapportResult
    advice: list[str]  # tips for the agent in the call's language
    thresholds: dict[str, float]  # the thresholds applied
    lexicon: str  # lexicon file and version

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__, advice=list(self.advice), thresholds=dict(self.thresholds))
        d.update(caller=self.caller.to_dict(), agent=self.agent.to_dict())
        d["rapport"] = self.rapport.to_dict()
        return d


_Entry = namedtuple("_Entry", "modality lemma weight rule")  # one lexicon entry or phrase
_Rule = namedtuple("_Rule", "id kind pattern factor modalities scope")  # one context rule


@dataclass
class Lexicon:
    """A validated, compiled lexicon (see :func:`load_lexicon`)."""

    language: str
    path: str
    version: str
    thresholds: dict[str, dict[str, float]]
    fillers: re.Pattern  # matches any filler word (blanked before matching)
    negators: frozenset[str]
    neg_window: int
    neg_factor: float
    surface: dict[str, tuple[_Entry, ...]]  # surface form -> entries
    roots: dict[str, tuple[_Entry, ...]]  # stem / lemma -> entries
    derived_only: frozenset[str]  # roots whose bare form does not count
    aliases: dict[str, str]  # wrong stemmer output -> root
    ignore: frozenset[str]
    phrases: list[tuple[re.Pattern, _Entry]]
    rules: list[_Rule]
    advice: dict[str, Any]
    other: str | None  # code-switching partner language
    other_min_weight: float
    cache: dict[str, tuple[_Entry, ...]] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        """``N roots, M phrases, K context rules`` for messages."""
        roots, phrases, rules = len(self.roots), len(self.phrases), len(self.rules)
        return f"{roots} roots, {phrases} phrases, {rules} context rules"

    def lookup(self, token: str) -> tuple[_Entry, ...]:
        """Entries for one lowercase token: surface form, else stem / lemma (cached)."""
        if token in self.cache:
            return self.cache[token]
        base = token[:-4] if token.endswith("-nya") else token
        hit = self.surface.get(token) or self.surface.get(base, ())
        if hit or token in self.ignore:
            pass
        elif self.language == "en":
            lemmas = en_lemmas(base)
            roots = [x for pos in _EN_POS for x in lemmas.get(pos, ()) if x in self.roots]
            hit = self.roots[roots[0]] if roots and roots[0] not in self.ignore else ()
        elif len(base) >= 4 and "-" not in base:
            root = self.aliases.get(stem_id(base), stem_id(base))
            if root != base or root not in self.derived_only:
                hit = self.roots.get(root, ())
        self.cache[token] = hit
        return hit


class _Loader(Checker):
    """Validates one parsed lexicon file; every error names the file and the key."""

    def __init__(self, path: str, data: dict):
        super().__init__(path, macro_ref=_MACRO_REF)
        self.data = data

    def words(self, value: Any, key: str) -> list[str]:
        """A list of strings, lower-cased."""
        return [v.lower() for v in self.strings(value, key)]

    def weight(self, value: Any, key: str) -> float:
        """A number between 0 and 1 (weights, factors)."""
        return float(self.number(value, key, maximum=1.0))

    def load(self, language: str) -> Lexicon:
        d = self.mapping(self.data, "", TOP_KEYS)
        for k in ("meta", "thresholds", "modalities", "advice"):
            if k not in d:
                raise self.fail(k, "missing (required: meta, thresholds, modalities, advice)")
        meta = self.mapping(d["meta"], "meta", META_KEYS)
        lang = self.choice(meta.get("language"), "meta.language", LANGUAGES)
        if lang != language:
            raise self.fail("meta.language", f"{lang!r} is not the requested language", (language,))
        thresholds = {}
        for lv in LEVELS:
            t = self.mapping(
                self.mapping(d["thresholds"], "thresholds", LEVELS).get(lv),
                f"thresholds.{lv}",
                THRESHOLD_KEYS,
            )
            thresholds[lv] = {k: self.number(t.get(k), f"thresholds.{lv}.{k}", maximum=1.0 if "share" in k else None)
                              for k in THRESHOLD_KEYS}  # fmt: skip
        neg = self.mapping(d.get("negation", {}), "negation", ("words", "window_tokens", "factor"))
        for name, text in self.mapping(d.get("macros", {}), "macros").items():
            if not isinstance(text, str):
                raise self.fail(f"macros.{name}", "must be a string")
            self.macros[name] = text
        cs = self.mapping(d.get("code_switching", {}), "code_switching", ("other", "min_weight"))
        other = cs.get("other")
        if other is not None:
            self.choice(other, "code_switching.other", tuple(x for x in LANGUAGES if x != lang))
        lex = Lexicon(
            language=lang, path=self.path, version=str(meta.get("version", "")),
            thresholds=thresholds,
            fillers=_words_re(self.words(d.get("fillers", []), "fillers")),
            negators=frozenset(self.words(neg.get("words", []), "negation.words")),
            neg_window=int(self.number(neg.get("window_tokens", 2), "negation.window_tokens", maximum=10)),
            neg_factor=self.weight(neg.get("factor", 0.5), "negation.factor"),
            surface={}, roots={}, derived_only=frozenset(), aliases={},
            ignore=frozenset(self.words(d.get("ignore_forms", []), "ignore_forms")),
            phrases=[], rules=[], advice={}, other=other,
            other_min_weight=self.weight(cs.get("min_weight", 0.8), "code_switching.min_weight"),
        )  # fmt: skip
        mods = self.mapping(d["modalities"], "modalities", MODALITIES)
        derived: set[str] = set()
        for m, spec in mods.items():
            self.modality(lex, m, spec, derived)
        lex.derived_only = frozenset(derived)
        self.context_rules(lex, d.get("context_rules", []))
        self.advice(lex, d["advice"])
        return lex

    def modality(self, lex: Lexicon, m: str, spec: Any, derived: set[str]) -> None:
        key = f"modalities.{m}"
        kind = "lemmas" if lex.language == "en" else "stems"
        spec = self.mapping(spec, key, (kind, "colloquial", "aliases", "phrases"))
        own: dict[str, _Entry] = {}
        for root, e in self.mapping(spec.get(kind, {}), f"{key}.{kind}").items():
            k = f"{key}.{kind}.{root}"
            if not isinstance(e, dict):
                e = {"w": e}
            e = self.mapping(e, k, ("w", "forms", "weights", "bare", "note"))
            w = self.weight(e.get("w"), f"{k}.w")
            root = str(root).lower()
            kind_id = "stem" if kind == "stems" else "lemma"
            entry = own[root] = _Entry(m, root, w, f"{lex.language}:{m}:{kind_id}:{root}")
            lex.roots[root] = lex.roots.get(root, ()) + (entry,)
            if not (bare := self.boolean(e.get("bare", True), f"{k}.bare")):
                derived.add(root)
            weights = self.mapping(e.get("weights", {}), f"{k}.weights")
            forms = self.words(e.get("forms", []), f"{k}.forms")
            for form in forms + ([root] if bare and root not in forms else []):
                fw = self.weight(weights.get(form, w), f"{k}.weights.{form}")
                self._add(lex.surface, form, _Entry(m, root, fw, entry.rule))
        for sect in ("colloquial", "aliases"):
            for src, root in self.mapping(spec.get(sect, {}), f"{key}.{sect}").items():
                if not isinstance(root, str) or root not in own:
                    raise self.fail(f"{key}.{sect}.{src}", f"unknown root {root!r}", sorted(own))
                if sect == "aliases":
                    lex.aliases[str(src)] = root
                else:
                    self._add(lex.surface, str(src).lower(), own[root])
        for i, p in enumerate(self.items(spec.get("phrases", []), f"{key}.phrases")):
            k = f"{key}.phrases[{i}]"
            p = self.mapping(p, k, ("id", "re", "w", "ex", "note"))
            pid = str(p.get("id") or i)
            w = self.weight(p.get("w"), f"{k}.w")
            pat = self.regex(p.get("re"), f"{k}.re")
            lex.phrases.append((pat, _Entry(m, pid, w, f"{lex.language}:{m}:phrase:{pid}")))

    @staticmethod
    def _add(index: dict[str, tuple[_Entry, ...]], form: str, entry: _Entry) -> None:
        if all(e.modality != entry.modality for e in index.get(form, ())):
            index[form] = index.get(form, ()) + (entry,)

    def context_rules(self, lex: Lexicon, rules: Any) -> None:
        for i, r in enumerate(self.items(rules, "context_rules")):
            k = f"context_rules[{i}]"
            r = self.mapping(r, k, ("id", "kind", "re", "factor", "modalities", "scope", "note"))
            mods = self.words(r.get("modalities", list(MODALITIES)), f"{k}.modalities")
            for j, m in enumerate(mods):
                self.choice(m, f"{k}.modalities[{j}]", MODALITIES)
            lex.rules.append(_Rule(
                id=f"{lex.language}:{r.get('kind')}:{r.get('id') or i}",
                kind=self.choice(r.get("kind"), f"{k}.kind", RULE_KINDS),
                pattern=self.regex(r.get("re"), f"{k}.re"),
                factor=self.weight(r.get("factor", 0.0), f"{k}.factor"),
                modalities=frozenset(mods),
                scope=self.choice(r.get("scope", "span"), f"{k}.scope", SCOPES),
            ))  # fmt: skip

    def advice(self, lex: Lexicon, advice: Any) -> None:
        a = self.mapping(advice, "advice", ADVICE_KEYS)
        for k in MODALITIES + ("undetermined",):
            lex.advice[k] = list(self.strings(a.get(k, []), f"advice.{k}"))
        lex.advice["rapport_missed"] = str(a.get("rapport_missed", ""))
        names = self.mapping(a.get("modality_names", {}), "advice.modality_names", MODALITIES)
        lex.advice["modality_names"] = {m: str(names.get(m, m)) for m in MODALITIES}


def load_lexicon(language: str = "id", path: str | Path | None = None) -> Lexicon:
    """Read, validate and compile a sensory lexicon (cached per file and modification time).

    Parameters
    ----------
    language : {"id", "en"}
        Language of the lexicon; must match its ``meta.language``.
    path : str or Path, optional
        A lexicon YAML of your own. ``None`` reads the bundled ``vak_<language>.yaml`` (or the
        file of that name in ``$CALLSCAN_MODELS_DIR``).

    Returns
    -------
    Lexicon

    Raises
    ------
    ConfigError
        One line naming the file, the key and the valid choices.
    """
    if language not in LANGUAGES:
        raise ConfigError(f"no sensory lexicon for language {language!r} (valid: id, en)")
    if path is None:
        found = data_path(f"vak_{language}.yaml")
        if found is None:
            load_data(f"vak_{language}.yaml")  # raises the ConfigError naming the file
        path = found
    p = str(Path(str(path)))
    return cached(("lexicon", language), p, lambda: _Loader(p, read_yaml(p)).load(language))


def load_lexicon_file(path: str | Path) -> Lexicon:
    """Read, validate and compile the lexicon ``path`` in the language its ``meta`` names.

    Raises
    ------
    ConfigError
        One line naming the file, the key and the valid choices.
    """
    meta = read_yaml(path).get("meta")
    language = meta.get("language") if isinstance(meta, dict) else None
    # an unknown language is reported by the loader, as meta.language with the valid choices
    return load_lexicon(language if language in LANGUAGES else LANGUAGES[0], path)


def _words_re(words: list[str]) -> re.Pattern:
    """A pattern matching any of ``words`` as a whole token."""
    alt = "|".join(map(re.escape, words)) or r"(?!x)x"
    return re.compile(rf"(?<![\w'-])(?:{alt})(?![\w'-])")


def _foreign_entries(lex: Lexicon, other: Lexicon, token: str) -> tuple[_Entry, ...]:
    """The other language's entries for a token that is not a word of ``lex``'s language."""
    hit = other.cache.get("\0" + token)
    if hit is None:
        word = token[:-4] if token.endswith("-nya") else token
        word = word[3:] if word.startswith(("di-", "ke-")) else word
        if lex.language == "id":
            foreign = not is_id_word(word) and bool(en_lemmas(word) or word in other.roots)
            hit = other.lookup(word) if foreign else ()
        else:  # an English call: Indonesian surface forms only, for words English does not know
            hit = other.surface.get(word, ()) if not en_lemmas(word) else ()
        hit = tuple(e for e in hit if e.weight >= lex.other_min_weight)
        other.cache["\0" + token] = hit
    return hit


def _turn_hits(turn: Turn, role: str, lex: Lexicon, other: Lexicon | None) -> list:
    """Every evidence item of one turn, suppressed ones included (weight 0)."""
    # lowercase, everything but words and fillers blanked one for one: spans index the text
    norm = normalise(turn.text, lex.fillers, blank=NONWORD, fold_apostrophe=True)
    tokens = find_tokens(norm, TOKEN)
    if not tokens:
        return []
    foreign: dict[int, tuple[_Entry, ...]] = {}
    found: list[tuple[int, int, _Entry, bool]] = []  # (start, end, entry, negated)
    lexicons = [lex]
    if other is not None:
        for i, (*_, w) in enumerate(tokens):
            if not lex.lookup(w) and (hit := _foreign_entries(lex, other, w)):
                foreign[i] = hit
        if foreign or (lex.language == "id" and any(w in other.surface for *_, w in tokens)):
            lexicons.append(other)
    phrases = (p for lx in lexicons for p in lx.phrases)
    spans = [(m.start(), m.end(), e) for pat, e in phrases for m in pat.finditer(norm)]
    spans.sort(key=lambda s: (s[0], s[0] - s[1]))
    taken_end = -1
    for s, e, entry in spans:
        if s >= taken_end:
            found.append((s, e, entry, False))
            taken_end = e
    phrase_spans = [(s, e) for s, e, _, _ in found]
    for i, (s, e, w) in enumerate(tokens):
        if any(ps <= s < pe for ps, pe in phrase_spans):
            continue
        entries = lex.lookup(w) or foreign.get(i, ())
        if not entries:
            continue
        window = tokens[max(0, i - lex.neg_window) : i]
        negated = any(t[2] in lex.negators for t in window)
        found.extend((s, e, entry, negated) for entry in entries)
    if not found:
        return []
    rule_spans = []
    for rule in (r for lx in lexicons for r in lx.rules):
        if rule.scope == "turn":
            rule_spans.extend([(0, len(norm), rule)] if rule.pattern.search(norm) else [])
        else:
            rule_spans.extend((m.start(), m.end(), rule) for m in rule.pattern.finditer(norm))
    out = []
    for s, e, entry, negated in sorted(found, key=lambda f: f[0]):
        weight, by = entry.weight * (lex.neg_factor if negated else 1.0), None
        for rs, re_, rule in rule_spans:
            if rs <= s and e <= re_ and entry.modality in rule.modalities:
                weight *= rule.factor
                by = by or rule.id
        out.append(ModalityEvidence(
            modality=entry.modality, text=turn.text[s:e], lemma=entry.lemma, weight=weight,
            turn_index=turn.index, role=role, start_s=turn.start_s, end_s=turn.end_s, rule=entry.rule,
            negated=negated, suppressed_by=by if weight == 0 else None,
        ))  # fmt: skip
    return out


def _profile(role: str, hits: list[ModalityEvidence], n_turns: int, th: dict) -> ModalityProfile:
    live = [h for h in hits if h.weight > 0]
    scores = dict.fromkeys(MODALITIES, 0.0)
    items = dict.fromkeys(MODALITIES, 0)
    for h in live:
        scores[h.modality] += h.weight
        items[h.modality] += 1
    ranked = sorted(MODALITIES, key=lambda m: -scores[m])
    lead, second = ranked[0], scores[ranked[1]]
    total = sum(scores.values())
    share = scores[lead] / total if total else 0.0
    w = scores[lead]
    slack = min(w - th["min_weight"], share - th["min_share"], w - second - th["min_margin"])
    ok = w > 0 and items[lead] >= th["min_items"] and slack >= -1e-9
    sat = min(1.0, w / th["saturation_weight"]) if th["saturation_weight"] else 1.0
    return ModalityProfile(
        role=role, scores=scores, leading=lead if ok else UNDETERMINED,
        confidence=share * sat if ok else 0.0, share=share, n_turns=n_turns,
        evidence=live, suppressed=[h for h in hits if h.weight <= 0],
    )  # fmt: skip


def _rapport(caller: ModalityProfile, agent: ModalityProfile, turns: list[int]) -> RapportResult:
    m = caller.leading
    if m == UNDETERMINED:
        return RapportResult(None, None, None, 0, 0, 0)
    first = min(h.turn_index for h in caller.evidence if h.modality == m)
    after = [h for h in agent.evidence if h.turn_index > first]
    matching = [h for h in after if h.modality == m]
    return RapportResult(
        modality=m, matched=bool(matching), caller_first_turn=first,
        agent_turns_after=sum(1 for i in turns if i > first),
        agent_matching=len(matching), agent_other=len(after) - len(matching), evidence=matching,
    )  # fmt: skip


def detect(conversation: Conversation, options: ModalityOptions | None = None) -> ModalityResult:
    """The caller's (and the agent's) sensory-modality profile, rapport and advice.

    Parameters
    ----------
    conversation : Conversation
        Turns with roles; only ``caller`` turns build the caller profile (``unknown`` too when
        ``options.unknown_as_caller``), only ``agent`` turns the agent profile.
    options : ModalityOptions, optional
        Language, lexicon file, threshold level and overrides.

    Returns
    -------
    ModalityResult
        Scores per modality (summed weights), the leading modality or ``"undetermined"``, a
        0-1 confidence, every evidence item with turn index and times in seconds, rapport, and
        advice in the lexicon's language.

    Raises
    ------
    ConfigError
        Unknown language or level, or an invalid lexicon file.
    """
    opts = options or ModalityOptions()
    if opts.level not in LEVELS:
        raise ConfigError(f"ModalityOptions.level: {opts.level!r} is not valid (valid: call, turn)")
    lex = load_lexicon(opts.language or conversation.language, opts.lexicon_path)
    other = load_lexicon(lex.other) if opts.code_switching and lex.other else None
    th = dict(lex.thresholds[opts.level])
    overrides = {k: getattr(opts, k) for k in THRESHOLD_KEYS[:4]}
    th.update({k: float(v) for k, v in overrides.items() if v is not None})
    caller_roles = (CALLER, UNKNOWN) if opts.unknown_as_caller else (CALLER,)
    hits: dict[str, list[ModalityEvidence]] = {CALLER: [], AGENT: []}
    turns: dict[str, list[int]] = {CALLER: [], AGENT: []}
    for turn in conversation.turns:
        role = CALLER if turn.role in caller_roles else AGENT if turn.role == AGENT else None
        if role is not None:
            turns[role].append(turn.index)
            hits[role].extend(_turn_hits(turn, role, lex, other))
    caller = _profile(CALLER, hits[CALLER], len(turns[CALLER]), th)
    agent = _profile(AGENT, hits[AGENT], len(turns[AGENT]), th)
    rapport = _rapport(caller, agent, turns[AGENT])
    if caller.leading == UNDETERMINED:
        advice = list(lex.advice["undetermined"])
    else:
        advice = list(lex.advice[caller.leading])
        if rapport.matched is False and rapport.agent_turns_after and lex.advice["rapport_missed"]:
            name = lex.advice["modality_names"][caller.leading]
            advice.append(lex.advice["rapport_missed"].replace("{modality}", name))
    log.debug("modality: caller %s, %d evidence items", caller.leading, len(caller.evidence))
    return ModalityResult(
        language=lex.language, level=opts.level, caller=caller, agent=agent, rapport=rapport,
        advice=advice, thresholds=th, lexicon=f"{lex.path} (version {lex.version})",
    )  # fmt: skip
