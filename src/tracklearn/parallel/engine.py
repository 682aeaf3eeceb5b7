"""Run one task per event: in this process, in a local process pool, or on a Dask cluster.

A :class:`Job` says what every worker does: ``setup()`` once per worker process
(load the model, open the geometry) and ``run(state, item)`` per event.  The
three executors share that code path and differ only in where it runs:

* ``workers == 1`` and no scheduler: in this process;
* ``workers == N``: a local :class:`~concurrent.futures.ProcessPoolExecutor`
  (at most N events in flight); a worker process that dies (killed, out of
  memory) breaks the pool: a new pool is started and the events that were in
  flight are retried;
* ``scheduler``: a Dask cluster (:mod:`tracklearn.parallel.scheduler`); the
  scheduler reschedules the tasks of a dead worker on another one.

Either way an event is tried at most ``1 + MAX_RETRIES`` times when workers die
under it; an event that fails on its own (a bad file: :class:`TracklearnError`)
is not retried, it is reported with its one-line error and the others go on.

Ctrl-C (``KeyboardInterrupt``) stops within seconds: the worker processes this
run started are killed by pid, ``cleanup`` runs (it removes half-written
files), and :class:`RunInterrupted` says how many events were finished.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from tracklearn.errors import RunInterrupted
from tracklearn.parallel.scheduler import SchedulerSpec
from tracklearn.parallel.tasks import (
    MAX_RETRIES,
    Job,
    Outcome,
    TaskResult,
    died_message,
    execute,
    init_pool_worker,
    no_sigint,
)

__all__ = ["MAX_RETRIES", "Job", "Outcome", "RunReport", "TaskResult", "execute", "no_sigint",
           "run_tasks"]  # fmt: skip

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """Outcomes in input order, and the executor that made them."""

    outcomes: list[Outcome]
    executor: str
    n_workers: int
    wall_s: float = 0.0
    worker_pids: list[int] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def retried(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.attempts > 1]


# ---------------------------------------------------------------- executors


def run_tasks(
    job: Job,
    items: Sequence[str],
    *,
    workers: int = 1,
    scheduler: SchedulerSpec | None = None,
    fresh_process_per_event: bool = False,
    on_done: Callable[[Outcome], None] | None = None,
    cleanup: Callable[[], None] | None = None,
) -> RunReport:
    """Run ``job`` on every item; return the outcomes in input order.

    Parameters
    ----------
    workers
        Local worker processes (1: this process).  Ignored with ``scheduler``.
    scheduler
        A Dask cluster to run on (see :func:`~tracklearn.parallel.parse_scheduler`).
    fresh_process_per_event
        A new local process for every event (per-event peak memory in benchmarks).
    on_done
        Called in this process after every finished event (progress bars).
    cleanup
        Called after Ctrl-C once the workers are stopped, before
        :class:`RunInterrupted` is raised (removes half-written files).
    """
    start = time.perf_counter()
    done: dict[str, Outcome] = {}

    def finish(o: Outcome) -> None:
        done[o.item] = o
        if on_done is not None:
            on_done(o)

    pids: list[int] = []
    try:
        if scheduler is not None:
            from tracklearn.parallel.dask_executor import run_on_dask

            n, pids = run_on_dask(job, items, scheduler, finish)
            executor = f"dask ({scheduler.describe()})"
        elif workers <= 1 and not fresh_process_per_event:
            _run_here(job, items, finish)
            n, executor = 1, "this process"
        else:
            n = max(1, workers)
            pids = _run_pool(job, items, n, fresh_process_per_event, finish)
            executor = f"local process pool ({n})"
    except KeyboardInterrupt:
        with no_sigint():
            if cleanup is not None:
                cleanup()
        raise RunInterrupted(len(done), len(items)) from None
    report = RunReport([done[i] for i in items], executor, n, time.perf_counter() - start)
    report.worker_pids = pids
    return report


def _run_here(job: Job, items: Sequence[str], finish: Callable[[Outcome], None]) -> None:
    for item in items:
        r = execute(job, item)
        finish(Outcome(r.item, r.value, r.error, 1, r.pid, r.set_up))


def _run_pool(
    job: Job,
    items: Sequence[str],
    workers: int,
    fresh: bool,
    finish: Callable[[Outcome], None],
) -> list[int]:
    """Local pool with at most ``workers`` events in flight, restarted when a worker dies.

    A dead worker breaks a :class:`ProcessPoolExecutor` and stops its other
    workers too, so every event in flight then is retried; those "suspects"
    run alone next, so that a poison event (one that kills its worker every
    time) uses up its own retries, not those of the events beside it.
    """
    todo = list(reversed(items))  # pop() from the end keeps input order
    suspects: list[str] = []
    attempts = dict.fromkeys(items, 0)
    seen_pids: set[int] = set()
    while todo or suspects:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            initializer=init_pool_worker,
            max_tasks_per_child=1 if fresh else None,
        )
        running: dict[Future[TaskResult], str] = {}
        lost: list[str] = []
        try:
            while True:
                if not lost:
                    if suspects and not running:
                        item = suspects.pop(0)
                        attempts[item] += 1
                        running[pool.submit(execute, job, item)] = item
                    while not suspects and todo and len(running) < workers:
                        item = todo.pop()
                        attempts[item] += 1
                        running[pool.submit(execute, job, item)] = item
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                seen_pids.update(getattr(pool, "_processes", {}) or {})
                for fut in finished:
                    item = running.pop(fut)
                    try:
                        r = fut.result()
                    except BrokenProcessPool:
                        lost.append(item)
                        continue
                    finish(Outcome(item, r.value, r.error, attempts[item], r.pid, r.set_up))
        except BaseException:
            with no_sigint():
                _kill_pool(pool)
            raise
        pool.shutdown(wait=True, cancel_futures=True)
        for item in lost:  # retry, or give up after MAX_RETRIES
            if attempts[item] > MAX_RETRIES:
                finish(Outcome(item, None, died_message(item, attempts[item]), attempts[item]))
            else:
                suspects.append(item)
        if suspects:
            log.warning("a worker process died; retrying %d event(s)", len(suspects))
    return sorted(seen_pids)


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes by pid (they ignore Ctrl-C) and wait for them."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join(timeout=5)
    pool.shutdown(wait=False, cancel_futures=True)
