"""The opening's scoring profile (``models/opening_profile.yaml``): weights, ranges, sources, tips.

Read and validated once per file and modification time. Any mistake raises a one-line
:class:`~callscan.errors.ConfigError` naming the file, the key and the valid choices, e.g.::

    'team.yaml': tone.measures.intonation_st.anchors: values must increase (got 1.9 after 4.1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from callscan.config import Checker, cached, read_yaml
from callscan.errors import ConfigError
from callscan.resources import data_path

PROFILE_FILE = "opening_profile.yaml"
LANGUAGES = ("id", "en")
TONE_MEASURES = (
    "intonation_st",
    "speaking_rate_syl_s",
    "pause_ratio_pct",
    "loudness_sd_db",
    "falling_endings_pct",
    "warmth_count",
)
CLARITY_MEASURES = (
    "asr_confidence",
    "snr_db",
    "articulation_rate_syl_s",
    "level_dbfs",
    "clipping_pct",
    "harmonicity_db",
    "filler_rate_per_100w",
)
GROUPS = {"tone": TONE_MEASURES, "clarity": CLARITY_MEASURES}
TIP_KINDS = ("low", "high", "ok", "curt")
CONTENT_KEYS = ("greeting", "company", "department", "agent_name", "offer_help")
SETTINGS = {  # key -> (type, default)
    "window_s": (float, 20.0),
    "min_agent_speech_s": (float, 2.0),
    "min_voiced_s": (float, 1.0),
    "min_syllables": (int, 8),
    "min_weight_share": (float, 0.5),
    "silence_dbfs": (float, -60.0),
    "clip_pct": (float, 0.1),
    "clip_run": (int, 3),
    "tone_share": (float, 0.93),
    "narrowband_hz": (int, 8000),
    "narrowband_db": (float, -40.0),
    "low_snr_db": (float, 10.0),
    "pause_min_s": (float, 0.25),
    "falling_st": (float, -1.0),
}
_TOP = ("version", "settings", "tone", "clarity", "warmth", "content")
_MEASURE_KEYS = ("name", "unit", "weight", "anchors", "source", "provisional", "tips")


@dataclass(frozen=True)
class MeasureSpec:
    """How one sub-measure is scored and explained."""

    id: str  # e.g. "intonation_st"
    name: dict[str, str]  # display name per language
    unit: str  # unit of the value
    weight: float  # weight in its score (re-normalised over assessable measures)
    xs: tuple[float, ...]  # anchor values, increasing
    ys: tuple[float, ...]  # anchor sub-scores 0-100
    source: str  # where the numbers come from
    provisional: bool  # True: our own numbers, to be calibrated
    tips: dict[str, dict[str, str]]  # kind ("low", "high", "ok", "curt") -> language -> text

    def sub_score(self, value: float) -> float:
        """Piecewise-linear sub-score of ``value`` (flat outside the anchors)."""
        return float(np.interp(value, self.xs, self.ys))

    @property
    def target_range(self) -> tuple[float | None, float | None]:
        """Values that score 100: (low, high); None where the range is open."""
        top = [x for x, y in zip(self.xs, self.ys, strict=True) if y >= 100.0]
        if not top:
            best = max(self.ys)
            top = [x for x, y in zip(self.xs, self.ys, strict=True) if y == best]
        lo = None if top[0] == self.xs[0] else top[0]
        hi = None if top[-1] == self.xs[-1] else top[-1]
        return lo, hi

    def tip(self, kind: str, language: str) -> str:
        texts = self.tips.get(kind) or self.tips.get("ok") or {}
        return texts.get(language) or texts.get("en", "")


@dataclass(frozen=True)
class OpeningProfile:
    """A validated scoring profile."""

    path: str  # file it was read from
    version: str  # the file's version
    settings: dict[str, float]  # thresholds (SETTINGS keys)
    measures: dict[str, dict[str, MeasureSpec]]  # "tone"/"clarity" -> measure id -> spec
    polite: dict[str, dict[str, re.Pattern | None]]  # language -> kind -> regex (None: no regex)
    curt: dict[str, re.Pattern | None]  # language -> regex of curt or rude words
    content: dict[str, dict[str, tuple[re.Pattern, ...]]]  # element -> language -> regexes

    def summary(self) -> str:
        """``N tone measures, M clarity measures`` for messages."""
        tone, clarity = (len(self.measures.get(g, {})) for g in ("tone", "clarity"))
        return f"{tone} tone measures, {clarity} clarity measures"


class _Check(Checker):
    """Validates one parsed profile; every error names the file and the key."""

    def patterns(self, value: Any, key: str) -> re.Pattern | None:
        """A list of regex strings as one case-insensitive alternation (None when empty)."""
        if value is None or value == []:
            return None
        alternatives = self.strings(value, key)
        return self.regex("|".join(f"(?:{v})" for v in alternatives), key)

    def measure(self, mid: str, raw: Any, key: str) -> MeasureSpec:
        m = self.mapping(raw, key, _MEASURE_KEYS)
        self.require(m, key, ("weight", "anchors", "source"), "is missing")
        weight = self.number(m["weight"], f"{key}.weight")
        anchors = m["anchors"]
        if not isinstance(anchors, list) or len(anchors) < 2:
            raise self.fail(f"{key}.anchors", "must be a list of at least 2 [value, score] pairs")
        xs: list[float] = []
        ys: list[float] = []
        for i, pair in enumerate(anchors):
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(f"{key}.anchors[{i}]", "must be a [value, score] pair")
            x = self.number(pair[0], f"{key}.anchors[{i}]", minimum=None)
            y = self.number(pair[1], f"{key}.anchors[{i}]", minimum=None)
            if not 0.0 <= y <= 100.0:
                raise self.fail(f"{key}.anchors[{i}]", f"score {y:g} is not within 0-100")
            if xs and x <= xs[-1]:
                raise self.fail(
                    f"{key}.anchors", f"values must increase (got {x:g} after {xs[-1]:g})"
                )
            xs.append(x)
            ys.append(y)
        tips = self.mapping(m.get("tips", {}), f"{key}.tips", TIP_KINDS)
        tips = {k: self.lang_text(v, f"{key}.tips.{k}", LANGUAGES) for k, v in tips.items()}
        if not isinstance(m["source"], str) or not m["source"].strip():
            raise self.fail(f"{key}.source", "must cite where the numbers come from")
        provisional = self.boolean(m.get("provisional", True), f"{key}.provisional")
        name = self.lang_text(m.get("name", {"en": mid}), f"{key}.name", LANGUAGES)
        return MeasureSpec(
            mid, name, str(m.get("unit", "")), weight, tuple(xs), tuple(ys),
            " ".join(m["source"].split()), provisional, tips,
        )  # fmt: skip

    def load(self, data: dict) -> OpeningProfile:
        self.mapping(data, "", _TOP)
        raw_settings = self.mapping(data.get("settings", {}), "settings", tuple(SETTINGS))
        settings = {}
        for k, (kind, default) in SETTINGS.items():
            v = self.number(raw_settings.get(k, default), f"settings.{k}", minimum=None)
            settings[k] = int(v) if kind is int else v
        if settings["window_s"] <= 0:
            raise self.fail("settings.window_s", "must be > 0")
        measures = {}
        for group, ids in GROUPS.items():
            g = self.mapping(data.get(group, {}), group, ("measures",))
            ms = self.mapping(g.get("measures", {}), f"{group}.measures", ids)
            if not ms:
                raise self.fail(f"{group}.measures", "needs at least one measure", ids)
            measures[group] = {
                mid: self.measure(mid, raw, f"{group}.measures.{mid}") for mid, raw in ms.items()
            }
            if sum(s.weight for s in measures[group].values()) <= 0:
                raise self.fail(f"{group}.measures", "weights must not all be 0")
        warmth = self.mapping(data.get("warmth", {}), "warmth", LANGUAGES)
        polite: dict[str, dict[str, re.Pattern | None]] = {}
        curt: dict[str, re.Pattern | None] = {}
        for lang in LANGUAGES:
            w = self.mapping(warmth.get(lang, {}), f"warmth.{lang}", ("polite", "curt"))
            kinds = self.mapping(w.get("polite", {}), f"warmth.{lang}.polite")
            polite[lang] = {
                str(k): self.patterns(v, f"warmth.{lang}.polite.{k}") for k, v in kinds.items()
            }
            curt[lang] = self.patterns(w.get("curt"), f"warmth.{lang}.curt")
        raw = self.mapping(data.get("content", {}), "content", CONTENT_KEYS)
        content: dict[str, dict[str, tuple[re.Pattern, ...]]] = {}
        for key, per_lang in raw.items():
            d = self.mapping(per_lang, f"content.{key}", LANGUAGES)
            content[str(key)] = {
                lang: tuple(
                    self.regex(f"(?:{v})", f"content.{key}.{lang}[{i}]")
                    for i, v in enumerate(self.strings(d.get(lang) or [], f"content.{key}.{lang}"))
                )
                for lang in LANGUAGES
            }
        return OpeningProfile(
            self.path, str(data.get("version", "")), settings, measures, polite, curt, content
        )


def load_profile(path: str | Path | None = None) -> OpeningProfile:
    """Read and validate a scoring profile (cached per file and modification time).

    Parameters
    ----------
    path : str or Path, optional
        A team's own profile; None reads the bundled ``opening_profile.yaml`` (or the override
        in ``$CALLSCAN_MODELS_DIR``).

    Raises
    ------
    ConfigError
        One line naming the file, the key and the valid choices.
    """
    if path is None:
        found = data_path(PROFILE_FILE)
        if found is None:
            raise ConfigError(f"'{PROFILE_FILE}': no such data file in callscan.models")
        path = found
    p = str(Path(path))
    return cached("opening_profile", p, lambda: _Check(p).load(read_yaml(p)))
