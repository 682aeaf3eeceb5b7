"""Greedy assignment of hits to the best candidates.

Candidates are visited by decreasing score; a candidate is accepted when
enough of its hits are still free (``min_free`` hits and a fraction
``min_free_frac`` of its hits), and takes those free hits.  Every hit ends on
at most one track, as the TrackML submission requires.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from tracklearn.typing import FloatArray, IntArray


@nb.njit(cache=True, nogil=True)
def greedy_select(
    hits: IntArray,
    score: FloatArray,
    rank: FloatArray,
    owner: IntArray,
    first_track: int,
    min_free: int,
    min_free_frac: float,
    min_score: float,
) -> tuple[int, IntArray, IntArray]:
    """Accept candidates by decreasing ``rank``; write their track number into ``owner``.

    Candidates whose ``score`` is below ``min_score`` are never accepted.

    Parameters
    ----------
    hits : int64, shape (S, H)
        Candidate hits (-1 padded).
    score : float64, shape (S,)
        Probability that the candidate is a track (the candidate classifier's).
    rank : float64, shape (S,)
        Visiting order, largest first.
    owner : int64, shape (N,)
        Track number of each hit, -1 when free; updated in place.
    first_track
        Number given to the first accepted candidate.

    Returns
    -------
    next_track : int
        The number after the last track given.
    track_ptr, track_hits : int64
        CSR of the accepted tracks' hits (the free ones they took), in candidate order.
    """
    order = np.argsort(-rank)
    t = first_track
    track_ptr = np.zeros(len(score) + 1, np.int64)
    track_hits = np.empty(hits.size, np.int64)
    n_t = 0
    for s in order:
        if score[s] < min_score:
            continue
        n = 0
        free = 0
        for j in range(hits.shape[1]):
            h = hits[s, j]
            if h < 0:
                break
            n += 1
            if owner[h] < 0:
                free += 1
        if free < min_free or free < min_free_frac * n:
            continue
        k = track_ptr[n_t]
        for j in range(n):
            h = hits[s, j]
            if owner[h] < 0:
                owner[h] = t
                track_hits[k] = h
                k += 1
        n_t += 1
        track_ptr[n_t] = k
        t += 1
    return t, track_ptr[: n_t + 1].copy(), track_hits[: track_ptr[n_t]].copy()
