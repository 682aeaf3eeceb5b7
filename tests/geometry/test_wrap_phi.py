"""φ wrapping, written once (``tracklearn.geometry.coords.wrap_phi``): exact answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tracklearn.geometry.coords import wrap_phi

PI = math.pi


@pytest.mark.parametrize(
    ("phi", "wrapped"),
    [
        (0.0, 0.0),
        (0.5, 0.5),
        (PI, -PI),  # the interval is [-π, π): +π maps to -π
        (-PI, -PI),
        (np.nextafter(-PI, 0.0), np.nextafter(-PI, 0.0)),
        (3 * PI / 2, -PI / 2),
        (-3 * PI / 2, PI / 2),
        (2 * PI, 0.0),
        (-2 * PI, 0.0),
        (7.0, 7.0 - 2 * PI),
        (-7.0, -7.0 + 2 * PI),
    ],
)
def test_wrap_phi_exact(phi: float, wrapped: float) -> None:
    assert float(wrap_phi(phi)) == wrapped


def test_wrap_phi_keeps_shape_and_gives_float64() -> None:
    out = wrap_phi(np.array([[0, 4], [-4, 10]], dtype=np.int64))
    assert out.shape == (2, 2) and out.dtype == np.float64
    assert np.all((out >= -PI) & (out < PI))
    np.testing.assert_allclose(out, [[0.0, 4 - 2 * PI], [2 * PI - 4, 10 - 4 * PI]], atol=1e-15)


def test_one_definition_everywhere() -> None:
    """The graph features' wrap is the same function, not a copy."""
    from tracklearn.graph.features import wrap_phi as graph_wrap

    assert graph_wrap is wrap_phi
