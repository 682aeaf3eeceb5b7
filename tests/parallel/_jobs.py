"""Picklable jobs for the engine tests (imported by worker processes, so not in a test file)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracklearn.errors import DataError
from tracklearn.pipeline.run import ReconstructJob


@dataclass(frozen=True)
class Square:
    """item "k" -> k²; item "bad" fails with a DataError, "bug" with a ValueError."""

    @property
    def cache_key(self) -> str:
        return "square"

    def setup(self) -> dict[str, int]:
        return {"pid": os.getpid()}

    def run(self, state: Any, item: str) -> int:
        if item == "bad":
            raise DataError(item, "bad input")
        if item == "bug":
            raise ValueError("a bug\nwith a second line")
        return int(item) ** 2


@dataclass(frozen=True)
class SlowSetupSquare(Square):
    """``Square`` whose set-up takes 0.2 s: threads starting together would all build it."""

    @property
    def cache_key(self) -> str:
        return "slow-square"

    def setup(self) -> dict[str, int]:
        time.sleep(0.2)
        return super().setup()


def _die_once(marker: str) -> None:
    """Kill this worker process the first time (the marker file remembers it)."""
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class KillOnce:
    """Like ``inner``, but the worker running ``victim`` dies the first time (mid-task)."""

    inner: Any
    victim: str
    marker: str

    @property
    def cache_key(self) -> str:
        return str(self.inner.cache_key)

    def setup(self) -> Any:
        return self.inner.setup()

    def run(self, state: Any, item: str) -> Any:
        if item == self.victim:
            _die_once(self.marker)
        return self.inner.run(state, item)


@dataclass(frozen=True)
class KillAlways:
    """The worker running ``victim`` dies every time (a poison event)."""

    inner: Any
    victim: str

    @property
    def cache_key(self) -> str:
        return str(self.inner.cache_key)

    def setup(self) -> Any:
        return self.inner.setup()

    def run(self, state: Any, item: str) -> Any:
        if item == self.victim:
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.run(state, item)


def kill_once_reconstruct(out: Path, victim: str, marker: Path, method: str = "hough") -> KillOnce:
    return KillOnce(ReconstructJob(method, None, str(out)), victim, str(marker))
