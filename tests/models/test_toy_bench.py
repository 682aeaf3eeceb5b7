"""The toy benchmark writes its table and plots (quick settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklearn.models.toy.bench import hough_oracle_accuracy, run_toy_bench
from tracklearn.simulation.toy import ToyConfig, generate_toy


def test_hough_oracle_is_perfect_without_noise() -> None:
    assert hough_oracle_accuracy(generate_toy(20, 1, ToyConfig()), 20) == 1.0


@pytest.mark.slow
def test_quick_bench_writes_table_and_plots(tmp_path: Path) -> None:
    path = run_toy_bench(tmp_path, quick=True)
    text = path.read_text()
    for needle in ("| lstm | 1 track + 20 % noise |", "0.925", "Hough oracle", "with overlay"):
        assert needle in text
    pngs = sorted(p.name for p in (tmp_path / "toy-models").glob("*.png"))
    assert pngs == [
        "accuracy_vs_multiplicity.png",
        "g2_efficiency_purity.png",
        "regression_residuals_pulls.png",
    ]
