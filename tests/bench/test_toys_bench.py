"""The toy benchmark writes its table and plots (quick settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklearn.bench.toys import (
    REF_OPTIONS,
    REFERENCE_SETTINGS,
    hough_oracle_accuracy,
    reference_row,
    run_toy_bench,
)
from tracklearn.simulation.toy import ToyConfig, generate_toy


def test_hough_oracle_is_perfect_without_noise() -> None:
    assert hough_oracle_accuracy(generate_toy(20, 1, ToyConfig()), 20) == 1.0
    # the 50-layer reference toy: the 1001 × 41 scan resolves (nearly) every track
    ref = REFERENCE_SETTINGS["bg5"][1].model_copy(update={"n_background": 0})
    assert hough_oracle_accuracy(generate_toy(50, 1, ref), 50) >= 0.999


def test_reference_settings_are_the_hep_trkx_2d_toy() -> None:
    for _label, cfg in REFERENCE_SETTINGS.values():
        assert (cfg.n_layers, cfg.pixels, cfg.n_seed_layers) == (50, (50,), 5)
        assert cfg.clean_seed_layers
    assert REFERENCE_SETTINGS["noise20"][1].noise_prob == 0.2
    assert REFERENCE_SETTINGS["bg5"][1].n_background == 5


def test_reference_row_runs_one_row_with_its_options() -> None:
    row = reference_row("conv_autoencoder", "bg5", n_train=32, epochs=1, options={"skips": False})
    assert row["options"] == {**REF_OPTIONS["conv_autoencoder"], "skips": False}
    assert 0.0 <= row["accuracy"] <= row["accuracy_all"] <= 1.0  # seed layers are always right
    assert row["n_params"] > 0 and row["train_s"] > 0
    with pytest.raises(ValueError, match="no reference row 'convnn' 'bg5'; choose one of"):
        reference_row("convnn", "bg5")


@pytest.mark.slow
def test_quick_bench_writes_table_and_plots(tmp_path: Path) -> None:
    path = run_toy_bench(tmp_path, quick=True)
    text = path.read_text()
    for needle in (
        "| lstm | 1 track + 20 % noise |",
        "| conv_autoencoder | 1 + 5 background tracks |",
        "0.925",
        "0.906",
        "accuracy all layers",
        "Hough oracle",
        "calibrated",
        "with overlay",
    ):
        assert needle in text
    pngs = sorted(p.name for p in (tmp_path / "toy-models").glob("*.png"))
    assert pngs == [
        "accuracy_vs_multiplicity.png",
        "g2_efficiency_purity.png",
        "regression_residuals_pulls.png",
    ]
