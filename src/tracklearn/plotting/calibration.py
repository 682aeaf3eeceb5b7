"""Calibration plots drawn onto a caller's Axes: reliability diagrams, spread vs error.

Like :mod:`tracklearn.plotting.efficiency`: no figures created, no ``pyplot``.
The numbers come from :mod:`tracklearn.metrics.calibration`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from tracklearn.metrics.calibration import ReliabilityCurve

__all__ = ["plot_reliability", "plot_spread_vs_error"]


def plot_reliability(
    ax: Axes, curve: ReliabilityCurve, *, label: str | None = None, **plot_kw: Any
) -> None:
    """Fraction of positives against mean score per bin, with the diagonal of perfect calibration.

    Empty bins are not drawn; the label gets the curve's ECE appended.
    """
    ok = curve.count > 0
    text = f"ECE {curve.ece:.4f}"
    kw: dict[str, Any] = {"marker": "o", "markersize": 4}
    kw.update(plot_kw)
    ax.plot(
        curve.confidence[ok], curve.accuracy[ok], label=f"{label}: {text}" if label else text, **kw
    )
    if not any(line.get_label() == "perfect calibration" for line in ax.get_lines()):
        ax.plot(
            [0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect calibration"
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability (bin)")
    ax.set_ylabel("fraction of positives")
    ax.legend(fontsize=8)


def plot_spread_vs_error(
    ax: Axes,
    spread: npt.ArrayLike,
    error: npt.ArrayLike,
    *,
    n_bins: int = 10,
    label: str | None = None,
    xlabel: str = "MC-dropout spread (bin of equal count)",
    ylabel: str = "RMS error",
    **plot_kw: Any,
) -> None:
    """RMS of ``error`` in ``n_bins`` quantile bins of ``spread``, against the bins' mean spread.

    For calibrated spreads the points lie on the diagonal (drawn).  Shapes: (N,) both.
    """
    s = np.asarray(spread, dtype=np.float64).ravel()
    e = np.asarray(error, dtype=np.float64).ravel()
    ok = np.isfinite(s) & np.isfinite(e)
    s, e = s[ok], e[ok]
    if len(s) < n_bins:
        return
    edges = np.quantile(s, np.linspace(0, 1, n_bins + 1))
    b = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    keep = count > 0
    mean_s = np.bincount(b, weights=s, minlength=n_bins)[keep] / count[keep]
    rms_e = np.sqrt(np.bincount(b, weights=e**2, minlength=n_bins)[keep] / count[keep])
    kw: dict[str, Any] = {"marker": "o", "markersize": 4}
    kw.update(plot_kw)
    ax.plot(mean_s, rms_e, label=label, **kw)
    top = float(max(mean_s.max(), rms_e.max()))
    ax.plot([0, top], [0, top], color="0.6", linestyle="--", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if label:
        ax.legend(fontsize=8)
