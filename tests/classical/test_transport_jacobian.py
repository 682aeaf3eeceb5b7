"""The analytic transport Jacobian against finite differences of the propagation
(the oracle, :mod:`tests.classical._fd_transport`)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.classical._fd_transport import field_of_the_nominal_copy, transport_fd

import tracklearn.classical.kalman as kalman
from tracklearn.classical.kalman import (
    QOP,
    Surfaces,
    bound_to_free,
    direction,
    free_to_bound,
    propagate_to_planes,
    transport,
)
from tracklearn.geometry.field import TRACKML_FIELD, MagneticField, UniformField

#: A typical uncertainty of each bound parameter (l0, l1 [mm], φ, θ [rad], q/p [1/GeV]):
#: Jacobians are compared in these units, so that an error of 1e-6 means a millionth
#: of an output's typical uncertainty per typical uncertainty of an input.
SCALE = np.array([1.0, 1.0, 1e-3, 1e-3, 1e-3])


def random_transports(rng: np.random.Generator, n: int) -> tuple[np.ndarray, Surfaces, Surfaces]:
    """``n`` states on planes of random orientation anywhere in the tracker (r ≤ 1 m,
    |z| ≤ 2.5 m, where the map's field falls off), to planes of random orientation
    50–800 mm ahead or behind; p from 0.5 to 20 GeV, both charges."""
    r = rng.uniform(30.0, 1000.0, n)
    phi_pos = rng.uniform(-np.pi, np.pi, n)
    pos = np.stack([r * np.cos(phi_pos), r * np.sin(phi_pos), rng.uniform(-2500, 2500, n)], 1)
    t = direction(rng.uniform(-np.pi, np.pi, n), np.arccos(rng.uniform(-0.95, 0.95, n)))
    qop = rng.choice([-1.0, 1.0], n) / rng.uniform(0.5, 20.0, n)

    def planes(center: np.ndarray, normal: np.ndarray) -> Surfaces:
        w = normal / np.linalg.norm(normal, axis=1)[:, None]
        a = rng.normal(size=(n, 3))
        u = a - np.sum(a * w, axis=1)[:, None] * w
        u /= np.linalg.norm(u, axis=1)[:, None]
        return Surfaces(center, np.stack([u, np.cross(w, u), w], axis=2), np.zeros(n))

    src = planes(pos, t + 0.6 * rng.normal(size=(n, 3)))
    ahead = rng.uniform(50.0, 800.0, n) * rng.choice([-1.0, 1.0], n)
    dst = planes(pos + ahead[:, None] * t, t + 0.6 * rng.normal(size=(n, 3)))
    return free_to_bound(pos, t, qop, src), src, dst


def reached(params: np.ndarray, src: Surfaces, dst: Surfaces, field: MagneticField) -> np.ndarray:
    """States whose propagation ends on the target plane at an angle of more than
    3° to it: near-tangent crossings make finite differences nonlinear, and
    ``propagate_to_planes`` reports some unconverged ones as reached."""
    pos, t = bound_to_free(params, src)
    pos2, t2, _, ok = propagate_to_planes(pos, t, params[:, QOP], dst, field)
    normal = dst.rotation[:, :, 2]
    on_plane = np.abs(np.sum(normal * (pos2 - dst.center), axis=1)) < 1e-9
    steep = np.abs(np.sum(normal * t2, axis=1)) > np.sin(np.radians(3.0))
    return np.asarray(ok & on_plane & steep)


def deviation(jac: np.ndarray, oracle: np.ndarray, atol: float) -> np.ndarray:
    """``|J - J_fd| / (|J_fd| + atol)`` per element, in the units of :data:`SCALE`:
    the relative deviation where an element is not ~0, else the absolute one / atol."""
    to_scale = SCALE[None, None, :] / SCALE[None, :, None]
    return np.asarray(np.abs(jac - oracle) * to_scale / (np.abs(oracle) * to_scale + atol))


@pytest.mark.parametrize("field", [UniformField(2.0), TRACKML_FIELD], ids=["uniform", "map"])
def test_jacobian_matches_finite_differences_with_the_field_held(
    field: MagneticField, monkeypatch: pytest.MonkeyPatch
) -> None:
    params, src, dst = random_transports(np.random.default_rng(17), 1500)
    keep = reached(params, src, dst, field)
    assert keep.mean() > 0.9
    params, src, dst = params[keep], src.take(np.flatnonzero(keep)), dst.take(np.flatnonzero(keep))
    out, jac, ok = transport(params, src, dst, field)
    monkeypatch.setattr(kalman, "_field", field_of_the_nominal_copy(kalman._field))
    out_fd, jac_fd, ok_fd = transport_fd(params, src, dst, field)
    assert ok.all() and ok_fd.all()
    np.testing.assert_array_equal(out, out_fd)
    # with these FD steps the rounding noise is ~1e-7 of SCALE and the deviation
    # ~1e-9 typically, ≲2e-5 at worst (it falls further with larger FD steps)
    dev = deviation(jac, jac_fd, atol=1e-6)
    assert dev.max() < 1e-4


def test_jacobian_in_the_field_map_neglects_only_the_field_gradient() -> None:
    # the true finite differences also see the field change with the perturbed
    # position, which the analytic Jacobian neglects (as ACTS does by default).
    # Measured as the change of the transported widths of a typical covariance:
    # ~2e-4 typically, up to ~10 % for slow tracks over 0.5 m where the field falls off
    params, src, dst = random_transports(np.random.default_rng(18), 1500)
    keep = reached(params, src, dst, TRACKML_FIELD)
    params, src, dst = params[keep], src.take(np.flatnonzero(keep)), dst.take(np.flatnonzero(keep))
    _, jac, _ = transport(params, src, dst, TRACKML_FIELD)
    _, jac_fd, _ = transport_fd(params, src, dst, TRACKML_FIELD)
    cov = np.diag(SCALE**2)
    width = np.sqrt(np.einsum("kij,jl,kil->ki", jac, cov, jac))
    width_fd = np.sqrt(np.einsum("kij,jl,kil->ki", jac_fd, cov, jac_fd))
    change = np.abs(width / width_fd - 1.0)
    assert np.median(change) < 1e-3
    assert change.max() < 0.2
