"""Baselines suite: runs to the end on quick events, skipping methods that need the
TrackML modules (issue 17: it used to stop on ``ckf`` there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklearn.bench.baselines import run_baselines_bench
from tracklearn.methods import needs_trackml_geometry


@pytest.mark.slow  # one event per method in a fresh process
def test_quick_baselines_run_to_the_end(tmp_path: Path) -> None:
    assert needs_trackml_geometry("ckf") and needs_trackml_geometry("gnn")
    assert not needs_trackml_geometry("hough")
    empty = tmp_path / "no-shared-data"  # quick events only
    empty.mkdir()
    path = run_baselines_bench(tmp_path / "out", quick=True, data=empty, methods=["ckf", "hough"])
    text = path.read_text()
    assert path.name == "baselines-quick.md"
    assert "| quick, 200 particles | ckf (needs the TrackML geometry: not run) | – |" in text
    row = next(line for line in text.splitlines() if "| hough |" in line)
    score = float(row.split("|")[8])
    assert 0.05 < score <= 1.0  # measured, not skipped
