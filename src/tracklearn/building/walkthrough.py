"""Track building by walking from seed hits along the best-scoring outgoing edge.

From every hit the walk continues along its highest-scoring outgoing edge
(inner → outer) above the threshold.  Where walks branch or merge, the score
decides: an edge ``u → v`` is followed when it is the best outgoing edge of ``u``
*and* the best incoming edge of ``v`` among the edges still free (greedy
rounds: a hit whose best edge lost tries its next best).  Every hit then has at most one
successor and one predecessor, so the followed edges form disjoint chains; each
chain, started at its seed (a hit with no followed incoming edge), is a track.

This is the walk from every seed at once, vectorised: the best edge per hit is
one ``lexsort`` instead of a loop over hits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.building.base import labels_to_tracks
from tracklearn.building.components import connected_component_labels
from tracklearn.building.registry import register_track_builder
from tracklearn.edm import Graph, TrackCandidates


def _best_edge_per_node(
    node: npt.NDArray[np.int64], scores: npt.NDArray[np.floating], n_nodes: int
) -> npt.NDArray[np.int64]:
    """Index of the highest-scoring edge at each node (``-1`` if none), shape (N,).

    Ties go to the lower edge index (deterministic).
    """
    best = np.full(n_nodes, -1, dtype=np.int64)
    if len(node) == 0:
        return best
    edges = np.arange(len(node))
    # sort by node, then score descending, then edge index: the first row per node wins
    order = np.lexsort((edges, -scores, node))
    first = np.ones(len(order), dtype=bool)
    first[1:] = node[order][1:] != node[order][:-1]
    best[node[order][first]] = order[first]
    return best


def walkthrough_edges(
    n_nodes: int,
    edge_index: npt.NDArray[np.int64],
    scores: npt.NDArray[np.floating],
    threshold: float,
    max_rounds: int = 8,
) -> npt.NDArray[np.bool_]:
    """Mask of the edges the walk follows, shape (E,).

    Greedy by score: in each round every edge whose two ends are still free
    competes, and the mutual best ones (best outgoing edge of the inner hit and
    best incoming edge of the outer hit) are followed; a hit that lost its best
    edge to a higher-scoring one tries its next best in the following round.

    Parameters
    ----------
    n_nodes
        Number of nodes N.
    edge_index
        (2, E) inner → outer.
    scores
        (E,) edge scores; edges below ``threshold`` are never followed.
    max_rounds
        Rounds of the greedy matching (each round is vectorised).
    """
    mask = np.zeros(edge_index.shape[1], dtype=bool)
    has_out = np.zeros(n_nodes, dtype=bool)
    has_in = np.zeros(n_nodes, dtype=bool)
    cand = np.flatnonzero(scores >= threshold)
    for _ in range(max_rounds):
        # edges whose both ends are still free compete; a mutual best edge is followed
        cand = cand[~has_out[edge_index[0][cand]] & ~has_in[edge_index[1][cand]]]
        if len(cand) == 0:
            break
        src, dst, s = edge_index[0][cand], edge_index[1][cand], scores[cand]
        best_out = _best_edge_per_node(src, s, n_nodes)
        best_in = _best_edge_per_node(dst, s, n_nodes)
        local = np.arange(len(cand))
        follow = (best_out[src] == local) & (best_in[dst] == local)
        if not follow.any():
            break
        mask[cand[follow]] = True
        has_out[src[follow]] = True
        has_in[dst[follow]] = True
    return mask


@register_track_builder("walkthrough")
@dataclass(frozen=True)
class WalkthroughBuilder:
    """Follow the best outgoing edge above ``threshold`` from every seed hit (see module doc)."""

    threshold: float = 0.5
    min_hits: int = 3

    def __call__(
        self,
        graph: Graph,
        scores: npt.NDArray[np.floating],
        n_hits: int,
        layer: npt.NDArray[np.int64] | None = None,
    ) -> TrackCandidates:
        follow = walkthrough_edges(graph.n_nodes, graph.edge_index, scores, self.threshold)
        labels = connected_component_labels(graph.n_nodes, graph.edge_index, follow)
        return labels_to_tracks(graph, labels, n_hits, self.min_hits)
