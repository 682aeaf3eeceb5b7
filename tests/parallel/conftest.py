"""Tiny events for the parallel tests: quick and exact, reconstructed by ``hough`` in ~30 ms."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklearn.io import find_events, write_event
from tracklearn.simulation.quick import QuickConfig, generate_events


@pytest.fixture(scope="session")
def tiny_events(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six seeded quick events of 20 particles (about 200 hits each)."""
    folder = tmp_path_factory.mktemp("tiny_events")
    for ev in generate_events(6, 11, QuickConfig(n_particles=20)):
        write_event(ev, folder)
    return find_events([folder])


@pytest.fixture(autouse=True)
def _fresh_job_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no job set up in this process: jobs run here (``--workers 1``,
    Dask thread workers) would otherwise find the state an earlier test left."""
    from tracklearn.parallel import tasks

    monkeypatch.setattr(tasks, "_STATE", {})
