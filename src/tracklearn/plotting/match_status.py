"""Match status of every track and hit, as an event display draws them.

The statuses come from the metrics' own double-majority matching
(:func:`tracklearn.metrics.match_tracks`) and target selection
(:func:`tracklearn.metrics.target_mask`); nothing is re-defined here, so the
counts agree with ``metrics.json`` of the same event:

- **matched**: a matched track, one per matched particle (the one with most hits of
  the particle; ties to the first track);
- **duplicate**: the other matched tracks of that particle (``n_duplicate``);
- **fake**: a track of at least ``MIN_TRACK_HITS`` (5) hits matched to no particle
  (``n_fake``);
- **short**: a track of fewer hits matched to no particle (not counted as a fake);
- **missed**: a target particle that no track is matched to; its hits are drawn
  (they may also be drawn as part of a fake or short track);
- **other**: hits in no track and not of a missed particle (noise, particles that are
  not targets, unassigned hits of found particles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackCandidates
from tracklearn.metrics import MIN_TRACK_HITS, TargetSelection, match_tracks, target_mask

__all__ = ["STATUSES", "TRACK_STATUSES", "MatchStatus", "StatusCount", "match_status"]

#: statuses a track can have, in the order of :attr:`MatchStatus.track_status` codes
TRACK_STATUSES: tuple[str, ...] = ("matched", "duplicate", "fake", "short")
#: every status drawn, tracks first, then missed particles and the other hits
STATUSES: tuple[str, ...] = (*TRACK_STATUSES, "missed", "other")


@dataclass(frozen=True)
class StatusCount:
    """What one status holds.

    Attributes
    ----------
    n : int
        Tracks (matched, duplicate, fake, short), target particles (missed) or hits
        (other).
    n_hits : int
        Hits drawn with this status; a hit listed in several tracks counts in each.
    """

    n: int
    n_hits: int


@dataclass(frozen=True, eq=False)
class MatchStatus:
    """Result of :func:`match_status` (definitions in the module docstring).

    Attributes
    ----------
    track_status : int8, shape (T,)
        Index into :data:`TRACK_STATUSES` per track.
    track_particle : int64, shape (T,)
        Majority ``particle_id`` of each track (0: noise or an empty track).
    missed_particles : int64, shape (M,)
        ``particle_id`` of the missed target particles, increasing.
    missed_hits : bool, shape (N,)
        Hits of the missed particles.
    other_hits : bool, shape (N,)
        Hits in no track and not of a missed particle.
    track_lengths : int64, shape (T,)
        Hits per track.
    """

    track_status: npt.NDArray[np.int8]
    track_particle: npt.NDArray[np.int64]
    missed_particles: npt.NDArray[np.int64]
    missed_hits: npt.NDArray[np.bool_]
    other_hits: npt.NDArray[np.bool_]
    track_lengths: npt.NDArray[np.int64]

    def counts(self) -> dict[str, StatusCount]:
        """:class:`StatusCount` per status, keys :data:`STATUSES` in order."""
        out = {}
        for code, name in enumerate(TRACK_STATUSES):
            mine = self.track_status == code
            out[name] = StatusCount(
                int(np.count_nonzero(mine)), int(self.track_lengths[mine].sum())
            )
        out["missed"] = StatusCount(
            len(self.missed_particles), int(np.count_nonzero(self.missed_hits))
        )
        n_other = int(np.count_nonzero(self.other_hits))
        out["other"] = StatusCount(n_other, n_other)
        return out


def match_status(
    event: Event, tracks: TrackCandidates, targets: TargetSelection | None = None
) -> MatchStatus:
    """Classify the tracks and hits of ``event`` by match status.

    Parameters
    ----------
    event
        Event with ``truth`` and ``particles``.
    tracks
        Track candidates of ``event``.
    targets
        Target-particle cuts for the missed particles; ``TargetSelection()`` when None.

    Shapes
    ------
    T = ``tracks.n_tracks``, N = ``event.n_hits``.
    """
    match = match_tracks(event, tracks)
    assert event.truth is not None and event.particles is not None  # match/targets checked
    is_target = target_mask(event, targets)
    n_tracks = tracks.n_tracks

    # The matched track a particle keeps: most hits of the particle, then the lowest
    # track number; lexsort's last key is the primary one.
    matched = np.flatnonzero(match.matched)
    order = matched[
        np.lexsort((matched, -match.n_majority[matched], match.majority_particle[matched]))
    ]
    first = np.ones(len(order), dtype=bool)
    part = match.majority_particle[order]
    first[1:] = part[1:] != part[:-1]

    status = np.full(n_tracks, TRACK_STATUSES.index("short"), dtype=np.int8)
    status[match.n_hits >= MIN_TRACK_HITS] = TRACK_STATUSES.index("fake")
    status[order[~first]] = TRACK_STATUSES.index("duplicate")
    status[order[first]] = TRACK_STATUSES.index("matched")

    missed = np.sort(event.particles.particle_id[is_target & (match.n_matched_tracks == 0)])
    missed_hits = np.isin(event.truth.particle_id, missed)
    in_track = np.bincount(tracks.hit_index, minlength=event.n_hits) > 0
    return MatchStatus(
        track_status=status,
        track_particle=match.majority_particle.copy(),
        missed_particles=missed.astype(np.int64),
        missed_hits=missed_hits,
        other_hits=~in_track & ~missed_hits,
        track_lengths=tracks.lengths.astype(np.int64),
    )
