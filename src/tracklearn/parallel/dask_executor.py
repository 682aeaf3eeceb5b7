"""Events as tasks on a Dask distributed cluster (imported only when ``--scheduler`` is given).

``local[:N]`` starts a :class:`distributed.LocalCluster` of N worker processes
(one thread each) bound to 127.0.0.1 with no dashboard; a scheduler address
joins a cluster started with ``dask scheduler`` / ``dask worker`` (the workers
need tracklearn installed and the input and output paths visible, e.g. on a
shared file system).

When a worker dies, the scheduler reschedules its tasks on the other workers;
after ``MAX_RETRIES`` deaths under the same event it gives up on that event
(``KilledWorker``), which is then reported as failed.  How often each event was
tried is read from the scheduler (``TaskState.suspicious``).

A watchdog guards against a stalled scheduler queue (seen once in ``make bench``: the
events submitted to refill the window never started although every worker thread was
free): when no worker has run any of this run's events for ``STALL_S`` seconds while a
worker thread was free, the waiting events are cancelled and submitted again under new
keys; an event resubmitted ``MAX_RESUBMITS`` times is reported failed, so a run always
ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tracklearn.errors import ConfigError
from tracklearn.parallel.scheduler import SchedulerSpec, available_cores
from tracklearn.parallel.tasks import (
    MAX_RETRIES,
    Job,
    Outcome,
    died_message,
    execute,
    no_sigint,
)

log = logging.getLogger(__name__)

#: events in flight per worker thread: 1, so that a worker that dies takes only the event
#: it was running with it (the scheduler would otherwise assign several events to one
#: worker ahead of time); the cost is one scheduler round trip (milliseconds) per event
IN_FLIGHT_PER_THREAD = 1

#: seconds this run's events may all sit waiting while a worker thread is free before the
#: watchdog resubmits them (a worker runs an event as soon as it has a free thread: a
#: healthy scheduler assigns in milliseconds)
STALL_S = 30.0
#: resubmissions of one event by the watchdog before it is reported failed
MAX_RESUBMITS = 3


def dask_setup(worker: Any) -> None:
    """Worker preload: leave Ctrl-C to the main process, which stops the cluster."""
    with contextlib.suppress(ValueError):  # not the main thread: nothing to do
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def open_client(spec: SchedulerSpec, n_events: int) -> Iterator[Any]:
    """A connected :class:`distributed.Client`; a local cluster is closed on exit."""
    import dask
    from distributed import Client, LocalCluster

    # the scheduler of a local cluster runs in this process: its INFO lines are noise here
    logging.getLogger("distributed").setLevel(logging.ERROR)
    settings = {
        "distributed.scheduler.allowed-failures": MAX_RETRIES,
        # one event per worker thread at a time: a dead worker takes only its own event
        # with it (events last seconds; the scheduler's round trip is milliseconds)
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        if spec.address is not None:
            try:
                client = Client(spec.address, timeout=10)
            except OSError as exc:
                raise ConfigError(f"--scheduler {spec.address}: cannot connect ({exc})") from None
            try:
                yield client
            finally:
                client.close()
            return
        n = spec.n_workers or available_cores()
        if spec.n_workers and spec.n_workers > available_cores() and spec.processes:
            log.warning(
                "--scheduler local:%d starts %d worker processes on %d cores",
                spec.n_workers,
                spec.n_workers,
                available_cores(),
            )
        n = max(1, min(n, max(n_events, 1)))
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=spec.processes,
            protocol="tcp",  # also for thread workers (no in-process shortcut)
            host="127.0.0.1",  # loopback only
            dashboard_address=None,
            silence_logs=logging.ERROR,
            # thread workers share this process: Dask would give each 1/N of the machine's
            # memory and pause them all once this process is larger (a bench process of
            # 1.6 GB paused 16 thread workers for good: the hang of make bench)
            **({} if spec.processes else {"memory_limit": 0}),
            **({"preload": ["tracklearn.parallel.dask_executor"]} if spec.processes else {}),
        )
        client = Client(cluster)
        try:
            yield client
        except BaseException:
            with no_sigint():
                _kill_local_workers(client)
                _close(client, cluster)
            raise
        _close(client, cluster)


def _close(client: Any, cluster: Any) -> None:
    with contextlib.suppress(Exception):
        client.close(timeout=5)
    with contextlib.suppress(Exception):
        cluster.close(timeout=5)


def worker_pids(client: Any) -> list[int]:
    """Process ids of the cluster's live workers (asked from each worker's event loop)."""
    return sorted(int(pid) for pid in client.run(os.getpid).values())


def _kill_local_workers(client: Any) -> None:
    """Kill this run's local worker processes by pid (Ctrl-C must stop within seconds)."""
    try:
        pids = worker_pids(client)
    except Exception:  # the scheduler is gone already
        return
    for pid in pids:
        if pid == os.getpid():  # thread workers (processes=False) live in this process
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _suspicious(keys: list[str], dask_scheduler: Any = None) -> dict[str, int]:
    """Runs on the scheduler: how many workers died while running each task."""
    tasks = dask_scheduler.tasks
    return {k: int(tasks[k].suspicious) for k in keys if k in tasks}


def _executing(dask_worker: Any = None) -> tuple[list[str], int]:
    """Runs on each worker: the keys its threads are running now, and its free-to-run
    thread count (0 while the worker is paused for memory: it starts nothing)."""
    running = [str(ts.key) for ts in dask_worker.state.executing]
    return running, 0 if dask_worker.status.name == "paused" else int(dask_worker.state.nthreads)


def _stalled(client: Any, keys: list[str]) -> tuple[bool, bool]:
    """(stalled, all paused): none of ``keys`` is running on any worker although a worker
    thread is free; every worker is paused for memory.

    Asked of the workers, not the scheduler: a task the scheduler counts as processing
    but no worker runs is stalled too.  Workers paused for memory are not free (Dask
    resumes them when their memory falls)."""
    views = list(client.run(_executing, on_error="ignore").values())
    running = {k for ks, _ in views for k in ks}
    paused = bool(views) and all(n == 0 for _, n in views)
    return not running.intersection(keys) and any(len(ks) < n for ks, n in views), paused


class _PauseLog:
    """Warns that every worker is paused once per stretch without progress, not at every
    check of the watchdog (every few seconds while the pause lasts)."""

    def __init__(self) -> None:
        self.warned = False

    def update(self, paused: bool) -> None:
        if paused and not self.warned:
            log.warning(
                "dask: every worker is paused (memory above distributed.worker.memory.pause)"
            )
        self.warned = paused


def _submit_options(resubmits: int) -> dict[str, Any]:
    """Extra ``Client.submit`` arguments of an event's try (tests make a first try stall)."""
    return {}


def _next_batch(pending: Any, timeout: float) -> list[Any]:
    """Finished futures of ``pending`` (an ``as_completed``), or [] after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not pending.has_ready():
        if time.monotonic() >= deadline:
            return []
        with pending.thread_condition:  # what as_completed's own iterator waits on
            pending.thread_condition.wait(timeout=0.1)
    return list(pending.next_batch(block=False))


def run_on_dask(
    job: Job,
    items: Sequence[str],
    spec: SchedulerSpec,
    finish: Callable[[Outcome], None],
    *,
    stall_s: float | None = None,
) -> tuple[int, list[int]]:
    """Run every item as one task; return (number of workers, worker pids seen).

    ``stall_s`` (default :data:`STALL_S`): the watchdog's patience, see the module doc."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    stall_s = STALL_S if stall_s is None else stall_s
    with open_client(spec, len(items)) as client:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
        pids = set(worker_pids(client))
        run_id = uuid.uuid4().hex[:8]
        queue = list(reversed(items))
        live: dict[str, tuple[str, Any]] = {}  # key -> (item, future) of the events in flight
        resubmits: Counter[str] = Counter()

        def window() -> int:  # follows the cluster as workers come and go
            return max(1, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))

        def submit(item: str) -> Any:
            n = resubmits[item]
            key = f"tracklearn-{run_id}-{item}" + (f"-r{n}" if n else "")
            fut = client.submit(execute, job, item, key=key, pure=False, **_submit_options(n))
            live[key] = (item, fut)
            return fut

        def resubmit_stalled() -> None:
            stuck = list(live.items())
            live.clear()
            client.cancel([fut for _, (_, fut) in stuck])
            log.warning(
                "dask: %d event(s) waited %g s with a worker thread free: resubmitted",
                len(stuck),
                stall_s,
            )
            for _, (item, _) in stuck:
                resubmits[item] += 1
                if resubmits[item] > MAX_RESUBMITS:
                    msg = (
                        f"{item}: never started on the Dask cluster ({MAX_RESUBMITS} "
                        f"resubmissions, each after {stall_s:g} s waiting with a worker free)"
                    )
                    finish(Outcome(item, None, msg, 1 + MAX_RESUBMITS))
                else:
                    pending.add(submit(item))

        def finished(batch: list[Any]) -> None:
            tries = client.run_on_scheduler(_suspicious, [f.key for f in batch])
            for fut in batch:
                item, _ = live.pop(fut.key)
                attempts = 1 + tries.get(fut.key, 0) + resubmits[item]
                if fut.status == "error":
                    exc = fut.exception()
                    if isinstance(exc, KilledWorker):
                        finish(Outcome(item, None, died_message(item, attempts), attempts))
                    else:
                        finish(
                            Outcome(item, None, f"{item}: {type(exc).__name__}: {exc}", attempts)
                        )
                elif fut.status == "cancelled":  # by someone else on a shared cluster
                    finish(Outcome(item, None, f"{item}: cancelled on the Dask cluster", attempts))
                else:
                    r = fut.result()
                    finish(Outcome(item, r.value, r.error, attempts, r.pid, r.set_up))
                    pids.add(r.pid)
                fut.release()

        pending = as_completed([submit(queue.pop()) for _ in range(min(window(), len(queue)))])
        check_s = min(5.0, stall_s / 3)
        idle_s = 0.0
        pause_log = _PauseLog()
        while not pending.is_empty():
            t0 = time.monotonic()
            batch = [f for f in _next_batch(pending, check_s) if f.key in live]
            if batch:
                finished(batch)
                pause_log.update(False)  # progress: a later pause is a new one
            stalled = False
            if not batch and live:
                stalled, paused = _stalled(client, list(live))
                pause_log.update(paused)
            if not stalled:
                idle_s = 0.0
            else:
                idle_s += time.monotonic() - t0
                if idle_s >= stall_s:
                    idle_s = 0.0
                    resubmit_stalled()
            for _ in range(min(len(queue), window() - len(live))):
                pending.add(submit(queue.pop()))
        pids.update(worker_pids(client))  # replacements of dead workers too
        return n_workers, sorted(pids)
