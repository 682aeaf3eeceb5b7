"""Pure coordinate maths: transverse radius, azimuth, pseudorapidity, φ wrapping."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def wrap_phi(phi: npt.ArrayLike) -> FloatArray:
    """Wrap angles into [-π, π).

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
