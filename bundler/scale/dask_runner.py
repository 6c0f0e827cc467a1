"""Run independent jobs on Dask: a local cluster by default, or an existing one.

Each job's failure is caught and reported on its own, so one province that
fails (an exception, or a worker that dies) never loses the others.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bundler.errors import InputError, PsBundlerError

# Dask's own log lines on a failed task would repeat what the run reports itself
_QUIET = logging.CRITICAL
CONNECT_TIMEOUT = "10s"


@dataclass
class Job:
    """One call ``fn(*args)``; ``name`` identifies it in reports."""

    name: str
    fn: Callable
    args: tuple


@dataclass
class Outcome:
    """A finished job: its value, or the error that stopped it."""

    name: str
    value: Any = None
    error: str | None = None


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Any]:
    """A Dask client on a fresh local cluster, or on the cluster at ``scheduler``.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Without it a
        local cluster of ``workers`` single-threaded processes is started and
        shut down at the end.
    workers : int
        Worker processes of the local cluster.

    Yields
    ------
    distributed.Client

    Raises
    ------
    InputError
        When the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # a free port: never clashes with another run's dashboard
        silence_logs=_QUIET,
    )
    with cluster, Client(cluster) as client:
        yield client


def run_jobs(
    client: Any,
    jobs: Sequence[Job],
    on_done: Callable[[Outcome], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Run ``jobs`` on ``client`` and return their outcomes in the jobs' order.

    Parameters
    ----------
    client : distributed.Client
    jobs : sequence of Job
        Large arguments are scattered to the workers first.
    on_done : callable, optional
        Called in this process with each outcome as soon as it arrives, so a
        caller can save finished work before the rest completes.
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    list of Outcome
    """
    from distributed import as_completed

    total = len(jobs)
    if progress:
        progress(0, total)
    if not total:
        return []
    futures = {}
    for i, job in enumerate(jobs):
        args = [client.scatter(a) if _is_large(a) else a for a in job.args]
        futures[client.submit(job.fn, *args, pure=False, key=f"{job.name}-{i}")] = i
    outcomes: list[Outcome | None] = [None] * total
    for done, fut in enumerate(as_completed(futures), start=1):
        i = futures[fut]
        name = jobs[i].name
        try:
            outcome = Outcome(name, value=fut.result())
        except Exception as exc:  # one failed job is reported, never fatal to the others
            outcome = Outcome(name, error=describe_error(exc))
        finally:
            fut.release()
        outcomes[i] = outcome
        if on_done:
            on_done(outcome)
        if progress:
            progress(done, total)
    return [o for o in outcomes if o is not None]


def describe_error(exc: BaseException) -> str:
    """One line saying what went wrong in a job."""
    if isinstance(exc, PsBundlerError):
        return str(exc).splitlines()[0]
    name = type(exc).__name__
    if name == "KilledWorker":
        return "the worker running it died (out of memory or crashed) several times"
    text = str(exc).strip().splitlines()
    return f"{name}: {text[0]}" if text else name


def _is_large(obj: Any) -> bool:
    return hasattr(obj, "memory_usage") and hasattr(obj, "columns")
