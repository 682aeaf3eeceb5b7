"""Where events run: ``--workers N`` (local processes) and ``--scheduler local[:N] | ADDRESS``.

Nothing here imports Dask: ``tracklearn --help`` stays fast.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

from tracklearn.errors import ConfigError

log = logging.getLogger(__name__)

_LOCAL = re.compile(r"local(?::(\d+))?$")
_ADDRESS = re.compile(r"(tcp|tls|inproc|ws|wss)://[^\s/]+:\d+$")


def available_cores() -> int:
    """CPU cores this process may use (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class SchedulerSpec:
    """A Dask cluster: ``local`` with ``n_workers`` processes, or a scheduler ``address``.

    ``n_workers`` None for ``local`` means one worker per available core;
    ``processes=False`` runs local workers as threads of this process (benchmarks of the
    scheduler with many sleeping workers).
    """

    address: str | None = None
    n_workers: int | None = None
    processes: bool = True

    @property
    def is_local(self) -> bool:
        return self.address is None

    def describe(self) -> str:
        if self.address is not None:
            return self.address
        return f"local:{self.n_workers}" if self.n_workers else "local"


def parse_scheduler(text: str) -> SchedulerSpec:
    """``local``, ``local:N`` or a scheduler address such as ``tcp://10.0.0.5:8786``.

    >>> parse_scheduler("local:2")
    SchedulerSpec(address=None, n_workers=2, processes=True)
    >>> parse_scheduler("tcp://127.0.0.1:8786").address
    'tcp://127.0.0.1:8786'
    """
    text = text.strip()
    m = _LOCAL.match(text)
    if m:
        n = int(m.group(1)) if m.group(1) else None
        if n is not None and n < 1:
            raise ConfigError(f"--scheduler {text}: the number of local workers must be >= 1")
        return SchedulerSpec(None, n)
    if _ADDRESS.match(text):
        return SchedulerSpec(text, None)
    raise ConfigError(
        f"--scheduler {text!r}: expected local, local:N or a scheduler address "
        "such as tcp://HOST:8786"
    )


def cap_workers(requested: int, n_events: int, what: str = "--workers") -> int:
    """At most one local worker per core and per event; say so when ``requested`` is cut."""
    cores = available_cores()
    n = max(1, min(requested, cores, max(n_events, 1)))
    if requested > cores:
        log.warning("%s %d capped at %d (the cores of this machine)", what, requested, cores)
    return n
