"""Fixtures of the metric tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklearn.edm import Event
from tracklearn.io import read_event


@pytest.fixture(scope="session")
def real_event(real_prefix: Path) -> Event:
    return read_event(real_prefix, parts=("hits", "truth", "particles"))
