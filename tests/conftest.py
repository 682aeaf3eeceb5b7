"""Shared fixtures: where the real data live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the shared data: ``$TRACKLEARN_DATA`` or ``<repo>/../shared/data``.

    Missing data skip the test locally but fail it when ``CI`` is set, so CI can
    never pass by silently skipping the real-data checks.
    """
    root = Path(os.environ.get("TRACKLEARN_DATA", REPO.parent / "shared" / "data"))
    if not (root / "trackml").is_dir():
        msg = f"shared data not found at {root} (set TRACKLEARN_DATA)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return root
