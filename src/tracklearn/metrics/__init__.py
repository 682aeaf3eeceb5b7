"""Tracking metrics, each defined once (see DESIGN.md, "Definitions").

- :func:`trackml_score` -- the TrackML challenge score;
- :func:`match_tracks` -- double-majority matching of tracks to particles;
- :func:`evaluate_event` / :func:`aggregate` -- efficiency, fake and duplicate rates;
- :func:`efficiency_curve` / :func:`particle_table` -- binned efficiencies;
- :func:`bucket_metrics` -- bucket efficiency, fake rate and sizes of hashing buckets;
- :func:`throughput_score` -- the TrackML throughput-phase score;
- :func:`track_residuals` / :func:`resolution_summary` -- fitted-parameter resolution and pulls.
"""

from tracklearn.metrics.buckets import (
    MIN_BUCKET_HITS,
    BucketMetrics,
    bucket_metrics,
    particle_bucket_found,
    sum_bucket_metrics,
)
from tracklearn.metrics.curves import (
    EfficiencyCurve,
    ParticleTable,
    clopper_pearson,
    efficiency_curve,
    particle_table,
)
from tracklearn.metrics.matching import TrackMatch, double_majority, match_tracks
from tracklearn.metrics.rates import (
    DESIGN_KEYS,
    MIN_TRACK_HITS,
    TrackingMetrics,
    aggregate,
    evaluate_event,
)
from tracklearn.metrics.resolution import (
    Residuals,
    central_half_width,
    resolution_summary,
    track_residuals,
)
from tracklearn.metrics.score import trackml_score
from tracklearn.metrics.targets import TargetSelection, n_layers_per_particle, target_mask
from tracklearn.metrics.throughput import throughput_score

__all__ = [
    "DESIGN_KEYS",
    "MIN_BUCKET_HITS",
    "MIN_TRACK_HITS",
    "BucketMetrics",
    "EfficiencyCurve",
    "ParticleTable",
    "Residuals",
    "TargetSelection",
    "TrackMatch",
    "TrackingMetrics",
    "aggregate",
    "bucket_metrics",
    "central_half_width",
    "clopper_pearson",
    "double_majority",
    "efficiency_curve",
    "evaluate_event",
    "match_tracks",
    "n_layers_per_particle",
    "particle_bucket_found",
    "particle_table",
    "resolution_summary",
    "sum_bucket_metrics",
    "target_mask",
    "throughput_score",
    "track_residuals",
    "trackml_score",
]
