"""The one figure writer: atomic, format from the suffix, parent folder created."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from tracklearn.io import save_figure


def test_save_figure_writes_png_and_svg(tmp_path: Path) -> None:
    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    png = save_figure(fig, tmp_path / "a" / "plot.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert save_figure(fig, tmp_path / "plot.svg").read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "plot.png", "plot.svg"]


def test_failed_figure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_figure(Figure(), tmp_path / "plot.nope")  # unknown format: matplotlib refuses
    assert list(tmp_path.iterdir()) == []
