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
from pathlib import Path

import numpy as np

from tracklearn.edm import Graph
from tracklearn.errors import DataError

_REQUIRED = ("X", "y", "Ri_rows", "Ri_cols", "Ro_rows", "Ro_cols")


def read_in_npz(path: str | Path) -> Graph:
    """One IN-paper graph as a :class:`Graph` (``hit_index`` all -1: no hits here).

    Edge features are ``Ra`` when present, else none.  Shapes: ``x`` (N, 3),
    ``edge_index`` (2, E) inner → outer, ``edge_attr`` (E, 4), ``y`` (E,).
    """
    path = Path(path)
    try:
        f = np.load(path)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(path, f"not a readable .npz file ({exc})") from None
    with f:
        missing = [k for k in _REQUIRED if k not in f.files]
        if missing:
            raise DataError(path, f"missing arrays {missing}")
        y = f["y"].astype(np.float32)
        n_edges = len(y)
        src = np.full(n_edges, -1, np.int64)
        dst = np.full(n_edges, -1, np.int64)
        src[f["Ro_cols"]] = f["Ro_rows"]  # edge e leaves node src[e] ...
        dst[f["Ri_cols"]] = f["Ri_rows"]  # ... and enters node dst[e]
        if (src < 0).any() or (dst < 0).any():
            raise DataError(path, "incidence arrays do not give every edge two ends")
        x = f["X"].astype(np.float32)
        attr = f["Ra"].T.astype(np.float32) if "Ra" in f.files else None
    m = re.search(r"event(\d+)", path.name)
    return Graph(
        hit_index=np.full(len(x), -1, np.int64),
        x=x,
        edge_index=np.stack([src, dst]),
        edge_attr=attr,
        y=y,
        event_id=int(m.group(1)) if m else 0,
    )
