"""``tracklearn validate-simulation`` run as a subprocess on quick events vs the real data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tracklearn.io import write_event
from tracklearn.simulation.quick import QuickConfig, generate_event

HEADER = "| quantity | real mean (± spread over events) | sim mean | sim/real | floor | pass |"
PNGS = ("hits_per_volume", "hits_per_layer", "module_occupancy", "pt", "eta", "nhits")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "tracklearn.cli", "validate-simulation", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    for i in range(2):
        event = generate_event(1000 + i, np.random.default_rng(i), QuickConfig(n_particles=300))
        write_event(event, out)
    return out


def test_report_against_real_data(shared_data: Path, sim_dir: Path, tmp_path: Path) -> None:
    out, table = tmp_path / "report", tmp_path / "bench" / "simulation-validation.md"
    proc = run(
        sim_dir,
        "--real",
        shared_data / "trackml",
        "--out",
        out,
        "--table",
        table,
        "--note",
        "no secondaries from material interactions",
    )
    assert proc.returncode == 0, proc.stderr  # failing floors are reported, not fatal
    assert "FAIL" in proc.stdout  # 300 particles per event are far from ~11k real ones
    assert "mean pT [GeV]" in proc.stdout  # units survive the terminal table
    assert "floors:" in proc.stdout
    md = (out / "simulation-validation.md").read_text()
    assert HEADER in md
    assert "| hits per event, volume 8 (raw) |" in md
    assert "selection-corrected) |" in md
    assert r"charged, pT >= 0.1 GeV, \|eta\| <= 4.0, any nhits" in md  # definition stated
    table_lines = [line for line in md.splitlines() if line.startswith("| ")]
    for line in table_lines:  # six cells each: "|" inside a cell is escaped
        assert len(re.findall(r"(?<!\\)\|", line)) == 7, line
    assert "- no secondaries from material interactions" in md
    assert table.read_text() == md
    doc = json.loads((out / "validation.json").read_text())
    assert doc["n_events"] == {
        "real_hits": 8,
        "real_particles": 38,
        "sim_hits": 2,
        "sim_particles": 2,
        "real_cells": 1,  # the 5 % event event000000001
        "sim_cells": 0,  # quick events have no cells: no cluster rows
    }
    assert any("no simulated events with cells" in note for note in doc["notes"])
    for key in ("definitions", "rows", "histograms", "notes", "n_failed", "provenance"):
        assert key in doc, key
    assert len([r for r in doc["rows"] if r["floor"] is not None]) == 12
    for name in PNGS:
        assert (out / f"{name}.png").stat().st_size > 1000, name
        assert name in doc["histograms"]


def test_empty_sim_dir_is_an_error(shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run(tmp_path / "empty", "--real", shared_data / "trackml", "--out", tmp_path / "o")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'empty'}: no event*-hits.csv(.gz) or event*.root files or "
        "Parquet store (hits.parquet) in this folder"
    ]
    assert not (tmp_path / "o").exists()


def test_missing_particles_file_is_an_error(
    shared_data: Path, sim_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    hits = sim_dir / "event000001000-hits.csv.gz"
    (broken / hits.name).write_bytes(hits.read_bytes())
    proc = run(broken, "--real", shared_data / "trackml", "--out", tmp_path / "o")
    assert proc.returncode == 1
    assert "event000001000-particles.csv(.gz): file does not exist" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_missing_real_data_is_an_error(sim_dir: Path, tmp_path: Path) -> None:
    proc = run(sim_dir, "--real", tmp_path / "nothing", "--out", tmp_path / "o")
    assert proc.returncode == 1
    assert "no real data" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_cluster_rows_of_the_real_event_against_itself(shared_data: Path, tmp_path: Path) -> None:
    """The real event with cells as the 'simulation': every cluster row has sim/real = 1."""
    sim = tmp_path / "sim"
    sim.mkdir()
    for part in ("hits", "truth", "particles", "cells"):
        name = f"event000000001-{part}.csv.gz"
        (sim / name).symlink_to(shared_data / "trackml" / name)
    out = tmp_path / "report"
    proc = run(sim, "--real", shared_data / "trackml", "--out", out)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "validation.json").read_text())
    assert (doc["n_events"]["real_cells"], doc["n_events"]["sim_cells"]) == (1, 1)
    rows = [r for r in doc["rows"] if r["quantity"].startswith(("cluster", "hit - cell"))]
    assert len(rows) == 51
    for row in rows:
        assert row["ratio"] == pytest.approx(1.0, abs=1e-9), row["quantity"]
        assert row["passed"] in (True, None), row["quantity"]
    offsets = {r["quantity"]: r["real_mean"] for r in rows if r["quantity"].startswith("hit")}
    assert offsets["hit - cell centroid along u [mm], volume 13"] == pytest.approx(
        -0.0301, abs=2e-4
    )
    md = (out / "simulation-validation.md").read_text()
    assert "| cluster cells per hit, volume 8, 0 <= \\|eta\\| < 0.5 (reweighted) |" in md
    for name in (
        "cluster_size_per_volume",
        "cluster_extent_u_pixel_barrel_eta",
        "cluster_size_strips",
    ):
        assert (out / f"{name}.png").stat().st_size > 1000, name
