"""Read HEP.TrkX sector graphs: node positions in a rotated, rescaled φ sector, no edge features.

The HEP.TrkX graph builder (``heptrkx-gnn-tracking`` ``prepare.py``, also used by
the HepTrkX-quantum graphs in ``shared/data/trackml_graphs/HepTrkX-quantum``; see
its SOURCE.md) cuts an event into ``n_phi`` azimuthal × ``n_eta`` pseudorapidity
sectors and writes one ``.npz`` per sector, ``…_g{2*i_phi + i_eta:03d}.npz`` for
``n_eta = 2``.  A node's features are ``[r / 1 m, (phi - phi_c) / (pi / n_phi),
z / 1 m]`` with the sector centre ``phi_c = -pi + (i_phi + 1/2) * 2 pi / n_phi``;
the arrays are those of :mod:`tracklearn.io.in_npz` without ``Ra`` (and ``pid``).

:func:`read_heptrkx_sector` undoes the sector transform, so the graph it returns
has the global node features ``[r / 1 m, phi / pi, z / 1 m]`` of every other graph
here; it carries no edge features (``edge_attr`` is None: they are computed from
the nodes by the caller, :func:`tracklearn.graph.features.edge_features`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Graph
from tracklearn.errors import DataError
from tracklearn.io.graphs import register_graph_format
from tracklearn.io.in_npz import read_heptrkx_arrays

__all__ = [
    "N_ETA_SECTORS",
    "N_PHI_SECTORS",
    "from_sector",
    "read_heptrkx_sector",
    "sector_center",
    "to_sector",
]

#: azimuthal sectors per event of the HepTrkX-quantum graphs (each pi/4 wide)
N_PHI_SECTORS = 8
#: pseudorapidity sectors per event (eta < 0, eta > 0)
N_ETA_SECTORS = 2
#: a sector-local phi beyond ±(1 + this) is not from a sector of the stated width
_PHI_SLACK = 1e-3
_SECTOR_RE = re.compile(r"_g(\d+)$")


def sector_center(sector: int, n_phi: int = N_PHI_SECTORS, n_eta: int = N_ETA_SECTORS) -> float:
    """Azimuth of the centre of graph ``sector`` (the ``NNN`` of ``_gNNN``) [rad].

    >>> round(sector_center(0) / math.pi, 4), round(sector_center(15) / math.pi, 4)
    (-0.875, 0.875)
    """
    i_phi = sector // n_eta
    return -math.pi + (i_phi + 0.5) * 2.0 * math.pi / n_phi


def _phi_unit(n_phi: int) -> float:
    """The angle that the sector-local phi is measured in: half a sector width [rad]."""
    return math.pi / n_phi


def from_sector(
    x_local: npt.ArrayLike, sector: int, n_phi: int = N_PHI_SECTORS, n_eta: int = N_ETA_SECTORS
) -> npt.NDArray[np.float32]:
    """Sector-local node features → global ``[r / 1 m, phi / pi, z / 1 m]``.

    ``phi`` is wrapped into ``[-pi, pi)``; r and z are unchanged.

    Shapes
    ------
    ``x_local`` ``(N, 3)``; output ``(N, 3)`` float32.
    """
    x = np.array(x_local, dtype=np.float64, ndmin=2)
    phi = x[:, 1] * _phi_unit(n_phi) + sector_center(sector, n_phi, n_eta)  # rad
    # wrap into [-pi, pi) (io sits below geometry, whose wrap_phi it cannot import)
    x[:, 1] = ((phi + math.pi) % (2.0 * math.pi) - math.pi) / math.pi
    return x.astype(np.float32)


def to_sector(
    x_global: npt.ArrayLike, sector: int, n_phi: int = N_PHI_SECTORS, n_eta: int = N_ETA_SECTORS
) -> npt.NDArray[np.float32]:
    """Global ``[r / 1 m, phi / pi, z / 1 m]`` → the sector-local features of ``sector``.

    The inverse of :func:`from_sector` for nodes inside the sector.

    Shapes
    ------
    ``x_global`` ``(N, 3)``; output ``(N, 3)`` float32.
    """
    x = np.array(x_global, dtype=np.float64, ndmin=2)
    dphi = x[:, 1] * math.pi - sector_center(sector, n_phi, n_eta)
    dphi = (dphi + math.pi) % (2.0 * math.pi) - math.pi  # rad, same wrap as above
    x[:, 1] = dphi / _phi_unit(n_phi)
    return x.astype(np.float32)


@register_graph_format("heptrkx-sectors")
def read_heptrkx_sector(
    path: str | Path, n_phi: int = N_PHI_SECTORS, n_eta: int = N_ETA_SECTORS
) -> Graph:
    """One sector graph as a :class:`Graph` in global coordinates (``hit_index`` all -1).

    The sector number comes from the file name (``event000001001_g003.npz`` →
    event 1001, sector 3); a name without ``_gNNN``, a sector beyond
    ``n_phi * n_eta``, or a node whose local phi lies outside the sector raises
    :class:`DataError` naming the file.  An ``Ra`` array, if present, is ignored
    (it would be in sector-local units): use ``--format in-npz`` for global graphs.

    Shapes: ``x`` (N, 3) ``[r / 1 m, phi / pi, z / 1 m]``, ``edge_index`` (2, E)
    inner → outer, ``edge_attr`` None, ``y`` (E,).
    """
    path = Path(path)
    m = _SECTOR_RE.search(path.name.removesuffix(".npz"))
    if m is None:
        raise DataError(path, "file name has no sector number (expected …_gNNN.npz)")
    sector = int(m.group(1))
    if sector >= n_phi * n_eta:
        raise DataError(path, f"sector {sector} beyond the {n_phi} x {n_eta} sectors of the format")
    a = read_heptrkx_arrays(path)
    if len(a.x) and float(np.abs(a.x[:, 1]).max()) > 1.0 + _PHI_SLACK:
        raise DataError(
            path,
            f"node phi reaches {float(np.abs(a.x[:, 1]).max()):.3g} sector half-widths: not a "
            "sector-local graph (global graphs: --format in-npz)",
        )
    return Graph(
        hit_index=np.full(len(a.x), -1, np.int64),
        x=from_sector(a.x, sector, n_phi, n_eta).reshape(len(a.x), 3),
        edge_index=a.edge_index,
        edge_attr=None,
        y=a.y,
        event_id=a.event_id,
    )
