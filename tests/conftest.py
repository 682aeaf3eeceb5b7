"""Shared fixtures: the real data folder and small generated events."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tracklearn.datapaths import shared_data_dir
from tracklearn.edm import Event
from tracklearn.simulation.quick import QuickConfig, generate_event


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder; fails under CI if it is missing, else skips."""
    root = shared_data_dir()
    if not (root / "trackml" / "event000000001-hits.csv.gz").exists():
        msg = f"real data not found at {root} (set TRACKLEARN_DATA)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return root


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's headless Chromium (for the HTML displays); fails under CI if it is
    missing (``.ci/run`` installs it), else skips."""
    path = Path("/usr/bin/chromium")
    if not path.exists():
        msg = f"{path} not found (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def real_prefix(shared_data: Path) -> Path:
    return shared_data / "trackml" / "event000000001"


@pytest.fixture(scope="session")
def small_event() -> Event:
    """A seeded quick event with 50 particles."""
    return generate_event(7, np.random.default_rng(7), QuickConfig(n_particles=50))
