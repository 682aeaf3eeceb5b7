"""Axially symmetric magnetic field maps, and how to measure one from TrackML truth.

The field points along +z.  :class:`UniformField` is the toy used by the quick
simulator; :class:`SolenoidField` is a smooth finite-solenoid map whose parameters
were fitted to the real TrackML event (:data:`TRACKML_FIELD`).

Measuring the field
-------------------
For three consecutive true hits of one particle, the circle through them in x-y
has signed curvature ``κ`` [1/mm]; with the true transverse momentum ``pT`` [GeV]
and charge ``q`` [e] at the middle hit, ``b = -q pT κ / C`` [T] is the field that
bends the track (``C`` = :data:`~tracklearn.units.C_LIGHT_GEV_PER_T_MM`).

``b`` is **not** ``Bz``.  With ``v = vT û + vz ẑ`` and ``B = Br r̂ + Bz ẑ`` the
transverse force normal to ``û`` is ``q (vz Br (r̂·û) - vT Bz)``, so::

    b = Bz - (pz / pT) (r̂·û) Br  =  Bz - w Br

For a track from the origin ``w ≈ z / r`` and, with ``Br = -(r/2) dBz/dz``,
``b ≈ Bz + (z/2) dBz/dz``: beyond the end of the coil, where ``Bz`` falls, the
radial field unbends forward tracks and ``b`` drops to about zero at
``|z| ≈ 2.5 m`` while ``Bz`` is still about 1 T.  A map fitted by equating
``Bz`` with ``b`` would therefore be wrong exactly where it matters, and a
propagator that adds its ``Br`` would count the fall-off twice.
:func:`fit_solenoid_field` fits ``Bz - w Br`` to ``b``
(see :func:`bending_field`).  ``b`` is kept signed: in the endcaps it is
compatible with zero, and taking ``|b|`` would bias its median upwards.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

from tracklearn.edm import Particles, Truth
from tracklearn.edm._table import Column, Table
from tracklearn.errors import TracklearnError
from tracklearn.typing import FloatArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

log = logging.getLogger(__name__)


class FieldFitError(TracklearnError):
    """The field fit had too few samples or did not converge."""


class MagneticField(Protocol):
    """A static magnetic field, evaluated at many points at once."""

    def __call__(
        self, x: npt.ArrayLike, y: npt.ArrayLike, z: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Field ``(Bx, By, Bz)`` [T] at points ``(x, y, z)`` [mm].

        Shapes
        ------
        ``x``, ``y``, ``z``: any broadcastable shapes; each output is float64 of
        the broadcast shape.
        """
        ...

    def bz(self, r: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
        """Axial component [T] at radius ``r`` [mm] and ``z`` [mm] (broadcast)."""
        ...


def _broadcast(*arrays: npt.ArrayLike) -> list[FloatArray]:
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays)]


@dataclass(frozen=True)
class UniformField:
    """``B = (0, 0, bz_tesla)`` everywhere: the toy field of the quick simulator.

    Attributes
    ----------
    bz_tesla
        Axial field [T].
    """

    bz_tesla: float = 2.0

    def __call__(
        self, x: npt.ArrayLike, y: npt.ArrayLike, z: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Field ``(0, 0, bz_tesla)`` [T] at points [mm], float64 of the broadcast shape."""
        xx, _, _ = _broadcast(x, y, z)
        return np.zeros_like(xx), np.zeros_like(xx), np.full_like(xx, self.bz_tesla)

    def bz(self, r: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
        """Axial component [T] at ``r``, ``z`` [mm], float64 of the broadcast shape."""
        rr, _ = _broadcast(r, z)
        return np.full_like(rr, self.bz_tesla)


@dataclass(frozen=True)
class SolenoidField:
    """Smooth field of a finite solenoid, axially symmetric about z.

    ``Bz`` is the on-axis field of a thin current sheet of half-length ``L`` and
    radius ``a``, scaled so that ``Bz(0, 0) = B0``::

        Bz(z) = B0 [g(z + L) - g(z - L)] / (2 g(L)),   g(u) = u / sqrt(u² + a²)

    taken independent of ``r``, and the radial component is the first-order term
    of ``div B = 0``::

        Br(r, z) = -(r / 2) dBz/dz

    With an r-independent ``Bz`` this pair is exactly divergence-free; its curl,
    ``-(r/2) d²Bz/dz²``, is second order.  The TrackML event cannot resolve an
    ``r`` dependence of ``Bz`` (see :func:`bending_field`), so none is modelled.

    Attributes
    ----------
    b0_tesla
        Field at the centre [T].
    half_length_mm
        Half-length ``L`` of the current sheet [mm].
    radius_mm
        Radius ``a`` of the current sheet [mm]; it sets how gently the field
        falls off around ``|z| = L``.
    """

    b0_tesla: float = 2.0
    half_length_mm: float = 2600.0
    radius_mm: float = 1300.0

    def __post_init__(self) -> None:
        for name in ("b0_tesla", "half_length_mm", "radius_mm"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise ValueError(f"SolenoidField.{name} must be finite, got {value}")
        if self.half_length_mm <= 0 or self.radius_mm <= 0:
            raise ValueError(
                "SolenoidField half_length_mm and radius_mm must be positive, got "
                f"{self.half_length_mm} and {self.radius_mm}"
            )

    @property
    def _scale(self) -> float:
        # B0 / (2 g(L)) [T], so that Bz(0) = B0
        L, a = self.half_length_mm, self.radius_mm
        return float(self.b0_tesla * np.sqrt(L * L + a * a) / (2.0 * L))

    def _profile_and_slope(self, z: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``Bz`` [T] and ``dBz/dz`` [T/mm] on the axis, sharing the square roots.

        With ``s = 1 / sqrt(u² + a²)``: ``g(u) = u s`` and ``g'(u) = a² s³``.
        """
        a2 = self.radius_mm**2
        up, um = z + self.half_length_mm, z - self.half_length_mm
        sp, sm = 1.0 / np.sqrt(up * up + a2), 1.0 / np.sqrt(um * um + a2)
        profile = self._scale * (up * sp - um * sm)
        slope = (self._scale * a2) * (sp * sp * sp - sm * sm * sm)
        return np.asarray(profile), np.asarray(slope)

    def bz(self, r: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
        """Axial component [T] at ``r``, ``z`` [mm], float64 of the broadcast shape."""
        _, zz = _broadcast(r, z)
        return self._profile_and_slope(zz)[0]

    def dbz_dz(self, r: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
        """``dBz/dz`` [T/mm] at ``r``, ``z`` [mm], float64 of the broadcast shape."""
        _, zz = _broadcast(r, z)
        return self._profile_and_slope(zz)[1]

    def br(self, r: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
        """Radial component ``-(r/2) dBz/dz`` [T] at ``r``, ``z`` [mm] (broadcast)."""
        rr, zz = _broadcast(r, z)
        return -0.5 * rr * self._profile_and_slope(zz)[1]

    def __call__(
        self, x: npt.ArrayLike, y: npt.ArrayLike, z: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Field ``(Bx, By, Bz)`` [T] at points ``(x, y, z)`` [mm].

        ``Bx = Br x / r = -(x/2) dBz/dz``, so no division by ``r`` is needed and
        the field on the axis is exactly ``(0, 0, Bz)``.

        Shapes
        ------
        Inputs broadcast together; outputs are float64 of the broadcast shape.
        """
        xx, yy, zz = _broadcast(x, y, z)
        bz, slope = self._profile_and_slope(zz)
        half_slope = -0.5 * slope
        return half_slope * xx, half_slope * yy, bz


#: The symmetric current-sheet fit to ``event000000001`` that :data:`TRACKML_FIELD`
#: was until the q/p pulls on the real event showed its limits (kept for comparison;
#: ``scripts/derive_field_map.py`` prints both).  The fitted current sheet (2.60 m
#: half-length, 1.30 m radius) is close to the ATLAS central solenoid (2.65 m,
#: 1.23 m) the TrackML detector imitates; ``Bz`` is 2.00 T at the centre, 1.45 T at
#: ``|z|`` = 2.15 m and 1.02 T at 2.7 m.  It cannot describe the real field: the
#: measured bending field is not symmetric in z (at ``z`` = -2.25 m it is 0.89 T, at
#: +2.25 m 0.41 T, against 0.70 T from this map on both sides), which biased the
#: momentum of forward tracks by 10-30 %.
TRACKML_SOLENOID_FIELD: SolenoidField = SolenoidField(
    b0_tesla=2.0014, half_length_mm=2602.9, radius_mm=1299.5
)

#: Degree of the on-axis spline of :class:`AxialMapField`.
SPLINE_DEGREE = 5


@dataclass(frozen=True, eq=False)
class AxialMapField:
    """Axially symmetric field from its on-axis profile ``Bz(0, z) = f(z)``.

    ``f`` is a quintic spline (B-spline ``coefficients`` on ``knots_mm``, clamped
    ends, so ``f`` to ``f4`` are continuous); off the axis the field is the series
    solution of ``div B = 0`` and ``curl B = 0`` to third order in ``r``::

        Bz(r, z) = f - (r²/4) f2,      Br(r, z) = -(r/2) f1 + (r³/16) f3

    (``fN`` the N-th derivative of ``f``), which is exactly divergence-free; its
    curl, ``(r³/16) f4``, is of fourth order.  (A cubic spline would not do: its
    ``f3`` jumps at every knot, and with it ``Br`` by up to 0.1 T at r = 1 m.)
    Unlike :class:`SolenoidField` the profile is free: it can be asymmetric in z
    and fall off as the data say.
    Beyond the knot range the field keeps its end value with no radial part (far
    outside the tracker).

    Attributes
    ----------
    knots_mm
        Increasing breakpoints of the spline [mm].
    coefficients
        ``len(knots_mm) + 4`` B-spline coefficients [T].
    """

    knots_mm: tuple[float, ...]
    coefficients: tuple[float, ...]

    def __post_init__(self) -> None:
        k = np.asarray(self.knots_mm, dtype=np.float64)
        c = np.asarray(self.coefficients, dtype=np.float64)
        if len(k) < 2 or np.any(np.diff(k) <= 0) or not np.all(np.isfinite(k)):
            raise ValueError("AxialMapField.knots_mm must be at least 2 increasing finite values")
        n_coef = len(k) + SPLINE_DEGREE - 1
        if len(c) != n_coef or not np.all(np.isfinite(c)):
            raise ValueError(f"AxialMapField needs {n_coef} finite coefficients, got {len(c)}")
        from scipy.interpolate import BSpline, PPoly

        pp = PPoly.from_spline(BSpline(_clamped_knots(k), c, SPLINE_DEGREE))
        # the pieces inside the knot range: (6, len(k) - 1) polynomial coefficients,
        # highest power first, in the local variable z - breakpoint
        first = int(np.searchsorted(pp.x, k[0], side="right")) - 1
        poly = np.asarray(pp.c[:, first : first + len(k) - 1])[::-1]  # (6, P), lowest power first
        # coefficients of f and its first three derivatives in powers of t = z - breakpoint:
        # d^nu/dt^nu Σ_j a_j t^j = Σ_i a_(i+nu) (i+nu)!/i! t^i
        deriv = np.zeros((4, SPLINE_DEGREE + 1, poly.shape[1]))
        for nu in range(4):
            for i in range(SPLINE_DEGREE + 1 - nu):
                deriv[nu, i] = math.perm(i + nu, nu) * poly[i + nu]
        object.__setattr__(self, "_breaks", k)
        object.__setattr__(self, "_deriv", deriv)

    def _profile(self, z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """``f`` [T] and its first three derivatives [T/mm, T/mm², T/mm³] at ``z`` [mm]."""
        breaks: FloatArray = self._breaks  # type: ignore[attr-defined]
        deriv: FloatArray = self._deriv  # type: ignore[attr-defined]
        shape = np.shape(z)
        zf = np.ravel(z)
        zc = np.clip(zf, breaks[0], breaks[-1])
        piece = np.clip(np.searchsorted(breaks, zc, side="right") - 1, 0, len(breaks) - 2)
        t = zc - breaks[piece]
        powers = np.empty((SPLINE_DEGREE + 1, len(t)))  # t^0 ... t^5
        powers[0] = 1.0
        for i in range(1, SPLINE_DEGREE + 1):
            powers[i] = powers[i - 1] * t
        vals = np.einsum("dkn,kn->dn", deriv[:, :, piece], powers)
        outside = (zf < breaks[0]) | (zf > breaks[-1])
        vals[1:, outside] = 0.0  # beyond the map: constant end value, no radial field
        f, f1, f2, f3 = (v.reshape(shape) for v in vals)
        return f, f1, f2, f3

    def bz(self, r: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
        """Axial component [T] at ``r``, ``z`` [mm], float64 of the broadcast shape."""
        rr, zz = _broadcast(r, z)
        f, _, f2, _ = self._profile(zz)
        return np.asarray(f - 0.25 * rr * rr * f2)

    def br(self, r: npt.ArrayLike, z: npt.ArrayLike) -> FloatArray:
        """Radial component [T] at ``r``, ``z`` [mm] (broadcast)."""
        rr, zz = _broadcast(r, z)
        _, f1, _, f3 = self._profile(zz)
        return np.asarray(-0.5 * rr * f1 + rr**3 / 16.0 * f3)

    def __call__(
        self, x: npt.ArrayLike, y: npt.ArrayLike, z: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Field ``(Bx, By, Bz)`` [T] at points ``(x, y, z)`` [mm].

        ``Bx = (Br / r) x`` with ``Br / r = -f1/2 + r² f3/16``: no division by ``r``.

        Shapes
        ------
        Inputs broadcast together; outputs are float64 of the broadcast shape.
        """
        xx, yy, zz = _broadcast(x, y, z)
        f, f1, f2, f3 = self._profile(zz)
        r2 = xx * xx + yy * yy
        per_r = -0.5 * f1 + r2 / 16.0 * f3  # Br / r
        return per_r * xx, per_r * yy, np.asarray(f - 0.25 * r2 * f2)


def _clamped_knots(breaks: FloatArray) -> FloatArray:
    """Knot vector of a spline of :data:`SPLINE_DEGREE` with clamped ends on ``breaks``."""
    d = SPLINE_DEGREE
    return np.r_[[breaks[0]] * d, breaks, [breaks[-1]] * d]


#: Field of the real TrackML detector: the on-axis profile fitted to ``event000000001``
#: (:func:`measure_field` with its default cuts, 1683 triplets, then
#: :func:`fit_axial_field` with its defaults; ``scripts/derive_field_map.py`` refits
#: and prints it).  ``Bz`` is 2.00 T at the centre; the profile is not symmetric in z:
#: on the axis it is 1.60 T at ``z`` = -2 m and 1.43 T at +2 m.  The median measured bending field
#: agrees with the map within 0.02 T in every 500 mm band of z from -3 to +3 m
#: (:data:`TRACKML_SOLENOID_FIELD`: up to 0.33 T off at +2.25 m).
TRACKML_FIELD: AxialMapField = AxialMapField(
    knots_mm=tuple(float(z) for z in range(-4500, 4501, 300)),
    coefficients=(
        0.01437,
        0.07233,
        0.13579,
        0.21057,
        0.30388,
        0.42525,
        0.58740,
        0.80793,
        1.08691,
        1.34446,
        1.55494,
        1.72145,
        1.82604,
        1.89993,
        1.94961,
        1.98231,
        1.99519,
        2.00106,
        1.98373,
        1.95895,
        1.90405,
        1.84117,
        1.72068,
        1.59043,
        1.34252,
        1.09091,
        0.85283,
        0.65011,
        0.50148,
        0.38760,
        0.29860,
        0.22767,
        0.16928,
        0.11881,
        0.07223,
    ),
)


@dataclass(frozen=True, eq=False)
class FieldSamples(Table):
    """Local bending-field measurements, one row per hit triplet.

    Attributes
    ----------
    r, z : float64, shape (S,)
        Transverse radius and z of the middle hit [mm].
    b : float64, shape (S,)
        Measured bending field ``-q pT κ / C`` [T]; positive when the track bends
        as in a +z field.  Signed: noise can make it negative where it is small.
    br_weight : float64, shape (S,)
        Dimensionless ``w = (pz / pT) (r̂·û)`` at the middle hit, so that
        ``b ≈ Bz - w Br`` (``û`` is the transverse momentum direction).
    """

    r: FloatArray
    z: FloatArray
    b: FloatArray
    br_weight: FloatArray

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("r", "float64", "mm"),
        Column("z", "float64", "mm"),
        Column("b", "float64", "T"),
        Column("br_weight", "float64"),
    )
    SOURCE: ClassVar[str] = "field samples"


def bending_field(field: MagneticField, samples: FieldSamples) -> FloatArray:
    """What :func:`measure_field` should measure in ``field``: ``Bz - w Br`` [T].

    Evaluated at the middle hit (the circle through three hits averages the
    curvature over the triplet; on the real event this smears ``b`` by a few
    per cent at the steepest point, well below the per-triplet scatter).

    Shapes
    ------
    ``samples`` with S rows → (S,).
    """
    # at (r, 0, z) the x component of the field is Br
    br, _, bz = field(samples.r, 0.0, samples.z)
    return np.asarray(bz - samples.br_weight * br)


def measure_field(
    truth: Truth,
    particles: Particles,
    *,
    pt_min: float = 0.3,
    pt_max: float = 10.0,
    min_step: float = 5.0,
) -> FieldSamples:
    """Measure the local bending field from consecutive true hits of each particle.

    For every particle, its hits are ordered by distance from its production
    vertex (the order along the track for tracks that do not loop back, which
    ``pt_min`` ensures), and each run of three consecutive hits gives one sample:
    the signed curvature ``κ`` of the circle through the three true positions
    (``tx``, ``ty``) in x-y, and ``b = -q pT κ / C`` with the true ``pT``, ``pz``
    (``tpx``, ``tpy``, ``tpz``) of the middle hit.

    Cuts
    ----
    - noise hits (``particle_id`` 0) and neutral particles are skipped;
    - a triplet is kept only if both transverse steps are at least ``min_step``:
      this drops coincident points and the pairs of hits a particle leaves on
      overlapping modules of one layer, whose circle is undefined or dominated
      by rounding;
    - the middle hit's ``pT`` must lie in [``pt_min``, ``pt_max``]: below about
      0.3 GeV multiple scattering, energy loss and loopers bias ``b`` upwards in
      the endcaps; above 10 GeV the sagitta over ~100 mm steps is under 0.3 mm
      and there are very few tracks.

    Collinear triplets are not degenerate here: ``κ`` is computed as
    ``2 (p2 - p1) × (p3 - p1) / (|p2 - p1| |p3 - p2| |p3 - p1|)``, which is simply
    zero for them, and near-zero ``b`` is exactly what the endcaps measure.

    Parameters
    ----------
    truth
        Per-hit truth of one event.
    particles
        Its particles (for charge and production vertex).  Hits of particles
        missing from this table are skipped.
    pt_min, pt_max
        Window of the middle hit's transverse momentum [GeV].
    min_step
        Smallest transverse distance between consecutive hits of a triplet [mm].

    Returns
    -------
    FieldSamples
        One row per accepted triplet.
    """
    keep = truth.particle_id != 0
    pid = truth.particle_id[keep]
    known = np.isin(pid, particles.particle_id)
    if not np.all(known):
        log.debug("measure_field: %d hits of unknown particles skipped", np.sum(~known))
    order_p = np.argsort(particles.particle_id, kind="stable")
    rows = np.flatnonzero(keep)[known]
    prow = order_p[np.searchsorted(particles.particle_id[order_p], pid[known])]
    charge = particles.q[prow].astype(np.float64)
    rows, prow, charge = rows[charge != 0], prow[charge != 0], charge[charge != 0]

    x, y, z = truth.tx[rows], truth.ty[rows], truth.tz[rows]
    dist = np.sqrt(
        (x - particles.vx[prow]) ** 2
        + (y - particles.vy[prow]) ** 2
        + (z - particles.vz[prow]) ** 2
    )
    # group by particle, then along the track; lexsort sorts by the last key first
    o = np.lexsort((dist, truth.particle_id[rows]))
    rows, charge = rows[o], charge[o]
    pid_s = truth.particle_id[rows]
    x, y, z = truth.tx[rows], truth.ty[rows], truth.tz[rows]
    # triplet (i, i+1, i+2) belongs to one particle iff its ends do (rows are grouped)
    i = np.flatnonzero(pid_s[:-2] == pid_s[2:]) if len(rows) >= 3 else np.empty(0, np.int64)
    j, k = i + 1, i + 2

    ax, ay = x[j] - x[i], y[j] - y[i]
    bx, by = x[k] - x[j], y[k] - y[j]
    step1, step2 = np.hypot(ax, ay), np.hypot(bx, by)
    chord = np.hypot(x[k] - x[i], y[k] - y[i])
    px, py, pz = truth.tpx[rows[j]], truth.tpy[rows[j]], truth.tpz[rows[j]]
    pt = np.hypot(px, py)
    good = (np.minimum(step1, step2) >= min_step) & (pt >= pt_min) & (pt <= pt_max)
    i, j, k = i[good], j[good], k[good]
    ax, ay, bx, by = ax[good], ay[good], bx[good], by[good]
    step1, step2, chord = step1[good], step2[good], chord[good]
    px, py, pz, pt = px[good], py[good], pz[good], pt[good]

    # (p2 - p1) × (p3 - p1) = (p2 - p1) × (p3 - p2); positive when turning counter-clockwise
    cross = ax * by - ay * bx
    kappa = 2.0 * cross / (step1 * step2 * chord)
    # a positive charge turns clockwise in a +z field (see geometry.helix), so b > 0 there
    b = -charge[j] * pt * kappa / C_LIGHT_GEV_PER_T_MM
    r = np.hypot(x[j], y[j])
    radial_dot_u = (x[j] * px + y[j] * py) / (r * pt)
    return FieldSamples(r=r, z=z[j], b=b, br_weight=(pz / pt) * radial_dot_u)


def fit_solenoid_field(
    samples: FieldSamples,
    start: SolenoidField | None = None,
    *,
    f_scale: float = 0.05,
    min_samples: int = 20,
) -> SolenoidField:
    """Fit :class:`SolenoidField` to measured bending fields by robust least squares.

    Minimises ``Σ ρ((bending_field(field) - b)² / f_scale²)`` over ``B0``, ``L``
    and ``a`` with the soft-L1 loss ``ρ(s) = 2 (sqrt(1 + s) - 1)``: quadratic
    for residuals below ``f_scale`` and linear beyond, so the long tails from
    multiple scattering do not pull the fit (with ``f_scale`` near the core
    width it behaves much like a median).

    Parameters
    ----------
    samples
        Output of :func:`measure_field`; it needs tracks beyond ``|z|`` ≈ 1.5 m
        to constrain ``L`` and ``a``.
    start
        Starting point (default ``SolenoidField()``).
    f_scale
        Residual scale of the soft-L1 loss [T].
    min_samples
        Fewer samples than this raise :class:`FieldFitError`.

    Returns
    -------
    SolenoidField
        The fitted field.
    """
    if len(samples) < min_samples:
        raise FieldFitError(f"need at least {min_samples} field samples, got {len(samples)}")
    s0 = start or SolenoidField()

    def residuals(p: FloatArray) -> FloatArray:
        field = SolenoidField(b0_tesla=p[0], half_length_mm=p[1], radius_mm=p[2])
        return bending_field(field, samples) - samples.b

    x0 = np.array([s0.b0_tesla, s0.half_length_mm, s0.radius_mm])
    result = least_squares(
        residuals,
        x0,
        bounds=([0.0, 1.0, 1.0], [np.inf, np.inf, np.inf]),
        loss="soft_l1",
        f_scale=f_scale,
        x_scale=np.array([1.0, 1000.0, 1000.0]),
    )
    if not result.success:
        raise FieldFitError(f"solenoid field fit did not converge: {result.message}")
    b0, half_length, radius = (float(v) for v in result.x)
    log.debug("fitted solenoid: B0=%.4f T, L=%.1f mm, a=%.1f mm", b0, half_length, radius)
    return SolenoidField(b0_tesla=b0, half_length_mm=half_length, radius_mm=radius)


def fit_axial_field(
    samples: FieldSamples,
    *,
    knot_spacing_mm: float = 300.0,
    z_range_mm: float = 4500.0,
    prior: MagneticField | None = None,
    prior_from_mm: float = 3300.0,
    smoothness: float = 1.0,
    f_scale: float = 0.05,
    min_samples: int = 20,
) -> AxialMapField:
    """Fit an :class:`AxialMapField` to measured bending fields (robust least squares).

    The bending field ``b = Bz - w Br`` is linear in the spline coefficients, so
    the fit is a robust linear least-squares problem (soft-L1 loss with scale
    ``f_scale`` [T], as in :func:`fit_solenoid_field`) regularised by
    ``smoothness`` times the second differences of the coefficients.  Where the
    samples end (``|z| > prior_from_mm``) the on-axis profile is tied weakly to
    that of ``prior`` (default :data:`TRACKML_SOLENOID_FIELD`), so that the map
    falls off sensibly up to ``z_range_mm``.

    Parameters
    ----------
    samples
        Output of :func:`measure_field`.
    knot_spacing_mm, z_range_mm
        Breakpoints every ``knot_spacing_mm`` over ``[-z_range_mm, z_range_mm]`` [mm].
    prior, prior_from_mm
        Field whose on-axis ``Bz`` anchors the breakpoints beyond ``prior_from_mm`` [mm].
    smoothness
        Weight of the second differences of the coefficients [1].
    f_scale
        Residual scale of the soft-L1 loss [T].
    min_samples
        Fewer samples than this raise :class:`FieldFitError`.
    """
    if len(samples) < min_samples:
        raise FieldFitError(f"need at least {min_samples} field samples, got {len(samples)}")
    from scipy.interpolate import BSpline

    n_knots = round(2 * z_range_mm / knot_spacing_mm) + 1
    breaks = np.linspace(-z_range_mm, z_range_mm, n_knots)
    t = _clamped_knots(breaks)
    n_coef = n_knots + SPLINE_DEGREE - 1
    eye = np.eye(n_coef)

    def design(z: FloatArray, nu: int) -> FloatArray:
        cols = [BSpline(t, eye[i], SPLINE_DEGREE)(z, nu=nu) for i in range(n_coef)]
        return np.asarray(np.stack(cols, axis=1))

    z = np.clip(samples.z, breaks[0], breaks[-1])
    r, w = samples.r[:, None], samples.br_weight[:, None]
    d0, d1, d2, d3 = (design(z, nu) for nu in range(4))
    # b = Bz - w Br with Bz = f - r² f2 / 4 and Br = -r f1 / 2 + r³ f3 / 16
    a_data = d0 - 0.25 * r**2 * d2 - w * (-0.5 * r * d1 + r**3 / 16.0 * d3)
    prior_field = prior or TRACKML_SOLENOID_FIELD
    zp = breaks[np.abs(breaks) >= prior_from_mm]
    prior_weight = 0.2
    a_prior = prior_weight * design(zp, 0)
    b_prior = prior_weight * prior_field.bz(np.zeros_like(zp), zp)
    a_smooth = smoothness * np.diff(eye, 2, axis=0)
    a = np.vstack([a_data, a_prior, a_smooth])
    b = np.r_[samples.b, b_prior, np.zeros(len(a_smooth))]
    start = np.full(n_coef, float(np.median(samples.b)))
    result = least_squares(lambda c: a @ c - b, start, loss="soft_l1", f_scale=f_scale)
    if not result.success:
        raise FieldFitError(f"axial field fit did not converge: {result.message}")
    return AxialMapField(
        tuple(float(v) for v in breaks), tuple(round(float(v), 5) for v in result.x)
    )
