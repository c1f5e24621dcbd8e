"""Many calls: the batch runner (workers, resume, failure isolation) and its summaries.

Modules
-------
runner
    :func:`~callscan.qa.runner.run_batch`: analyse folders of calls, resumable, one bad file
    never stopping the rest; ``summary.csv`` and ``agents.csv``.
server
    ``callscan serve``: a resident worker over HTTP that keeps the model loaded
    (:class:`~callscan.qa.server.Worker`, :func:`~callscan.qa.server.create_app`), and its
    standard-library client :func:`~callscan.qa.server.analyze_remote`.
"""

from callscan.qa.runner import BatchResult, run_batch

__all__ = ["BatchResult", "run_batch"]
