"""Tracking metrics, each defined once (see DESIGN.md, "Definitions")."""

from tracklearn.metrics.matching import TrackMatch, double_majority, match_tracks
from tracklearn.metrics.rates import MIN_TRACK_HITS, TrackingMetrics, aggregate, evaluate_event
from tracklearn.metrics.score import trackml_score
from tracklearn.metrics.targets import TargetSelection, n_layers_per_particle, target_mask

__all__ = [
    "MIN_TRACK_HITS",
    "TargetSelection",
    "TrackMatch",
    "TrackingMetrics",
    "aggregate",
    "double_majority",
    "evaluate_event",
    "match_tracks",
    "n_layers_per_particle",
    "target_mask",
    "trackml_score",
]
