"""Perigee parameters of a helix given by a point and a momentum (uniform Bz).

The perigee convention is that of :mod:`tracklearn.edm.track_parameters`:
``(d0 [mm], z0 [mm], φ [rad], θ [rad], q/p [e/GeV])`` at the point of closest
approach (PCA) to the beam line in the transverse plane, with
``d0 = -x_PCA sin φ + y_PCA cos φ``.

The helix is the one of :mod:`tracklearn.geometry.helix`: circle centre
``c = (vx - h R sin φ0, vy + h R cos φ0)``, ``h = -sign(q Bz)``.  The PCA is the
point of the circle on the line from ``c`` towards the origin, ``c - R ĉ``.  The
position angle about ``c`` turns by ``h α`` for a turning angle ``α``, so the
(signed, shortest) turning angle from the start to the PCA is
``α = h · wrap(β_PCA - β_start)``; the start may lie before or after the PCA.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.geometry.coords import wrap_phi
from tracklearn.typing import FloatArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM


def perigee_from_point(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    z: npt.ArrayLike,
    px: npt.ArrayLike,
    py: npt.ArrayLike,
    pz: npt.ArrayLike,
    q: npt.ArrayLike,
    bz: npt.ArrayLike,
) -> FloatArray:
    """Perigee of the helix through ``(x, y, z)`` [mm] with momentum ``p`` [GeV].

    Exact for a uniform field ``bz`` [T] along z (use the field near the
    start: for particles from the collision region the arc to the PCA is a
    few mm).  Neutral particles (``q == 0``) get NaN.

    Shapes: all inputs broadcast to (P,); returns (P, 5).

    >>> perigee_from_point(0.0, 0.1, 5.0, 1.0, 0.0, 0.0, 1, 2.0).round(9).tolist()
    [[0.1, 5.0, 0.0, 1.570796327, 1.0]]
    """
    x, y, z, px, py, pz, q, bz = (
        np.atleast_1d(np.asarray(a, dtype=np.float64))
        for a in np.broadcast_arrays(x, y, z, px, py, pz, q, bz)
    )
    pt = np.hypot(px, py)
    p = np.sqrt(pt * pt + pz * pz)
    phi0 = np.arctan2(py, px)
    theta = np.arctan2(pt, pz)
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = pt / (C_LIGHT_GEV_PER_T_MM * np.abs(q * bz))
        h = -np.sign(q * bz)
        cx = x - h * radius * np.sin(phi0)
        cy = y + h * radius * np.cos(phi0)
        dc = np.hypot(cx, cy)
        beta_pca = np.arctan2(-cy, -cx)
        beta0 = np.arctan2(y - cy, x - cx)
        alpha = h * wrap_phi(beta_pca - beta0)
        xp = cx - radius * cx / dc
        yp = cy - radius * cy / dc
        phi = wrap_phi(phi0 + h * alpha)
        d0 = -xp * np.sin(phi) + yp * np.cos(phi)
        z0 = z + radius * alpha * pz / pt
        qop = q / p
    out = np.stack([d0, z0, phi, theta, qop], axis=1)
    out[q == 0] = np.nan
    return out
