"""The TrackML score (the challenge's accuracy metric).

Definition (DESIGN.md, "TrackML score"), following the reference implementation in
``trackml-library`` (``trackml/score.py``): every track gets its majority particle
(:mod:`tracklearn.metrics.matching`); the track counts when the double-majority
condition :func:`~tracklearn.metrics.matching.double_majority` holds, i.e. more than
50 % of its hits belong to that particle and it holds more than 50 % of that
particle's hits in the event.  The score is the summed truth ``weight`` of the
majority hits of the counted tracks divided by the total ``weight`` of all hits of
the event, so a perfect submission scores exactly 1.0 even on a subsampled event
whose weights do not sum to 1.  Hits in no track score nothing; an event without
hits or with zero total weight scores 0.0.

Noise hits (``particle_id`` 0) carry weight 0 in TrackML, so a track whose
majority is noise never adds to the score; here such tracks are not counted at all.
"""

from __future__ import annotations

import logging

import numpy as np

from tracklearn.edm import Event, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.metrics.matching import TrackMatch, match_tracks

__all__ = ["has_shared_hits", "one_track_per_hit", "score_from_match", "trackml_score"]

log = logging.getLogger(__name__)


def has_shared_hits(tracks: TrackCandidates) -> bool:
    """Whether some hit is listed in more than one track (or twice in one track)."""
    if len(tracks.hit_index) == 0:
        return False
    return bool(np.bincount(tracks.hit_index, minlength=tracks.n_hits).max() > 1)


def one_track_per_hit(tracks: TrackCandidates) -> TrackCandidates:
    """Tracks where every hit is in at most one track: a shared hit stays in the first.

    This is exactly what the TrackML submission form (one ``track_id`` per hit, see
    :meth:`TrackCandidates.to_labels`) can hold; empty tracks are dropped.
    """
    return TrackCandidates.from_labels(tracks.to_labels())


def score_from_match(event: Event, match: TrackMatch) -> float:
    """TrackML score from a :class:`TrackMatch` of tracks without shared hits.

    The caller guarantees that no hit is in two tracks (see :func:`trackml_score`).
    """
    if event.truth is None:
        raise DataError(event.source, "the TrackML score needs truth")
    total = float(np.sum(event.truth.weight))
    if event.n_hits == 0 or total == 0.0:
        return 0.0
    return float(np.sum(match.majority_weight[match.matched]) / total)


def trackml_score(event: Event, tracks: TrackCandidates) -> float:
    """TrackML score of ``tracks`` on ``event`` (definition in the module docstring).

    The challenge scores one ``track_id`` per hit.  Track candidates may list a hit in
    several tracks; such a hit is scored with the first track that lists it (as when
    the tracks are written in submission form), so the score never exceeds 1.

    Parameters
    ----------
    event
        Event with ``truth``.
    tracks
        Track candidates of ``event``.

    Returns
    -------
    float
        In [0, 1] (dimensionless); truth as submission scores exactly 1.0.
    """
    if has_shared_hits(tracks):
        log.debug("tracks share hits: scoring each shared hit with its first track")
        tracks = one_track_per_hit(tracks)
    return score_from_match(event, match_tracks(event, tracks))
