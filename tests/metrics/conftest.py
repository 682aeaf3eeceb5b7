"""Fixtures of the metric tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from _real import load_real_event

from tracklearn.edm import Event


@pytest.fixture(scope="session")
def real_event(shared_data: Path) -> Event:
    return load_real_event(shared_data)
