"""The one place where numpy :class:`~tracklearn.edm.Graph` objects become torch tensors.

Every model in :mod:`tracklearn.models` takes ``(x, edge_index, edge_attr)`` tensors
and returns one logit per edge; training, inference and evaluation go through
:func:`to_data` and :func:`to_numpy` so dtypes and shapes are decided once.  A
graph becomes a :class:`torch_geometric.data.Data`, so graphs batch with
``torch_geometric.loader.DataLoader`` / ``Batch.from_data_list`` and take
transforms (:class:`~tracklearn.models.feature_transform.FeatureTransform`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from torch_geometric.data import Data

from tracklearn.edm import Graph
from tracklearn.errors import DataError


def to_data(graph: Graph) -> Data:
    """Convert ``graph`` (numpy, no copy where dtypes already match) to a torch-geometric graph.

    Shapes: ``x`` (N, F) float32, ``edge_index`` (2, E) int64 (inner → outer),
    ``edge_attr`` (E, D) float32, ``y`` (E,) float32 (only when the graph has labels).

    Raises
    ------
    DataError
        When the graph has no edge features (every model here needs them).
    """
    if graph.edge_attr is None:
        raise DataError(f"graph of event {graph.event_id}", "edge_attr is needed by the models")
    data = Data(
        x=torch.from_numpy(np.ascontiguousarray(graph.x, dtype=np.float32)),
        edge_index=torch.from_numpy(np.ascontiguousarray(graph.edge_index, dtype=np.int64)),
        edge_attr=torch.from_numpy(np.ascontiguousarray(graph.edge_attr, dtype=np.float32)),
    )
    if graph.y is not None:
        data.y = torch.from_numpy(np.ascontiguousarray(graph.y, dtype=np.float32))
    return data


def edge_subset(data: Data, keep: torch.Tensor) -> Data:
    """A new graph with every node of ``data`` and only the edges where ``keep`` is true.

    Shapes: ``keep`` (E,) bool; ``edge_index``, ``edge_attr`` and ``y`` are subset.
    """
    out = Data(x=data.x, edge_index=data.edge_index[:, keep], edge_attr=data.edge_attr[keep])
    if data.y is not None:
        out.y = data.y[keep]
    return out


def to_numpy(t: torch.Tensor) -> npt.NDArray[np.float32]:
    """A detached float32 numpy copy of ``t`` (e.g. edge scores, shape (E,))."""
    out: npt.NDArray[np.float32] = t.detach().cpu().numpy().astype(np.float32, copy=False)
    return out
