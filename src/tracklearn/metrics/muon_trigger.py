"""Muon-trigger metrics on chamber images, each defined once.

A trigger algorithm marks the voxels it assigns to the muon.  Per image, with
``P`` the voxels of the triggering muon (the truth), ``TP`` the marked voxels
that are the muon's and ``M`` all marked voxels:

* **matched**: ``P > 0`` and the true-positive rate ``TP / P > 0.6``
  (:data:`MATCH_TPR`), the definition of the CNN-trigger talk;
* **fake**: ``M > 0`` and the marked voxels are not mostly the muon's,
  ``TP / M ≤ 0.6`` (the same threshold on the precision): the trigger fired
  on something that is not the muon;
* **efficiency** = matched images / images with ``P > 0``;
  **fake rate** = fake images / images with ``M > 0``.

Rates are binned in the pT of the triggering muon with 5 GeV bins centred on
multiples of 5 GeV (:data:`PT_EDGES_GEV`: 2.5, 7.5, …, 102.5 — the first bin of
a 5–100 GeV spectrum is half filled, as in the talk; a tail below 5 GeV falls in
``[0, 2.5)`` and ``[2.5, 7.5)``).  :class:`TriggerCounts` accumulates counts
batch by batch, so rates over 300,000 images never hold them all in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tracklearn.metrics.curves import clopper_pearson
from tracklearn.typing import BoolArray, FloatArray, IntArray

#: an image is matched when TP / P exceeds this
MATCH_TPR = 0.6
#: pT bin edges [GeV]: 5 GeV wide, centred on 5, 10, ..., 100 (plus [0, 2.5) for tails)
PT_EDGES_GEV: FloatArray = np.concatenate([[0.0], np.arange(2.5, 103.0, 5.0)])


def voxel_counts(pred: BoolArray, truth: BoolArray) -> tuple[IntArray, IntArray, IntArray]:
    """``TP``, ``P`` and ``M`` per image (see the module docstring).

    Shapes: ``pred``, ``truth`` (N, ...) bool → three (N,) int64.

    >>> t = np.array([[1, 1, 1, 0, 0]], bool)
    >>> [a.tolist() for a in voxel_counts(np.array([[1, 1, 0, 1, 0]], bool), t)]
    [[2], [3], [3]]
    """
    if pred.shape != truth.shape:
        raise ValueError(f"pred {pred.shape} and truth {truth.shape} differ")
    n = len(pred)
    p2, t2 = pred.reshape(n, -1), truth.reshape(n, -1)
    tp = np.count_nonzero(p2 & t2, axis=1)
    return tp.astype(np.int64), np.count_nonzero(t2, axis=1), np.count_nonzero(p2, axis=1)


def matched(tp: IntArray, p: IntArray) -> BoolArray:
    """``P > 0 and TP / P > 0.6`` per image.

    >>> matched(np.array([3, 4, 0, 2]), np.array([5, 5, 0, 3])).tolist()
    [False, True, False, True]
    """
    tp, p = np.asarray(tp), np.asarray(p)
    return (p > 0) & (tp > MATCH_TPR * p)


def fake(tp: IntArray, m: IntArray) -> BoolArray:
    """``M > 0 and TP / M ≤ 0.6`` per image.

    >>> fake(np.array([3, 4, 0, 0]), np.array([5, 5, 0, 2])).tolist()
    [True, False, False, True]
    """
    tp, m = np.asarray(tp), np.asarray(m)
    return (m > 0) & (tp <= MATCH_TPR * m)


@dataclass
class TriggerCounts:
    """Counts per pT bin of :data:`PT_EDGES_GEV`, accumulated with :meth:`add`.

    Attributes (int64 arrays, one entry per bin)
    ----------
    n_images
        Images with ``P > 0`` (the efficiency denominator).
    n_matched
        Of those, matched images.
    n_fired
        Images with ``M > 0`` (the fake-rate denominator).
    n_fake
        Of those, fake images.
    """

    edges: FloatArray = field(default_factory=lambda: PT_EDGES_GEV.copy())
    n_images: IntArray = field(init=False)
    n_matched: IntArray = field(init=False)
    n_fired: IntArray = field(init=False)
    n_fake: IntArray = field(init=False)

    def __post_init__(self) -> None:
        k = len(self.edges) - 1
        self.n_images, self.n_matched = np.zeros(k, np.int64), np.zeros(k, np.int64)
        self.n_fired, self.n_fake = np.zeros(k, np.int64), np.zeros(k, np.int64)

    def add(self, pt_gev: FloatArray, tp: IntArray, p: IntArray, m: IntArray) -> None:
        """Count a batch: pT of the triggering muons [GeV] and their ``TP``, ``P``, ``M``.

        Shapes: (N,) each.  Images outside the bin range are ignored.
        """
        k = len(self.edges) - 1
        b = np.searchsorted(self.edges, np.asarray(pt_gev), side="right") - 1
        ok = (b >= 0) & (b < k)
        b, tp, p, m = b[ok], np.asarray(tp)[ok], np.asarray(p)[ok], np.asarray(m)[ok]
        self.n_images += np.bincount(b, weights=p > 0, minlength=k).astype(np.int64)
        self.n_matched += np.bincount(b, weights=matched(tp, p), minlength=k).astype(np.int64)
        self.n_fired += np.bincount(b, weights=m > 0, minlength=k).astype(np.int64)
        self.n_fake += np.bincount(b, weights=fake(tp, m), minlength=k).astype(np.int64)

    def add_images(self, pt_gev: FloatArray, pred: BoolArray, truth: BoolArray) -> None:
        """Count a batch of predicted and true voxel masks (Shapes: (N,), (N, ...), (N, ...))."""
        self.add(pt_gev, *voxel_counts(pred, truth))

    def merge(self, other: TriggerCounts) -> None:
        """Add ``other``'s counts (same bins) to these."""
        if not np.array_equal(self.edges, other.edges):
            raise ValueError("cannot merge counts with different pT bins")
        for key in ("n_images", "n_matched", "n_fired", "n_fake"):
            setattr(self, key, getattr(self, key) + getattr(other, key))

    def rates(self) -> list[dict[str, float]]:
        """One row per non-empty bin: pT range, counts, efficiency and fake rate with 68 % CIs."""
        rows = []
        for i in np.nonzero(self.n_images + self.n_fired)[0]:
            eff, e_lo, e_hi = _ratio(self.n_matched[i], self.n_images[i])
            fr, f_lo, f_hi = _ratio(self.n_fake[i], self.n_fired[i])
            rows.append(
                {
                    "pt_lo": float(self.edges[i]),
                    "pt_hi": float(self.edges[i + 1]),
                    "n_images": int(self.n_images[i]),
                    "efficiency": eff,
                    "efficiency_lo": e_lo,
                    "efficiency_hi": e_hi,
                    "n_fired": int(self.n_fired[i]),
                    "fake_rate": fr,
                    "fake_rate_lo": f_lo,
                    "fake_rate_hi": f_hi,
                }
            )
        return rows

    def efficiency(self, pt_min: float = 0.0) -> float:
        """Efficiency over the bins whose lower edge is ≥ ``pt_min`` [GeV] (NaN if none)."""
        sel = self.edges[:-1] >= pt_min
        den = int(self.n_images[sel].sum())
        return float(self.n_matched[sel].sum() / den) if den else float("nan")

    def fake_rate(self, pt_min: float = 0.0) -> float:
        """Fake rate over the bins whose lower edge is ≥ ``pt_min`` [GeV] (NaN if none)."""
        sel = self.edges[:-1] >= pt_min
        den = int(self.n_fired[sel].sum())
        return float(self.n_fake[sel].sum() / den) if den else float("nan")

    @property
    def total_images(self) -> int:
        """Images counted (with ``P > 0``)."""
        return int(self.n_images.sum())


def _ratio(k: int, n: int) -> tuple[float, float, float]:
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    lo, hi = clopper_pearson(np.array([k]), np.array([n]))
    return float(k / n), float(lo[0]), float(hi[0])
