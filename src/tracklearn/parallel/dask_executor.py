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
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import uuid
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


def run_on_dask(
    job: Job,
    items: Sequence[str],
    spec: SchedulerSpec,
    finish: Callable[[Outcome], None],
) -> tuple[int, list[int]]:
    """Run every item as one task; return (number of workers, worker pids seen)."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    with open_client(spec, len(items)) as client:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
        pids = set(worker_pids(client))
        run_id = uuid.uuid4().hex[:8]
        queue = list(reversed(items))
        keys: dict[str, str] = {}

        def window() -> int:  # follows the cluster as workers come and go
            return max(1, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))

        def submit() -> Any:
            item = queue.pop()
            key = f"tracklearn-{run_id}-{item}"
            keys[key] = item
            return client.submit(execute, job, item, key=key, pure=False)

        pending = as_completed([submit() for _ in range(min(window(), len(queue)))])
        for batch in pending.batches():
            tries = client.run_on_scheduler(_suspicious, [f.key for f in batch])
            for fut in batch:
                item = keys.pop(fut.key)
                attempts = 1 + tries.get(fut.key, 0)
                if fut.status == "error":
                    exc = fut.exception()
                    if isinstance(exc, KilledWorker):
                        finish(Outcome(item, None, died_message(item, attempts), attempts))
                    else:
                        finish(
                            Outcome(item, None, f"{item}: {type(exc).__name__}: {exc}", attempts)
                        )
                else:
                    r = fut.result()
                    finish(Outcome(item, r.value, r.error, attempts, r.pid, r.set_up))
                    pids.add(r.pid)
                fut.release()
            for _ in range(min(len(queue), window() - pending.count())):
                pending.add(submit())
        pids.update(worker_pids(client))  # replacements of dead workers too
        return n_workers, sorted(pids)
