from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklearn.geometry.coords import wrap_phi
from tracklearn.geometry.helix import (
    alpha_at_radius,
    helix_point,
    radius_of_curvature,
    rotation_sense,
)


def test_radius_of_curvature_known_value() -> None:
    # 1 GeV, unit charge, 2 T: R = 1 / (0.299792458 * 2) m = 1667.8 mm
    assert radius_of_curvature(1.0, 1, 2.0) == np.float64(1.0 / (0.299792458e-3 * 2.0))


def test_positive_charge_bends_clockwise_in_positive_field() -> None:
    assert rotation_sense(1, 2.0) == -1.0
    x, y, _ = helix_point(0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0, -1.0)
    assert x > 0 and y < 0


@settings(max_examples=200, deadline=None)
@given(
    phi0=st.floats(-np.pi, np.pi),
    pt=st.floats(0.3, 100.0),
    q=st.sampled_from([-1, 1]),
    r_target=st.floats(20.0, 1000.0),
    vx=st.floats(-1.0, 1.0),
    vy=st.floats(-1.0, 1.0),
)
def test_alpha_at_radius_lands_on_the_cylinder(
    phi0: float, pt: float, q: int, r_target: float, vx: float, vy: float
) -> None:
    R = radius_of_curvature(pt, q, 2.0)
    h = rotation_sense(q, 2.0)
    a = alpha_at_radius(
        r_target, np.array([vx]), np.array([vy]), np.array([phi0]), np.array([R]), np.array([h])
    )
    if np.isfinite(a[0]):
        x, y, _ = helix_point(a, vx, vy, 0.0, phi0, 0.0, R, h)
        assert np.hypot(x, y)[0] == np.float64(r_target) or abs(np.hypot(x, y)[0] - r_target) < 1e-6
        assert 0 < a[0] < 2 * np.pi
    else:
        # unreachable: the circle's farthest point from the origin is inside r_target
        cx, cy = vx - h * R * np.sin(phi0), vy + h * R * np.cos(phi0)
        assert np.hypot(cx, cy) + R < r_target + 1e-6


@given(st.floats(-1e3, 1e3))
def test_wrap_phi_range(phi: float) -> None:
    w = float(wrap_phi(phi))
    assert -np.pi <= w < np.pi
    assert abs(np.sin(w) - np.sin(phi)) < 1e-6 and abs(np.cos(w) - np.cos(phi)) < 1e-6
