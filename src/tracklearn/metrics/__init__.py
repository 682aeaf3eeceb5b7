"""Tracking metrics, each defined once (see DESIGN.md, "Definitions")."""

from tracklearn.metrics.matching import TrackMatch, double_majority, match_tracks
from tracklearn.metrics.score import trackml_score
from tracklearn.metrics.targets import TargetSelection, n_layers_per_particle, target_mask

__all__ = [
    "TargetSelection",
    "TrackMatch",
    "double_majority",
    "match_tracks",
    "n_layers_per_particle",
    "target_mask",
    "trackml_score",
]
