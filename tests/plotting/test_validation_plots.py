"""Sim-vs-real plots draw onto given Axes; the mplhep style stays inside its block."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.figure import Figure

from tracklearn.plotting.validation import add_ratio_axes, plot_sim_vs_real, validation_style
from tracklearn.simulation.validation import BinnedComparison


def test_plot_sim_vs_real_draws_both_samples_and_the_ratio() -> None:
    before = dict(matplotlib.rcParams)
    cmp = BinnedComparison(
        "pt",
        np.array([0.1, 1.0, 10.0]),
        np.array([[4, 1], [0, 3]]),
        np.array([[2, 0]]),
    )
    with validation_style():
        fig = Figure()
        ax, ax_ratio = add_ratio_axes(fig)
        plot_sim_vs_real(ax, ax_ratio, cmp, xlabel="$p_T$ [GeV]", logx=True, floor=0.2)
        fig.canvas.draw()
    assert len(ax.patches) == 1  # the simulated step histogram
    assert len(ax.containers) == 2  # sim and real error bars
    x, y = ax_ratio.containers[0].lines[0].get_data()
    np.testing.assert_allclose(np.asarray(y), [1.0, 0.0])  # sim/real per bin
    np.testing.assert_allclose(np.asarray(x), [np.sqrt(0.1), np.sqrt(10.0)])  # log centres
    assert ax_ratio.get_xlabel() == "$p_T$ [GeV]"
    assert ax_ratio.get_xscale() == "log"
    assert ax.get_legend_handles_labels()[1] == ["simulation", "real TrackML"]
    assert dict(matplotlib.rcParams) == before  # style did not leak


def test_categorical_bins_are_labelled() -> None:
    cmp = BinnedComparison(
        "vol", np.array([-0.5, 0.5, 1.5]), np.array([[5, 5]]), np.array([[5, 6]]), ("7", "8")
    )
    fig = Figure()
    ax, ax_ratio = add_ratio_axes(fig)
    plot_sim_vs_real(ax, ax_ratio, cmp)
    assert [t.get_text() for t in ax_ratio.get_xticklabels()] == ["7", "8"]
