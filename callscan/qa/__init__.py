"""Many calls: the batch runner (workers, resume, failure isolation) and its summaries.

Modules
-------
runner
    :func:`~callscan.qa.runner.run_batch`: analyse folders of calls, resumable, one bad file
    never stopping the rest; ``summary.csv`` and ``agents.csv``.
"""

from callscan.qa.runner import BatchResult, run_batch

__all__ = ["BatchResult", "run_batch"]
