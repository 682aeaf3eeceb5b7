"""Hit graphs: nodes are hits, edges are candidate segments between two hits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.errors import DataError


@dataclass(frozen=True, eq=False)
class Graph:
    """A hit graph of one event (numpy; torch conversion lives in the model adapters).

    Edge direction is fixed once for the whole project: ``edge_index[0]`` is the
    inner hit (closer to the interaction point), ``edge_index[1]`` the outer hit.

    Attributes
    ----------
    hit_index : int64, shape (N,)
        Row of each node in the event's hits (``-1`` for graphs read from
        elsewhere without hits).
    x : float32, shape (N, F)
        Node features (scaled; the builder documents its features).
    edge_index : int64, shape (2, E)
        Node indices of each edge, inner → outer.
    edge_attr : float32, shape (E, D) or None
        Edge features.
    y : float32, shape (E,) or None
        Truth: 1 for an edge between consecutive hits of one particle.
    event_id : int
    """

    hit_index: npt.NDArray[np.int64]
    x: npt.NDArray[np.float32]
    edge_index: npt.NDArray[np.int64]
    edge_attr: npt.NDArray[np.float32] | None = None
    y: npt.NDArray[np.float32] | None = None
    event_id: int = 0

    def __post_init__(self) -> None:
        src = f"graph of event {self.event_id}"
        n = len(self.hit_index)
        if self.x.ndim != 2 or self.x.shape[0] != n:
            raise DataError(src, f"x must be ({n}, F), got {self.x.shape}")
        if self.edge_index.ndim != 2 or self.edge_index.shape[0] != 2:
            raise DataError(src, f"edge_index must be (2, E), got {self.edge_index.shape}")
        e = self.edge_index.shape[1]
        if e and (self.edge_index.min() < 0 or self.edge_index.max() >= n):
            raise DataError(src, "edge_index refers to nodes outside [0, N)")
        if self.edge_attr is not None and self.edge_attr.shape[0] != e:
            raise DataError(src, f"edge_attr must have {e} rows, got {self.edge_attr.shape[0]}")
        if self.y is not None and self.y.shape != (e,):
            raise DataError(src, f"y must be ({e},), got {self.y.shape}")
        if not np.all(np.isfinite(self.x)):
            raise DataError(src, "x has NaN or infinite values")

    @property
    def n_nodes(self) -> int:
        return len(self.hit_index)

    @property
    def n_edges(self) -> int:
        return int(self.edge_index.shape[1])
