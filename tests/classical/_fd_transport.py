"""The finite-difference transport that the analytic Jacobian replaced: a test oracle.

It propagates eleven copies of every state (nominal and ± one step per
parameter, central differences), so it is exact to its rounding and truncation
noise but costs eleven propagations where the analytic Jacobian costs one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tracklearn.classical.kalman import (
    PHI,
    QOP,
    Surfaces,
    bound_to_free,
    free_to_bound,
    propagate_to_planes,
)
from tracklearn.geometry.coords import wrap_phi
from tracklearn.geometry.field import MagneticField

#: Copies of each state in the oracle: the nominal one and ± one step per parameter.
COPIES = 11


def transport_fd(
    params: np.ndarray,
    src: Surfaces,
    dst: Surfaces,
    field: MagneticField,
    step_mm: float = 100.0,
    newton_iterations: int = 6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The transport with a central finite-difference Jacobian (the oracle).

    Steps: 1e-2 mm in (l0, l1), 1e-5 rad in (φ, θ), 1e-4 relative in q/p; smaller
    ones make the rounding noise dominate, larger ones still agree (truncation ∝ step²).
    Shapes as :func:`~tracklearn.classical.kalman.transport`.
    """
    k = len(params)
    steps = np.tile([1e-2, 1e-2, 1e-5, 1e-5, 0.0], (k, 1))
    steps[:, QOP] = np.maximum(np.abs(params[:, QOP]) * 1e-4, 1e-9)
    copies = np.repeat(params[:, None, :], COPIES, axis=1)
    for j in range(5):
        copies[:, 1 + 2 * j, j] += steps[:, j]
        copies[:, 2 + 2 * j, j] -= steps[:, j]
    flat = copies.reshape(-1, 5)
    rows = np.repeat(np.arange(k), COPIES)
    rep_dst = dst.take(rows)
    pos, t = bound_to_free(flat, src.take(rows))
    pos2, t2, _, ok = propagate_to_planes(
        pos, t, flat[:, QOP], rep_dst, field, step_mm, newton_iterations
    )
    out = free_to_bound(pos2, t2, flat[:, QOP], rep_dst).reshape(k, COPIES, 5)
    diff = out[:, 1::2, :] - out[:, 2::2, :]  # (k, j perturbed, i output)
    diff[:, :, PHI] = wrap_phi(diff[:, :, PHI])
    jac = np.transpose(diff / (2.0 * steps[:, :, None]), (0, 2, 1))
    return out[:, 0, :], jac, ok.reshape(k, COPIES).all(axis=1)


def field_of_the_nominal_copy(
    real: Callable[[MagneticField, np.ndarray], np.ndarray],
) -> Callable[[MagneticField, np.ndarray], np.ndarray]:
    """A stand-in for ``kalman._field`` under which every copy of a state in
    :func:`transport_fd` sees the field of its nominal copy: finite differences
    with the field held constant along each step, which is what the analytic
    Jacobian differentiates (it neglects the field's gradient)."""

    def field(f: MagneticField, pos: np.ndarray) -> np.ndarray:
        b = real(f, pos)
        groups = pos.reshape(-1, COPIES, 3)  # the copies of a state step together
        assert np.ptp(groups, axis=1).max() < 1.0, "copies of one state took different steps"
        return np.repeat(b.reshape(-1, COPIES, 3)[:, :1], COPIES, axis=1).reshape(-1, 3)

    return field
