"""Text and voice analyses of a call with known parties (pure, no models loaded).

Modules
-------
playbook
    Stages, complaint steps and conduct rules of a team (``models/playbook_*.yaml``).
text
    Stemming (one Sastrawi stemmer, the English lemmatiser); normalisation is in
    :mod:`callscan.text` (the core), since role detection uses it too.
matching
    Cue matching over a prepared call and the :class:`~callscan.analysis.matching.Evidence`
    every finding cites.
stages
    :func:`~callscan.analysis.stages.check`: stage coverage, complaint steps and conduct.
semantic
    The optional sentence-embedding signal for stage coverage (``callscan[semantic]``).
modality
    :func:`~callscan.analysis.modality.detect`: the caller's sensory modality.
opening
    :func:`~callscan.analysis.opening.score_opening`: tone and clarity of the agent's first 20 s.
"""
