"""The one place where numpy :class:`~tracklearn.edm.Graph` objects become torch tensors.

Every model in :mod:`tracklearn.models` takes ``(x, edge_index, edge_attr)`` tensors
and returns one logit per edge; training, inference and evaluation go through
:func:`to_tensors` and :func:`to_numpy` so dtypes and shapes are decided once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from tracklearn.edm import Graph
from tracklearn.errors import DataError


@dataclass(frozen=True)
class GraphTensors:
    """Torch view of a :class:`Graph`.

    Shapes: ``x`` (N, F) float32, ``edge_index`` (2, E) int64 (inner → outer),
    ``edge_attr`` (E, D) float32, ``y`` (E,) float32 or None.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    y: torch.Tensor | None

    @property
    def n_edges(self) -> int:
        return int(self.edge_index.shape[1])

    def subset_edges(self, keep: torch.Tensor) -> GraphTensors:
        """A new view with only the edges where ``keep`` (bool, shape (E,)) is true."""
        return GraphTensors(
            self.x,
            self.edge_index[:, keep],
            self.edge_attr[keep],
            None if self.y is None else self.y[keep],
        )


def to_tensors(graph: Graph) -> GraphTensors:
    """Convert ``graph`` (numpy, no copy where dtypes already match) to torch tensors.

    Raises
    ------
    DataError
        When the graph has no edge features (every model here needs them).
    """
    if graph.edge_attr is None:
        raise DataError(f"graph of event {graph.event_id}", "edge_attr is needed by the models")
    return GraphTensors(
        x=torch.from_numpy(np.ascontiguousarray(graph.x, dtype=np.float32)),
        edge_index=torch.from_numpy(np.ascontiguousarray(graph.edge_index, dtype=np.int64)),
        edge_attr=torch.from_numpy(np.ascontiguousarray(graph.edge_attr, dtype=np.float32)),
        y=None
        if graph.y is None
        else torch.from_numpy(np.ascontiguousarray(graph.y, dtype=np.float32)),
    )


def to_numpy(t: torch.Tensor) -> npt.NDArray[np.float32]:
    """A detached float32 numpy copy of ``t`` (e.g. edge scores, shape (E,))."""
    out: npt.NDArray[np.float32] = t.detach().cpu().numpy().astype(np.float32, copy=False)
    return out
