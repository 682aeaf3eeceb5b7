"""Kalman-filter track fit on planar surfaces in a (non-uniform) solenoid field.

Parametrisation
---------------
Every measurement lies on a plane with centre ``c`` and rotation ``R`` whose
columns are the local axes ``(u, v, w)`` (``w`` the normal), as in TrackML's
``detectors.csv``.  On a plane the track state is the ACTS *bound* vector

    p = (l0, l1, φ, θ, q/p)        [mm, mm, rad, rad, 1/GeV]

with ``(l0, l1)`` the local position along ``(u, v)`` and ``φ, θ`` the global
direction angles.  The *perigee* is the same vector on the plane through the
origin whose normal is the transverse track direction at the point of
closest approach to the beamline, with ``u = (-sin φ, cos φ, 0)`` and ``v = ẑ``:
``l0 = d0`` and ``l1 = z0``.

Propagation
-----------
Between two planes the state is stepped as an exact helix about the *local*
field vector, re-evaluated at the midpoint of each step of at most
``step_mm`` (the non-uniform map is handled piecewise), with the last step
solved by Newton's method for the crossing of the target plane (the same
helix maths as :mod:`tracklearn.simulation.propagation`).

The 5×5 transport Jacobian is analytic and built as in ACTS, alongside the
one propagation of each state::

    J = J(free → bound, dst) · C(path) · J(step n) ⋯ J(step 1) · J(bound → free, src)

on the free state ``(x, y, z, tx, ty, tz, q/p)``.  ``J(step)`` differentiates
the closed-form helix of each step with its field *held constant* at the
value the propagation used: the derivative of the field with respect to
position is neglected (as in the ACTS eigen stepper without field
gradient).  In the uniform field the Jacobian is exact (it agrees with
finite differences to their noise, ~1e-9 relative); in the field map the
neglected gradient changes the transported widths of a covariance by ~2e-4
typically and up to ~10 % for slow tracks carried 0.5 m where the field
falls off (``tests/classical/test_transport_jacobian.py``); fitted perigees
move by less than 1 % of their errors, and the errors by up to ~3 %.  The
path correction projects the variations, taken at fixed path length, onto
the target plane: ``δs = -(n·δx)/(n·t)``, ``δx += t δs``, ``δt += (q/p) C (t × B) δs``.

Material
--------
Every measurement module is a thin scatterer: after the update on a surface
the covariance of ``(φ, θ)`` grows by the Highland width ``θ0²`` for the
module's ``x/X0`` (thickness / effective radiation length of its volume, the
:class:`~tracklearn.geometry.material.MaterialConfig` the simulator
uses, divided by the cosine of the incidence angle): ``σ²(θ) += θ0²``,
``σ²(φ) += θ0² / sin²θ``.  Energy loss is neglected (≲ 0.3 % at 1 GeV).

Fit
---
A forward filter and a Rauch–Tung–Striebel smoother over the hits (sorted by
path), repeated ``iterations`` times, each pass starting from the previous
smoothed state at the first hit with a wide covariance (a Gauss–Newton
iteration, so noiseless hits are fitted to numerical precision).  Many tracks
are fitted at once: the loop runs over hit number, vectorised over tracks.

Shapes: ``T`` tracks, ``K`` surfaces / states, ``H`` hits per track (≤ ``Hmax``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Detector
from tracklearn.errors import TracklearnError
from tracklearn.geometry.coords import wrap_phi
from tracklearn.geometry.field import MagneticField
from tracklearn.geometry.material import MaterialConfig
from tracklearn.typing import BoolArray, FloatArray, IntArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

#: Indices of the bound vector.
L0, L1, PHI, THETA, QOP = range(5)


class FitError(TracklearnError):
    """A track cannot be fitted (too few hits, non-finite inputs or covariance)."""


class KalmanConfig(BaseModel):
    """Settings of the Kalman fitter (units in the comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step_mm: float = Field(100.0, gt=0)  # mm, largest step with one field value
    iterations: int = Field(3, ge=1)  # filter + smoother passes (Gauss–Newton)
    mass: float = Field(0.13957, gt=0)  # GeV, mass hypothesis for β in Highland (pion)
    multiple_scattering: bool = True
    material: MaterialConfig = Field(default_factory=MaterialConfig)
    # widths of the starting covariance of each pass (l0, l1 [mm], φ, θ [rad], q/p [1/GeV])
    initial_sigma: tuple[float, float, float, float, float] = (1.0, 1.0, 0.05, 0.05, 1.0)
    newton_iterations: int = Field(6, ge=1)


@dataclass(frozen=True, eq=False)
class Surfaces:
    """Planes, one per row.

    Attributes
    ----------
    center : float64, shape (K, 3)
        A point of the plane [mm].
    rotation : float64, shape (K, 3, 3)
        Columns are the local axes u, v, w (w = normal).
    x_over_x0 : float64, shape (K,)
        Material at normal incidence [fraction of a radiation length].
    """

    center: FloatArray
    rotation: FloatArray
    x_over_x0: FloatArray

    def __len__(self) -> int:
        return len(self.center)

    def take(self, rows: IntArray) -> Surfaces:
        return Surfaces(self.center[rows], self.rotation[rows], self.x_over_x0[rows])


def module_surfaces(
    detector: Detector, modules: IntArray, material: MaterialConfig | None = None
) -> Surfaces:
    """Surfaces of detector rows ``modules`` (K,), with their ``x/X0``."""
    mat = material or MaterialConfig()
    vol = detector.volume_id[modules]
    x0 = np.array([mat.x0_mm.get(int(v), mat.default_x0_mm) for v in vol], dtype=np.float64)
    return Surfaces(
        center=detector.centers[modules],
        rotation=detector.rotations[modules],
        x_over_x0=detector.module_t[modules] / x0,
    )


def hit_surfaces(
    x: FloatArray, y: FloatArray, z: FloatArray, disk: BoolArray, x_over_x0: float = 0.0
) -> Surfaces:
    """Planes through given points: radial planes (``u`` along φ, ``v = ẑ``) for
    barrel hits and transverse planes (``u`` along φ, ``v`` along r) where ``disk``.

    For detectors without a module description (the quick cylinders, tests).
    Shapes: all (K,).
    """
    phi = np.arctan2(y, x)
    c, s = np.cos(phi), np.sin(phi)
    zero, one = np.zeros_like(c), np.ones_like(c)
    eu = np.stack([-s, c, zero], axis=1)
    barrel_v = np.stack([zero, zero, one], axis=1)
    barrel_w = np.stack([c, s, zero], axis=1)
    # disk: u along φ, v radial, w = u × v = -ẑ; flip v to keep a right-handed frame
    disk_v = np.stack([-c, -s, zero], axis=1)
    disk_w = np.stack([zero, zero, one], axis=1)
    ev = np.where(disk[:, None], disk_v, barrel_v)
    ew = np.where(disk[:, None], disk_w, barrel_w)
    rot = np.stack([eu, ev, ew], axis=2)
    return Surfaces(np.stack([x, y, z], axis=1), rot, np.full(len(x), x_over_x0))


def local_position(surfaces: Surfaces, points: FloatArray) -> FloatArray:
    """Local (u, v) of global points on the surfaces.  Shapes: (K, 3) → (K, 2)."""
    out: FloatArray = np.einsum("kji,kj->ki", surfaces.rotation, points - surfaces.center)[:, :2]
    return out


# --------------------------------------------------------------------------- maths


def direction(phi: FloatArray, theta: FloatArray) -> FloatArray:
    """Unit vectors of azimuth ``phi`` and polar angle ``theta``.  (K,) → (K, 3)."""
    st = np.sin(theta)
    return np.stack([np.cos(phi) * st, np.sin(phi) * st, np.cos(theta)], axis=1)


def bound_to_free(params: FloatArray, surf: Surfaces) -> tuple[FloatArray, FloatArray]:
    """Global position [mm] and unit direction of bound states.  (K, 5) → (K, 3), (K, 3)."""
    rot = surf.rotation
    pos = (
        surf.center + rot[:, :, 0] * params[:, L0 : L0 + 1] + rot[:, :, 1] * params[:, L1 : L1 + 1]
    )
    return pos, direction(params[:, PHI], params[:, THETA])


def free_to_bound(pos: FloatArray, t: FloatArray, qop: FloatArray, surf: Surfaces) -> FloatArray:
    """Bound states of global (position, direction, q/p) on the surfaces.  → (K, 5)."""
    loc = local_position(surf, pos)
    phi = np.arctan2(t[:, 1], t[:, 0])
    theta = np.arccos(np.clip(t[:, 2], -1.0, 1.0))
    return np.stack([loc[:, 0], loc[:, 1], phi, theta, qop], axis=1)


def _field(field: MagneticField, pos: FloatArray) -> FloatArray:
    bx, by, bz = field(pos[:, 0], pos[:, 1], pos[:, 2])
    return np.stack(np.broadcast_arrays(bx, by, bz), axis=1).astype(np.float64)


def _field_frame(bvec: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``|B|`` [T] and the field direction ``b̂`` (``ẑ`` where B = 0).  (K, 3) → (K,), (K, 3)."""
    bmag = np.linalg.norm(bvec, axis=1)
    bhat = np.where(bmag[:, None] > 0, bvec / np.maximum(bmag, 1e-300)[:, None], [[0.0, 0, 1]])
    return bmag, bhat


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """``a × b`` along axis 1, broadcasting the rest: (K, 3, ...).

    The same products as ``np.cross`` (identical results) without its axis
    handling, which cost a fifth of a CKF event's time in the small batches of
    the Newton loop.
    """
    out: FloatArray = np.stack(
        [
            a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
            a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
            a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0],
        ],
        axis=1,
    )
    return out


def _helix(
    pos: FloatArray, t: FloatArray, qop: FloatArray, bvec: FloatArray, s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Exact helix in a constant field: position and direction after path ``s`` [mm].

    With ``b̂`` the field direction, ``t∥ = (t·b̂) b̂``, ``t⊥ = t - t∥`` and
    ``ω = (q/p) C |B|``::

        x(s) = x + t∥ s + t⊥ sin(ωs)/ω + (t⊥ × b̂)(1 - cos ωs)/ω

    written with sinc so that ``ω → 0`` is exact.  Shapes: (K, 3), (K,).
    """
    bmag, bhat = _field_frame(bvec)
    t_par = np.sum(t * bhat, axis=1)[:, None] * bhat
    t_perp = t - t_par
    # dt/ds = (q/p) C (t × B): t⊥ rotates towards t_side = t⊥ × b̂ at rate
    # ω = (q/p) C |B| (for q > 0 and B along +z, x̂ turns towards -ŷ: clockwise)
    t_side = _cross(t_perp, bhat)
    omega = qop * C_LIGHT_GEV_PER_T_MM * bmag
    a = omega * s
    sin_term = s * np.sinc(a / np.pi)
    cos_term = s * (a / 2.0) * np.sinc(a / (2.0 * np.pi)) ** 2
    new_pos = pos + t_par * s[:, None] + t_perp * sin_term[:, None] + t_side * cos_term[:, None]
    new_t = t_par + t_perp * np.cos(a)[:, None] + t_side * np.sin(a)[:, None]
    return new_pos, new_t


def _helix_jacobian(
    t: FloatArray, qop: FloatArray, bvec: FloatArray, s: FloatArray, jac: FloatArray
) -> FloatArray:
    """Free Jacobian after the step ``_helix(pos, t, qop, bvec, s)``, field held constant.

    ``jac`` is the derivative of the free state ``(x, t, q/p)`` before the step
    with respect to any ``M`` parameters; the result is that after the step.
    With ``a = ωs``, ``sinc a = sin a / a`` and ``h(a) = (1 - cos a)/a`` the step
    is ``x' = x + t∥ s + t⊥ s sinc a + t_side s h(a)``,
    ``t' = t∥ + t⊥ cos a + t_side sin a``, and it is linear in ``t``:
    ``t∥ = P t`` with ``P = b̂ b̂ᵀ``, ``t⊥ = (1 - P) t``, ``t_side = t × b̂ = X t``,
    so ``dx'/dt = P s + (1 - P) s sinc a + X s h(a)`` and
    ``dt'/dt = P + (1 - P) cos a + X sin a``.
    ``q/p`` enters only through ``a``, with ``da/d(q/p) = C |B| s``.

    Shapes: t (K, 3), qop (K,), bvec (K, 3), s (K,), jac (K, 7, M) → (K, 7, M).
    """
    bmag, bhat = _field_frame(bvec)
    cb = C_LIGHT_GEV_PER_T_MM * bmag
    a = qop * cb * s
    sin_a, cos_a = np.sin(a), np.cos(a)
    sinc_a = np.sinc(a / np.pi)
    sinc_half = np.sinc(a / (2.0 * np.pi))
    h = 0.5 * a * sinc_half**2
    # d sinc/da = (cos a - sinc a)/a cancels for small a: its Taylor series there
    # (truncation < 1e-12 relative for |a| < 0.1)
    a2 = a * a
    small = np.abs(a) < 0.1
    series = a * (-1.0 / 3.0 + a2 * (1.0 / 30.0 + a2 * (-1.0 / 840.0 + a2 / 45360.0)))
    dsinc = np.where(small, series, (cos_a - sinc_a) / np.where(small, 1.0, a))
    # dh/da = sin a / a - (1 - cos a)/a² = sinc a - sinc²(a/2)/2: no cancellation
    dh = sinc_a - 0.5 * sinc_half**2
    # the linear maps of t act on each column of the direction Jacobian jt:
    # P jt, (1 - P) jt and X jt = jt × b̂ (no 3×3 matrices built)
    jx, jt, jq = jac[:, 0:3], jac[:, 3:6], jac[:, 6:7]
    b3 = bhat[:, :, None]
    par = b3 * np.sum(b3 * jt, axis=1, keepdims=True)
    perp = jt - par
    side = _cross(jt, b3)
    t_perp = t - np.sum(t * bhat, axis=1)[:, None] * bhat
    t_side = _cross(t, bhat)
    da = (cb * s)[:, None]
    dx_dqop = (t_perp * dsinc[:, None] + t_side * dh[:, None]) * (s[:, None] * da)
    dt_dqop = (t_side * cos_a[:, None] - t_perp * sin_a[:, None]) * da
    col = (slice(None), None, None)  # (K,) → (K, 1, 1)
    new_x = (
        jx
        + par * s[col]
        + perp * (s * sinc_a)[col]
        + side * (s * h)[col]
        + dx_dqop[:, :, None] * jq
    )
    new_t = par + perp * cos_a[col] + side * sin_a[col] + dt_dqop[:, :, None] * jq
    out: FloatArray = np.concatenate([new_x, new_t, jq], axis=1)
    return out


def _propagate(
    pos: FloatArray,
    t: FloatArray,
    qop: FloatArray,
    surf: Surfaces,
    field: MagneticField,
    step_mm: float,
    newton_iterations: int,
    jac: FloatArray | None,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray, FloatArray | None]:
    """:func:`propagate_to_planes`, carrying the free Jacobian ``jac`` (K, 7, M) if given.

    Each step's Jacobian (:func:`_helix_jacobian`, with the field that step
    used) multiplies ``jac`` as the state moves; on the plane the variations
    are projected onto it (the path correction of the module docstring).
    """
    pos = pos.copy()
    t = t.copy()
    if jac is not None:
        jac = jac.copy()
    normal = surf.rotation[:, :, 2]
    path = np.zeros(len(pos))
    ok = np.ones(len(pos), dtype=bool)
    todo = np.ones(len(pos), dtype=bool)
    for _ in range(200):
        if not todo.any():
            break
        i = np.flatnonzero(todo)
        ndot = np.sum(normal[i] * t[i], axis=1)
        dist = np.sum(normal[i] * (surf.center[i] - pos[i]), axis=1)
        s_lin = dist / np.where(np.abs(ndot) > 1e-12, ndot, np.nan)
        bad = ~np.isfinite(s_lin)
        far = np.abs(s_lin) > step_mm
        # a full step where the plane is far, with the field at its midpoint
        fi = i[far & ~bad]
        if len(fi):
            s = np.sign(s_lin[far & ~bad]) * step_mm
            mid, _ = _helix(pos[fi], t[fi], qop[fi], _field(field, pos[fi]), 0.5 * s)
            bmid = _field(field, mid)
            if jac is not None:
                jac[fi] = _helix_jacobian(t[fi], qop[fi], bmid, s, jac[fi])
            pos[fi], t[fi] = _helix(pos[fi], t[fi], qop[fi], bmid, s)
            path[fi] += s
        ni = i[~far & ~bad]
        if len(ni):
            s = s_lin[~far & ~bad]
            bvec = _field(field, pos[ni])
            for _k in range(2):  # midpoint field from the current estimate of s
                mid, _ = _helix(pos[ni], t[ni], qop[ni], bvec, 0.5 * s)
                bmid = _field(field, mid)
                for _n in range(newton_iterations):
                    p1, t1 = _helix(pos[ni], t[ni], qop[ni], bmid, s)
                    f = np.sum(normal[ni] * (p1 - surf.center[ni]), axis=1)
                    fp = np.sum(normal[ni] * t1, axis=1)
                    s = s - f / np.where(np.abs(fp) > 1e-12, fp, np.nan)
                bvec = bmid
            good = np.isfinite(s) & (np.abs(s) <= 2.0 * step_mm)
            s = np.where(good, s, 0.0)
            if jac is not None:
                jn = _helix_jacobian(t[ni], qop[ni], bvec, s, jac[ni])
            p1, t1 = _helix(pos[ni], t[ni], qop[ni], bvec, s)
            pos[ni], t[ni] = p1, t1
            path[ni] += s
            ok[ni[~good]] = False
            if jac is not None:
                # path correction: the variations above are at fixed path length; stay
                # on the plane by moving δs = -(n·δx)/(n·t) along the track, which turns
                # the direction by dt/ds = (q/p) C (t × B) (B of the last step) per mm
                nt = np.sum(normal[ni] * t1, axis=1)
                nt = np.where(good & (np.abs(nt) > 1e-12), nt, np.inf)
                ds = -np.einsum("ki,kim->km", normal[ni], jn[:, 0:3]) / nt[:, None]
                dt_ds = qop[ni, None] * C_LIGHT_GEV_PER_T_MM * _cross(t1, bvec)
                jn[:, 0:3] += t1[:, :, None] * ds[:, None, :]
                jn[:, 3:6] += dt_ds[:, :, None] * ds[:, None, :]
                jac[ni] = jn
        ok[i[bad]] = False
        todo[i[bad]] = False
        todo[ni] = False
    ok &= ~todo
    return pos, t, path, ok, jac


def propagate_to_planes(
    pos: FloatArray,
    t: FloatArray,
    qop: FloatArray,
    surf: Surfaces,
    field: MagneticField,
    step_mm: float = 100.0,
    newton_iterations: int = 6,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """Propagate free states to the planes (forwards or backwards along the track).

    Steps of at most ``step_mm`` [mm] use the field at their midpoint; the
    remaining distance is solved by Newton's method on ``n·(x(s) - c) = 0``.

    Returns
    -------
    pos, t : (K, 3)
        Position [mm] and direction on the plane.
    path : (K,)
        Signed path length travelled [mm].
    ok : bool (K,)
        False where the plane was not reached (parallel or diverging).
    """
    pos, t, path, ok, _ = _propagate(pos, t, qop, surf, field, step_mm, newton_iterations, None)
    return pos, t, path, ok


def _bound_to_free_jacobian(params: FloatArray, surf: Surfaces) -> FloatArray:
    """d(x, t, q/p)/d(l0, l1, φ, θ, q/p) of :func:`bound_to_free`.  (K, 5) → (K, 7, 5)."""
    jac = np.zeros((len(params), 7, 5))
    jac[:, 0:3, L0] = surf.rotation[:, :, 0]
    jac[:, 0:3, L1] = surf.rotation[:, :, 1]
    sp, cp = np.sin(params[:, PHI]), np.cos(params[:, PHI])
    st, ct = np.sin(params[:, THETA]), np.cos(params[:, THETA])
    jac[:, 3, PHI], jac[:, 4, PHI] = -sp * st, cp * st
    jac[:, 3, THETA], jac[:, 4, THETA], jac[:, 5, THETA] = cp * ct, sp * ct, -st
    jac[:, 6, QOP] = 1.0
    return jac


def _free_to_bound_jacobian(t: FloatArray, surf: Surfaces) -> FloatArray:
    """d(l0, l1, φ, θ, q/p)/d(x, t, q/p) of :func:`free_to_bound`, for variations in
    the plane and of unit length (``δx·n = 0``, ``δt·t = 0``).  (K, 3) → (K, 5, 7)."""
    jac = np.zeros((len(t), 5, 7))
    jac[:, L0, 0:3] = surf.rotation[:, :, 0]
    jac[:, L1, 0:3] = surf.rotation[:, :, 1]
    tx, ty, tz = t[:, 0], t[:, 1], t[:, 2]
    rho2 = np.maximum(tx * tx + ty * ty, 1e-24)  # sin²θ; φ is undefined along the axis
    rho = np.sqrt(rho2)
    jac[:, PHI, 3], jac[:, PHI, 4] = -ty / rho2, tx / rho2
    jac[:, THETA, 3], jac[:, THETA, 4], jac[:, THETA, 5] = tx * tz / rho, ty * tz / rho, -rho
    jac[:, QOP, 6] = 1.0
    return jac


def transport(
    params: FloatArray,
    src: Surfaces,
    dst: Surfaces,
    field: MagneticField,
    step_mm: float = 100.0,
    newton_iterations: int = 6,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Bound states on ``src`` transported to ``dst`` with the 5×5 Jacobian.

    The Jacobian is analytic (module docstring, *Propagation*), accumulated
    during the one propagation of each state; the field's gradient is
    neglected.  Shapes: (K, 5) → (K, 5), (K, 5, 5), (K,).
    """
    pos, t = bound_to_free(params, src)
    pos2, t2, _, ok, free_jac = _propagate(
        pos,
        t,
        params[:, QOP],
        dst,
        field,
        step_mm,
        newton_iterations,
        _bound_to_free_jacobian(params, src),
    )
    assert free_jac is not None
    out = free_to_bound(pos2, t2, params[:, QOP], dst)
    jac: FloatArray = _free_to_bound_jacobian(t2, dst) @ free_jac
    return out, jac, ok


def gain_update(
    x_pred: FloatArray, p_pred: FloatArray, residual: FloatArray, s_inv: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Kalman update of bound states with a 2-D local-position measurement (H = [I₂ 0]).

    The one gain update of the chain, used by :class:`KalmanFitter` and the
    CKF's branch updates: ``K = P Hᵀ S⁻¹``, ``x' = x + K r``, ``P' = P - K H P``.

    Parameters
    ----------
    x_pred : shape (K, 5)
        Predicted states.
    p_pred : shape (K, 5, 5)
        Their covariances.
    residual : shape (K, 2)
        Measurement minus predicted local position [mm].
    s_inv : shape (K, 2, 2)
        Inverse residual covariance ``(H P Hᵀ + V)⁻¹``.

    Returns
    -------
    (x, P) : shapes (K, 5), (K, 5, 5)
        Updated states (φ not wrapped) and covariances (not symmetrised).
    """
    gain = p_pred[:, :, :2] @ s_inv
    x = x_pred + np.einsum("kij,kj->ki", gain, residual)
    p = p_pred - gain @ p_pred[:, :2, :]
    return x, p


def highland(x_over_x0: FloatArray, p: FloatArray, beta: FloatArray) -> FloatArray:
    """Highland width θ0 [rad] of the projected scattering angle (unit charge)."""
    xx = np.maximum(x_over_x0, 1e-12)
    out: FloatArray = 13.6e-3 / (beta * p) * np.sqrt(xx) * (1.0 + 0.038 * np.log(xx / beta**2))
    return np.where(x_over_x0 > 0, out, 0.0)


def scattering_noise(params: FloatArray, surf: Surfaces, mass: float) -> FloatArray:
    """Process-noise covariance of crossing each surface.  (K, 5) → (K, 5, 5)."""
    t = direction(params[:, PHI], params[:, THETA])
    cos_inc = np.abs(np.sum(t * surf.rotation[:, :, 2], axis=1))
    xx = surf.x_over_x0 / np.maximum(cos_inc, 0.05)
    p = 1.0 / np.maximum(np.abs(params[:, QOP]), 1e-6)
    beta = p / np.sqrt(p * p + mass * mass)
    th0 = highland(xx, p, beta)
    q = np.zeros((len(params), 5, 5))
    q[:, THETA, THETA] = th0**2
    q[:, PHI, PHI] = th0**2 / np.maximum(np.sin(params[:, THETA]) ** 2, 1e-12)
    return q


def perigee_surfaces(pos: FloatArray, t: FloatArray) -> Surfaces:
    """Planes through the origin with normal along the transverse direction ``t``."""
    phi = np.arctan2(t[:, 1], t[:, 0])
    c, s = np.cos(phi), np.sin(phi)
    zero, one = np.zeros_like(c), np.ones_like(c)
    rot = np.stack(
        [np.stack([-s, c, zero], 1), np.stack([zero, zero, one], 1), np.stack([c, s, zero], 1)],
        axis=2,
    )
    return Surfaces(np.zeros_like(pos), rot, np.zeros(len(pos)))


# --------------------------------------------------------------------------- fit


@dataclass(frozen=True, eq=False)
class TrackFit:
    """Result of fitting ``T`` tracks.

    Attributes
    ----------
    perigee : float64, shape (T, 5)
        ``(d0 [mm], z0 [mm], φ [rad], θ [rad], q/p [1/GeV])`` at the beamline.
    perigee_cov : float64, shape (T, 5, 5)
    smoothed : float64, shape (T, Hmax, 5)
        Smoothed bound states at each hit (NaN beyond a track's length).
    smoothed_cov : float64, shape (T, Hmax, 5, 5)
    chi2 : float64, shape (T,)
        Sum of the filter's predicted-residual χ² of the last pass.
    ndf : int64, shape (T,)
        ``2 · hits - 5``.
    ok : bool, shape (T,)
        False where propagation failed or the covariance became non-finite.
    """

    perigee: FloatArray
    perigee_cov: FloatArray
    smoothed: FloatArray
    smoothed_cov: FloatArray
    chi2: FloatArray
    ndf: IntArray
    ok: BoolArray

    @property
    def pt(self) -> FloatArray:
        """Transverse momentum [GeV], shape (T,)."""
        return np.asarray(np.sin(self.perigee[:, THETA]) / np.abs(self.perigee[:, QOP]))

    @property
    def eta(self) -> FloatArray:
        return np.asarray(-np.log(np.tan(0.5 * self.perigee[:, THETA])))

    @property
    def charge(self) -> FloatArray:
        return np.asarray(np.sign(self.perigee[:, QOP]))


def initial_parameters(points: FloatArray, surf0: Surfaces, field: MagneticField) -> FloatArray:
    """Bound state on the first surface from three points per track (circle + line).

    Shapes: points (T, 3, 3) (first, middle, last hit; xyz) → (T, 5).
    """
    p1, p2, p3 = points[:, 0], points[:, 1], points[:, 2]
    ax, ay = p2[:, 0] - p1[:, 0], p2[:, 1] - p1[:, 1]
    bx, by = p3[:, 0] - p2[:, 0], p3[:, 1] - p2[:, 1]
    cross = ax * by - ay * bx
    l12, l23 = np.hypot(ax, ay), np.hypot(bx, by)
    l13 = np.hypot(p3[:, 0] - p1[:, 0], p3[:, 1] - p1[:, 1])
    kappa = 2.0 * cross / np.maximum(l12 * l23 * l13, 1e-300)
    half = np.arcsin(np.clip(0.5 * l12 * kappa, -1.0, 1.0))
    phi = np.arctan2(ay, ax) - half
    arc = np.where(np.abs(half) > 1e-12, 2 * np.abs(half) / np.maximum(np.abs(kappa), 1e-300), l12)
    cot = (p2[:, 2] - p1[:, 2]) / np.maximum(arc, 1e-9)
    theta = np.arctan2(1.0, cot)
    bz = _field(field, p1)[:, 2]
    pt = C_LIGHT_GEV_PER_T_MM * np.abs(bz) / np.maximum(np.abs(kappa), 1e-6)
    pt = np.minimum(pt, 1e3)
    # counter-clockwise turning (κ > 0) in a field along +z is a negative charge
    qop = -np.where(kappa >= 0, 1.0, -1.0) * np.sin(theta) / pt
    loc = local_position(surf0, p1)
    return np.stack([loc[:, 0], loc[:, 1], phi, theta, qop], axis=1)


class KalmanFitter:
    """Fit tracks (filter + smoother, see the module docstring)."""

    def __init__(self, field: MagneticField, config: KalmanConfig | None = None) -> None:
        self.field = field
        self.config = config or KalmanConfig()

    def fit(
        self,
        measurements: FloatArray,
        meas_cov: FloatArray,
        surfaces: Surfaces,
        offsets: IntArray,
        initial: FloatArray | None = None,
    ) -> TrackFit:
        """Fit ``T`` tracks whose hits are given in CSR form, ordered along each track.

        Parameters
        ----------
        measurements : (N, 2)
            Local (u, v) of each hit on its surface [mm].
        meas_cov : (N, 2, 2)
            Measurement covariance [mm²].
        surfaces : Surfaces of length N
            The plane of each hit.
        offsets : (T + 1,)
            Track ``t`` owns rows ``offsets[t]:offsets[t + 1]``.
        initial : (T, 5), optional
            Starting bound state on each track's first surface; by default a
            circle + line estimate from the first, middle and last hit.

        Raises
        ------
        FitError
            A track with fewer than 3 hits, or non-finite measurements or
            measurement covariances.
        """
        cfg = self.config
        offsets = np.asarray(offsets, dtype=np.int64)
        n_hits = np.diff(offsets)
        if np.any(n_hits < 3):
            bad = int(np.flatnonzero(n_hits < 3)[0])
            raise FitError(f"track {bad} has {int(n_hits[bad])} hits; a fit needs at least 3")
        if not np.all(np.isfinite(measurements)):
            raise FitError("non-finite measurement")
        if not np.all(np.isfinite(meas_cov)):
            raise FitError("non-finite (NaN or infinite) measurement covariance")
        n_t = len(n_hits)
        h_max = int(n_hits.max()) if n_t else 0
        # (T, Hmax) table of hit rows, -1 beyond a track's length
        rank = np.arange(h_max)[None, :]
        table = np.where(rank < n_hits[:, None], offsets[:-1, None] + rank, -1)
        if initial is None:
            mid = offsets[:-1] + n_hits // 2
            last = offsets[1:] - 1
            pts = np.stack(
                [
                    self._global(measurements, surfaces, offsets[:-1]),
                    self._global(measurements, surfaces, mid),
                    self._global(measurements, surfaces, last),
                ],
                axis=1,
            )
            initial = initial_parameters(pts, surfaces.take(offsets[:-1]), self.field)
        state = np.asarray(initial, dtype=np.float64).copy()
        result = None
        for _ in range(cfg.iterations):
            result = self._pass(measurements, meas_cov, surfaces, table, n_hits, state)
            state = result.smoothed[:, 0, :].copy()
            bad = ~np.all(np.isfinite(state), axis=1)
            state[bad] = initial[bad]
        assert result is not None
        return self._with_perigee(result, surfaces.take(offsets[:-1]))

    @staticmethod
    def _global(meas: FloatArray, surf: Surfaces, rows: IntArray) -> FloatArray:
        rot = surf.rotation[rows]
        out: FloatArray = (
            surf.center[rows] + rot[:, :, 0] * meas[rows, 0:1] + rot[:, :, 1] * meas[rows, 1:2]
        )
        return out

    def _pass(
        self,
        meas: FloatArray,
        meas_cov: FloatArray,
        surfaces: Surfaces,
        table: IntArray,
        n_hits: IntArray,
        start: FloatArray,
    ) -> TrackFit:
        cfg = self.config
        n_t, h_max = table.shape
        x_pred = np.full((n_t, h_max, 5), np.nan)
        p_pred = np.full((n_t, h_max, 5, 5), np.nan)
        x_filt = np.full((n_t, h_max, 5), np.nan)
        p_filt = np.full((n_t, h_max, 5, 5), np.nan)
        jacs = np.full((n_t, h_max, 5, 5), np.nan)  # J from hit k-1 to hit k
        chi2 = np.zeros(n_t)
        ok = np.ones(n_t, dtype=bool)
        x = start.copy()
        p = np.zeros((n_t, 5, 5))
        p[:, range(5), range(5)] = np.square(cfg.initial_sigma)
        p[:, QOP, QOP] = np.maximum(np.square(cfg.initial_sigma[QOP]), np.square(start[:, QOP]))
        for k in range(h_max):
            act = np.flatnonzero((k < n_hits) & ok)
            rows = table[act, k]
            surf = surfaces.take(rows)
            xa, pa = x[act], p[act]
            if k > 0:
                prev = surfaces.take(table[act, k - 1])
                if cfg.multiple_scattering:
                    pa = pa + scattering_noise(xa, prev, cfg.mass)
                xa, jac, good = transport(
                    xa, prev, surf, self.field, cfg.step_mm, cfg.newton_iterations
                )
                pa = jac @ pa @ np.transpose(jac, (0, 2, 1))
                jacs[act, k] = jac
                ok[act[~good]] = False
            x_pred[act, k], p_pred[act, k] = xa, pa
            # update with the 2-D local position: H = [I2 0]
            r = meas[rows] - xa[:, :2]
            s = pa[:, :2, :2] + meas_cov[rows]
            # a transport that failed or blew up (loopers: Jacobians of 1e8 give a numerically
            # singular S) flags its track instead of stopping the whole batch
            bad = ~np.all(np.isfinite(s), axis=(1, 2)) | ~np.all(np.isfinite(xa), axis=1)
            with np.errstate(invalid="ignore", over="ignore"):
                s_ok = np.where(bad[:, None, None], np.eye(2), s)
                det = s_ok[:, 0, 0] * s_ok[:, 1, 1] - s_ok[:, 0, 1] * s_ok[:, 1, 0]
                bad |= ~(det > 1e-9 * np.abs(s_ok[:, 0, 0] * s_ok[:, 1, 1]))
            if bad.any():
                ok[act[bad]] = False
                s = np.where(bad[:, None, None], np.eye(2), s)
                xa = np.where(bad[:, None], 0.0, xa)
                pa = np.where(bad[:, None, None], np.eye(5), pa)
                r = np.where(bad[:, None], 0.0, r)
            s_inv = np.linalg.inv(s)
            xa, pa = gain_update(xa, pa, r, s_inv)
            xa[:, PHI] = wrap_phi(xa[:, PHI])
            pa = 0.5 * (pa + np.transpose(pa, (0, 2, 1)))
            chi2[act] += np.einsum("ki,kij,kj->k", r, s_inv, r)
            x_filt[act, k], p_filt[act, k] = xa, pa
            x[act], p[act] = xa, pa
        # Rauch–Tung–Striebel smoother, from the last hit of each track inwards
        x_s = x_filt.copy()
        p_s = p_filt.copy()
        for k in range(h_max - 2, -1, -1):
            act = np.flatnonzero((k + 1 < n_hits) & ok)
            if not len(act):
                continue
            jac = jacs[act, k + 1]
            pp_inv = np.linalg.inv(p_pred[act, k + 1])
            a = p_filt[act, k] @ np.transpose(jac, (0, 2, 1)) @ pp_inv
            dx = x_s[act, k + 1] - x_pred[act, k + 1]
            dx[:, PHI] = wrap_phi(dx[:, PHI])
            x_s[act, k] = x_filt[act, k] + np.einsum("kij,kj->ki", a, dx)
            x_s[act, k, PHI] = wrap_phi(x_s[act, k, PHI])
            dp = p_s[act, k + 1] - p_pred[act, k + 1]
            p_s[act, k] = p_filt[act, k] + a @ dp @ np.transpose(a, (0, 2, 1))
            # the RTS update is symmetric only up to rounding, which poorly constrained
            # tracks (few hits, long lever arm) amplify: symmetrise
            p_s[act, k] = 0.5 * (p_s[act, k] + np.transpose(p_s[act, k], (0, 2, 1)))
        ok &= np.all(np.isfinite(x_s[:, 0]), axis=1) & np.all(np.isfinite(p_s[:, 0]), axis=(1, 2))
        return TrackFit(
            perigee=np.full((n_t, 5), np.nan),
            perigee_cov=np.full((n_t, 5, 5), np.nan),
            smoothed=x_s,
            smoothed_cov=p_s,
            chi2=chi2,
            ndf=(2 * n_hits - 5).astype(np.int64),
            ok=ok,
        )

    def _with_perigee(self, fit: TrackFit, first: Surfaces) -> TrackFit:
        """Transport the smoothed first-hit states to their perigee planes."""
        cfg = self.config
        x0 = fit.smoothed[:, 0, :]
        p0 = fit.smoothed_cov[:, 0]
        good = fit.ok.copy()
        x0 = np.where(good[:, None], x0, 0.0)
        x0[~good, THETA] = 1.0
        x0[~good, QOP] = 1.0
        pos, t = bound_to_free(x0, first)
        # the perigee plane depends on the direction at the perigee: iterate
        per = perigee_surfaces(pos, t)
        for _ in range(3):
            pos2, t2, _, ok = propagate_to_planes(
                pos, t, x0[:, QOP], per, self.field, cfg.step_mm, cfg.newton_iterations
            )
            per = perigee_surfaces(pos2, t2)
        par, jac, ok2 = transport(x0, first, per, self.field, cfg.step_mm, cfg.newton_iterations)
        cov = jac @ p0 @ np.transpose(jac, (0, 2, 1))
        cov = 0.5 * (cov + np.transpose(cov, (0, 2, 1)))
        good &= ok & ok2 & np.all(np.isfinite(cov), axis=(1, 2))
        par[~good] = np.nan
        cov[~good] = np.nan
        return TrackFit(par, cov, fit.smoothed, fit.smoothed_cov, fit.chi2, fit.ndf, good)
