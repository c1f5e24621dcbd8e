"""Where a batch's calls are analysed: the executors :func:`callscan.qa.runner.run_batch` uses.

``local`` (the default) analyses calls in this process or a pool of worker processes (see
:mod:`callscan.qa.runner`). ``ray`` runs them on a Ray cluster (the optional extra,
``pip install 'callscan[ray]'``): :func:`run_on_ray` starts one actor per worker, each set
up once (so it keeps its loaded models between calls), hands each actor one call at a time,
and brings every result back to this process (the driver):

* an actor writes a call's reports into a temporary folder on its own node and returns their
  bytes with the outcome; the driver writes them atomically into the output folder and then
  calls ``record`` (the batch log and the QA store), so only the driver ever writes the
  output folder and it need not be shared between nodes;
* an actor that dies (out of memory, killed, its node lost) fails only the call it held;
  a fresh actor takes its place and the batch goes on;
* Ray is connected to at ``address``, else ``$RAY_ADDRESS``, else a local Ray instance is
  started for the batch and stopped after it; a Ray already initialised in this process
  (``ray.init`` called by the caller) is used as it is and left running.

Every node must have callscan (and the Whisper weights in the same model folder) installed
and read the inputs at the same paths as the driver; relative paths resolve against the
driver's working folder, which each actor enters when it exists on its node.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscan.errors import CallscanError
from callscan.util import atomic_write

logger = logging.getLogger(__name__)

EXECUTORS = ("local", "ray")
RAY_INSTALL = "pip install 'callscan[ray]'"
WORKER_DIED = "the worker analysing this call died (out of memory?)"


def _missing_ray() -> CallscanError:
    return CallscanError(
        f"the ray executor needs Ray, which is not installed: {RAY_INSTALL}", option="executor"
    )


def check_executor(executor: str) -> str:
    """``executor`` when it is one of :data:`EXECUTORS` and can run here (``ray``: Ray is
    installed; it is not imported yet), else a one-line CallscanError."""
    import importlib.util

    if executor not in EXECUTORS:
        raise CallscanError(
            f"unknown executor '{executor}': choose one of {', '.join(EXECUTORS)}",
            option="executor",
        )
    if executor == "ray":
        try:
            found = importlib.util.find_spec("ray") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise _missing_ray()
    return executor


def import_ray():
    """The ``ray`` module, or a one-line CallscanError naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise _missing_ray() from None
    return ray


@dataclass(frozen=True)
class Job:
    """One unit of work: ``work(path, outputs, *extra)`` writes the files ``outputs``
    (``{kind: path}``) and returns an outcome dict (``"status"``, ``"error"``, ``"row"``).
    ``key`` is handed back to ``record`` untouched (the batch's call)."""

    key: Any
    path: str
    outputs: dict[str, str]
    extra: tuple = field(default=())


class CallWorker:
    """A Ray actor's state: set up once (``setup(*setup_args)``, which may load models
    lazily into the process), then analyses one job at a time."""

    def __init__(self, setup: Callable[..., Any] | None, setup_args: tuple, cwd: str):
        if cwd and os.path.isdir(cwd):
            os.chdir(cwd)  # relative inputs resolve as on the driver
        if setup is not None:
            setup(*setup_args)

    def run(
        self, work: Callable[..., dict], path: str, outputs: dict[str, str], extra: tuple
    ) -> tuple[dict, dict[str, bytes]]:
        """``work``'s outcome and, when it is ``ok``, the bytes of each file it wrote."""
        with tempfile.TemporaryDirectory(prefix="callscan-ray-") as tmp:
            local = {kind: os.path.join(tmp, Path(p).name) for kind, p in outputs.items()}
            outcome = work(path, local, *extra)
            files: dict[str, bytes] = {}
            if outcome.get("status") == "ok":
                files = {kind: Path(p).read_bytes() for kind, p in local.items()}
                row = outcome.get("row")
                if isinstance(row, dict) and row.get("report") in local.values():
                    kind = next(k for k, p in local.items() if p == row["report"])
                    outcome = {**outcome, "row": {**row, "report": outputs[kind]}}
        return outcome, files

    def peak_rss_mb(self) -> float:
        """This actor process's peak resident memory (MB), for benchmarks."""
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def connect(ray, address: str | None = None) -> bool:
    """Initialise Ray (``address``, else ``$RAY_ADDRESS``, else a local instance); returns
    whether this call started it (and so must shut it down). An initialised Ray is kept."""
    if ray.is_initialized():
        return False
    target = address or os.environ.get("RAY_ADDRESS") or None
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if target is None:
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=target, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"at '{target}'" if target else "(a local instance)"
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CallscanError(
            f"cannot start or reach the Ray cluster {where}: {reason}", option="ray_address"
        ) from e
    return True


def _write_outputs(job: Job, outcome: dict, files: dict[str, bytes]) -> dict:
    """Write the files an actor sent back to their places; an outcome the driver could not
    write becomes an output error (the output folder is at fault, not the call)."""
    for kind, data in files.items():
        path = job.outputs[kind]
        try:
            atomic_write(path, data)
        except OSError as e:
            error = f"'{path}': cannot write ({e.strerror or e})"
            return {**outcome, "status": "error", "error": error, "output_error": True}
    return outcome


def _kill(ray, actor) -> None:
    try:
        ray.kill(actor)
    except Exception:  # already gone
        pass


def run_on_ray(
    jobs: Iterable[Job],
    work: Callable[..., dict],
    record: Callable[[Any, dict], None],
    lost: Callable[[Job, str], dict],
    *,
    setup: Callable[..., Any] | None = None,
    setup_args: tuple = (),
    workers: int = 1,
    address: str | None = None,
) -> None:
    """Run every job on ``workers`` Ray actors and ``record(job.key, outcome)`` each in this
    process as it finishes (see the module docstring).

    ``lost(job, error)`` makes the outcome of a job whose actor died or whose work raised
    past its own error handling. An exception from ``record`` stops the run: the jobs not
    finished are left unrecorded and the actors are stopped.

    Raises
    ------
    CallscanError
        Ray is not installed; the cluster cannot be reached; it has fewer CPUs than
        ``workers`` (each actor takes one).
    """
    ray = import_ray()
    from ray.exceptions import RayError, RayTaskError

    queue = deque(jobs)
    if not queue:
        return
    started = connect(ray, address)
    actors: list[Any] = []
    try:
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus < workers:
            raise CallscanError(
                f"the Ray cluster has {cpus:g} CPUs, fewer than the {workers} workers asked "
                "for (each takes one)",
                option="workers",
            )
        actor_class = ray.remote(num_cpus=1, max_restarts=0)(CallWorker)

        def new_actor():
            spread = actor_class.options(scheduling_strategy="SPREAD")
            return spread.remote(setup, setup_args, os.getcwd())

        actors = [new_actor() for _ in range(workers)]
        running: dict[Any, tuple[int, Job]] = {}

        def submit(slot: int) -> None:
            if queue:
                job = queue.popleft()
                ref = actors[slot].run.remote(work, job.path, job.outputs, job.extra)
                running[ref] = (slot, job)

        for slot in range(workers):
            submit(slot)
        while running:
            ready, _ = ray.wait(list(running), num_returns=1)
            slot, job = running.pop(ready[0])
            try:
                outcome, files = ray.get(ready[0])
                outcome = _write_outputs(job, outcome, files)
            except RayTaskError as e:  # raised by the work itself: the actor lives on
                cause = e.cause if isinstance(e.cause, BaseException) else e
                error = f"internal error: {type(cause).__name__}: {cause}".splitlines()[0]
                outcome = lost(job, error)
            except RayError as e:  # the actor died: killed, out of memory, its node lost
                logger.warning(
                    "'%s': the Ray actor analysing it was lost (%s); replacing it",
                    job.path, type(e).__name__,
                )  # fmt: skip
                outcome = lost(job, WORKER_DIED)
                _kill(ray, actors[slot])
                actors[slot] = new_actor()
            record(job.key, outcome)
            submit(slot)
    finally:
        for actor in actors:
            _kill(ray, actor)
        if started:
            ray.shutdown()
