"""Per-event tracking metrics: TrackML score, efficiency, fake and duplicate rates.

Definitions (DESIGN.md, "Definitions"), each computed once in :func:`evaluate_event`:

- **efficiency** = matched target particles / target particles, where a target
  particle (:mod:`tracklearn.metrics.targets`) is matched when at least one track is
  double-majority matched to it (:mod:`tracklearn.metrics.matching`);
- **fake rate** = tracks with at least ``min_track_hits`` (5) hits that are matched
  to no particle / tracks with at least ``min_track_hits`` hits;
- **duplicate rate** = extra tracks matched to an already matched particle (for a
  particle with ``k >= 1`` matched tracks, ``k - 1`` of them) / matched tracks.
  With disjoint tracks double majority allows at most one track per particle (each
  needs more than half of the particle's hits), so duplicates appear only when
  tracks share hits;
- **TrackML score**: :func:`tracklearn.metrics.score.trackml_score`.

A ratio whose denominator is 0 is reported as 0.0 (so ``metrics.json`` never holds
NaN); :func:`aggregate` recomputes ratios from summed counts, so such events do not
bias the totals.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tracklearn.edm import Event, TrackCandidates
from tracklearn.metrics.matching import match_tracks
from tracklearn.metrics.score import has_shared_hits, score_from_match, trackml_score
from tracklearn.metrics.targets import TargetSelection, target_mask

__all__ = ["MIN_TRACK_HITS", "TrackingMetrics", "aggregate", "evaluate_event"]

log = logging.getLogger(__name__)

#: Tracks shorter than this are not counted as fakes (nor in the fake-rate denominator).
MIN_TRACK_HITS: int = 5


def _ratio(num: int, den: int) -> float:
    return num / den if den > 0 else 0.0


#: The per-event keys of ``metrics.json`` defined in DESIGN.md (``evaluate`` adds
#: ``time_s`` and ``peak_rss_mb`` when timing files exist).
DESIGN_KEYS: tuple[str, ...] = (
    "trackml_score",
    "efficiency",
    "fake_rate",
    "duplicate_rate",
    "n_particles_target",
    "n_tracks",
    "n_tracks_matched",
)


@dataclass(frozen=True)
class TrackingMetrics:
    """Tracking performance of one event, or of many after :func:`aggregate`.

    Attributes
    ----------
    trackml_score : float
        TrackML score (:func:`~tracklearn.metrics.score.trackml_score`); after
        :func:`aggregate`, the unweighted mean over events.
    efficiency : float
        ``n_particles_matched / n_particles_target`` (0.0 when there are no targets).
    fake_rate : float
        ``n_fake / n_tracks_min_hits`` (0.0 when there are no such tracks).
    duplicate_rate : float
        ``n_duplicate / n_tracks_matched`` (0.0 when no track is matched).
    n_particles_target : int
        Target particles (:func:`~tracklearn.metrics.targets.target_mask`).
    n_tracks : int
        All track candidates, whatever their length.
    n_tracks_matched : int
        Tracks double-majority matched to a particle (target or not).
    n_particles_matched : int
        Target particles with at least one matched track.
    n_tracks_min_hits : int
        Tracks with at least ``MIN_TRACK_HITS`` (5) hits, noise hits included.
    n_fake : int
        Tracks with at least ``MIN_TRACK_HITS`` hits that are matched to no particle.
    n_duplicate : int
        Sum over particles of ``max(k - 1, 0)``, ``k`` = matched tracks of the particle.
    n_events : int
        Events summarised (1 for :func:`evaluate_event`).
    """

    trackml_score: float
    efficiency: float
    fake_rate: float
    duplicate_rate: float
    n_particles_target: int
    n_tracks: int
    n_tracks_matched: int
    n_particles_matched: int
    n_tracks_min_hits: int
    n_fake: int
    n_duplicate: int
    n_events: int = 1

    @classmethod
    def from_counts(
        cls,
        *,
        trackml_score: float,
        n_particles_target: int,
        n_tracks: int,
        n_tracks_matched: int,
        n_particles_matched: int,
        n_tracks_min_hits: int,
        n_fake: int,
        n_duplicate: int,
        n_events: int = 1,
    ) -> TrackingMetrics:
        """Build from counts; the rates are derived here and nowhere else."""
        return cls(
            trackml_score=float(trackml_score),
            efficiency=_ratio(n_particles_matched, n_particles_target),
            fake_rate=_ratio(n_fake, n_tracks_min_hits),
            duplicate_rate=_ratio(n_duplicate, n_tracks_matched),
            n_particles_target=int(n_particles_target),
            n_tracks=int(n_tracks),
            n_tracks_matched=int(n_tracks_matched),
            n_particles_matched=int(n_particles_matched),
            n_tracks_min_hits=int(n_tracks_min_hits),
            n_fake=int(n_fake),
            n_duplicate=int(n_duplicate),
            n_events=int(n_events),
        )

    def to_dict(self) -> dict[str, float | int]:
        """The ``metrics.json`` keys of DESIGN.md followed by the aggregation counts."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def evaluate_event(
    event: Event,
    tracks: TrackCandidates,
    targets: TargetSelection | None = None,
) -> TrackingMetrics:
    """Measure ``tracks`` against the truth of ``event``.

    Parameters
    ----------
    event
        Event with ``truth`` and ``particles``.
    tracks
        Track candidates of ``event``; a hit may be in several tracks.
    targets
        Target-particle cuts; ``TargetSelection()`` when None.

    Returns
    -------
    TrackingMetrics
        Definitions in the module docstring and on each field.
    """
    targets = TargetSelection() if targets is None else targets
    match = match_tracks(event, tracks)
    # The score needs one track per hit; reuse the match when that already holds.
    score = (
        trackml_score(event, tracks) if has_shared_hits(tracks) else score_from_match(event, match)
    )
    is_target = target_mask(event, targets)
    long_enough = match.n_hits >= MIN_TRACK_HITS
    n_tracks_matched = int(np.count_nonzero(match.matched))
    # Matched tracks minus distinct matched particles = the extra (duplicate) tracks.
    n_particles_with_match = len(np.unique(match.majority_particle[match.matched]))
    metrics = TrackingMetrics.from_counts(
        trackml_score=score,
        n_particles_target=int(np.count_nonzero(is_target)),
        n_tracks=tracks.n_tracks,
        n_tracks_matched=n_tracks_matched,
        n_particles_matched=int(np.count_nonzero(is_target & (match.n_matched_tracks > 0))),
        n_tracks_min_hits=int(np.count_nonzero(long_enough)),
        n_fake=int(np.count_nonzero(long_enough & ~match.matched)),
        n_duplicate=n_tracks_matched - n_particles_with_match,
    )
    log.debug("event %d: %s", event.event_id, metrics)
    return metrics


def aggregate(metrics: Sequence[TrackingMetrics]) -> TrackingMetrics:
    """Combine per-event metrics: counts are summed and rates recomputed from the sums.

    ``trackml_score`` is the mean over events, weighted by each entry's ``n_events``
    (so aggregating aggregates gives the same mean).  An empty sequence gives zeros.
    """
    n_events = sum(m.n_events for m in metrics)
    score = sum(m.trackml_score * m.n_events for m in metrics) / n_events if n_events else 0.0
    counts = {
        name: sum(getattr(m, name) for m in metrics)
        for name in (
            "n_particles_target",
            "n_tracks",
            "n_tracks_matched",
            "n_particles_matched",
            "n_tracks_min_hits",
            "n_fake",
            "n_duplicate",
        )
    }
    return TrackingMetrics.from_counts(trackml_score=score, n_events=n_events, **counts)
