"""Space points and triplet seeding in the style of ATLAS/ACTS.

A *seed* is three space points (bottom, middle, top; increasing radius) on
three different layers that are compatible with one charged particle from the
collision region.  Following the ACTS seed finder:

1. **Space points** are the hits inside the seeding region (by default the
   pixel detector, ``r ≤ r_max``), sorted by a (φ bin, z) key.
2. **Doublets**: for each middle space point ``m`` the bottom (top) candidates
   lie in the neighbouring φ bins, at radius ``r_m - dr_max ≤ r ≤ r_m - dr_min``
   (``r_m + dr_min ≤ r ≤ r_m + dr_max``) and at a z that a straight line from
   the collision region (``|z0| ≤ z0_max``) to ``m`` can reach.  Because the key
   sorts z inside each φ bin, the z window of every (middle, φ bin) is one
   ``searchsorted`` range, so no all-pairs loop is ever made.  Exact cuts
   follow: different layer, ``|cot θ| ≤ cot_max``, ``|z0| ≤ z0_max`` and
   ``|Δφ| ≤`` the bend of a track at ``pt_min``.
3. **Triplets**: every bottom doublet of a middle point is combined with every
   top doublet.  The circle through the three points gives the signed
   curvature ``κ`` [1/mm] (``pT = C |B| / |κ|``, local ``Bz`` at the middle
   point) and the transverse impact parameter ``d0``; the two doublet slopes
   must agree, ``|cot θ_b - cot θ_t|`` within a measurement term plus the
   Highland scattering allowance ``c_ms · sqrt(1 + cot²θ) / pT``.  The best
   ``max_seeds_per_middle`` triplets of each middle point (smallest
   ``|d0| / d0_max + |Δcot| / tolerance``) are kept.

Shapes: ``N`` hits, ``P`` space points, ``D`` doublets, ``S`` seeds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Hits, layer_key
from tracklearn.geometry.coords import wrap_phi
from tracklearn.geometry.field import TRACKML_FIELD, MagneticField
from tracklearn.typing import FloatArray, IntArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM


class SeedingConfig(BaseModel):
    """Windows and cuts of the triplet seed finder (units in the comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    r_min: float = Field(0.0, ge=0)  # mm, innermost space point radius
    r_max: float = Field(200.0, gt=0)  # mm, outermost space point radius (pixels)
    z_max: float = Field(1600.0, gt=0)  # mm, largest |z| of a space point
    dr_min: float = Field(2.0, ge=0)  # mm, smallest radial distance of a doublet
    # mm, largest radial distance of a doublet: one skipped pixel barrel layer at most
    dr_max: float = Field(90.0, gt=0)
    # mm, largest |Δz| of a doublet: in the endcaps Δr is small, so this is what
    # stops doublets from skipping more than one pixel disk
    dz_max: float = Field(300.0, gt=0)
    z0_max: float = Field(200.0, gt=0)  # mm, half-length of the collision region
    cot_max: float = Field(27.3, gt=0)  # largest |cot θ| (|η| ≈ 4)
    pt_min: float = Field(0.9, gt=0)  # GeV, lowest seed pT
    d0_max: float = Field(2.0, gt=0)  # mm, largest |transverse impact parameter|
    # mm, impact parameter the doublet φ window allows for beyond the pT bend (0: none;
    # the 0.01 rad slack covers a few mm); large for displaced-track passes
    d0_window: float = Field(0.0, ge=0)
    cot_tolerance: float = Field(0.02, gt=0)  # measurement term of |cot_b - cot_t|
    # scattering term: |Δcot| allowance c_ms·sqrt(1+cot²)/pT[GeV]; ≈ 3 × Highland
    # for ~2 % X0 between the doublets
    ms_coefficient: float = Field(0.006, ge=0)  # GeV
    phi_bins: int = Field(1024, ge=3)  # φ bins of the space-point grid
    max_seeds_per_middle: int = Field(5, ge=1)
    chunk_pairs: int = Field(2_000_000, ge=1000)  # triplet combinations per chunk


@dataclass(frozen=True, eq=False)
class Seeds:
    """Triplet seeds with their circle-fit estimates.

    Attributes
    ----------
    bottom, middle, top : int64, shape (S,)
        Hit rows (into the event's :class:`~tracklearn.edm.Hits`), radius increasing.
    pt : float64, shape (S,)
        Transverse momentum estimate [GeV] from the circle and local ``Bz``.
    charge : float64, shape (S,)
        Charge sign estimate (±1) for a field along +z.
    phi : float64, shape (S,)
        Azimuth of the momentum at the perigee [rad] (assuming ``d0 ≈ 0``).
    cot_theta : float64, shape (S,)
        Mean slope ``dz/ds`` of the two doublets.
    z0 : float64, shape (S,)
        z of the bottom doublet's straight line at ``r = 0`` [mm].
    d0 : float64, shape (S,)
        Signed transverse impact parameter of the circle [mm]
        (``|centre| - R``).
    delta_cot : float64, shape (S,)
        ``cot θ_t - cot θ_b`` (scattering / mismatch measure).
    """

    bottom: IntArray
    middle: IntArray
    top: IntArray
    pt: FloatArray
    charge: FloatArray
    phi: FloatArray
    cot_theta: FloatArray
    z0: FloatArray
    d0: FloatArray
    delta_cot: FloatArray

    def __len__(self) -> int:
        return len(self.middle)

    @property
    def hits(self) -> IntArray:
        """Hit rows as an (S, 3) array: bottom, middle, top."""
        return np.stack([self.bottom, self.middle, self.top], axis=1)

    def select(self, mask: npt.NDArray[np.bool_] | IntArray) -> Seeds:
        """A new :class:`Seeds` with the rows chosen by a mask or index array."""
        return Seeds(**{k: getattr(self, k)[mask] for k in self.__dataclass_fields__})

    @classmethod
    def empty(cls) -> Seeds:
        i = np.zeros(0, np.int64)
        f = np.zeros(0, np.float64)
        return cls(i, i, i, f, f, f, f, f, f, f)


def layer_index(hits: Hits) -> IntArray:
    """A dense integer per (volume_id, layer_id) pair, shape (N,)."""
    key = layer_key(hits.volume_id, hits.layer_id)
    return np.unique(key, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _expand(start: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """(owner, position) for CSR ranges ``[start, start + count)``, without a loop.

    Entry ``k`` of range ``i`` has rank ``k``; ``position = start[i] + rank``.
    """
    count = np.maximum(count, 0)
    owner = np.repeat(np.arange(len(start), dtype=np.int64), count)
    rank = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return owner, start[owner] + rank


def circle_curvature(
    xb: FloatArray,
    yb: FloatArray,
    xm: FloatArray,
    ym: FloatArray,
    xt: FloatArray,
    yt: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Signed curvature [1/mm] and signed d0 [mm] of circles through three points.

    ``κ > 0`` when the points turn counter-clockwise (b → m → t).  ``d0 =
    |c| - R`` is the signed distance of the circle from the origin (0 for a
    circle through the origin; straight lines give ``κ = 0`` and the line's
    distance).  Shapes: all (K,).
    """
    ax, ay = xm - xb, ym - yb
    bx, by = xt - xm, yt - ym
    cross = ax * by - ay * bx
    lab = np.hypot(ax, ay)
    lbc = np.hypot(bx, by)
    lac = np.hypot(xt - xb, yt - yb)
    kappa = 2.0 * cross / np.maximum(lab * lbc * lac, 1e-300)
    # centre: intersection of the perpendicular bisectors of b-m and m-t
    d = 2.0 * cross
    safe = np.where(np.abs(d) > 1e-12, d, 1.0)
    sb = xb * xb + yb * yb
    sm = xm * xm + ym * ym
    st = xt * xt + yt * yt
    cx = (sb * (ym - yt) + sm * (yt - yb) + st * (yb - ym)) / safe
    cy = (sb * (xt - xm) + sm * (xb - xt) + st * (xm - xb)) / safe
    radius = 1.0 / np.maximum(np.abs(kappa), 1e-300)
    d0_circle = np.hypot(cx, cy) - radius
    # straight line: distance from the origin to the b-t line
    d0_line = np.abs(xb * (yt - yb) - yb * (xt - xb)) / np.maximum(lac, 1e-300)
    d0 = np.where(np.abs(d) > 1e-12, d0_circle, d0_line)
    return kappa, d0


class SeedFinder:
    """Find triplet seeds in the hits of one event (see the module docstring)."""

    def __init__(
        self, config: SeedingConfig | None = None, field: MagneticField = TRACKML_FIELD
    ) -> None:
        self.config = config or SeedingConfig()
        self.field = field

    def space_points(self, hits: Hits, usable: npt.NDArray[np.bool_] | None = None) -> IntArray:
        """Hit rows used as space points (inside the seeding region and ``usable``),
        shape (P,)."""
        cfg = self.config
        r = hits.r
        keep = (r >= cfg.r_min) & (r <= cfg.r_max) & (np.abs(hits.z) <= cfg.z_max)
        if usable is not None:
            keep &= usable
        return np.flatnonzero(keep).astype(np.int64)

    def doublets(
        self, hits: Hits, layers: IntArray, sp: IntArray, *, outward: bool
    ) -> tuple[IntArray, IntArray]:
        """Compatible (middle, other) space-point pairs as hit rows, each (D,).

        ``outward=False`` gives bottom doublets (other point inside), ``True`` top
        doublets.
        """
        cfg = self.config
        x, y, z = hits.x[sp], hits.y[sp], hits.z[sp]
        r = np.hypot(x, y)
        phi = np.arctan2(y, x)
        nb = cfg.phi_bins
        pbin = np.floor((phi + np.pi) / (2 * np.pi) * nb).astype(np.int64) % nb
        # sort key: φ bin, then z (z shifted to be positive and < span)
        span = 4.0 * cfg.z_max + 1.0
        key = pbin * span + (z + 2.0 * cfg.z_max)
        order = np.argsort(key, kind="stable")
        skey = key[order]

        # radius window of the partner and z window from the collision region
        if outward:
            r_lo, r_hi = r + cfg.dr_min, r + cfg.dr_max
        else:
            # no partner can sit inside the innermost space point
            r_lo, r_hi = np.maximum(r - cfg.dr_max, r.min()), r - cfg.dr_min
        # line through (0, ±z0_max) and (r_m, z_m) evaluated at the window ends
        zs = []
        for z0 in (-cfg.z0_max, cfg.z0_max):
            for rr in (r_lo, r_hi):
                zs.append(z0 + (z - z0) * rr / np.maximum(r, 1e-9))
        zw = np.stack(zs)
        z_lo = np.clip(zw.min(0), -cfg.z_max, cfg.z_max) - 1.0
        z_hi = np.clip(zw.max(0), -cfg.z_max, cfg.z_max) + 1.0
        # φ bend of a pT_min track over the radial window (plus one bin of slack)
        b_mid = np.abs(self.field.bz(r, z))
        r_curv = cfg.pt_min / (C_LIGHT_GEV_PER_T_MM * np.maximum(b_mid, 1e-3))
        r_far = np.minimum(np.maximum(r_hi, r), 2 * r_curv)
        r_near = np.minimum(np.minimum(r_lo, r), 2 * r_curv)
        dphi_max = np.arcsin(np.minimum(r_far / (2 * r_curv), 1.0)) - np.arcsin(
            np.minimum(r_near / (2 * r_curv), 1.0)
        )
        # a track with impact parameter d0 is shifted in φ by ≈ d0 / r at radius r
        r_in = np.maximum(np.minimum(r_lo, r), 20.0)
        r_out = np.maximum(np.maximum(r_hi, r), 20.0)
        dphi_max = dphi_max + 0.01 + cfg.d0_window * (1.0 / r_in - 1.0 / r_out)
        n_side = np.ceil(dphi_max / (2 * np.pi / nb)).astype(np.int64)
        n_side = np.minimum(n_side, nb // 2)
        max_side = int(n_side.max()) if len(n_side) else 0

        mids: list[IntArray] = []
        others: list[IntArray] = []
        lay = layers[sp]
        for off in range(-max_side, max_side + 1):
            # one φ-bin offset at a time, with the exact cuts applied at once, so
            # that the candidate pairs of all offsets never sit in memory together
            use = np.flatnonzero(n_side >= abs(off))
            b = (pbin[use] + off) % nb
            lo = np.searchsorted(skey, b * span + z_lo[use] + 2.0 * cfg.z_max, "left")
            hi = np.searchsorted(skey, b * span + z_hi[use] + 2.0 * cfg.z_max, "right")
            owner, pos = _expand(lo, hi - lo)
            m = use[owner]
            o = order[pos]
            dr = r[o] - r[m] if outward else r[m] - r[o]
            dz = z[o] - z[m] if outward else z[m] - z[o]
            cot = dz / np.maximum(dr, 1e-9)
            z0 = z[m] - cot * r[m] if outward else z[o] - cot * r[o]
            dphi = np.abs(wrap_phi(phi[o] - phi[m]))
            ok = (
                (dr >= cfg.dr_min)
                & (dr <= cfg.dr_max)
                & (np.abs(dz) <= cfg.dz_max)
                & (lay[o] != lay[m])
                & (np.abs(cot) <= cfg.cot_max)
                & (np.abs(z0) <= cfg.z0_max)
                & (dphi <= dphi_max[m])
            )
            mids.append(m[ok])
            others.append(o[ok])
        m = np.concatenate(mids) if mids else np.zeros(0, np.int64)
        o = np.concatenate(others) if others else np.zeros(0, np.int64)
        ok = np.ones(len(m), bool)
        return sp[m[ok]], sp[o[ok]]

    def __call__(self, hits: Hits, usable: npt.NDArray[np.bool_] | None = None) -> Seeds:
        """All seeds of the event, grouped by middle hit; only ``usable`` hits (N,)
        are space points when it is given (e.g. hits not on a track yet)."""
        cfg = self.config
        if len(hits) == 0:
            return Seeds.empty()
        layers = layer_index(hits)
        sp = self.space_points(hits, usable)
        if len(sp) < 3:
            return Seeds.empty()
        mb, bb = self.doublets(hits, layers, sp, outward=False)
        mt, tt = self.doublets(hits, layers, sp, outward=True)
        ob = np.argsort(mb, kind="stable")  # chunks then split between middles
        mb, bb = mb[ob], bb[ob]
        x, y, z = hits.x, hits.y, hits.z
        cot_b = (z[mb] - z[bb]) / np.maximum(np.hypot(x[mb] - x[bb], y[mb] - y[bb]), 1e-9)
        cot_t = (z[tt] - z[mt]) / np.maximum(np.hypot(x[tt] - x[mt], y[tt] - y[mt]), 1e-9)
        # ACTS-style compatibility search without all (bottom, top) pairs: top
        # doublets sorted by (middle, cot θ); each bottom doublet takes the top
        # range of its middle with |cot_t - cot_b| below the largest tolerance
        # (the one at pt_min), via two searchsorted calls on a combined key.
        shift = 2.0 * cfg.cot_max + 1.0
        span = 2.0 * shift
        key_t = mt * span + (cot_t + shift)
        order = np.argsort(key_t, kind="stable")
        key_t = key_t[order]
        mt, tt, cot_t = mt[order], tt[order], cot_t[order]
        tol_max = self._tolerance(cot_b, np.full(len(cot_b), cfg.pt_min)) * 1.05
        base = mb * span + shift + cot_b
        lo = np.searchsorted(key_t, base - tol_max, "left")
        hi = np.searchsorted(key_t, base + tol_max, "right")
        count = hi - lo
        parts: list[Seeds] = []
        # chunks of bottom doublets so that the combinations fit in memory
        chunk_id = (np.cumsum(count) - count) // cfg.chunk_pairs
        bounds = np.flatnonzero(np.r_[True, chunk_id[1:] != chunk_id[:-1], True])
        for a, e in itertools.pairwise(bounds):
            owner, pos = _expand(lo[a:e], count[a:e])
            parts.append(self._triplets(hits, bb[a:e][owner], mb[a:e][owner], tt[pos]))
        if not parts:
            return Seeds.empty()
        return Seeds(
            **{
                k: np.concatenate([getattr(p, k) for p in parts])
                for k in Seeds.__dataclass_fields__
            }
        )

    def _tolerance(self, cot: FloatArray, pt: FloatArray) -> FloatArray:
        """Allowed |cot θ_t - cot θ_b|: measurement term ⊕ Highland scattering term."""
        cfg = self.config
        scale = np.sqrt(1.0 + cot * cot)
        return np.asarray(
            np.hypot(
                cfg.cot_tolerance * scale,
                cfg.ms_coefficient * scale / np.maximum(pt, cfg.pt_min),
            )
        )

    def _triplets(self, hits: Hits, b: IntArray, m: IntArray, t: IntArray) -> Seeds:
        """Apply the triplet cuts to candidate (bottom, middle, top) rows, each (K,)."""
        cfg = self.config
        x, y, z = hits.x, hits.y, hits.z
        rb, rm, rt = np.hypot(x[b], y[b]), np.hypot(x[m], y[m]), np.hypot(x[t], y[t])
        ok = layer_index_differs(hits, b, t)
        kappa, d0 = circle_curvature(x[b], y[b], x[m], y[m], x[t], y[t])
        bz = np.abs(self.field.bz(rm, z[m]))
        pt = C_LIGHT_GEV_PER_T_MM * bz / np.maximum(np.abs(kappa), 1e-12)
        # transverse arc lengths ~ chord lengths for the slopes
        sbm = np.hypot(x[m] - x[b], y[m] - y[b])
        smt = np.hypot(x[t] - x[m], y[t] - y[m])
        cot_b = (z[m] - z[b]) / np.maximum(sbm, 1e-9)
        cot_t = (z[t] - z[m]) / np.maximum(smt, 1e-9)
        cot = 0.5 * (cot_b + cot_t)
        dcot = cot_t - cot_b
        tol = self._tolerance(cot, pt)
        ok &= (pt >= cfg.pt_min) & (np.abs(d0) <= cfg.d0_max) & (np.abs(dcot) <= tol)
        ok &= (rb < rm) & (rm < rt)
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return Seeds.empty()
        score = np.abs(d0[idx]) / cfg.d0_max + np.abs(dcot[idx]) / tol[idx]
        # keep the best few per middle: sort by (middle, score), rank within middle
        order = np.lexsort((score, m[idx]))
        idx = idx[order]
        mm = m[idx]
        first = np.r_[True, mm[1:] != mm[:-1]]
        grp_start = np.maximum.accumulate(np.where(first, np.arange(len(mm)), 0))
        rank = np.arange(len(mm)) - grp_start
        idx = idx[rank < cfg.max_seeds_per_middle]
        # momentum azimuth at the perigee: the chord from the beamline (d0 ≈ 0) to
        # the bottom point turned back by half the turning angle over that chord
        chord_phi = np.arctan2(y[b[idx]], x[b[idx]])
        half_turn = np.arcsin(np.clip(0.5 * rb[idx] * kappa[idx], -1.0, 1.0))
        phi = wrap_phi(chord_phi - half_turn)
        z0 = z[b[idx]] - cot_b[idx] * rb[idx]
        return Seeds(
            bottom=b[idx],
            middle=m[idx],
            top=t[idx],
            pt=pt[idx],
            # counter-clockwise turning (κ > 0) in a field along +z is negative charge
            charge=-np.sign(kappa[idx]),
            phi=phi,
            cot_theta=cot[idx],
            z0=z0,
            d0=d0[idx],
            delta_cot=dcot[idx],
        )


def layer_index_differs(hits: Hits, a: IntArray, b: IntArray) -> npt.NDArray[np.bool_]:
    """Whether hits ``a`` and ``b`` lie on different (volume, layer), shape (K,)."""
    va, vb = hits.volume_id[a], hits.volume_id[b]
    la, lb = hits.layer_id[a], hits.layer_id[b]
    out: npt.NDArray[np.bool_] = (va != vb) | (la != lb)
    return out
