"""Read the hit graphs of the Interaction-Network paper (``.npz``, HEP.TrkX format).

Format (see ``shared/data/trackml_graphs/SOURCE.md``): ``X`` (N, 3) node features
``[r/1 m, phi/pi, z/1 m]``, ``Ra`` (4, E) edge features ``[dr/1 m, dphi/pi,
dz/1 m, dR]``, the incidence matrices as ``Ro_rows/Ro_cols`` (source = inner hit)
and ``Ri_rows/Ri_cols`` (target = outer hit), and labels ``y`` (E,).  The
``*_cols`` arrays are edge numbers, *not* in order, so they are scattered.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Graph
from tracklearn.errors import DataError
from tracklearn.io.graphs import register_graph_format

_REQUIRED = ("X", "y", "Ri_rows", "Ri_cols", "Ro_rows", "Ro_cols")


@dataclass(frozen=True)
class HeptrkxArrays:
    """The arrays every HEP.TrkX-layout graph file holds, edges already scattered.

    Shapes: ``x`` (N, 3) float32 as stored, ``edge_index`` (2, E) int64 (inner →
    outer), ``y`` (E,) float32, ``ra`` (E, 4) float32 or None (``Ra`` transposed).
    """

    x: npt.NDArray[np.float32]
    edge_index: npt.NDArray[np.int64]
    y: npt.NDArray[np.float32]
    ra: npt.NDArray[np.float32] | None
    event_id: int


def read_heptrkx_arrays(path: str | Path) -> HeptrkxArrays:
    """Open a HEP.TrkX-layout ``.npz`` graph and check its arrays.

    Every problem (unreadable or truncated file, missing array, wrong shape,
    incidence that does not give every edge two ends, node index out of range)
    raises :class:`DataError` naming the file.
    """
    path = Path(path)
    try:
        f = np.load(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(path, f"not a readable .npz file ({exc})") from None
    try:
        with f:
            missing = [k for k in _REQUIRED if k not in f.files]
            if missing:
                raise DataError(path, f"missing arrays {missing}")
            arrays = {k: f[k] for k in (*_REQUIRED, *(["Ra"] if "Ra" in f.files else []))}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(path, f"truncated or corrupt .npz file ({exc})") from None
    x, y = arrays["X"], arrays["y"]
    if x.ndim != 2 or x.shape[1] != 3:
        raise DataError(path, f"X must have shape (N, 3), got {x.shape}")
    n_edges = len(y)
    for k in _REQUIRED[2:]:
        if arrays[k].shape != (n_edges,):
            raise DataError(path, f"{k} must have shape ({n_edges},) like y, got {arrays[k].shape}")
        if n_edges and (
            arrays[k].min() < 0 or arrays[k].max() >= (len(x) if "rows" in k else n_edges)
        ):
            raise DataError(path, f"{k} holds indices out of range")
    src = np.full(n_edges, -1, np.int64)
    dst = np.full(n_edges, -1, np.int64)
    src[arrays["Ro_cols"]] = arrays["Ro_rows"]  # edge e leaves node src[e] ...
    dst[arrays["Ri_cols"]] = arrays["Ri_rows"]  # ... and enters node dst[e]
    if (src < 0).any() or (dst < 0).any():
        raise DataError(path, "incidence arrays do not give every edge two ends")
    ra = arrays.get("Ra")
    if ra is not None and ra.shape != (4, n_edges):
        raise DataError(path, f"Ra must have shape (4, {n_edges}), got {ra.shape}")
    if not np.all(np.isfinite(x)):
        raise DataError(path, "X has NaN or infinite values")
    m = re.search(r"event(\d+)", path.name)
    return HeptrkxArrays(
        x=x.astype(np.float32),
        edge_index=np.stack([src, dst]),
        y=y.astype(np.float32),
        ra=None if ra is None else ra.T.astype(np.float32),
        event_id=int(m.group(1)) if m else 0,
    )


@register_graph_format("in-npz")
def read_in_npz(path: str | Path) -> Graph:
    """One IN-paper graph as a :class:`Graph` (``hit_index`` all -1: no hits here).

    Edge features are ``Ra`` when present, else none.  Shapes: ``x`` (N, 3),
    ``edge_index`` (2, E) inner → outer, ``edge_attr`` (E, 4), ``y`` (E,).
    """
    a = read_heptrkx_arrays(path)
    return Graph(
        hit_index=np.full(len(a.x), -1, np.int64),
        x=a.x,
        edge_index=a.edge_index,
        edge_attr=a.ra,
        y=a.y,
        event_id=a.event_id,
    )
