"""DBSCAN on helix-unrolled hit features: the TrackML-challenge clustering baseline.

A particle from the beamline with transverse curvature radius ``R`` reaches
transverse radius ``r`` at azimuth ``φ = φ0 - h·asin(r / 2R)`` (``h`` its sense of
rotation) and height ``z = z0 + cotθ · 2R·asin(r / 2R)``.  For a hypothesis
``k = h / 2R`` (the *unrolling parameter*, ∝ q/pT) and a vertex ``z0`` the features

    φ0 = φ - asin(k·r),      cotθ = (z - z0) / s(r),   s = asin(k·r)/k  (arc length)

are the same for every hit of a matching particle, so its hits form a tight
cluster.  We scan ``k`` over both charges (and optionally ``z0``), run
scikit-learn's DBSCAN on ``(cos φ0, sin φ0, w·cotθ)`` at each step, and merge the
steps: a hit moves to a new cluster when that cluster is larger than the one it
is in (and not larger than ``max_track_hits``).  This is the approach of the
TrackML-challenge DBSCAN kernels, written vectorised; it never reads truth.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, TrackCandidates
from tracklearn.methods import register_method
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

log = logging.getLogger(__name__)


class DBSCANConfig(BaseModel):
    """Settings of the DBSCAN baseline (units in the comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pt_min: float = Field(0.5, gt=0)  # GeV, lowest pT the unrolling scan reaches
    b_field: float = Field(2.0, gt=0)  # T, field assumed for the pT ↔ k conversion
    n_steps: int = Field(30, ge=1)  # unrolling steps per charge (k from 0 to k_max)
    # mm, vertex-z hypotheses scanned: the luminous region is ~55 mm long, and a wrong z0
    # spoils cotθ of the innermost hits most (error Δz0 / r)
    z0_values: tuple[float, ...] = (-80.0, -40.0, 0.0, 40.0, 80.0)
    eps: float = Field(0.0035, gt=0)  # DBSCAN radius in feature space (≈ rad)
    eps_growth: float = Field(0.0, ge=0)  # eps added per step, loosening later steps
    cot_weight: float = Field(0.03, gt=0)  # weight of cotθ against the unit-circle φ0 features
    min_samples: int = Field(1, ge=1)  # DBSCAN core-point threshold
    max_track_hits: int = Field(20, ge=2)  # clusters larger than this never win a merge
    min_track_hits: int = Field(3, ge=1)  # output tracks shorter than this are dropped
    n_jobs: int = Field(1, ge=1)  # threads of the neighbour search


def unrolled_features(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    z: npt.NDArray[np.float64],
    k: float,
    z0: float,
    cot_weight: float,
) -> npt.NDArray[np.float64]:
    """Helix-invariant features for curvature hypothesis ``k`` [1/mm] and vertex ``z0`` [mm].

    Returns shape (N, 3): ``cos φ0, sin φ0, cot_weight · cotθ``.  Hits the hypothesis
    cannot reach (``|k·r| > 1``) get features far from everything (NaN-free).
    """
    r = np.hypot(x, y)
    kr = k * r
    reach = np.abs(kr) <= 1.0
    a = np.arcsin(np.clip(kr, -1.0, 1.0))
    phi0 = np.arctan2(y, x) - a
    # arc length in the transverse plane; s → r as k → 0
    s = np.where(np.abs(k) > 1e-12, a / k if k != 0 else r, r)
    cot = (z - z0) / np.maximum(s, 1e-9)
    feats = np.stack([np.cos(phi0), np.sin(phi0), cot_weight * cot], axis=1)
    feats[~reach] = 1e6 + np.arange(np.count_nonzero(~reach))[:, None]
    return feats


def merge_clusters(
    labels: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    new: npt.NDArray[np.int64],
    max_hits: int,
    offset: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Let hits move to a new cluster that is larger than their current one.

    Parameters
    ----------
    labels, sizes : shape (N,)
        Current cluster label of each hit (0 = none) and that cluster's size.
    new : shape (N,)
        Labels of this step (≥ 0; DBSCAN's -1 noise must be removed before).
    max_hits
        New clusters with more hits than this are ignored.
    offset
        Added to ``new`` so labels of different steps never collide.
    """
    counts = np.bincount(new)
    new_size = counts[new]
    take = (new_size > sizes) & (new_size <= max_hits)
    labels = np.where(take, new + offset, labels)
    # sizes of the resulting clusters (hits may have left older clusters)
    _, inv, cnt = np.unique(labels, return_inverse=True, return_counts=True)
    sizes = np.where(labels > 0, cnt[inv], 0)
    return labels, sizes


class DBSCANReconstructor:
    """Cluster hits into tracks with DBSCAN over a scan of helix-unrolling hypotheses."""

    def __init__(self, config: DBSCANConfig | None = None) -> None:
        self.config = config or DBSCANConfig()

    def k_values(self) -> npt.NDArray[np.float64]:
        """The unrolling parameters scanned [1/mm], small |k| (high pT) first."""
        cfg = self.config
        k_max = C_LIGHT_GEV_PER_T_MM * cfg.b_field / (2 * cfg.pt_min)
        mags = np.linspace(0.0, k_max, cfg.n_steps)
        return np.stack([mags, -mags], axis=1).ravel()[1:]  # k=0 once

    def __call__(self, event: Event) -> TrackCandidates:
        from sklearn.cluster import DBSCAN  # slow import; only when used

        cfg = self.config
        hits = event.hits
        n = len(hits)
        if n == 0:
            return TrackCandidates.empty(0)
        labels = np.zeros(n, dtype=np.int64)
        sizes = np.zeros(n, dtype=np.int64)
        offset = 1
        step = 0
        for z0 in cfg.z0_values:
            for k in self.k_values():
                feats = unrolled_features(hits.x, hits.y, hits.z, float(k), z0, cfg.cot_weight)
                eps = cfg.eps + step * cfg.eps_growth
                new = (
                    DBSCAN(
                        eps=eps, min_samples=cfg.min_samples, n_jobs=cfg.n_jobs, algorithm="kd_tree"
                    )
                    .fit_predict(feats)
                    .astype(np.int64)
                )
                # DBSCAN's noise (-1) is only possible with min_samples > 1: singletons
                noise = new < 0
                if noise.any():
                    new[noise] = new.max() + 1 + np.arange(np.count_nonzero(noise))
                labels, sizes = merge_clusters(labels, sizes, new, cfg.max_track_hits, offset)
                offset += int(new.max()) + 1
                step += 1
        return TrackCandidates.from_labels(labels, min_hits=cfg.min_track_hits)


@register_method(
    "dbscan",
    "DBSCAN on helix-unrolled hit features (TrackML-challenge baseline)",
    use_for="a simple baseline to compare against; small or low-occupancy events",
)
def make_dbscan(config: dict[str, Any] | None) -> DBSCANReconstructor:
    """Build the DBSCAN baseline from a config mapping (see :class:`DBSCANConfig`)."""
    return DBSCANReconstructor(DBSCANConfig.model_validate(config or {}))
