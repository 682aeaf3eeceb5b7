"""Perigee of a helix from a point and a momentum: known answers and invariance."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.geometry.helix import helix_point, radius_of_curvature
from tracklearn.geometry.perigee import perigee_from_point

# (pt [GeV], q, φ0, cot θ, z0 [mm], d0 [mm]) as in tests/classical/test_kalman.py
TRACKS = [
    (1.5, 1, 0.4, 0.3, 12.0, 0.05),
    (20.0, -1, -2.9, -1.5, -40.0, -0.5),
    (0.7, 1, 3.1, 0.0, 0.0, 2.0),
    (3.0, -1, 1.0, 4.0, 100.0, -0.02),
]


def start_at(alpha: float, pt: float, q: float, phi0: float, cot: float, z0: float, d0: float):
    """Point and momentum a turning angle ``alpha`` along the helix from its perigee."""
    b = 2.0
    radius = radius_of_curvature(pt, q, b)
    h = -np.sign(q * b)
    vx, vy = -d0 * np.sin(phi0), d0 * np.cos(phi0)  # the perigee point
    x, y, z = helix_point(alpha, vx, vy, z0, phi0, cot, radius, h)
    phi = phi0 + h * alpha
    return x, y, z, pt * np.cos(phi), pt * np.sin(phi), pt * cot, q, b


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("alpha", [0.0, 0.3, -0.2, 1e-3])
def test_any_point_of_the_helix_gives_its_perigee(track: tuple, alpha: float) -> None:
    pt, q, phi0, cot, z0, d0 = track
    got = perigee_from_point(*start_at(alpha, *track))[0]
    theta = np.arctan2(1.0, cot)
    want = [d0, z0, phi0, theta, q * np.sin(theta) / pt]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_straight_up_from_the_origin_and_neutral() -> None:
    got = perigee_from_point([0.0, 0.0], 0.0, [10.0, 1.0], 0.0, 2.0, 2.0, [-1, 0], 2.0)
    np.testing.assert_allclose(got[0], [0.0, 10.0, np.pi / 2, np.pi / 4, -0.5 / np.sqrt(2)])
    assert np.all(np.isnan(got[1]))
