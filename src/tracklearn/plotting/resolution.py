"""Track-parameter resolution and pull plots drawn onto a caller's Axes.

Like :mod:`tracklearn.plotting.efficiency`: no figures created, no ``pyplot``.
The numbers come from :mod:`tracklearn.metrics.resolution`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.ticker import NullFormatter

__all__ = ["plot_pt_resolution", "plot_pull"]


def plot_pt_resolution(
    ax: Axes, bins: Sequence[dict[str, Any]], *, label: str | None = None, **errorbar_kw: Any
) -> None:
    """Draw σ(pT)/pT per true-pT bin (a :func:`~tracklearn.metrics.resolution.pt_resolution`
    list), in percent, with horizontal bars spanning each bin; empty bins are not drawn.

    The x axis is logarithmic [GeV].
    """
    lo = np.array([b["pt_lo"] for b in bins], dtype=np.float64)
    hi = np.array([b["pt_hi"] for b in bins], dtype=np.float64)
    y = np.array([b["sigma_pt_over_pt"] for b in bins], dtype=np.float64) * 100.0
    n = np.array([b["n"] for b in bins], dtype=np.float64)
    ok = np.isfinite(y)
    x = np.sqrt(lo * hi)  # bin centre on a log axis
    # statistical error of a Gaussian width estimate, σ/√(2n)
    yerr = y / np.sqrt(2.0 * np.maximum(n, 1.0))
    kw: dict[str, Any] = {"fmt": "o", "markersize": 4, "capsize": 0}
    kw.update(errorbar_kw)
    ax.errorbar(
        x[ok],
        y[ok],
        xerr=np.vstack([x[ok] - lo[ok], hi[ok] - x[ok]]),
        yerr=yerr[ok],
        label=label,
        **kw,
    )
    ax.set_xscale("log")
    edges = np.union1d(lo, hi)
    ax.set_xticks(edges, [f"{e:g}" for e in edges])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("true $p_T$ [GeV]")
    ax.set_ylabel(r"$\sigma(p_T)/p_T$ [%] (central 68 % half-width)")
    # keep earlier series visible: grow the range, never shrink it
    top = float(np.max((y + yerr)[ok])) * 1.1 if ok.any() else 1.0
    ax.set_ylim(0.0, max(ax.get_ylim()[1], top) if ax.has_data() else top)
    ax.grid(alpha=0.3)


def plot_pull(
    ax: Axes,
    pulls: npt.ArrayLike,
    *,
    name: str,
    core_mean: float,
    core_sigma: float,
    limit: float = 5.0,
    n_bins: int = 50,
) -> None:
    """Histogram of ``pulls`` (density) in ``[-limit, limit]`` with the unit Gaussian
    (dashed) and the fitted Gaussian ``N(core_mean, core_sigma)`` (solid) overlaid.

    Pulls outside the range are counted in the legend, not drawn.
    """
    p = np.asarray(pulls, dtype=np.float64)
    p = p[np.isfinite(p)]
    inside = np.abs(p) < limit
    edges = np.linspace(-limit, limit, n_bins + 1)
    width = edges[1] - edges[0]
    counts, _ = np.histogram(p[inside], edges)
    # normalise to all pulls so that the overlays (unit area) compare directly
    density = counts / max(len(p), 1) / width
    ax.stairs(density, edges, fill=True, alpha=0.4, label=f"{len(p)} tracks")
    x = np.linspace(-limit, limit, 400)
    ax.plot(x, np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi), "k--", lw=1, label="N(0, 1)")
    if np.isfinite(core_sigma) and core_sigma > 0:
        g = np.exp(-0.5 * ((x - core_mean) / core_sigma) ** 2) / (core_sigma * np.sqrt(2 * np.pi))
        ax.plot(x, g, "C3-", lw=1.2, label=f"fit: μ={core_mean:.2f}, σ={core_sigma:.2f}")
    n_out = int((~inside).sum())
    if n_out:
        ax.plot([], [], " ", label=f"{n_out} outside ±{limit:g}")
    ax.set_xlabel(f"pull of {name}")
    ax.set_ylabel("density")
    ax.legend(fontsize=7, loc="upper right")
