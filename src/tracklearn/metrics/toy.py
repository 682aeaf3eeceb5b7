"""Metrics of the toy studies, each defined once.

* :func:`seeded_accuracy`: HEP.TrkX hit-classification accuracy — the
  fraction of (event, layer) pairs after the seed layers where the model's
  most likely cell is the signal track's cell.
* :func:`island_candidate_counts`: g-2 track candidates in time islands,
  double-majority matched (>50 % of the candidate's cells belong to the track
  and the candidate holds >50 % of the track's cells).  Only tracks and
  candidates with at least ``min_cells`` cells count.  Efficiency = matched
  tracks / tracks; purity = matched candidates / candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.typing import IntArray


def seeded_accuracy(pred: IntArray, target: IntArray, n_seed_layers: int) -> float:
    """Fraction of layers ``≥ n_seed_layers`` where ``pred == target``.

    Shapes: ``pred``, ``target`` (N, L) cell indices.

    >>> seeded_accuracy(np.array([[0, 1, 2, 9]]), np.array([[0, 1, 2, 3]]), 2)
    0.5
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} differ")
    return float(np.mean(pred[:, n_seed_layers:] == target[:, n_seed_layers:]))


@dataclass(frozen=True)
class IslandCounts:
    """Per-island counts. Shapes: (N,) int64 each.

    Attributes
    ----------
    n_tracks
        True tracks with ≥ ``min_cells`` cells.
    n_matched_tracks
        Of those, tracks matched by a candidate.
    n_candidates
        Candidates with ≥ ``min_cells`` cells.
    n_matched_candidates
        Of those, candidates matched to a track.
    """

    n_tracks: IntArray
    n_matched_tracks: IntArray
    n_candidates: IntArray
    n_matched_candidates: IntArray

    def efficiency(self, rows: npt.NDArray[np.bool_] | None = None) -> float:
        """Matched tracks / tracks over ``rows`` (all islands by default); NaN if none."""
        sel = slice(None) if rows is None else rows
        den = int(self.n_tracks[sel].sum())
        return float(self.n_matched_tracks[sel].sum() / den) if den else float("nan")

    def purity(self, rows: npt.NDArray[np.bool_] | None = None) -> float:
        """Matched candidates / candidates over ``rows``; NaN if none."""
        sel = slice(None) if rows is None else rows
        den = int(self.n_candidates[sel].sum())
        return float(self.n_matched_candidates[sel].sum() / den) if den else float("nan")


def island_candidate_counts(pred: IntArray, owner: IntArray, min_cells: int = 5) -> IslandCounts:
    """Match predicted candidates to true tracks island by island.

    Shapes: ``pred`` (N, L, S): predicted candidate (≥ 1) or 0 (noise) per
    cell, ignored where ``owner == -1``; ``owner`` (N, L, S): -1 empty,
    0 noise, ``k ≥ 1`` track.  Returns :class:`IslandCounts`.
    """
    n = len(owner)
    counts = np.zeros((4, n), np.int64)
    for i in range(n):
        hit = owner[i] >= 0
        t, c = owner[i][hit], pred[i][hit]
        n_t, n_c = int(t.max(initial=0)) + 1, int(c.max(initial=0)) + 1
        table = np.zeros((n_c, n_t), np.int64)  # cells shared by candidate × track
        np.add.at(table, (c, t), 1)
        table[0, :] = 0  # "noise" is not a candidate
        table[:, 0] = 0  # noise is not a track
        size_c, size_t = np.bincount(c, minlength=n_c), np.bincount(t, minlength=n_t)
        matched = (2 * table > size_c[:, None]) & (2 * table > size_t[None, :])
        good_t = size_t >= min_cells
        good_c = size_c >= min_cells
        good_t[0] = good_c[0] = False
        counts[:, i] = (
            good_t.sum(),
            (matched.any(0) & good_t).sum(),
            good_c.sum(),
            (matched.any(1) & good_c).sum(),
        )
    return IslandCounts(*counts)
