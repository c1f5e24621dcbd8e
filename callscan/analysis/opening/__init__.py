"""The agent's opening: tone and clarity of the first 20 seconds of a call.

Modules
-------
score
    :func:`score_opening`: the window, its measures, sub-scores and tips.
content
    What was said: greeting, company, name, offer to help (from the playbook).
profile
    The scoring profile (``models/opening_profile.yaml``): measures, targets, weights.
plot
    The pitch and loudness traces shown on the report.
"""

from callscan.analysis.opening.score import OpeningOptions, OpeningResult, score_opening

__all__ = ["OpeningOptions", "OpeningResult", "score_opening"]
