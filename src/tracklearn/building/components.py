"""Track building by connected components of the kept edges (scipy.sparse.csgraph)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tracklearn.building.base import labels_to_tracks
from tracklearn.building.registry import register_track_builder
from tracklearn.edm import Graph, TrackCandidates


def connected_component_labels(
    n_nodes: int, edge_index: npt.NDArray[np.int64], keep: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """Component number of every node using only the edges where ``keep`` is true.

    Shapes: ``edge_index`` (2, E), ``keep`` (E,) → (N,); isolated nodes get their
    own component.

    >>> ei = np.array([[0, 1, 3], [1, 2, 4]])
    >>> connected_component_labels(6, ei, np.array([True, True, False])).tolist()
    [0, 0, 0, 1, 2, 3]
    """
    src, dst = edge_index[0][keep], edge_index[1][keep]
    adj = sp.coo_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(adj.tocsr(), directed=False)
    return labels.astype(np.int64)


@register_track_builder("components")
@dataclass(frozen=True)
class ComponentsBuilder:
    """Keep edges with score ≥ ``threshold``; every connected component is a track.

    Fast and exact when the classifier is clean, but one wrong edge merges two
    tracks; see :class:`~tracklearn.building.WalkthroughBuilder`.
    """

    threshold: float = 0.5
    min_hits: int = 3

    def __call__(
        self,
        graph: Graph,
        scores: npt.NDArray[np.floating],
        n_hits: int,
        layer: npt.NDArray[np.int64] | None = None,
    ) -> TrackCandidates:
        labels = connected_component_labels(
            graph.n_nodes, graph.edge_index, scores >= self.threshold
        )
        return labels_to_tracks(graph, labels, n_hits, self.min_hits)
