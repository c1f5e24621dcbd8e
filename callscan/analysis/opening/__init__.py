"""The agent's opening: tone and clarity of the first 20 seconds of a call.

Modules
-------
score
    :func:`score_opening`: a short sequence of named steps (window, status, content, measures,
    sub-scores and tips) returning an :class:`OpeningResult`.
measures
    The window and what is measured in it, each a small frozen dataclass: :class:`Window`,
    :class:`ChannelLevels`, :class:`Acoustics`, :class:`NoiseEstimate`, :class:`WordMeasures`.
content
    What was said: greeting, company, name, offer to help (from the playbook).
profile
    The scoring profile (``models/opening_profile.yaml``): measures, targets, weights.
plot
    The pitch and loudness traces shown on the report.
"""

from callscan.analysis.opening.score import OpeningOptions, OpeningResult, score_opening

__all__ = ["OpeningOptions", "OpeningResult", "score_opening"]
