"""``tracklearn simulate --detector toy2d|g2`` through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tracklearn.simulation.g2 import load_islands
from tracklearn.simulation.toy import load_toy


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracklearn.cli", *map(str, args)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_simulate_toy2d_and_g2(tmp_path: Path) -> None:
    cfg = tmp_path / "toy.yaml"
    cfg.write_text("noise_prob: 0.2\nn_background: 2\n")
    proc = _run("simulate", "--detector", "toy2d", "--events", "30", "--config", cfg,
                "--out", tmp_path / "toy")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    sample = load_toy(tmp_path / "toy" / "toy.npz")
    assert sample.hits.shape == (30, 10, 50) and np.all(sample.n_tracks == 3)
    manifest = json.loads((tmp_path / "toy" / "simulation.json").read_text())
    assert manifest["detector"] == "toy2d" and manifest["config"]["noise_prob"] == 0.2
    proc = _run("simulate", "--detector", "g2", "--events", "2", "--out", tmp_path / "g2")
    assert proc.returncode == 0, proc.stderr
    assert load_islands(tmp_path / "g2" / "g2.npz").occupancy.shape[1:] == (32, 32)


def test_simulate_toy_rejects_foreign_options_and_bad_keys(tmp_path: Path) -> None:
    proc = _run("simulate", "--detector", "toy3d", "--pileup", "20", "--out", tmp_path / "x")
    assert proc.returncode == 1 and "do not apply" in proc.stderr
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("noise_probability: 0.2\n")
    proc = _run("simulate", "--detector", "toy2d", "--config", cfg, "--out", tmp_path / "y")
    assert proc.returncode == 1 and "noise_probability" in proc.stderr
    assert not (tmp_path / "y" / "toy.npz").exists()
