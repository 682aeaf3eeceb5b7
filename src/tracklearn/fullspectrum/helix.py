"""Compiled helix maths of the full-spectrum tracker (local 3-hit helices).

A charged particle in a solenoid field moves on a circle in x-y and on a
straight line in (s, z), ``s`` being the transverse arc length.  The tracker
describes the local trajectory by the circle through three hits and the slope
``dz/ds`` of the last two; it never needs the field value, which the local
curvature absorbs (this is how the trajectory follows the falling field of the
endcaps).
"""

from __future__ import annotations

import math

import numba as nb

#: curvature [1/mm] of a 1 GeV track in 1 T: κ = q·B·c/pT, c = 0.299792458 GeV/(T·m)
KAPPA_PER_T_GEV = 0.299792458e-3


@nb.njit(cache=True, nogil=True, inline="always")
def circle3(
    x1: float, y1: float, x2: float, y2: float, x3: float, y3: float
) -> tuple[float, float, float]:
    """Signed curvature [1/mm] and centre [mm] of the circle through three points.

    The curvature is positive when 1 → 2 → 3 turns counter-clockwise.  Collinear
    points give curvature 0 and a centre far away along the normal.
    """
    ax, ay = x2 - x1, y2 - y1
    bx, by = x3 - x1, y3 - y1
    cross = ax * by - ay * bx
    a2 = ax * ax + ay * ay
    b2 = bx * bx + by * by
    cx3, cy3 = x3 - x2, y3 - y2
    c2 = cx3 * cx3 + cy3 * cy3
    denom = math.sqrt(a2 * b2 * c2)
    if denom <= 0.0:
        return 0.0, 1e12, 1e12
    kappa = 2.0 * cross / denom
    if abs(cross) < 1e-12:
        nx, ny = -ay, ax
        return 0.0, x1 + nx * 1e9, y1 + ny * 1e9
    d = 2.0 * cross
    ux = (by * a2 - ay * b2) / d
    uy = (ax * b2 - bx * a2) / d
    return kappa, x1 + ux, y1 + uy


@nb.njit(cache=True, nogil=True, inline="always")
def arc_length(kappa_abs: float, chord: float) -> float:
    """Transverse arc length [mm] of a circle of curvature ``kappa_abs`` over ``chord`` [mm]."""
    h = 0.5 * kappa_abs * chord
    if h < 1e-4:
        return chord
    if h >= 1.0:
        return math.pi / kappa_abs
    return 2.0 * math.asin(h) / kappa_abs


@nb.njit(cache=True, nogil=True, inline="always")
def wrap(a: float) -> float:
    """Angle wrapped into [-π, π).

    The scalar twin of :func:`tracklearn.geometry.coords.wrap_phi` (same formula) for
    the numba kernels, which cannot call the numpy function.
    """
    return (a + math.pi) % (2.0 * math.pi) - math.pi
