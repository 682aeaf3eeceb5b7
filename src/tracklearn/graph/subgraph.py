"""Edge subgraphs: keep some edges of a graph and only the nodes they touch."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Graph

__all__ = ["EdgeScorer", "edge_subgraph", "filter_edges"]


class EdgeScorer(Protocol):
    """A network that scores edges with a cut (the edge filter, its ONNX twin)."""

    threshold: float

    def scores(self, graph: Graph) -> npt.NDArray[np.float32]: ...


def edge_subgraph(graph: Graph, keep: npt.NDArray[np.bool_]) -> Graph:
    """A new graph with the edges where ``keep`` is true and the nodes they touch.

    Node order is preserved; ``hit_index`` still maps nodes to event hits.
    Shapes: ``keep`` (E,) → a graph with ``keep.sum()`` edges.

    >>> g = Graph(np.arange(4), np.zeros((4, 1), np.float32), np.array([[0, 2], [1, 3]]))
    >>> sub = edge_subgraph(g, np.array([False, True]))
    >>> sub.hit_index.tolist(), sub.edge_index.tolist()
    ([2, 3], [[0], [1]])
    """
    ei = graph.edge_index[:, keep]
    nodes, inverse = np.unique(ei, return_inverse=True)
    return Graph(
        hit_index=graph.hit_index[nodes],
        x=graph.x[nodes],
        edge_index=inverse.reshape(2, -1).astype(np.int64),
        edge_attr=None if graph.edge_attr is None else graph.edge_attr[keep],
        y=None if graph.y is None else graph.y[keep],
        event_id=graph.event_id,
    )


def filter_edges(graph: Graph, scorer: EdgeScorer) -> Graph:
    """The edges ``scorer`` keeps (score ≥ its threshold): the filter stage of the gnn chain,
    written once for inference, training, export and the benchmarks."""
    if graph.n_edges == 0:
        return graph
    return edge_subgraph(graph, scorer.scores(graph) >= scorer.threshold)
