"""Simulation-vs-real histograms with a sim/real ratio panel, drawn onto given Axes.

The HEP look (mplhep's ROOT style) is applied only inside :func:`validation_style`,
never on import, so other plots keep their style.  mplhep (which imports pyplot)
is imported only there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tracklearn.simulation.validation import BinnedComparison, MeanComparison

__all__ = ["add_ratio_axes", "plot_sim_vs_real", "validation_style"]

REAL_LABEL = "real TrackML"
SIM_LABEL = "simulation"


@contextlib.contextmanager
def validation_style() -> Iterator[None]:
    """Apply mplhep's ROOT style for the duration of the block.

    Create, draw and save the figure inside the block: matplotlib reads most
    style settings when artists are made.
    """
    import matplotlib.style
    import mplhep

    with matplotlib.style.context(mplhep.style.ROOT):
        yield


def add_ratio_axes(fig: Figure) -> tuple[Axes, Axes]:
    """Split ``fig`` into a main panel and a ratio panel (3:1) sharing the x axis.

    Returns
    -------
    main, ratio : Axes
    """
    main, ratio = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05}
    )
    main.tick_params(labelbottom=False)
    return main, ratio


def plot_sim_vs_real(
    ax: Axes,
    ax_ratio: Axes,
    comparison: BinnedComparison | MeanComparison,
    *,
    xlabel: str = "",
    ylabel: str = "entries per event",
    logx: bool = False,
    logy: bool = False,
    floor: float | None = None,
    floor_range: tuple[float, float] | None = None,
    real_label: str = REAL_LABEL,
    sim_label: str = SIM_LABEL,
) -> None:
    """Draw real (points) and simulated (step) entries per event, and sim/real below.

    Error bars are Poisson: sqrt(total count in the bin) / number of events (for a
    :class:`MeanComparison` its standard errors), and on the ratio the two relative
    errors added in quadrature.

    Parameters
    ----------
    ax
        Main panel.
    ax_ratio
        Ratio panel (e.g. from :func:`add_ratio_axes`).
    comparison
        Per-event count matrices (B bins), or per-hit means with their standard
        errors; categorical bins are labelled with ``comparison.labels``.
    xlabel, ylabel
        Axis labels; give units in ``xlabel`` (e.g. ``"$p_T$ [GeV]"``).
    logx, logy
        Logarithmic axes (log x places points at the geometric bin centres).
    floor
        If given, shade 1 ± ``floor`` in the ratio panel (the pass band).
    floor_range
        x range of the shaded band (default: the whole axis).
    real_label, sim_label
        Legend labels.
    """
    edges = comparison.edges
    centres = np.sqrt(edges[:-1] * edges[1:]) if logx else 0.5 * (edges[:-1] + edges[1:])
    xerr = np.vstack([centres - edges[:-1], edges[1:] - centres])
    sim, sim_err = comparison.sim_mean, comparison.sim_err
    ax.stairs(sim, edges, color="tab:blue", linewidth=1.5, label=sim_label)
    ax.errorbar(centres, sim, yerr=sim_err, fmt="none", ecolor="tab:blue", elinewidth=1)
    real = comparison.real_mean
    shown = real > 0 if logy else np.isfinite(real)
    ax.errorbar(
        centres[shown],
        real[shown],
        xerr=xerr[:, shown],
        yerr=comparison.real_err[shown],
        fmt="o",
        color="black",
        markersize=3.5,
        label=real_label,
    )
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0.0)
    ax.legend(loc="best")

    ratio, ratio_err = comparison.ratio, comparison.ratio_err
    ok = np.isfinite(ratio)
    if floor is not None:
        lo, hi = floor_range if floor_range is not None else (edges[0], edges[-1])
        ax_ratio.fill_between(
            [lo, hi], 1 - floor, 1 + floor, color="tab:green", alpha=0.2, linewidth=0
        )
    ax_ratio.axhline(1.0, color="grey", linewidth=1, linestyle="--")
    ax_ratio.errorbar(
        centres[ok],
        ratio[ok],
        xerr=xerr[:, ok],
        yerr=ratio_err[ok],
        fmt="o",
        color="tab:blue",
        markersize=3,
    )
    ax_ratio.set_ylim(*_ratio_limits(ratio[ok]))
    ax_ratio.set_ylabel("sim / real")
    ax_ratio.set_xlabel(xlabel)
    if logx:
        ax_ratio.set_xscale("log")
    ax_ratio.set_xlim(edges[0], edges[-1])
    if comparison.labels:
        many = len(centres) > 12
        ax_ratio.set_xticks(
            centres,
            comparison.labels,
            rotation=90 if many else 0,
            fontsize="x-small" if many else None,
        )
        ax_ratio.minorticks_off()
        ax.minorticks_off()


def _ratio_limits(ratio: npt.NDArray[np.float64]) -> tuple[float, float]:
    """y range of the ratio panel: 0.5-1.5, widened to show every point (at most 0-3)."""
    if ratio.size == 0:
        return 0.5, 1.5
    lo = float(min(0.5, ratio.min() - 0.1))
    hi = float(max(1.5, ratio.max() + 0.1))
    return max(lo, 0.0), min(hi, 3.0)


def plot_kwargs(name: str) -> dict[str, Any]:
    """Axis labels and scales of each quantity :func:`compare_samples` produces."""
    return _PLOT_KWARGS.get(name, {"xlabel": name})


_CLUSTER_LABELS = {
    "size": "cells per hit",
    "extent_u": "extent in u [cells]",
    "extent_v": "extent in v [cells]",
}

_PLOT_KWARGS: dict[str, dict[str, Any]] = {
    "hits_per_event": {"xlabel": "hits per event", "ylabel": "fraction of events"},
    "hits_per_volume": {"xlabel": "volume_id", "ylabel": "hits per event"},
    "hits_per_layer": {"xlabel": "volume_id:layer_id", "ylabel": "hits per event"},
    "module_occupancy": {
        "xlabel": "hits per module (modules with ≥ 1 hit)",
        "ylabel": "modules per event",
        "logy": True,
    },
    "noise_fraction": {
        "xlabel": "noise fraction (hits − Σ nhits) / hits",
        "ylabel": "fraction of events",
    },
    "particles_per_event": {"xlabel": "particles per event", "ylabel": "fraction of events"},
    "pt": {"xlabel": "$p_T$ [GeV]", "ylabel": "particles per event", "logx": True, "logy": True},
    "eta": {"xlabel": r"$\eta$", "ylabel": "particles per event"},
    "phi": {"xlabel": r"$\phi$ [rad]", "ylabel": "particles per event"},
    "vertex_r": {
        "xlabel": "production vertex $r$ [mm]",
        "ylabel": "particles per event",
        "logx": True,
        "logy": True,
    },
    "vertex_z": {"xlabel": "production vertex $z$ [mm]", "ylabel": "particles per event"},
    "charge": {"xlabel": "charge $q$ [e]", "ylabel": "particles per event"},
    "nhits": {"xlabel": "hits per particle (nhits ≥ 1)", "ylabel": "particles per event"},
    **{
        f"cluster_{q}_per_volume": {"xlabel": "volume_id", "ylabel": f"mean {label}"}
        for q, label in _CLUSTER_LABELS.items()
    },
    **{
        f"cluster_{q}_pixel_barrel_eta": {
            "xlabel": r"pixel barrel (volume 8), particle $|\eta|$",
            "ylabel": f"mean {label}",
        }
        for q, label in _CLUSTER_LABELS.items()
    },
    **{
        f"cluster_size_{group}": {
            "xlabel": f"cluster size [cells per hit], {text}",
            "ylabel": "fraction of hits",
            "logy": True,
        }
        for group, text in (
            ("pixel_barrel", "pixel barrel"),
            ("pixel_endcaps", "pixel end-caps"),
            ("strips", "strips"),
        )
    },
}
