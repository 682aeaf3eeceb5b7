"""Truth for hit graphs: true segments of particles and edge labels.

A *true segment* joins two hits of one particle that are consecutive along its
track.  Hits of a particle are ordered by their 3D distance from the
particle's production vertex (exact for tracks that do not loop back); hits of
one particle on the same layer (overlapping modules) are both kept, so a
segment may join two hits of one layer.

Shapes: ``N`` hits, ``E`` edges, ``S`` segments.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.typing import IntArray


def _require_truth(event: Event) -> None:
    if event.truth is None or event.particles is None:
        raise DataError(event.source, "truth and particles are needed for graph truth")


def edge_labels(event: Event, edge_index: IntArray) -> npt.NDArray[np.float32]:
    """1 where both hits of an edge belong to the same (non-noise) particle, else 0.

    This is the label of the HEP.TrkX / Interaction-Network graphs.  Shapes:
    ``edge_index`` (2, E) of hit rows → (E,).
    """
    _require_truth(event)
    assert event.truth is not None
    pid = event.truth.particle_id
    a, b = pid[edge_index[0]], pid[edge_index[1]]
    out: npt.NDArray[np.float32] = ((a == b) & (a != 0)).astype(np.float32)
    return out


def true_segments(
    event: Event, pt_min: float = 0.0, min_hits: int = 2, primaries_only: bool = False
) -> IntArray:
    """Consecutive-hit pairs of particles, shape (2, S), inner hit first.

    Parameters
    ----------
    pt_min
        Only particles with pT ≥ ``pt_min`` [GeV] (at production).
    min_hits
        Only particles with at least this many hits.
    primaries_only
        Only particles whose TrackML generation bits are 0.
    """
    _require_truth(event)
    truth, particles = event.truth, event.particles
    assert truth is not None and particles is not None
    # Event guarantees truth rows are aligned with hit rows
    pid = truth.particle_id
    if len(particles) == 0:  # all noise: nothing to index (regression: IndexError)
        return np.zeros((2, 0), dtype=np.int64)
    order_p = np.argsort(particles.particle_id)
    sorted_ids = particles.particle_id[order_p]
    prow = np.full(len(pid), -1, dtype=np.int64)
    if len(sorted_ids):
        pos = np.clip(np.searchsorted(sorted_ids, pid), 0, len(sorted_ids) - 1)
        found = (pid != 0) & (sorted_ids[pos] == pid)
        prow[found] = order_p[pos[found]]
    pt = np.hypot(particles.px, particles.py)
    keep_p = pt >= pt_min
    if primaries_only:
        keep_p &= ((particles.particle_id >> 24) & 0xFFF) == 0
    ok = (prow >= 0) & keep_p[np.maximum(prow, 0)]
    hit = np.flatnonzero(ok)
    p = prow[hit]
    vertex = np.stack([particles.vx, particles.vy, particles.vz], axis=1)[p]
    txyz = np.stack([truth.tx, truth.ty, truth.tz], axis=1)[hit]
    dist = np.linalg.norm(txyz - vertex, axis=1)
    order = np.lexsort((dist, p))
    p, hit = p[order], hit[order]
    counts = np.bincount(p, minlength=len(particles))
    same = p[1:] == p[:-1]
    long_enough = counts[p[1:]] >= min_hits
    pair = same & long_enough
    return np.stack([hit[:-1][pair], hit[1:][pair]]).astype(np.int64)
