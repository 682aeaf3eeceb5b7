"""The uncertainty benchmark writes its table and plots (quick settings); its loss count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tracklearn.bench.suites import SUITES
from tracklearn.bench.uncertainty import _g2_losses, run_uncertainty_bench


def test_g2_losses_hand_made() -> None:
    # one island, three tracks of 6 cells on a 6 × 4 grid: track 1 found; tracks 2 and 3
    # got the same slot, whose candidate holds 6 cells of each, so neither track has the
    # majority of it: both merged
    owner = np.full((1, 6, 4), -1)
    owner[0, :, 0], owner[0, :, 1], owner[0, :, 2] = 1, 2, 3
    owner[0, 0, 3] = 0  # a noise cell
    pred = np.zeros_like(owner)
    pred[0, :, 0] = 1
    pred[0, :, 1] = 2
    pred[0, :, 2] = 2
    got = _g2_losses(pred, owner)
    assert got == {"tracks": 3, "found": 1, "merged": 2, "split": 0, "noise": 0}
    # a track whose cells spread over three slots is split, one called noise is noise
    pred[0, :, 1] = [3, 3, 4, 4, 5, 5]
    pred[0, :, 2] = 0
    got = _g2_losses(pred, owner)
    assert got == {"tracks": 3, "found": 1, "merged": 0, "split": 1, "noise": 1}


def test_uncertainty_is_a_registered_suite() -> None:
    assert "uncertainty" in SUITES


@pytest.mark.slow
@pytest.mark.realdata
def test_quick_bench_writes_every_section(real_prefix: Path, tmp_path: Path) -> None:
    path = run_uncertainty_bench(tmp_path, real_prefix=real_prefix, quick=True)
    text = path.read_text()
    for needle in (
        "QUICK settings",
        "## 2. Conv + LSTM track-parameter regression",
        "## 3. Kalman fit",
        "previous field and material",
        "## 4. g-2 track finder",
        "network-guided RANSAC",
        "## 5. Toy LSTM",
        "0.925",
    ):
        assert needle in text
    pngs = sorted(p.name for p in (tmp_path / "uncertainty").glob("*.png"))
    assert pngs == ["g2_mc_spread.png", "g2_occupancy.png", "regression_mc_spread.png"]
    doc = json.loads((tmp_path / "uncertainty.json").read_text())
    assert set(doc) >= {"regression", "kalman", "g2", "lstm", "times_s", "provenance"}
    assert doc["kalman"]["real event000000001 (5 %)"]["ckf"]["n"] > 20


def test_causal_line_oracle_is_perfect_without_noise_and_below_the_hough_oracle() -> None:
    from tracklearn.bench.toys import REFERENCE_SETTINGS, hough_oracle_accuracy
    from tracklearn.bench.uncertainty import causal_line_oracle
    from tracklearn.simulation.toy import generate_toy

    clean = REFERENCE_SETTINGS["noise20"][1].model_copy(update={"noise_prob": 0.0})
    assert causal_line_oracle(generate_toy(20, 1, clean)) == 1.0
    noisy = generate_toy(30, 2, REFERENCE_SETTINGS["noise20"][1])
    assert 0.9 < causal_line_oracle(noisy) < hough_oracle_accuracy(noisy, 30)
