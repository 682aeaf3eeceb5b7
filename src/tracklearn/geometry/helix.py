"""Helices in a uniform solenoid field along +z.

A particle of charge ``q`` [e], transverse momentum ``pt`` [GeV], azimuth
``phi0`` and longitudinal slope ``cot θ = pz / pt`` leaves ``(vx, vy, vz)`` on a
circle of radius ``R = pt / (C · |q| · B)`` [mm].  We parametrise it by the
turning angle ``α ≥ 0``; ``h = -sign(q·B)`` is the sense of rotation::

    x(α) = vx + h R (sin(φ0 + h α) - sin φ0)
    y(α) = vy - h R (cos(φ0 + h α) - cos φ0)
    z(α) = vz + R α cot θ

so the momentum direction at ``α`` is ``φ0 + h α``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.typing import FloatArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM


def radius_of_curvature(pt: npt.ArrayLike, q: npt.ArrayLike, b_field: float) -> FloatArray:
    """Circle radius [mm] of charge ``q`` [e] with ``pt`` [GeV] in ``b_field`` [T]."""
    return np.asarray(pt, dtype=np.float64) / (
        C_LIGHT_GEV_PER_T_MM * np.abs(np.asarray(q, dtype=np.float64)) * abs(b_field)
    )


def rotation_sense(q: npt.ArrayLike, b_field: float) -> FloatArray:
    """h = -sign(q·B): +1 counter-clockwise in x-y, -1 clockwise."""
    return -np.sign(np.asarray(q, dtype=np.float64) * b_field)


def helix_point(
    alpha: npt.ArrayLike,
    vx: npt.ArrayLike,
    vy: npt.ArrayLike,
    vz: npt.ArrayLike,
    phi0: npt.ArrayLike,
    cot_theta: npt.ArrayLike,
    radius: npt.ArrayLike,
    h: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Point [mm] at turning angle ``alpha`` [rad] (all inputs broadcast)."""
    a = np.asarray(alpha, dtype=np.float64)
    p0 = np.asarray(phi0, dtype=np.float64)
    R = np.asarray(radius, dtype=np.float64)
    hh = np.asarray(h, dtype=np.float64)
    x = np.asarray(vx) + hh * R * (np.sin(p0 + hh * a) - np.sin(p0))
    y = np.asarray(vy) - hh * R * (np.cos(p0 + hh * a) - np.cos(p0))
    z = np.asarray(vz) + R * a * np.asarray(cot_theta)
    return x, y, z


def alpha_at_radius(
    r_target: float,
    vx: FloatArray,
    vy: FloatArray,
    phi0: FloatArray,
    radius: FloatArray,
    h: FloatArray,
) -> FloatArray:
    """Smallest turning angle α ∈ (0, 2π) [rad] at which the helix reaches transverse
    radius ``r_target`` [mm]; NaN where the circle never gets there.

    The circle's centre c lies at distance d from the origin; a point at angle β
    around c has ``|p|² = d² + R² + 2 d R cos(β - γ)`` with γ the direction of c,
    which gives two solutions β = γ ± acos(...).  α is the turning angle from the
    start angle β0 to β in the sense h.
    """
    cx = vx - h * radius * np.sin(phi0)
    cy = vy + h * radius * np.cos(phi0)
    d = np.hypot(cx, cy)
    gamma = np.arctan2(cy, cx)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_arg = (r_target**2 - d**2 - radius**2) / (2 * d * radius)
        delta = np.arccos(cos_arg)  # NaN when |cos_arg| > 1: never reaches r_target
    beta0 = np.arctan2(vy - cy, vx - cx)
    two_pi = 2 * np.pi
    a1 = np.mod(h * (gamma + delta - beta0), two_pi)
    a2 = np.mod(h * (gamma - delta - beta0), two_pi)
    # a zero turning angle means we start on the surface: take the other crossing
    a1 = np.where(a1 < 1e-12, two_pi, a1)
    a2 = np.where(a2 < 1e-12, two_pi, a2)
    return np.asarray(np.fmin(a1, a2))
