"""Efficiency on events without hit truth: match fitted tracks to the particle list.

The real full TrackML events we have (``hits_only/``) come with their particle
lists but no hit-to-particle truth.  A primary particle from the beam line is
fully described by its charge, φ0, η, pT and z0; a track finder found it when
one of its tracks, fitted with a helix, has the same charge and parameters
within tolerances several times the fit's resolution.  This is
:func:`truth_free_efficiency`; on simulated events (which have truth) it agrees
with the double-majority efficiency, which is how its tolerances are checked
(``tests/metrics/test_truthfree.py``).

Definitions
-----------
* **Helix fit** (:func:`fit_helices`): an algebraic (Kåsa) circle fit in x-y of
  each track's hits, pT = 0.3·B·R with B = 2 T (the central field), charge from
  the sense of rotation, φ0 the direction at the point of closest approach to
  the beam line, then a straight-line fit of z against the arc length from that
  point, giving z0 and cot θ (η = asinh(cot θ)).
* **Targets**: primaries (production vertex within ``vertex_r_max`` of the beam
  line) with pT ≥ ``pt_min``, |η| ≤ ``eta_max`` and at least ``min_hits`` hits.
* **Found**: some track of ≥ ``min_track_hits`` hits with |Δφ0| ≤ ``dphi``,
  |Δη| ≤ ``deta``, |Δ(q/pT)| ≤ ``dqopt_rel`` / pT + ``dqopt_abs`` (charge and
  curvature together: the relative pT error of a fit grows with pT, so a relative
  cut alone would lose the stiffest tracks) and |Δz0| ≤ ``dz0``; each track can
  find one particle (the nearest in normalised distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Hits, Particles, TrackCandidates
from tracklearn.geometry.coords import wrap_phi
from tracklearn.typing import FloatArray, IntArray

#: curvature radius [mm] per GeV of pT in the central 2 T field: R = pT / (0.3 B)
MM_PER_GEV_2T = 1.0 / (0.299792458e-3 * 2.0)


@dataclass(frozen=True, eq=False)
class HelixParams:
    """Perigee parameters of fitted tracks (NaN where the fit failed), shape (T,) each.

    charge [e], phi0 [rad], eta, pt [GeV] (at 2 T), z0 [mm], d0 [mm] (signed), n_hits.
    """

    charge: FloatArray
    phi0: FloatArray
    eta: FloatArray
    pt: FloatArray
    z0: FloatArray
    d0: FloatArray
    n_hits: IntArray


def _grouped(values: FloatArray, owner: IntArray, n: int) -> FloatArray:
    return np.bincount(owner, weights=values, minlength=n).astype(np.float64)


def fit_helices(hits: Hits, tracks: TrackCandidates) -> HelixParams:
    """Fit every track's hits with a helix (see the module docstring); vectorised."""
    n_t = len(tracks.offsets) - 1
    counts = np.diff(tracks.offsets)
    owner = np.repeat(np.arange(n_t), counts)
    x = hits.x[tracks.hit_index]
    y = hits.y[tracks.hit_index]
    z = hits.z[tracks.hit_index]
    # Kåsa: minimise Σ (x² + y² + D x + E y + F)² → 3×3 normal equations per track, in
    # coordinates centred on each track's hits and scaled by their spread (stiff tracks
    # are nearly straight lines: uncentred, the system is too ill-conditioned)
    sw0 = np.maximum(counts, 1).astype(np.float64)
    xm = _grouped(x, owner, n_t) / sw0
    ym = _grouped(y, owner, n_t) / sw0
    spread = np.sqrt(_grouped((x - xm[owner]) ** 2 + (y - ym[owner]) ** 2, owner, n_t) / sw0)
    spread = np.maximum(spread, 1e-6)
    xs_ = (x - xm[owner]) / spread[owner]
    ys_ = (y - ym[owner]) / spread[owner]
    w = xs_ * xs_ + ys_ * ys_
    cols = (xs_, ys_, np.ones_like(xs_))
    a = np.empty((n_t, 3, 3))
    b = np.empty((n_t, 3))
    for i, ci in enumerate(cols):
        b[:, i] = -_grouped(ci * w, owner, n_t)
        for j, cj in enumerate(cols):
            a[:, i, j] = _grouped(ci * cj, owner, n_t)
    ok = counts >= 3
    a[~ok] = np.eye(3)
    b[~ok] = 0.0
    ok &= np.abs(np.linalg.det(a)) > 1e-14 * sw0**3
    a[~ok] = np.eye(3)
    sol = np.linalg.solve(a, b[:, :, None])[:, :, 0]
    cxs, cys = -0.5 * sol[:, 0], -0.5 * sol[:, 1]
    radius = spread * np.sqrt(np.maximum(cxs * cxs + cys * cys - sol[:, 2], 0.0))
    cx, cy = xm + spread * cxs, ym + spread * cys
    ok &= radius > 0
    # sense of rotation along the track (hits ordered by r): sign of the cross product
    r = np.hypot(x, y)
    order = np.lexsort((r, owner))
    xs, ys, own_s = x[order], y[order], owner[order]
    first = np.searchsorted(own_s, np.arange(n_t))
    last = np.minimum(first + np.maximum(counts, 1) - 1, len(xs) - 1) if len(xs) else first
    if len(xs):
        ax, ay = xs[first] - cx, ys[first] - cy
        bx, by = xs[last] - cx, ys[last] - cy
        sense = np.sign(ax * by - ay * bx)
    else:
        sense = np.zeros(n_t)
    charge = -sense  # h = -sign(q B) with B along +z
    # perigee: the circle point nearest the origin, at distance d from the centre
    dc = np.hypot(cx, cy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = cx / dc, cy / dc
        px, py = cx - radius * ux, cy - radius * uy
        d0 = charge * (dc - radius)
        # direction of motion at the perigee: tangent, oriented by the sense
        phi0 = np.arctan2(sense * (px - cx), -sense * (py - cy))
    # arc length of every hit from the perigee, then z = z0 + cot θ · s
    ang_p = np.arctan2(py - cy, px - cx)
    ang_h = np.arctan2(y - cy[owner], x - cx[owner])
    dang = np.abs(wrap_phi(ang_h - ang_p[owner]))
    s = radius[owner] * dang
    sw = np.maximum(counts, 1).astype(np.float64)
    s_mean = _grouped(s, owner, n_t) / sw
    z_mean = _grouped(z, owner, n_t) / sw
    sxx = _grouped((s - s_mean[owner]) ** 2, owner, n_t)
    sxz = _grouped((s - s_mean[owner]) * (z - z_mean[owner]), owner, n_t)
    with np.errstate(invalid="ignore", divide="ignore"):
        cot = sxz / sxx
        z0 = z_mean - cot * s_mean
    ok &= np.isfinite(cot) & (sxx > 0)
    nan = np.where(ok, 1.0, np.nan)
    return HelixParams(
        charge=charge * nan,
        phi0=phi0 * nan,
        eta=np.arcsinh(cot) * nan,
        pt=radius / MM_PER_GEV_2T * nan,
        z0=z0 * nan,
        d0=d0 * nan,
        n_hits=counts.astype(np.int64),
    )


@dataclass(frozen=True)
class TruthFreeCuts:
    """Targets and tolerances of :func:`truth_free_efficiency` (units in the comments)."""

    pt_min: float = 1.0  # GeV
    eta_max: float = 1.5
    vertex_r_max: float = 1.0  # mm, primaries
    min_hits: int = 5
    min_track_hits: int = 5
    dphi: float = 0.03  # rad
    deta: float = 0.03
    dqopt_rel: float = 0.25  # |Δ(q/pT)| ≤ dqopt_rel / pT + dqopt_abs  [1/GeV]
    dqopt_abs: float = 0.005  # 1/GeV
    dz0: float = 5.0  # mm


@dataclass(frozen=True)
class TruthFreeResult:
    """Targets, found targets and the efficiency (found / targets)."""

    n_targets: int
    n_found: int

    @property
    def efficiency(self) -> float:
        return self.n_found / self.n_targets if self.n_targets else float("nan")


def target_particles(particles: Particles, cuts: TruthFreeCuts) -> npt.NDArray[np.bool_]:
    """Mask of the particles :func:`truth_free_efficiency` counts."""
    pt = np.hypot(particles.px, particles.py)
    eta = np.arcsinh(particles.pz / np.maximum(pt, 1e-12))
    vr = np.hypot(particles.vx, particles.vy)
    return (
        (pt >= cuts.pt_min)
        & (np.abs(eta) <= cuts.eta_max)
        & (vr <= cuts.vertex_r_max)
        & (particles.nhits >= cuts.min_hits)
        & (particles.q != 0)
    )


def truth_free_efficiency(
    hits: Hits,
    tracks: TrackCandidates,
    particles: Particles,
    cuts: TruthFreeCuts | None = None,
) -> TruthFreeResult:
    """Share of target particles some fitted track matches (see the module docstring)."""
    cuts = cuts or TruthFreeCuts()
    fit = fit_helices(hits, tracks)
    keep = (fit.n_hits >= cuts.min_track_hits) & np.isfinite(fit.pt)
    t_q, t_phi, t_eta = fit.charge[keep], fit.phi0[keep], fit.eta[keep]
    t_pt, t_z0 = fit.pt[keep], fit.z0[keep]
    sel = target_particles(particles, cuts)
    p = particles
    q = p.q[sel].astype(np.float64)
    phi = np.arctan2(p.py[sel], p.px[sel])
    pt = np.hypot(p.px[sel], p.py[sel])
    eta = np.arcsinh(p.pz[sel] / pt)
    z0 = p.vz[sel]
    n_targets = int(sel.sum())
    if n_targets == 0 or len(t_pt) == 0:
        return TruthFreeResult(n_targets, 0)
    # candidate pairs by φ0 (sorted tracks, a window per particle), then all cuts
    order = np.argsort(t_phi)
    tp = t_phi[order]
    tp_ext = np.concatenate([tp - 2 * np.pi, tp, tp + 2 * np.pi])
    idx_ext = np.tile(order, 3)
    lo = np.searchsorted(tp_ext, phi - cuts.dphi)
    hi = np.searchsorted(tp_ext, phi + cuts.dphi)
    cnt = hi - lo
    pi = np.repeat(np.arange(n_targets), cnt)
    ti = idx_ext[np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())]
    dphi = np.abs(wrap_phi(t_phi[ti] - phi[pi])) / cuts.dphi
    deta = np.abs(t_eta[ti] - eta[pi]) / cuts.deta
    tol = cuts.dqopt_rel / pt[pi] + cuts.dqopt_abs
    dpt = np.abs(t_q[ti] / t_pt[ti] - q[pi] / pt[pi]) / tol
    dz = np.abs(t_z0[ti] - z0[pi]) / cuts.dz0
    good = (dphi <= 1) & (deta <= 1) & (dpt <= 1) & (dz <= 1)
    pi, ti = pi[good], ti[good]
    dist = (dphi**2 + deta**2 + dpt**2 + dz**2)[good]
    # each track finds at most one particle: the nearest
    o = np.lexsort((dist, ti))
    first_of_track = np.concatenate([[True], ti[o][1:] != ti[o][:-1]]) if len(o) else o
    found = np.unique(pi[o][first_of_track])
    return TruthFreeResult(n_targets, len(found))
