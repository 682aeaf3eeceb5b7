"""Hough transform: the classic global track finder, (φ0, q/pT) then r–z.

A particle from the beam line with transverse momentum ``pT`` [GeV] and charge
``q`` in a field ``B`` [T] along +z crosses transverse radius ``r`` [mm] at

    φ = φ0 - asin(A · r · q/pT),        A = C · B / 2   (C = 0.2998e-3 GeV/(T·mm))

(counter-clockwise turning, ``h = -sign(q·B) = +1``, for negative charge).  So every hit
is a curve ``φ0(q/pT) = φ + asin(A · r · q/pT)`` in the (φ0, q/pT) plane and the hits of
one track meet in one point.

1. **Transverse accumulator.**  For each q/pT bin ``j`` a hit votes for every φ0 bin
   its curve crosses between the bin edges (plus ``phi_tolerance`` for the
   resolution), so a track whose parameters fall anywhere inside a cell fills that
   cell with all its hits.  A cell counts *distinct layers*, not hits (``np.unique`` of
   ``cell · L + layer`` then ``np.bincount``), so at most one hit per layer counts.
2. **Peaks**: cells with at least ``min_layers`` layers that are maximal in their
   3×3 neighbourhood (φ0 wraps around).
3. **r–z check** per candidate: on the candidate's circle a hit lies at arc length
   ``s = asin(A r q/pT) / (A q/pT)`` and a track satisfies ``z = z0 + cotθ · s`` with
   ``|z0| ≤ z0_max``.  Each hit is therefore compatible with the cot θ interval
   ``[(z - z0_max) / s, (z + z0_max) / s]``; a 1-D cot θ histogram per candidate,
   filled with these intervals by a difference array, gives the candidate's cot θ,
   and hits whose ``z0 = z - cotθ · s`` lies within ``z0_tolerance`` (plus the cot
   bin width times ``s``) of the median are kept.  Hits of a second track in the
   same transverse cell fall out here and are picked up by the next iteration.
4. **Assignment**: candidates are ranked by their number of layers; every hit goes to
   the best candidate that holds it, one hit per layer (smallest z0 residual), and
   candidates left with fewer than ``min_layers`` layers are dropped.  The found hits
   are removed and steps 1–4 run again ``n_iterations`` times.

Shapes: ``N`` hits, ``J`` q/pT bins, ``F`` φ0 bins, ``L`` layers, ``P`` peaks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.classical.seeding import layer_index
from tracklearn.edm import Event, TrackCandidates
from tracklearn.methods import register_method
from tracklearn.typing import FloatArray, IntArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

log = logging.getLogger(__name__)


class HoughConfig(BaseModel):
    """Binning and cuts of the Hough transform (units in the comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    b_field: float = Field(2.0, gt=0)  # T, uniform field assumed for q/pT ↔ curvature
    pt_min: float = Field(1.0, gt=0)  # GeV, the q/pT axis spans ±1/pt_min
    n_qpt_bins: int = Field(64, ge=1)  # q/pT bins
    n_phi_bins: int = Field(1024, ge=3)  # φ0 bins over 2π
    phi_tolerance: float = Field(0.0, ge=0)  # rad, added to both ends of a hit's φ0 span
    r_max: float = Field(1100.0, gt=0)  # mm, hits beyond this radius do not vote
    min_layers: int = Field(4, ge=2)  # distinct layers of a peak and of an output track
    z0_max: float = Field(200.0, gt=0)  # mm, half-length of the collision region
    cot_max: float = Field(10.0, gt=0)  # largest |cot θ| of the r–z histogram (|η| ≈ 3)
    n_cot_bins: int = Field(400, ge=1)  # cot θ bins of the r–z histogram
    z0_tolerance: float = Field(10.0, gt=0)  # mm, largest z0 residual of a kept hit
    n_iterations: int = Field(2, ge=1)  # passes, each on the hits not yet assigned


@dataclass(frozen=True)
class HoughCandidates:
    """Peaks of the transverse accumulator and the hits that voted for them.

    Attributes
    ----------
    qpt_bin, phi_bin : int64, shape (P,)
        Accumulator cell of each peak.
    n_layers : int64, shape (P,)
        Distinct layers in the cell.
    pair_peak, pair_hit : int64, shape (M,)
        (peak, hit row) pairs: the hits whose curve crosses the peak cell.
    """

    qpt_bin: IntArray
    phi_bin: IntArray
    n_layers: IntArray
    pair_peak: IntArray
    pair_hit: IntArray


def _concat(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


class HoughTransform:
    """The (φ0, q/pT) accumulator and the r–z cleaning (see the module docstring)."""

    def __init__(self, config: HoughConfig | None = None) -> None:
        self.config = config or HoughConfig()

    @property
    def a_coef(self) -> float:
        """``A = C·B/2`` [GeV/mm]: ``asin(A · r · q/pT)`` is the azimuth turned at ``r``."""
        return 0.5 * C_LIGHT_GEV_PER_T_MM * self.config.b_field

    def qpt_edges(self) -> FloatArray:
        """q/pT bin edges [1/GeV], shape (J + 1,)."""
        q = 1.0 / self.config.pt_min
        return np.linspace(-q, q, self.config.n_qpt_bins + 1)

    def qpt_centres(self) -> FloatArray:
        """q/pT bin centres [1/GeV], shape (J,)."""
        e = self.qpt_edges()
        return np.asarray(0.5 * (e[1:] + e[:-1]))

    def phi_centres(self) -> FloatArray:
        """φ0 bin centres [rad] in [-π, π), shape (F,)."""
        nf = self.config.n_phi_bins
        return np.asarray(-np.pi + (np.arange(nf) + 0.5) * 2 * np.pi / nf)

    def _row_votes(self, r: FloatArray, phi: FloatArray, j: int) -> tuple[IntArray, IntArray]:
        """(hit, φ0 bin) votes of q/pT row ``j``, each shape (V,).

        The curve ``φ0 = φ + asin(A r q/pT)`` is monotonic in q/pT, so its φ0 span over
        the bin is the interval between the values at the two edges.
        """
        cfg = self.config
        e = self.qpt_edges()
        arg_lo = self.a_coef * r * e[j]
        arg_hi = self.a_coef * r * e[j + 1]
        # hits the bin cannot reach at all (|A r q/pT| > 1 at both edges) do not vote
        reach = (np.abs(arg_lo) <= 1.0) | (np.abs(arg_hi) <= 1.0)
        p_lo = phi + np.arcsin(np.clip(arg_lo, -1.0, 1.0))
        p_hi = phi + np.arcsin(np.clip(arg_hi, -1.0, 1.0))
        lo = np.minimum(p_lo, p_hi) - cfg.phi_tolerance
        hi = np.maximum(p_lo, p_hi) + cfg.phi_tolerance
        width = 2 * np.pi / cfg.n_phi_bins
        b_lo = np.floor((lo + np.pi) / width).astype(np.int64)
        b_hi = np.floor((hi + np.pi) / width).astype(np.int64)
        count = np.where(reach, b_hi - b_lo + 1, 0)
        hit = np.repeat(np.arange(len(r), dtype=np.int64), count)
        # rank of each vote inside its hit's run of bins
        rank = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(count) - count, count
        )
        return hit, (b_lo[hit] + rank) % cfg.n_phi_bins

    def accumulator(
        self,
        x: FloatArray,
        y: FloatArray,
        layer: IntArray,
    ) -> IntArray:
        """Distinct layers voting for each (q/pT, φ0) cell.

        Parameters
        ----------
        x, y : float64, shape (N,)
            Hit positions [mm].
        layer : int64, shape (N,)
            Dense layer index of each hit (``0 ≤ layer < L``).

        Returns
        -------
        int64, shape (J, F)
        """
        cfg = self.config
        r, phi = np.hypot(x, y), np.arctan2(y, x)
        nf = cfg.n_phi_bins
        n_layers = int(layer.max()) + 1 if len(layer) else 1
        acc = np.zeros((cfg.n_qpt_bins, nf), dtype=np.int64)
        for j in range(cfg.n_qpt_bins):  # rows: vectorised over hits, memory O(N)
            hit, fbin = self._row_votes(r, phi, j)
            # one vote per (cell, layer): at most one hit per layer counts
            key = np.unique(fbin * n_layers + layer[hit])
            acc[j] = np.bincount(key // n_layers, minlength=nf)
        return acc

    def peaks(self, acc: IntArray) -> tuple[IntArray, IntArray]:
        """Cells ≥ ``min_layers`` that are maximal in their 3×3 neighbourhood.

        Returns (q/pT bin, φ0 bin), each shape (P,), strongest peaks first.
        """
        from scipy.ndimage import maximum_filter

        # φ0 wraps around, q/pT does not (the edge rows only see their inner side)
        local = maximum_filter(acc, size=3, mode=("constant", "wrap"), cval=0)
        j, f = np.nonzero((acc >= self.config.min_layers) & (acc == local))
        order = np.argsort(-acc[j, f], kind="stable")
        return j[order].astype(np.int64), f[order].astype(np.int64)

    def candidates(self, x: FloatArray, y: FloatArray, layer: IntArray) -> HoughCandidates:
        """Peaks of the accumulator and the hits whose curves cross them."""
        acc = self.accumulator(x, y, layer)
        pj, pf = self.peaks(acc)
        peak_of_cell = np.full(acc.shape, -1, dtype=np.int64)
        peak_of_cell[pj, pf] = np.arange(len(pj))
        r, phi = np.hypot(x, y), np.arctan2(y, x)
        peaks: list[IntArray] = []
        hits: list[IntArray] = []
        for j in np.unique(pj):
            hit, fbin = self._row_votes(r, phi, int(j))
            p = peak_of_cell[j, fbin]
            keep = p >= 0
            peaks.append(p[keep])
            hits.append(hit[keep])
        return HoughCandidates(pj, pf, acc[pj, pf], _concat(peaks), _concat(hits))

    def rz_clean(
        self,
        cand: HoughCandidates,
        x: FloatArray,
        y: FloatArray,
        z: FloatArray,
    ) -> tuple[npt.NDArray[np.bool_], FloatArray]:
        """Keep the (peak, hit) pairs on one r–z line per candidate.

        Returns
        -------
        keep : bool, shape (M,)
        residual : float64, shape (M,)
            ``|z0_hit - z0_candidate|`` [mm] (∞ for pairs not kept).
        """
        cfg = self.config
        m = len(cand.pair_hit)
        if m == 0:
            return np.zeros(0, bool), np.zeros(0)
        h, p = cand.pair_hit, cand.pair_peak
        qpt = self.qpt_centres()[cand.qpt_bin[p]]
        r = np.hypot(x[h], y[h])
        ak = self.a_coef * qpt
        arg = np.clip(ak * r, -1.0, 1.0)
        # arc length on the candidate circle; → r for straight tracks
        s = np.where(np.abs(ak) > 1e-12, np.arcsin(arg) / np.where(ak == 0, 1.0, ak), r)
        s = np.maximum(s, 1e-6)
        zh = z[h]
        nc = cfg.n_cot_bins
        width = 2 * cfg.cot_max / nc
        lo = np.floor(((zh - cfg.z0_max) / s + cfg.cot_max) / width).astype(np.int64)
        hi = np.floor(((zh + cfg.z0_max) / s + cfg.cot_max) / width).astype(np.int64)
        lo, hi = np.clip(lo, 0, nc), np.clip(hi + 1, 0, nc)
        # difference array: +1 at the interval start, -1 after its end, cumsum per row
        n_peaks = len(cand.qpt_bin)
        diff = np.zeros((n_peaks, nc + 1), dtype=np.int64)
        np.add.at(diff, (p, lo), 1)
        np.add.at(diff, (p, hi), -1)
        hist = np.cumsum(diff[:, :nc], axis=1)
        best = np.argmax(hist, axis=1)
        inside = (lo <= best[p]) & (best[p] < hi)
        # the histogram fixes which hits share a line; a straight-line least-squares
        # fit z = z0 + cotθ·s of those hits (sums by np.bincount per candidate), then
        # the same fit without the hits beyond z0_tolerance, gives the line itself
        keep = inside
        res = np.full(m, np.inf)
        for _ in range(2):
            wgt = keep.astype(np.float64)
            sw = np.bincount(p, wgt, n_peaks)
            ss = np.bincount(p, wgt * s, n_peaks)
            sz = np.bincount(p, wgt * zh, n_peaks)
            sss = np.bincount(p, wgt * s * s, n_peaks)
            ssz = np.bincount(p, wgt * s * zh, n_peaks)
            det = sw * sss - ss * ss
            ok = det > 1e-9
            safe = np.where(ok, det, 1.0)
            cot = np.where(ok, (sw * ssz - ss * sz) / safe, 0.0)
            z0 = np.where(ok, (sss * sz - ss * ssz) / safe, np.inf)
            res = np.abs(zh - z0[p] - cot[p] * s)
            keep = inside & ok[p] & (res <= cfg.z0_tolerance) & (np.abs(z0[p]) <= cfg.z0_max)
        return keep, np.where(keep, res, np.inf)


def assign_hits(
    pair_peak: IntArray,
    pair_hit: IntArray,
    rank_key: FloatArray,
    layer: IntArray,
    n_hits: int,
    min_layers: int,
) -> IntArray:
    """Give each hit to its best candidate, one hit per (candidate, layer).

    Parameters
    ----------
    pair_peak, pair_hit : int64, shape (M,)
        Candidate and hit of each kept pair.
    rank_key : float64, shape (M,)
        Smaller is better (candidate rank first, then the hit's residual).
    layer : int64, shape (N,)
        Dense layer index of each hit.
    n_hits
        ``N``.
    min_layers
        Candidates left with fewer distinct layers are dropped.

    Returns
    -------
    int64, shape (N,)
        Candidate label of each hit (``peak + 1``), 0 for unassigned.
    """
    labels = np.zeros(n_hits, dtype=np.int64)
    if len(pair_hit) == 0:
        return labels
    order = np.argsort(rank_key, kind="stable")
    p, h = pair_peak[order], pair_hit[order]
    # first occurrence of each hit wins (best candidate); np.sort keeps rank order
    first = np.sort(np.unique(h, return_index=True)[1])
    p, h = p[first], h[first]
    # then one hit per (candidate, layer), again the best ranked
    key = p * (int(layer.max()) + 1) + layer[h]
    first = np.sort(np.unique(key, return_index=True)[1])
    p, h = p[first], h[first]
    n_layers = np.bincount(p)
    good = n_layers[p] >= min_layers
    labels[h[good]] = p[good] + 1
    return labels


class HoughReconstructor:
    """Find tracks with the Hough transform (a :class:`Reconstructor`)."""

    def __init__(self, config: HoughConfig | None = None) -> None:
        self.config = config or HoughConfig()
        self.transform = HoughTransform(self.config)

    def __call__(self, event: Event) -> TrackCandidates:
        cfg = self.config
        hits = event.hits
        n = len(hits)
        if n == 0:
            return TrackCandidates.empty(0)
        layer = layer_index(hits)
        labels = np.zeros(n, dtype=np.int64)
        offset = 0
        for it in range(cfg.n_iterations):
            free = np.flatnonzero((labels == 0) & (hits.r <= cfg.r_max))
            if len(free) < cfg.min_layers:
                break
            x, y, z = hits.x[free], hits.y[free], hits.z[free]
            lay = layer[free]
            cand = self.transform.candidates(x, y, lay)
            keep, res = self.transform.rz_clean(cand, x, y, z)
            p, h = cand.pair_peak[keep], cand.pair_hit[keep]
            # rank candidates by their layers after the r–z check, then hits by residual
            layers_after = np.zeros(len(cand.qpt_bin), np.int64)
            if len(p):
                uk = np.unique(p * (int(lay.max()) + 1) + lay[h])
                layers_after = np.bincount(uk // (int(lay.max()) + 1), minlength=len(cand.qpt_bin))
            scale = 1.0 + float(res[keep].max()) if len(p) else 1.0
            rank_key = -layers_after[p].astype(np.float64) + res[keep] / scale
            sub = assign_hits(p, h, rank_key, lay, len(free), cfg.min_layers)
            found = sub > 0
            labels[free[found]] = sub[found] + offset
            offset += len(cand.qpt_bin) + 1
            log.debug(
                "hough pass %d: %d peaks, %d hits assigned", it, len(cand.qpt_bin), found.sum()
            )
        return TrackCandidates.from_labels(labels, min_hits=cfg.min_layers)


@register_method(
    "hough",
    "Hough transform in (φ0, q/pT) with an r–z check (classic global method)",
    use_for="teaching and triggers: tracks from the beam line, one hit per layer",
)
def make_hough(config: dict[str, Any] | None) -> HoughReconstructor:
    """Build the Hough reconstructor from a config mapping (see :class:`HoughConfig`)."""
    return HoughReconstructor(HoughConfig.model_validate(config or {}))
