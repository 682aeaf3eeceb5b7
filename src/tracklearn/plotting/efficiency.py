"""Plots of tracking metrics drawn onto a caller's :class:`matplotlib.axes.Axes`.

Functions here never create figures, never call ``pyplot.show`` and never import
``matplotlib.pyplot``, so they work with any backend (Agg included).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer

from tracklearn.metrics.curves import EfficiencyCurve

__all__ = ["plot_efficiency", "plot_track_lengths"]


def plot_efficiency(
    ax: Axes,
    curve: EfficiencyCurve,
    *,
    label: str | None = None,
    xlabel: str = "",
    ylabel: str = "efficiency",
    **errorbar_kw: Any,
) -> ErrorbarContainer:
    """Draw a binned efficiency with its Clopper-Pearson interval as error bars.

    Horizontal bars span each bin; empty bins (NaN) are not drawn.  The y range is
    set to [0, 1.05].

    Parameters
    ----------
    ax
        Axes to draw on.
    curve
        Result of :func:`tracklearn.metrics.efficiency_curve`.
    label
        Legend label.
    xlabel, ylabel
        Axis labels; give the unit in ``xlabel`` (e.g. ``"$p_T$ [GeV]"``).
    **errorbar_kw
        Passed to :meth:`matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib.container.ErrorbarContainer
    """
    ok = np.isfinite(curve.efficiency)
    x = curve.centers[ok]
    half = 0.5 * np.diff(curve.edges)[ok]
    y = curve.efficiency[ok]
    yerr = np.vstack([y - curve.lower[ok], curve.upper[ok] - y])
    kw: dict[str, Any] = {"fmt": "o", "markersize": 3, "capsize": 0}
    kw.update(errorbar_kw)
    container = ax.errorbar(x, y, xerr=half, yerr=yerr, label=label, **kw)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return container


def plot_track_lengths(
    ax: Axes,
    lengths: npt.ArrayLike,
    *,
    label: str | None = None,
    max_hits: int | None = None,
    xlabel: str = "hits per track",
    **stairs_kw: Any,
) -> Any:
    """Draw the distribution of hits per track as a step histogram (one bin per count).

    Parameters
    ----------
    ax
        Axes to draw on.
    lengths
        Hits per track, integers, shape (T,) (e.g. ``TrackCandidates.lengths``).
    label
        Legend label.
    max_hits
        Last count shown (default: the longest track); longer tracks are dropped.
    xlabel
        x-axis label.
    **stairs_kw
        Passed to :meth:`matplotlib.axes.Axes.stairs`.

    Returns
    -------
    matplotlib.patches.StepPatch
    """
    n = np.asarray(lengths, dtype=np.int64)
    top = int(n.max()) if max_hits is None and n.size else (max_hits or 0)
    counts = np.bincount(n[(n >= 0) & (n <= top)], minlength=top + 1)
    edges = np.arange(top + 2) - 0.5  # bin k is centred on k hits
    patch = ax.stairs(counts, edges, label=label, **stairs_kw)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("tracks")
    return patch
