"""Pure coordinate maths: transverse radius, azimuth, pseudorapidity, φ wrapping."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.typing import FloatArray


def wrap_phi(phi: npt.ArrayLike) -> FloatArray:
    """Wrap angles into [-π, π): the one φ wrapping of the package (use it, never a copy).

    ``(φ + π) mod 2π - π``; +π maps to -π.

    >>> float(wrap_phi(3 * np.pi / 2))
    -1.5707963267948966
    """
    return np.asarray((np.asarray(phi, dtype=np.float64) + np.pi) % (2 * np.pi) - np.pi)


def rho(x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
    """Transverse radius sqrt(x² + y²), same unit as the inputs."""
    return np.hypot(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))


def phi(x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
    """Azimuth atan2(y, x) [rad] in (-π, π]."""
    return np.arctan2(np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64))


def eta_from_momentum(px: npt.ArrayLike, py: npt.ArrayLike, pz: npt.ArrayLike) -> FloatArray:
    """Pseudorapidity asinh(pz / pT); ±inf along the beam."""
    pt = rho(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.arcsinh(np.asarray(pz, dtype=np.float64) / pt))


def eta_from_position(x: npt.ArrayLike, y: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
    """Pseudorapidity of a point seen from the origin, asinh(z / r)."""
    return eta_from_momentum(x, y, z)


def perpendicular_basis(t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Two unit vectors orthogonal to each unit row of ``t`` and to each other.

    Shapes: (N, 3) → (N, 3), (N, 3); ``(e1, e2, t)`` is right-handed.
    """
    t = np.asarray(t, dtype=np.float64)
    # cross with z unless t is close to z, then with x: never near-parallel
    helper = np.where(np.abs(t[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    e1 = np.cross(t, helper)
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    e2 = np.cross(t, e1)
    return e1, e2
