"""The track-builder protocol and the node-labels → TrackCandidates step they share."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Graph, TrackCandidates


class TrackBuilder(Protocol):
    """Scored graph → track candidates.

    Shapes: ``scores`` (E,) in [0, 1], one per edge of ``graph``; ``layer``
    (n_hits,) the detector layer of every hit of the event (:func:`~tracklearn.edm.layer_key`),
    for builders that need it (others ignore it).
    """

    def __call__(
        self,
        graph: Graph,
        scores: npt.NDArray[np.floating],
        n_hits: int,
        layer: npt.NDArray[np.int64] | None = None,
    ) -> TrackCandidates: ...


def labels_to_tracks(
    graph: Graph, node_labels: npt.NDArray[np.int64], n_hits: int, min_hits: int
) -> TrackCandidates:
    """Turn one label per graph node (≥ 0) into tracks over the event's ``n_hits`` hits.

    Nodes with ``hit_index < 0`` (graphs without hits) are ignored; hits not in
    the graph stay unassigned; tracks with fewer than ``min_hits`` hits are dropped.

    Shapes: ``node_labels`` (N,) → tracks over ``n_hits`` rows.
    """
    labels = np.zeros(n_hits, dtype=np.int64)
    ok = graph.hit_index >= 0
    labels[graph.hit_index[ok]] = node_labels[ok] + 1  # from_labels: 0 = unassigned
    return TrackCandidates.from_labels(labels, min_hits=min_hits)
