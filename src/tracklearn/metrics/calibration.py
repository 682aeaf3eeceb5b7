"""Calibration of predicted probabilities and uncertainties, each defined once.

Classifier scores (edge scores, hit scores)
-------------------------------------------
A score ``p`` in [0, 1] is read as the probability that the item is *positive*
(a true edge, a signal hit).  Scores are binned in ``n_bins`` equal-width bins
of ``p``; per bin the **confidence** is the mean score and the **accuracy** the
fraction of positives.  The **reliability diagram** plots accuracy against
confidence (a calibrated classifier lies on the diagonal) and the **expected
calibration error** is

    ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b|

(Naeini et al. 2015; Guo et al. 2017 use the same with the top-class
probability of a multi-class model: pass that as ``p`` with "the top class is
right" as the label).  **Temperature scaling** (Guo et al. 2017) rescales the
logit, ``p_T = σ(logit(p) / T)``, with the one ``T > 0`` that minimises the
negative log-likelihood on *validation* data (:func:`fit_temperature`); it
changes no ranking, so efficiency/purity curves are unchanged.

Regressed parameters
--------------------
A **pull** is ``(estimate − truth) / σ``; calibrated uncertainties give pulls
of mean 0 and standard deviation 1.  The **coverage** of the central interval
of nominal probability ``q`` is the fraction of pulls with
``|pull| < Φ⁻¹((1 + q) / 2)`` (1.00 for 68 %, 1.96 for 95 %), and for a full
covariance ``Σ`` of ``d`` parameters the fraction of ``χ² = rᵀ Σ⁻¹ r`` below
the ``q`` quantile of the χ² distribution with ``d`` degrees of freedom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

FloatArray = npt.NDArray[np.float64]

#: nominal probabilities of the central intervals whose coverage is reported
COVERAGE_LEVELS: tuple[float, ...] = (0.68, 0.95)
#: bins of the reliability diagram
N_BINS = 10
#: scores are clipped to [EPS, 1 - EPS] before taking logits
EPS = 1e-7

__all__ = [
    "COVERAGE_LEVELS",
    "N_BINS",
    "ReliabilityCurve",
    "apply_temperature",
    "chi2_coverage",
    "expected_calibration_error",
    "fit_temperature",
    "interval_coverage",
    "logit",
    "nll",
    "pull_coverage_summary",
    "reliability_curve",
]


def _check(probs: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(np.float64)
    if p.shape != y.shape:
        raise ValueError(f"{len(p)} scores but {len(y)} labels")
    if len(p) and (not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1):
        raise ValueError("scores must be finite probabilities in [0, 1]")
    if len(y) and not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    return p, y


@dataclass(frozen=True)
class ReliabilityCurve:
    """A reliability diagram: per score bin, mean score and fraction of positives.

    Attributes
    ----------
    edges : float64, shape (B + 1,)
        Bin edges in score (equal width over [0, 1]).
    confidence : float64, shape (B,)
        Mean score in each bin (NaN where empty).
    accuracy : float64, shape (B,)
        Fraction of positives in each bin (NaN where empty).
    count : int64, shape (B,)
        Items per bin.
    """

    edges: FloatArray
    confidence: FloatArray
    accuracy: FloatArray
    count: npt.NDArray[np.int64]

    @property
    def ece(self) -> float:
        """Expected calibration error (module docstring); NaN when there are no items."""
        n = int(self.count.sum())
        if n == 0:
            return float("nan")
        ok = self.count > 0
        gap = np.abs(self.accuracy[ok] - self.confidence[ok])
        return float(np.sum(self.count[ok] * gap) / n)

    def to_dict(self) -> dict[str, list[float] | float]:
        """JSON-ready: edges, confidence, accuracy, count and ece (NaN as None by the caller)."""
        return {
            "edges": self.edges.tolist(),
            "confidence": self.confidence.tolist(),
            "accuracy": self.accuracy.tolist(),
            "count": [float(c) for c in self.count],
            "ece": self.ece,
        }


def reliability_curve(
    probs: npt.ArrayLike, labels: npt.ArrayLike, n_bins: int = N_BINS
) -> ReliabilityCurve:
    """Bin scores into ``n_bins`` equal-width bins (a score of exactly 1 goes in the last).

    Shapes: ``probs``, ``labels`` (N,) (labels 0/1).

    >>> c = reliability_curve([0.05, 0.15, 0.95, 0.95], [0, 1, 1, 1], n_bins=10)
    >>> c.count.tolist()[:2], c.accuracy[1], round(c.ece, 4)
    ([1, 1], np.float64(1.0), 0.25)
    """
    p, y = _check(probs, labels)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.floor(p * n_bins).astype(np.int64), 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(b, weights=p, minlength=n_bins) / count
        acc = np.bincount(b, weights=y, minlength=n_bins) / count
    return ReliabilityCurve(edges, conf, acc, count)


def expected_calibration_error(
    probs: npt.ArrayLike, labels: npt.ArrayLike, n_bins: int = N_BINS
) -> float:
    """ECE of scores against 0/1 labels (module docstring).

    >>> expected_calibration_error([0.8, 0.8, 0.8, 0.8, 0.8], [1, 1, 1, 1, 0])
    0.0
    """
    return reliability_curve(probs, labels, n_bins).ece


def logit(probs: npt.ArrayLike) -> FloatArray:
    """``log(p / (1 − p))`` with ``p`` clipped to ``[EPS, 1 − EPS]``."""
    p = np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0 - EPS)
    return np.asarray(np.log(p) - np.log1p(-p))


def apply_temperature(probs: npt.ArrayLike, temperature: float) -> FloatArray:
    """``σ(logit(p) / T)``: temperature-scaled scores (same shape as ``probs``)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return np.asarray(1.0 / (1.0 + np.exp(-logit(probs) / temperature)))


def nll(probs: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Mean binary negative log-likelihood (scores clipped to ``[EPS, 1 − EPS]``)."""
    p, y = _check(probs, labels)
    p = np.clip(p, EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def fit_temperature(
    probs: npt.ArrayLike, labels: npt.ArrayLike, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    """The temperature ``T`` minimising the NLL of ``σ(logit(p) / T)`` on these (validation) data.

    A one-dimensional bounded minimisation in ``log T``.  ``T > 1`` softens
    over-confident scores, ``T < 1`` sharpens under-confident ones.
    """
    p, y = _check(probs, labels)
    if len(p) == 0 or y.min() == y.max():
        raise ValueError("fitting a temperature needs both positive and negative labels")
    z = logit(p)

    def loss(log_t: float) -> float:
        s = z / np.exp(log_t)
        # -[y log σ(s) + (1 - y) log σ(-s)] = softplus(-s) + (1 - y) s, computed stably
        return float(np.mean(np.logaddexp(0.0, -s) + (1.0 - y) * s))

    res = optimize.minimize_scalar(
        loss, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded"
    )
    return float(np.exp(res.x))


def interval_coverage(
    pulls: npt.ArrayLike, levels: Sequence[float] = COVERAGE_LEVELS
) -> dict[str, float]:
    """Fraction of finite pulls inside the central interval of each nominal level.

    Keys ``"0.68"``, ``"0.95"`` (the level with two decimals).  NaN without pulls.

    >>> interval_coverage([0.5, -0.5, 1.5, -2.5])
    {'0.68': 0.5, '0.95': 0.75}
    """
    x = np.asarray(pulls, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    out = {}
    for q in levels:
        z = stats.norm.ppf(0.5 + 0.5 * q)
        out[f"{q:.2f}"] = float(np.mean(np.abs(x) < z)) if len(x) else float("nan")
    return out


def chi2_coverage(
    chi2: npt.ArrayLike, dof: int, levels: Sequence[float] = COVERAGE_LEVELS
) -> dict[str, float]:
    """Fraction of ``χ² = rᵀ Σ⁻¹ r`` values below the χ²(``dof``) quantile of each level."""
    x = np.asarray(chi2, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    return {
        f"{q:.2f}": float(np.mean(x < stats.chi2.ppf(q, dof))) if len(x) else float("nan")
        for q in levels
    }


def pull_coverage_summary(pulls: npt.ArrayLike) -> dict[str, float]:
    """Mean, standard deviation, central 68 % half-width and coverages of one parameter's pulls."""
    x = np.asarray(pulls, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if len(x) == 0:
        nan = float("nan")
        return {"n": 0.0, "mean": nan, "std": nan, "width_68": nan} | {
            f"coverage_{k}": nan for k in ("0.68", "0.95")
        }
    lo, hi = np.quantile(x, [0.16, 0.84]) if len(x) >= 5 else (np.nan, np.nan)
    cov = interval_coverage(x)
    return {
        "n": float(len(x)),
        "mean": float(x.mean()),
        "std": float(x.std()),
        "width_68": float(0.5 * (hi - lo)),
        **{f"coverage_{k}": v for k, v in cov.items()},
    }
