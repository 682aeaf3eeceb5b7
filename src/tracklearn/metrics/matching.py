"""Double-majority matching of reconstructed tracks to truth particles.

Definition (DESIGN.md, "Matching"), written in code once in :func:`double_majority`:
a track is matched to particle ``p`` when ``p`` holds more than 50 % of the track's
hits (noise hits count in the track's total) **and** the track holds more than 50 %
of ``p``'s hits in the event.  These are the same two inequalities as the TrackML
score (see :mod:`tracklearn.metrics.score`).

The majority particle of a track is the particle with most of its hits; as in the
reference TrackML implementation noise (``particle_id`` 0) takes part in that vote
and ties go to the smallest ``particle_id``.  A track whose majority is noise is
never matched.  A hit listed in several tracks counts in each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackCandidates
from tracklearn.errors import DataError

__all__ = ["TrackMatch", "double_majority", "match_tracks"]


def double_majority(
    n_majority: npt.NDArray[np.int64],
    n_track_hits: npt.NDArray[np.int64],
    n_particle_hits: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """The double-majority condition, element-wise.

    ``n_majority > 0.5 * n_track_hits`` and ``n_majority > 0.5 * n_particle_hits``,
    evaluated exactly in integers as ``2 * n_majority > n``.

    Parameters
    ----------
    n_majority
        Hits of the track that belong to its majority particle.
    n_track_hits
        All hits of the track (noise included).
    n_particle_hits
        All hits of the majority particle in the event.

    Shapes
    ------
    All inputs and the output ``(T,)``.
    """
    twice = 2 * np.asarray(n_majority, dtype=np.int64)
    return (twice > n_track_hits) & (twice > n_particle_hits)


@dataclass(frozen=True, eq=False)
class TrackMatch:
    """Result of :func:`match_tracks`.

    Attributes
    ----------
    majority_particle : int64, shape (T,)
        ``particle_id`` holding most hits of the track; 0 for an empty track or when
        noise holds most hits.
    n_hits : int64, shape (T,)
        Hits of the track, noise included.
    n_majority : int64, shape (T,)
        Hits of the track that belong to the majority particle (noise hits when the
        majority is noise).
    majority_particle_hits : int64, shape (T,)
        Hits of the majority particle in the whole event (0 for an empty track).
    matched : bool, shape (T,)
        Double-majority match (:func:`double_majority`) to a non-noise particle.
    majority_weight : float64, shape (T,)
        Sum of the truth ``weight`` of the track's majority hits (dimensionless, as
        in the TrackML truth files).
    n_matched_tracks : int64, shape (P,)
        For each row of ``event.particles``: number of matched tracks whose majority
        it is (0 when ``event.particles`` is None: then shape (0,)).
    """

    majority_particle: npt.NDArray[np.int64]
    n_hits: npt.NDArray[np.int64]
    n_majority: npt.NDArray[np.int64]
    majority_particle_hits: npt.NDArray[np.int64]
    matched: npt.NDArray[np.bool_]
    majority_weight: npt.NDArray[np.float64]
    n_matched_tracks: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).flags.writeable = False

    @property
    def n_tracks(self) -> int:
        return len(self.n_hits)


def match_tracks(event: Event, tracks: TrackCandidates) -> TrackMatch:
    """Find each track's majority particle and whether it is double-majority matched.

    See the module docstring for the definitions.  Vectorised: every (track, particle)
    pair among the track entries is encoded as one int64 and counted with
    :func:`numpy.unique`; there is no Python loop over hits or tracks.

    Parameters
    ----------
    event
        Event with ``truth`` (``particles`` is needed only for ``n_matched_tracks``).
    tracks
        Track candidates of ``event`` (``tracks.n_hits == event.n_hits``).

    Returns
    -------
    TrackMatch

    Shapes
    ------
    T = ``tracks.n_tracks``, P = ``len(event.particles)``.
    """
    if event.truth is None:
        raise DataError(event.source, "matching tracks needs truth")
    if tracks.n_hits != event.n_hits:
        raise DataError(
            "tracks", f"tracks refer to {tracks.n_hits} hits but the event has {event.n_hits}"
        )
    truth = event.truth
    n_tracks = tracks.n_tracks
    n_hits = tracks.lengths.astype(np.int64)

    # Particles (noise 0 included) numbered 0..U-1 in increasing particle_id order.
    uniq_pid, hit_pidx, pid_count = np.unique(
        truth.particle_id, return_inverse=True, return_counts=True
    )
    n_uniq = max(len(uniq_pid), 1)

    entry_track = tracks.track_of_entry()
    entry_pidx = hit_pidx[tracks.hit_index].astype(np.int64)
    # One key per (track, particle) pair; sorted keys run track by track and, within
    # a track, by increasing particle_id.  Fits int64: T * U <= H * N.
    pair_key, pair_inv, pair_count = np.unique(
        entry_track * n_uniq + entry_pidx, return_inverse=True, return_counts=True
    )
    pair_weight = np.bincount(
        pair_inv, weights=truth.weight[tracks.hit_index], minlength=len(pair_key)
    )
    pair_track = pair_key // n_uniq
    pair_pidx = pair_key % n_uniq

    # Majority pair per track: order by track, then most hits, then smallest
    # particle_id (the reference's tie-break), and keep the first pair of each track.
    order = np.lexsort((pair_pidx, -pair_count, pair_track))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair_track[order][1:] != pair_track[order][:-1]
    best = order[first]
    best_track = pair_track[best]

    majority_particle = np.zeros(n_tracks, dtype=np.int64)
    n_majority = np.zeros(n_tracks, dtype=np.int64)
    majority_particle_hits = np.zeros(n_tracks, dtype=np.int64)
    majority_weight = np.zeros(n_tracks, dtype=np.float64)
    majority_particle[best_track] = uniq_pid[pair_pidx[best]]
    n_majority[best_track] = pair_count[best]
    majority_particle_hits[best_track] = pid_count[pair_pidx[best]]
    majority_weight[best_track] = pair_weight[best]

    matched = (majority_particle != 0) & double_majority(n_majority, n_hits, majority_particle_hits)

    if event.particles is None:
        n_matched_tracks = np.zeros(0, dtype=np.int64)
    else:
        particle_ids = event.particles.particle_id
        porder = np.argsort(particle_ids, kind="stable")
        rows = porder[np.searchsorted(particle_ids[porder], majority_particle[matched])]
        n_matched_tracks = np.bincount(rows, minlength=len(particle_ids)).astype(np.int64)

    return TrackMatch(
        majority_particle=majority_particle,
        n_hits=n_hits,
        n_majority=n_majority,
        majority_particle_hits=majority_particle_hits,
        matched=matched,
        majority_weight=majority_weight,
        n_matched_tracks=n_matched_tracks,
    )
