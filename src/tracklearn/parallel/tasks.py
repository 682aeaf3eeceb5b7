"""What every executor of :mod:`tracklearn.parallel.engine` shares: the :class:`Job`
protocol, the per-event :class:`TaskResult` / :class:`Outcome`, the worker-side
:func:`execute` (set the job up once per worker, run one event, turn its own failure
into one line), and Ctrl-C handling.  The Dask executor imports these from here, so
it and the engine do not import each other.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tracklearn.errors import TracklearnError

log = logging.getLogger(__name__)

#: times an event is retried after the worker running it died (then it is reported failed)
MAX_RETRIES = 3


class Job(Protocol):
    """Per-event work, picklable (sent to worker processes).

    ``cache_key`` identifies the state ``setup`` builds: a worker that already
    holds the state of an equal key reuses it (models are loaded once per worker).
    """

    @property
    def cache_key(self) -> str: ...

    def setup(self) -> Any: ...

    def run(self, state: Any, item: str) -> Any: ...


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back for one event."""

    item: str
    value: Any = None
    error: str | None = None
    pid: int = 0
    #: the worker built the job's state for this task (first task of the worker)
    set_up: bool = False


@dataclass(frozen=True)
class Outcome:
    """One event's final result after retries.

    ``attempts`` counts the tries (1 when no worker died under it).
    """

    item: str
    value: Any = None
    error: str | None = None
    attempts: int = 1
    pid: int = 0
    set_up: bool = False


# ---------------------------------------------------------------- worker side

#: the state of the last job set up in this process, by cache key
_STATE: dict[str, Any] = {}
#: thread workers (Dask ``processes=False``) share ``_STATE``: one of them sets a job up
_STATE_LOCK = threading.Lock()


def execute(job: Job, item: str) -> TaskResult:
    """Run ``job`` on ``item`` in this process (setting it up on first use); never raises
    for an event's own failure: the error is returned as one line."""
    key = job.cache_key
    set_up = False
    try:
        with _STATE_LOCK:
            if key not in _STATE:
                set_up = True
                _STATE.clear()  # one job's state per worker: bounded memory
                _STATE[key] = job.setup()
            state = _STATE[key]
        value = job.run(state, item)
        return TaskResult(item, value, None, os.getpid(), set_up)
    except TracklearnError as exc:
        return TaskResult(item, None, str(exc), os.getpid(), set_up)
    except Exception as exc:  # a bug or an unexpected library error: one line, log the rest
        log.debug("event %s failed:\n%s", item, traceback.format_exc())
        msg = str(exc).strip().splitlines()
        return TaskResult(
            item,
            None,
            f"{item}: {type(exc).__name__}: {msg[0] if msg else ''}",
            os.getpid(),
            set_up,
        )


def init_pool_worker() -> None:
    """Pool workers leave Ctrl-C to the main process, which stops them, build their own
    state (a forked worker must not count on its parent's), and use one OpenMP/BLAS
    thread each (N workers on N cores; Dask's workers do the same)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STATE.clear()
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)


@contextlib.contextmanager
def no_sigint() -> Iterator[None]:
    """Ignore further Ctrl-C while stopping (a second one must not leave orphans)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def died_message(item: str, attempts: int) -> str:
    return (
        f"{item}: the worker process died on each of {attempts} tries (killed, or out of memory?)"
    )
