"""Truth for hit graphs: defined in :mod:`tracklearn.metrics.truth` (re-exported here).

They live in ``metrics`` so that the edge metrics need not import ``graph``.
"""

from tracklearn.metrics.truth import edge_labels, true_segments

__all__ = ["edge_labels", "true_segments"]
