"""Features of followed track candidates, read by the learned candidate classifier."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.fullspectrum.follow import TRACK_STATS
from tracklearn.fullspectrum.grid import HitGrid
from tracklearn.fullspectrum.seeding import TRIPLET_FEATURES
from tracklearn.typing import FloatArray, IntArray

_S = {name: k for k, name in enumerate(TRACK_STATS)}
_T = {name: k for k, name in enumerate(TRIPLET_FEATURES)}

#: columns of :func:`candidate_features`
CANDIDATE_FEATURES: tuple[str, ...] = (
    "n_hits",
    "n_layers",
    "n_holes",
    "chi2_mean",  # Σχ² of the followed hits / (layers - 3)
    "chi2_max",
    "turn",  # [rad]
    "n_overlap",  # overlap duplicates picked up
    "seed_log_kappa",
    "seed_d0",  # [mm]
    "seed_z0",  # [mm]
    "seed_cot",
    "seed_dcot_norm",
    "seed_score",  # the seed classifier's probability
    "r_first",  # [mm]
    "z_first_abs",
    "r_last",
    "z_last_abs",
    "n_inner_layers",  # layers of the pixel-like inner region (r < 200 mm)
    "sharing_mean",  # mean over hits of log(1 + candidates holding the hit)
    "sharing_max",
)


def candidate_features(
    hits: IntArray,
    stats: FloatArray,
    seed_features: FloatArray,
    seed_score: FloatArray,
    grid: HitGrid,
    inner_layer: npt.NDArray[np.bool_],
) -> FloatArray:
    """One feature row per candidate (columns :data:`CANDIDATE_FEATURES`).

    Parameters
    ----------
    hits : int64, shape (S, H)
        Candidate hits (sorted-hit indices, -1 padded), path order then overlaps.
    stats : float64, shape (S, len(TRACK_STATS))
    seed_features : float64, shape (S, len(TRIPLET_FEATURES))
    seed_score : float64, shape (S,)
    inner_layer : bool, shape (L,)
        Layers of the inner (pixel) region.
    """
    n = len(hits)
    out = np.zeros((n, len(CANDIDATE_FEATURES)), np.float64)
    if n == 0:
        return out
    valid = hits >= 0
    n_hits = stats[:, _S["n_hits"]]
    n_layers = stats[:, _S["n_layers"]]
    n_main = np.maximum(stats[:, _S["n_main"]].astype(np.int64), 1)
    out[:, 0] = n_hits
    out[:, 1] = n_layers
    out[:, 2] = stats[:, _S["n_holes"]]
    out[:, 3] = stats[:, _S["chi2_sum"]] / np.maximum(n_main - 3, 1)
    out[:, 4] = stats[:, _S["chi2_max"]]
    out[:, 5] = stats[:, _S["turn"]]
    out[:, 6] = n_hits - n_main
    out[:, 7] = seed_features[:, _T["log_kappa"]]
    out[:, 8] = seed_features[:, _T["d0"]]
    out[:, 9] = seed_features[:, _T["z0"]]
    out[:, 10] = seed_features[:, _T["cot"]]
    out[:, 11] = seed_features[:, _T["dcot_norm"]]
    out[:, 12] = seed_score
    rows = np.arange(n)
    first = hits[:, 0]
    last = hits[rows, n_main - 1]
    out[:, 13] = grid.r[first]
    out[:, 14] = np.abs(grid.z[first])
    out[:, 15] = grid.r[last]
    out[:, 16] = np.abs(grid.z[last])
    safe = np.where(valid, hits, 0)
    # inner layers crossed: overlap duplicates share their layer, count path hits only
    path = valid & (np.arange(hits.shape[1])[None, :] < n_main[:, None])
    out[:, 17] = (inner_layer[grid.layer[safe]] & path).sum(1)
    counts = np.bincount(hits[valid], minlength=grid.n_hits)
    share = np.where(valid, np.log1p(counts[safe]), 0.0)
    out[:, 18] = share.sum(1) / np.maximum(valid.sum(1), 1)
    out[:, 19] = share.max(1)
    return out


def majority_labels(
    hits: IntArray, particle: IntArray, hits_per_particle: dict[int, int] | IntArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Purity and completeness of each candidate's majority particle (training only).

    Parameters
    ----------
    hits : int64, shape (S, H)
        Candidate hits (-1 padded).
    particle : int64, shape (N,)
        Dense particle index of each sorted hit (-1 for noise).
    hits_per_particle : int64, shape (P,)
        Hits of each dense particle.

    Returns
    -------
    purity, completeness : float64, shape (S,)
    majority : int64, shape (S,)
        Dense index of the majority particle (-1 when noise dominates).
    """
    n, width = hits.shape
    valid = hits >= 0
    p = np.where(valid, particle[np.where(valid, hits, 0)], -2)
    ps = np.sort(p, axis=1)
    # run lengths of equal values along each sorted row
    best = np.full(n, -1, np.int64)
    best_n = np.zeros(n, np.int64)
    run = np.ones(n, np.int64)
    for j in range(1, width):
        same = ps[:, j] == ps[:, j - 1]
        run = np.where(same, run + 1, 1)
        upd = (ps[:, j] >= 0) & (run > best_n)
        best = np.where(upd, ps[:, j], best)
        best_n = np.where(upd, run, best_n)
    upd0 = (ps[:, 0] >= 0) & (best_n == 0)
    best = np.where(upd0, ps[:, 0], best)
    best_n = np.where(upd0, 1, best_n)
    n_valid = np.maximum(valid.sum(1), 1)
    hpp = np.asarray(hits_per_particle)
    purity = best_n / n_valid
    completeness = np.where(best >= 0, best_n / np.maximum(hpp[np.maximum(best, 0)], 1), 0.0)
    return purity, completeness, best
