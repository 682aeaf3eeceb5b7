"""Plot functions draw onto a given Axes (Agg backend, no pyplot)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from tracklearn.metrics import efficiency_curve
from tracklearn.plotting import plot_efficiency, plot_track_lengths


def test_plot_efficiency_draws_error_bars() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    curve = efficiency_curve([0.5, 1.5, 1.6], [True, True, False], bins=[0, 1, 2, 3])
    container = plot_efficiency(ax, curve, label="dbscan", xlabel="$p_T$ [GeV]")
    assert isinstance(container, ErrorbarContainer)
    assert len(ax.containers) == 1
    # the empty third bin is not drawn
    x, y = container.lines[0].get_data()
    np.testing.assert_allclose(np.asarray(x), [0.5, 1.5])
    np.testing.assert_allclose(np.asarray(y), [1.0, 0.5])
    assert ax.get_ylim() == (0.0, 1.05)
    assert ax.get_xlabel() == "$p_T$ [GeV]"
    assert ax.get_legend_handles_labels()[1] == ["dbscan"]
    fig.canvas.draw()  # renders without error


def test_plot_track_lengths_one_bin_per_count() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    patch = plot_track_lengths(ax, [3, 5, 5, 7], label="tracks")
    assert isinstance(patch, StepPatch)
    assert len(ax.patches) == 1
    values, edges, _ = patch.get_data()
    assert values.tolist() == [0, 0, 0, 1, 0, 2, 0, 1]
    assert edges[0] == -0.5 and edges[-1] == 7.5
    plot_track_lengths(ax, [], label="none")  # empty input still draws
    assert len(ax.patches) == 2
    fig.canvas.draw()
