"""Assemble the :class:`~tracklearn.edm.Graph` of an event from its candidate edges."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, Graph
from tracklearn.graph.features import edge_features, node_features
from tracklearn.metrics.truth import edge_labels


def event_graph(event: Event, edges: npt.NDArray[np.int64]) -> Graph:
    """Graph over all hits of ``event`` with hit-row ``edges`` (2, E), inner → outer.

    Node features :func:`~tracklearn.graph.features.node_features`, edge features
    :func:`~tracklearn.graph.features.edge_features`, and truth labels when the
    event has truth.
    """
    x = node_features(event)
    return Graph(
        hit_index=np.arange(event.n_hits, dtype=np.int64),
        x=x,
        edge_index=edges,
        edge_attr=edge_features(x, edges),
        y=edge_labels(event, edges) if event.truth is not None else None,
        event_id=event.event_id,
    )
