"""Node and edge features of hit graphs, with the Interaction-Network paper scaling.

The scaling is exactly the one of the HEP.TrkX / Interaction-Network (IN) graphs
in ``shared/data/trackml_graphs/interaction_network_paper`` (see its SOURCE.md),
so that an edge classifier trained on our graphs can be applied to theirs:

* node features ``[r / 1 m, phi / pi, z / 1 m]``;
* edge features ``[dr / 1 m, dphi / pi, dz / 1 m, dR]``, every difference taken
  as outer (``edge_index[1]``) minus inner (``edge_index[0]``), ``dphi`` wrapped to
  ``[-pi, pi]`` and ``dR = sqrt(deta**2 + dphi**2)`` with ``dphi`` in **radians**
  and ``eta = asinh(z / r)``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tracklearn import units as u
from tracklearn.edm import Event
from tracklearn.geometry.coords import wrap_phi

__all__ = [
    "EDGE_FEATURES",
    "NODE_FEATURES",
    "PHI_SCALE",
    "R_SCALE",
    "Z_SCALE",
    "edge_features",
    "node_features",
    "node_features_from",
    "wrap_phi",
]

#: length that the node r is divided by (the IN paper uses metres)
R_SCALE: float = 1.0 * u.m
#: length that the node z is divided by
Z_SCALE: float = 1.0 * u.m
#: angle that phi is divided by (so phi lies in [-1, 1])
PHI_SCALE: float = math.pi * u.rad

NODE_FEATURES: tuple[str, ...] = ("r/m", "phi/pi", "z/m")
EDGE_FEATURES: tuple[str, ...] = ("dr/m", "dphi/pi", "dz/m", "dR")


def node_features_from(
    r: npt.ArrayLike, phi: npt.ArrayLike, z: npt.ArrayLike
) -> npt.NDArray[np.float32]:
    """Scaled node features from cylindrical coordinates.

    Parameters
    ----------
    r, phi, z
        Transverse radius [mm], azimuth [rad] and z [mm].

    Returns
    -------
    numpy.ndarray
        float32 ``[r / 1 m, phi / pi, z / 1 m]``.

    Shapes
    ------
    inputs ``(N,)``; output ``(N, 3)``.
    """
    cols = (
        np.asarray(r, dtype=np.float64) / R_SCALE,
        np.asarray(phi, dtype=np.float64) / PHI_SCALE,
        np.asarray(z, dtype=np.float64) / Z_SCALE,
    )
    return np.stack(cols, axis=1).astype(np.float32)


def node_features(event: Event) -> npt.NDArray[np.float32]:
    """IN-paper node features ``[r / 1 m, phi / pi, z / 1 m]`` of every hit.

    Shapes
    ------
    output ``(N, 3)`` float32 with ``N = event.n_hits``, row ``i`` for hit row ``i``.
    """
    h = event.hits
    return node_features_from(h.r, h.phi, h.z)


def edge_features(
    x: npt.NDArray[np.floating], edge_index: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """IN-paper edge features ``[dr, dphi, dz, dR]`` from node features.

    Parameters
    ----------
    x
        Node features whose first three columns are ``[r / 1 m, phi / pi, z / 1 m]``
        (as made by :func:`node_features`).
    edge_index
        Inner node (row 0) and outer node (row 1) of each edge.

    Returns
    -------
    numpy.ndarray
        float32 columns ``dr`` [m], ``dphi`` [units of pi, wrapped to [-1, 1)],
        ``dz`` [m] and ``dR = sqrt(deta**2 + dphi_rad**2)`` (dimensionless), each
        difference outer minus inner.

    Shapes
    ------
    ``x`` ``(N, F>=3)``, ``edge_index`` ``(2, E)``; output ``(E, 4)``.
    """
    xs = np.asarray(x, dtype=np.float64)
    src, dst = edge_index[0], edge_index[1]
    r = xs[:, 0] * R_SCALE
    phi = xs[:, 1] * PHI_SCALE
    z = xs[:, 2] * Z_SCALE
    dr = r[dst] - r[src]
    dphi = wrap_phi(phi[dst] - phi[src])
    dz = z[dst] - z[src]
    # eta depends on z / r only, so the scaling of x does not matter here
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(np.where(r > 0, z / np.where(r > 0, r, 1.0), 0.0))
    deta = eta[dst] - eta[src]
    d_r = np.sqrt(deta**2 + dphi**2)
    out = np.stack([dr / R_SCALE, dphi / PHI_SCALE, dz / Z_SCALE, d_r], axis=1)
    return out.astype(np.float32).reshape(len(src), 4)
