"""Triplet seeds for every pT down to the loopers: windows, compatibility, features.

For each middle hit ``m`` on a seeding layer, inner hits ``i`` and outer hits
``o`` are taken from the layers the training particles crossed just before and
after (the learned layer-triplet table), inside windows that a particle from
the luminous region (``|z0| ≤ z0_max``, ``|d0| ≤ d0_max``) with pT above the
pass's ``pt_min`` can reach.  The two doublet lists are sorted by their r-z
slope so that only pairs with compatible slopes are combined (the ACTS seed
finder's trick); each surviving combination gets the circle through its three
hits and is kept when its curvature, impact parameter, z0 and slope change are
physical.  The survivors carry the features the learned seed classifier reads.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from tracklearn.fullspectrum.grid import HitGrid, cell_ranges
from tracklearn.fullspectrum.helix import arc_length, circle3, wrap
from tracklearn.fullspectrum.layers import LayerSurfaces
from tracklearn.typing import FloatArray, IntArray

#: features of a triplet, in the column order of :func:`find_triplets`' feature array
TRIPLET_FEATURES: tuple[str, ...] = (
    "log_kappa",  # log10 of |curvature| [1/mm]
    "d0",  # |transverse impact parameter| [mm]
    "z0",  # |z at the perigee| [mm]
    "dcot_norm",  # slope change / its multiple-scattering tolerance
    "cot",  # |cot θ| of the outer doublet
    "r_inner",  # [mm]
    "r_middle",
    "r_outer",
    "z_inner_abs",  # |z| [mm]
    "z_middle_abs",
    "z_outer_abs",
    "dphi_norm",  # φ residual of the middle hit w.r.t. the chord, / window
)
N_TRIPLET_FEATURES = len(TRIPLET_FEATURES)


@nb.njit(cache=True, nogil=True)
def _window(
    m_r: float,
    m_z: float,
    m_phi: float,
    lay: int,
    surf: LayerSurfaces,
    kappa_max: float,
    z0_max: float,
    d0_max: float,
    margin_t: float,
) -> tuple[bool, float, float, float, float]:
    """(φ_lo, φ_hi, t_lo, t_hi) on layer ``lay`` of particles through hit m.

    The r-z line through the luminous region (``z0 ∈ [-z0_max, z0_max]``) and m
    bounds t; the curvature ``kappa_max`` and ``d0_max`` bound φ.  Returns
    ``ok = False`` when no such particle reaches the layer.
    """
    barrel, position, t_min, t_max = surf.barrel, surf.position, surf.t_min, surf.t_max
    if barrel[lay]:
        rho = position[lay]
        f = rho / m_r
        zc = m_z * f
        dz = z0_max * abs(1.0 - f) + margin_t
        t_lo, t_hi = zc - dz, zc + dz
        if t_lo < t_min[lay]:
            t_lo = t_min[lay]
        if t_hi > t_max[lay]:
            t_hi = t_max[lay]
        if t_hi < t_lo:
            return False, 0.0, 0.0, 0.0, 0.0
        r_lo = rho
        r_hi = rho
    else:
        zl = position[lay]
        lo = 1e30
        hi = -1e30
        for z0 in (-z0_max, z0_max):
            den = m_z - z0
            if abs(den) < 1e-6:
                continue
            f = (zl - z0) / den
            if f <= 0.0:
                continue
            rr = m_r * f
            lo = min(lo, rr)
            hi = max(hi, rr)
        if hi < lo:
            return False, 0.0, 0.0, 0.0, 0.0
        t_lo = max(lo - margin_t, t_min[lay])
        t_hi = min(hi + margin_t, t_max[lay])
        if t_hi < t_lo:
            return False, 0.0, 0.0, 0.0, 0.0
        r_lo = t_lo
        r_hi = t_hi
    # φ(ρ) = φ0 ± asin(κρ/2) for particles from the beam line
    h_m = min(1.0, 0.5 * kappa_max * m_r)
    dphi = 0.0
    for rr in (r_lo, r_hi):
        h = min(1.0, 0.5 * kappa_max * rr)
        dphi = max(dphi, abs(math.asin(h) - math.asin(h_m)))
    dphi += d0_max / max(r_lo, 1.0) + d0_max / m_r + 0.002
    if dphi > math.pi:
        dphi = math.pi
    return True, m_phi - dphi, m_phi + dphi, t_lo, t_hi


@nb.njit(cache=True, nogil=True)
def _doublets(
    side: int,
    mr: float,
    mz: float,
    mphi: float,
    layers: IntArray,
    grid: HitGrid,
    surf: LayerSurfaces,
    used: npt.NDArray[np.bool_],
    kappa_max: float,
    z0_max: float,
    d0_max: float,
    margin_t: float,
    ranges: IntArray,
    hits_out: IntArray,
    cot_out: FloatArray,
) -> int:
    """Free hits of ``layers`` in the seed window of the middle hit, on its ``side``
    (-1: smaller radius, +1: larger), into ``hits_out`` with the pair's dz/dr in
    ``cot_out`` (at most their length); returns how many."""
    r, z, phi, barrel = grid.r, grid.z, grid.phi, surf.barrel
    n = 0
    for lay in layers:
        ok, p0, p1, t0, t1 = _window(
            mr, mz, mphi, lay, surf, kappa_max, z0_max, d0_max, margin_t
        )  # fmt: skip
        if not ok:
            continue
        nr = cell_ranges(lay, p0, p1, t0, t1, grid, ranges)
        bar = barrel[lay]
        for q in range(nr):
            for h in range(ranges[q, 0], ranges[q, 1]):
                if used[h]:
                    continue
                tt = z[h] if bar else r[h]
                if tt < t0 or tt > t1:
                    continue
                if abs(wrap(phi[h] - mphi)) > 0.5 * (p1 - p0):
                    continue
                # (mz - z) / (mr - r) on the inner side: negation is exact, so the same
                dr = side * (r[h] - mr)
                if dr <= 0.0:
                    continue
                if n < len(hits_out):
                    hits_out[n] = h
                    cot_out[n] = side * (z[h] - mz) / dr
                    n += 1
    return n


@nb.njit(cache=True, nogil=True)
def find_triplets(
    grid: HitGrid,
    surf: LayerSurfaces,
    used: npt.NDArray[np.bool_],
    middle_layers: IntArray,
    inner_ptr: IntArray,
    inner_layers: IntArray,
    outer_ptr: IntArray,
    outer_layers: IntArray,
    allowed: npt.NDArray[np.bool_],
    kappa_max: float,
    z0_max: float,
    d0_max: float,
    margin_t: float,
    x0_frac: float,
    cot_tol0: float,
    n_sigma_ms: float,
    max_doublets: int,
    part: int = 0,
    n_parts: int = 1,
) -> tuple[IntArray, FloatArray]:
    """Triplets ``(i, m, o)`` (sorted-hit indices, inner to outer) and their features.

    With ``n_parts > 1`` only the middle hits ``m`` with ``m % n_parts == part`` are
    used, so that threads can share the work (the function releases the GIL).

    Returns
    -------
    triplets : int64, shape (T, 3)
    features : float64, shape (T, N_TRIPLET_FEATURES), columns :data:`TRIPLET_FEATURES`
    """
    x, y, z, r, phi, layer = grid.x, grid.y, grid.z, grid.r, grid.phi, grid.layer
    layer_start = grid.layer_start
    cap = 1 << 16
    trip = np.empty((cap, 3), np.int64)
    feat = np.empty((cap, N_TRIPLET_FEATURES), np.float64)
    n_out = 0
    ranges = np.empty((4096, 2), np.int64)
    in_h = np.empty(max_doublets, np.int64)
    in_cot = np.empty(max_doublets, np.float64)
    out_h = np.empty(max_doublets, np.int64)
    out_cot = np.empty(max_doublets, np.float64)
    ms_const = 0.0136 * math.sqrt(x0_frac) * (1.0 + 0.038 * math.log(x0_frac))
    for mi in range(len(middle_layers)):
        lm = middle_layers[mi]
        for m in range(layer_start[lm], layer_start[lm + 1]):
            if used[m] or m % n_parts != part:
                continue
            mr, mz, mphi = r[m], z[m], phi[m]
            # doublets with the inner layers, then (if any) with the outer ones
            n_in = _doublets(
                -1, mr, mz, mphi, inner_layers[inner_ptr[lm] : inner_ptr[lm + 1]], grid, surf,
                used, kappa_max, z0_max, d0_max, margin_t, ranges, in_h, in_cot,
            )  # fmt: skip
            if n_in == 0:
                continue
            n_o = _doublets(
                1, mr, mz, mphi, outer_layers[outer_ptr[lm] : outer_ptr[lm + 1]], grid, surf,
                used, kappa_max, z0_max, d0_max, margin_t, ranges, out_h, out_cot,
            )  # fmt: skip
            if n_o == 0:
                continue
            oi = np.argsort(in_cot[:n_in])
            oo = np.argsort(out_cot[:n_o])
            # loosest slope tolerance of the pass (lowest pT), refined per triplet below
            start = 0
            for a in range(n_in):
                ia = oi[a]
                ca = in_cot[ia]
                tol_max = cot_tol0 + n_sigma_ms * ms_const * kappa_max / 0.6e-3 * (1.0 + ca * ca)
                while start < n_o and out_cot[oo[start]] < ca - tol_max:
                    start += 1
                hi_ = ca + tol_max
                i = in_h[ia]
                li = layer[i]
                for b in range(start, n_o):
                    ob = oo[b]
                    cb = out_cot[ob]
                    if cb > hi_:
                        break
                    o = out_h[ob]
                    lo = layer[o]
                    if not allowed[li, lm, lo]:
                        continue
                    kap, cx, cy = circle3(x[i], y[i], x[m], y[m], x[o], y[o])
                    ka = abs(kap)
                    if ka > kappa_max:
                        continue
                    rad = 1.0 / max(ka, 1e-9)
                    d0 = abs(math.sqrt(cx * cx + cy * cy) - rad) if ka > 1e-9 else 0.0
                    if d0 > d0_max:
                        continue
                    c_im = math.hypot(x[m] - x[i], y[m] - y[i])
                    c_mo = math.hypot(x[o] - x[m], y[o] - y[m])
                    s_im = arc_length(ka, c_im)
                    s_mo = arc_length(ka, c_mo)
                    cot_in = (z[m] - z[i]) / s_im
                    cot_out = (z[o] - z[m]) / s_mo
                    # perigee z of the inner doublet's line
                    s_i = arc_length(ka, r[i])
                    z0 = z[i] - cot_in * s_i
                    if abs(z0) > z0_max:
                        continue
                    # multiple scattering: θ0 = 0.0136/p sqrt(x/X0), Δcot = θ0 (1 + cot²)
                    pt = 0.6e-3 / max(ka, 1e-9)  # GeV in 2 T
                    cc = 0.5 * (cot_in + cot_out)
                    p = pt * math.sqrt(1.0 + cc * cc)
                    tol = cot_tol0 + n_sigma_ms * ms_const / p * (1.0 + cc * cc)
                    dcot = abs(cot_in - cot_out)
                    if dcot > tol:
                        continue
                    if n_out == cap:
                        cap *= 2
                        t2 = np.empty((cap, 3), np.int64)
                        t2[:n_out] = trip[:n_out]
                        trip = t2
                        f2 = np.empty((cap, N_TRIPLET_FEATURES), np.float64)
                        f2[:n_out] = feat[:n_out]
                        feat = f2
                    trip[n_out, 0] = i
                    trip[n_out, 1] = m
                    trip[n_out, 2] = o
                    feat[n_out, 0] = math.log10(max(ka, 1e-7))
                    feat[n_out, 1] = d0
                    feat[n_out, 2] = abs(z0)
                    feat[n_out, 3] = dcot / tol
                    feat[n_out, 4] = abs(cot_out)
                    feat[n_out, 5] = r[i]
                    feat[n_out, 6] = mr
                    feat[n_out, 7] = r[o]
                    feat[n_out, 8] = abs(z[i])
                    feat[n_out, 9] = abs(mz)
                    feat[n_out, 10] = abs(z[o])
                    # distance of m from the chord i-o relative to the sagitta scale
                    dphi_io = wrap(phi[o] - phi[i])
                    frac = (mr - r[i]) / (r[o] - r[i])
                    resid = abs(wrap(mphi - phi[i]) - dphi_io * frac)
                    feat[n_out, 11] = resid / (abs(dphi_io) + 1e-3)
                    n_out += 1
    return trip[:n_out].copy(), feat[:n_out].copy()
