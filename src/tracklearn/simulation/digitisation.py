"""Sensor crossings → channels (cells) → measured hits, and noise hits.

Conventions measured on the real TrackML event (``event000000001``, hits and
cells against ``detectors.csv``; the numbers come from
``scripts/fit_cluster_shapes.py``, which re-digitises every real crossing
(truth position and momentum) and compares cell by cell):

* a module's channels are ``ch0 = floor((u + max_hu) / pitch_u)`` and
  ``ch1 = floor((v + hv) / pitch_v)``; cell centres are
  ``u = (ch0 + ½) pitch_u − max_hu`` and ``v = (ch1 + ½) pitch_v − hv``;
* the readout is geometric: a pixel cell's ``value`` is the particle's path
  length in that cell [mm] (down to 1e-5 mm: no threshold), smeared by a
  Gaussian of 10 % per cell; strip cells (volumes 12–18) read out binary
  ``value = 1``.  Every cell the path touches fires, so the path is stepped
  exactly through the cell boundaries (``stepping="exact"``);
* the sensitive thickness is ``module_t`` in the barrels and ``2 · module_t``
  in the end-caps (``thickness_scale``): cluster lengths grow as
  ``thickness · tan(incidence)`` and pixel deposits sum to the path through it;
* in the barrels the charge drifts to the readout side (pixels: w = −t/2,
  strips: w = +t/2) and sideways along u by ``tan θ_L`` per mm of drift (the
  2 T field is along z, i.e. along v; the end-caps, whose normal is along the
  field, show none): ``tan θ_L`` = 0.12 in volumes 8 and 13 and 0.08 in
  volume 17 (θ_L = 0.12 and 0.08 rad);
* the hit is the value-weighted centroid of its cells on the module mid-plane
  (w = 0), moved along u by a constant per barrel volume (``hit_shift_u``,
  −tan θ_L · ``module_t``: the real reconstruction's Lorentz correction, which
  overshoots the mean drift ``tan θ_L · t / 2`` by a factor 2).

Charge sharing by lateral diffusion (a Gaussian that widens as the square
root of the drift distance) and a per-cell threshold are modelled too, but
the real cells want neither: both are 0 by default (the fit script scans them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from tracklearn.edm.detector import Detector
from tracklearn.typing import FloatArray, IntArray

#: Volumes of the TrackML strip detectors (binary readout).
TRACKML_STRIP_VOLUMES: tuple[int, ...] = (12, 13, 14, 16, 17, 18)

#: Share of noise hits per TrackML volume, measured on the 829 noise hits of
#: the real event ``event000000001`` (a 5 % subsample, so noise was sampled too).
TRACKML_NOISE_SHARE: dict[int, float] = {
    7: 0.0446,
    8: 0.0989,
    9: 0.0398,
    12: 0.0651,
    13: 0.2967,
    14: 0.0591,
    16: 0.0290,
    17: 0.3209,
    18: 0.0458,
}

#: Mean noise hits per real TrackML event: hits − Σ particles.nhits, averaged
#: over the 8 full real events of ``hits_only/`` (17,470 – 17,805 each).
TRACKML_NOISE_HITS: float = 17_630.0


#: tan θ_L per TrackML volume: sideways drift along u [mm] per mm of drift towards
#: the readout side (barrels; the end-caps fit |side · tan θ_L| < 0.002, i.e. none).
#: Fitted by ``scripts/fit_cluster_shapes.py``: 98–100 % of the real hits' cell sets
#: reproduced exactly; tan(0.12 rad) = 0.1206, tan(0.08 rad) = 0.0802.
TRACKML_LORENTZ_TAN: dict[int, float] = {8: -0.1205, 13: 0.12, 17: 0.0798}

#: side of the sensor the charge is collected on: −1 at w = −t/2, +1 at w = +t/2
#: (fitted with ``TRACKML_LORENTZ_TAN``; it decides where the cluster sits)
TRACKML_READOUT_SIDE: dict[int, Literal[-1, 1]] = {8: -1, 13: 1, 17: 1}

#: sensitive thickness / ``module_t`` per volume (1 where not listed): the end-caps'
#: clusters and pixel deposits are those of a sensor twice ``module_t`` thick
#: (fitted by ``scripts/fit_cluster_shapes.py``)
TRACKML_THICKNESS_SCALE: dict[int, float] = {
    7: 2.0,
    9: 2.0,
    12: 2.01,
    14: 1.98,
    16: 1.99,
    18: 2.0,
}

#: real hit − value-weighted cell centroid along u [mm] per volume (0 where not
#: listed), on every real hit of the volume (spread ≤ 0.0005 mm); it equals
#: −tan θ_L · ``module_t``, twice the mean drift (``scripts/fit_cluster_shapes.py``)
TRACKML_HIT_SHIFT_U: dict[int, float] = {8: 0.0181, 13: -0.0301, 17: -0.0281}

#: relative Gaussian spread of a pixel cell's value: real value / exact path length
#: of 733 single-cell real pixel hits, half the 16–84 % width (median 1.008)
TRACKML_VALUE_SMEARING: float = 0.102


class DigitisationConfig(BaseModel):
    """Channel readout, cluster shapes, inefficiency and noise.

    The defaults are the TrackML detector's, measured on the real event (see the
    module docstring).  Per-volume maps are keyed by ``volume_id``; volumes not
    listed get no drift, scale 1 and no shift.  ``stepping="sampled"`` with every
    cluster-shape parameter at zero (:meth:`geometric`) is the digitisation of
    earlier tracklearn versions, bit for bit.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hit_efficiency: float = Field(1.0, gt=0, le=1)  # probability that a crossing makes a hit
    binary_volumes: tuple[int, ...] = TRACKML_STRIP_VOLUMES  # cells read out as value 1
    noise_hits: float = Field(TRACKML_NOISE_HITS, ge=0)  # mean noise hits per event (Poisson)
    noise_share: dict[int, float] = Field(  # per volume; empty = by sensor area
        default_factory=lambda: dict(TRACKML_NOISE_SHARE)
    )
    max_cells: int = Field(64, gt=0)  # longest cluster along a sensor path [cells]
    # "exact": every cell boundary the path crosses; "sampled": 4 points per pitch
    stepping: Literal["exact", "sampled"] = "exact"
    lorentz_tan: dict[int, float] = Field(  # per volume: u drift per mm of drift
        default_factory=lambda: dict(TRACKML_LORENTZ_TAN)
    )
    readout_side: dict[int, Literal[-1, 1]] = Field(  # per volume; +1 where not listed
        default_factory=lambda: dict(TRACKML_READOUT_SIDE)
    )
    thickness_scale: dict[int, PositiveFloat] = Field(  # per volume: sensitive t / module_t
        default_factory=lambda: dict(TRACKML_THICKNESS_SCALE)
    )
    hit_shift_u: dict[int, float] = Field(  # per volume: hit − cell centroid along u [mm]
        default_factory=lambda: dict(TRACKML_HIT_SHIFT_U)
    )
    diffusion_sigma: float = Field(0.0, ge=0)  # mm, after drifting the whole sensitive thickness
    diffusion_slices: int = Field(8, gt=0)  # depth slices of a path when diffusing
    threshold: float = Field(0.0, ge=0)  # mm of path: cells below it do not fire
    value_smearing: float = Field(TRACKML_VALUE_SMEARING, ge=0)  # relative, per cell

    @classmethod
    def geometric(cls, **overrides: Any) -> DigitisationConfig:
        """No drift, diffusion, threshold, smearing or shift; the old sampled stepping."""
        base: dict[str, Any] = {
            "stepping": "sampled",
            "lorentz_tan": {},
            "readout_side": {},
            "thickness_scale": {},
            "hit_shift_u": {},
            "diffusion_sigma": 0.0,
            "threshold": 0.0,
            "value_smearing": 0.0,
        }
        return cls(**{**base, **overrides})


@dataclass(frozen=True)
class Digits:
    """Measured hits and their cells.  Shapes: (H,) / (H, 3) / (C,)."""

    module: IntArray
    position: FloatArray  # (H, 3) mm
    source: IntArray  # index of the crossing that made the hit, -1 for noise
    cell_hit: IntArray  # (C,) row of the hit of each cell
    ch0: IntArray
    ch1: IntArray
    value: FloatArray


def _channels(
    det: Detector, module: IntArray, u: FloatArray, v: FloatArray
) -> tuple[IntArray, IntArray]:
    ch0 = np.floor((u + det.module_maxhu[module]) / det.pitch_u[module]).astype(np.int64)
    ch1 = np.floor((v + det.module_hv[module]) / det.pitch_v[module]).astype(np.int64)
    return ch0, ch1


def _n_channels(det: Detector, module: IntArray) -> tuple[IntArray, IntArray]:
    n0 = np.round(2 * det.module_maxhu[module] / det.pitch_u[module]).astype(np.int64)
    n1 = np.round(2 * det.module_hv[module] / det.pitch_v[module]).astype(np.int64)
    return n0, n1


def _cell_centres(
    det: Detector, module: IntArray, ch0: IntArray, ch1: IntArray
) -> tuple[FloatArray, FloatArray]:
    u = (ch0 + 0.5) * det.pitch_u[module] - det.module_maxhu[module]
    v = (ch1 + 0.5) * det.pitch_v[module] - det.module_hv[module]
    return u, v


def _to_global(det: Detector, module: IntArray, u: FloatArray, v: FloatArray) -> FloatArray:
    local = np.stack([u, v, np.zeros_like(u)], axis=1)
    out: FloatArray = np.einsum("kij,kj->ki", det.rotations[module], local) + det.centers[module]
    return out


def per_volume(volume: npt.ArrayLike, values: Mapping[int, float], default: float) -> FloatArray:
    """``values[volume]`` for each entry, ``default`` where the volume is not listed.

    Examples
    --------
    >>> per_volume([7, 8, 8, 9], {8: 0.5}, 1.0).tolist()
    [1.0, 0.5, 0.5, 1.0]
    """
    vol = np.asarray(volume)
    out = np.full(vol.shape, default, dtype=np.float64)
    for v, x in values.items():  # a handful of volumes: one mask each
        out[vol == v] = x
    return out


@dataclass(frozen=True)
class _Pieces:
    """Pieces of the crossings' paths, each inside one cell (before diffusion)."""

    owner: IntArray  # crossing (row of the selected crossings) of each piece
    u: FloatArray  # piece midpoint on the readout plane [mm]
    v: FloatArray
    depth: FloatArray  # drift distance of the piece's charge [mm]
    charge: FloatArray  # path length [mm]


def _exact_breakpoints(
    a0: FloatArray, a1: FloatArray, lo: FloatArray, hi: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Path parameters λ ∈ (lo, hi) where a(λ) = a0 + (a1 − a0) λ crosses an integer.

    Returns the owner row of each crossing and its λ (unsorted).  Shapes: (K,) → (N,).
    """
    first = np.floor(np.minimum(a0, a1)) + 1
    n = np.maximum(np.floor(np.maximum(a0, a1)) - first + 1, 0).astype(np.int64)
    owner = np.repeat(np.arange(len(a0), dtype=np.int64), n)
    rank = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    grid = first[owner] + rank
    lam = (grid - a0[owner]) / (a1[owner] - a0[owner])  # n > 0 only where a1 ≠ a0
    keep = (lam > lo[owner]) & (lam < hi[owner])
    return owner[keep], lam[keep]


def digitise(
    det: Detector,
    module: IntArray,
    local: FloatArray,
    local_dir: FloatArray,
    rng: np.random.Generator,
    config: DigitisationConfig | None = None,
) -> Digits:
    """Turn sensor crossings into cells and centroid hits.

    Each crossing is a straight path through the sensitive thickness
    ``t = module_t · thickness_scale``.  The charge made at depth w drifts to
    the readout side ``w_r = ±t/2`` and moves along u by
    ``tan θ_L · |w_r − w|``, so the path projects onto the readout plane as a
    segment whose u slope changes by ``∓tan θ_L`` and whose centre moves by
    ``tan θ_L · t / 2``.  The segment is cut at every cell boundary; each piece
    adds its path length to its cell (spread over the neighbours by a Gaussian
    of ``diffusion_sigma · sqrt(drift / t)`` when diffusing).  Cell values are
    smeared, cells below ``threshold`` dropped, strips set to 1, and the hit put
    at the value-weighted centroid plus ``hit_shift_u``.

    Parameters
    ----------
    module : int64, shape (K,)
        Detector row of each crossing.
    local : float64, shape (K, 3)
        Local crossing point on the mid-plane [mm].
    local_dir : float64, shape (K, 3)
        Unit direction in the module frame.
    rng
        Draws the inefficiency and the value smearing (nothing when both are off).
    config
        Default :class:`DigitisationConfig` (the TrackML detector).

    Returns
    -------
    Digits
        One hit per crossing with at least one fired cell.
    """
    cfg = config or DigitisationConfig()
    k_all = np.arange(len(module), dtype=np.int64)
    if cfg.hit_efficiency < 1:
        k_all = k_all[rng.random(len(module)) < cfg.hit_efficiency]
    mod = module[k_all]
    vol = det.volume_id[mod]
    thick = det.module_t[mod]
    if cfg.thickness_scale:
        thick = thick * per_volume(vol, cfg.thickness_scale, 1.0)
    dw = np.where(np.abs(local_dir[k_all, 2]) > 1e-6, local_dir[k_all, 2], 1e-6)
    # the straight path through the sensor, from w = −t/2 to w = +t/2
    half = local_dir[k_all] * (0.5 * thick / dw)[:, None]
    entry = local[k_all] - half
    exit_ = local[k_all] + half
    length = np.linalg.norm(exit_ - entry, axis=1)
    side = per_volume(vol, cfg.readout_side, 1.0)
    if cfg.lorentz_tan:
        # drift to the readout side w_r = side · t/2 moves charge made at depth w by
        # tan θ_L · |w_r − w| along u: t · tan θ_L at the far face, 0 at the near one
        tan_l = per_volume(vol, cfg.lorentz_tan, 0.0)
        entry[:, 0] += tan_l * thick * (1 + side) / 2
        exit_[:, 0] += tan_l * thick * (1 - side) / 2
    if cfg.stepping == "sampled":
        pieces = _sampled_pieces(det, mod, entry, exit_, length, thick, side, cfg.max_cells)
    else:
        slices = cfg.diffusion_slices if cfg.diffusion_sigma > 0 else 1
        pieces = _exact_pieces(det, mod, entry, exit_, length, thick, side, cfg.max_cells, slices)
    owner, ch0, ch1, charge = _deposit(det, mod, pieces, thick, cfg.diffusion_sigma)
    n0, n1 = _n_channels(det, mod[owner])
    inside = (ch0 >= 0) & (ch0 < n0) & (ch1 >= 0) & (ch1 < n1)
    owner, ch0, ch1, charge = owner[inside], ch0[inside], ch1[inside], charge[inside]
    # sum pieces per (crossing, ch0, ch1): sort by a packed key, reduce runs
    key = (owner << 40) | (ch0 << 20) | ch1
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    value = np.add.reduceat(charge[order], first) if len(first) else np.zeros(0)
    c_owner = owner[order][first]
    c0 = ch0[order][first]
    c1 = ch1[order][first]
    if cfg.value_smearing > 0:
        value = np.maximum(value * (1 + cfg.value_smearing * rng.standard_normal(len(value))), 0)
    if cfg.threshold > 0:
        fired = value >= cfg.threshold
        c_owner, c0, c1, value = c_owner[fired], c0[fired], c1[fired], value[fired]
    binary = np.isin(det.volume_id[mod[c_owner]], np.asarray(cfg.binary_volumes, dtype=np.int64))
    value = np.where(binary, 1.0, value)
    # hits: crossings with at least one cell, at the value-weighted centroid
    hit_rows, cell_hit = np.unique(c_owner, return_inverse=True)
    cu, cv = _cell_centres(det, mod[c_owner], c0, c1)
    wsum = np.bincount(cell_hit, weights=value)
    u = np.bincount(cell_hit, weights=value * cu) / wsum
    v = np.bincount(cell_hit, weights=value * cv) / wsum
    hmod = mod[hit_rows]
    if cfg.hit_shift_u:
        u = u + per_volume(det.volume_id[hmod], cfg.hit_shift_u, 0.0)
    return Digits(
        module=hmod,
        position=_to_global(det, hmod, u, v),
        source=k_all[hit_rows],
        cell_hit=cell_hit.astype(np.int64),
        ch0=c0,
        ch1=c1,
        value=value,
    )


def _sampled_pieces(
    det: Detector,
    mod: IntArray,
    entry: FloatArray,
    exit_: FloatArray,
    length: FloatArray,
    thick: FloatArray,
    side: FloatArray,
    max_cells: int,
) -> _Pieces:
    """Equal sub-segments much shorter than a pitch (4 per pitch crossed), at their midpoints.

    Exact up to the segment size: a cell the path only clips may be missed.
    """
    pu, pv = det.pitch_u[mod], det.pitch_v[mod]
    span = np.abs(exit_[:, 0] - entry[:, 0]) / pu + np.abs(exit_[:, 1] - entry[:, 1]) / pv
    n_seg = np.clip(np.ceil(4 * span).astype(np.int64) + 1, 1, 4 * max_cells)
    owner = np.repeat(np.arange(len(mod), dtype=np.int64), n_seg)
    rank = np.arange(n_seg.sum()) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    frac = (rank + 0.5) / n_seg[owner]
    point = entry[owner] + frac[:, None] * (exit_[owner] - entry[owner])
    t = thick[owner]
    return _Pieces(
        owner=owner,
        u=point[:, 0],
        v=point[:, 1],
        depth=t * np.where(side[owner] < 0, frac, 1 - frac),
        charge=length[owner] / n_seg[owner],
    )


def _exact_pieces(
    det: Detector,
    mod: IntArray,
    entry: FloatArray,
    exit_: FloatArray,
    length: FloatArray,
    thick: FloatArray,
    side: FloatArray,
    max_cells: int,
    slices: int,
) -> _Pieces:
    """Cut each path at every cell boundary (and into ``slices`` equal depth slices).

    The projected path is a(λ) = entry + λ (exit − entry), λ ∈ [0, 1] from
    w = −t/2 to +t/2.  A path longer than ``max_cells`` cells (grazing
    incidence) keeps only its central ``max_cells`` cells.
    """
    pu, pv = det.pitch_u[mod], det.pitch_v[mod]
    a0 = (entry[:, 0] + det.module_maxhu[mod]) / pu
    a1 = (exit_[:, 0] + det.module_maxhu[mod]) / pu
    b0 = (entry[:, 1] + det.module_hv[mod]) / pv
    b1 = (exit_[:, 1] + det.module_hv[mod]) / pv
    span = np.maximum(np.abs(a1 - a0), np.abs(b1 - b0))
    keep = np.minimum(1.0, max_cells / np.maximum(span, 1e-300))
    lo, hi = 0.5 - keep / 2, 0.5 + keep / 2
    k = len(mod)
    rows = np.arange(k, dtype=np.int64)
    oa, la = _exact_breakpoints(a0, a1, lo, hi)
    ob, lb = _exact_breakpoints(b0, b1, lo, hi)
    parts_o = [rows, rows, oa, ob]
    parts_l = [lo, hi, la, lb]
    if slices > 1:
        j = np.arange(1, slices, dtype=np.float64) / slices
        os_ = np.repeat(rows, slices - 1)
        ls = np.tile(j, k)
        inside = (ls > lo[os_]) & (ls < hi[os_])
        parts_o.append(os_[inside])
        parts_l.append(ls[inside])
    owner = np.concatenate(parts_o)
    lam = np.concatenate(parts_l)
    order = np.lexsort((lam, owner))
    owner, lam = owner[order], lam[order]
    # consecutive breakpoints of one crossing bound a piece inside one cell
    step = np.diff(lam)
    ok = (owner[1:] == owner[:-1]) & (step > 0)
    o = owner[:-1][ok]
    mid = lam[:-1][ok] + step[ok] / 2
    t = thick[o]
    return _Pieces(
        owner=o,
        u=entry[o, 0] + mid * (exit_[o, 0] - entry[o, 0]),
        v=entry[o, 1] + mid * (exit_[o, 1] - entry[o, 1]),
        depth=t * np.where(side[o] < 0, mid, 1 - mid),
        charge=step[ok] * length[o],
    )


def _deposit(
    det: Detector, mod: IntArray, pieces: _Pieces, thick: FloatArray, sigma: float
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Channels and charges of the pieces; with ``sigma`` > 0 shared by diffusion.

    A piece at drift distance d spreads as a Gaussian of σ = ``sigma`` ·
    sqrt(d / t) on the readout plane; each neighbouring cell gets the integral
    of it over the cell (separable in u and v: Φ differences).

    Returns
    -------
    owner, ch0, ch1 : int64, shape (N,)
    charge : float64, shape (N,)
        Path length [mm] deposited in each (owner, channel); not yet summed.
    """
    p = pieces
    m = mod[p.owner]
    ch0, ch1 = _channels(det, m, p.u, p.v)
    if sigma <= 0 or len(p.owner) == 0:
        return p.owner, ch0, ch1, p.charge
    from scipy.special import ndtr

    s = sigma * np.sqrt(np.clip(p.depth / thick[p.owner], 0.0, None))  # mm
    a = (p.u + det.module_maxhu[m]) / det.pitch_u[m]  # position in channel units
    b = (p.v + det.module_hv[m]) / det.pitch_v[m]
    su = np.maximum(s / det.pitch_u[m], 1e-12)
    sv = np.maximum(s / det.pitch_v[m], 1e-12)
    # neighbours within 4 σ of the widest spread (at most 8 cells either side)
    nu = int(min(8, np.ceil(4 * su.max())))
    nv = int(min(8, np.ceil(4 * sv.max())))
    du = np.arange(-nu, nu + 1)
    dv = np.arange(-nv, nv + 1)
    cu = ch0[:, None] + du[None, :]
    cv = ch1[:, None] + dv[None, :]
    fu = ndtr((cu + 1 - a[:, None]) / su[:, None]) - ndtr((cu - a[:, None]) / su[:, None])
    fv = ndtr((cv + 1 - b[:, None]) / sv[:, None]) - ndtr((cv - b[:, None]) / sv[:, None])
    share = (fu[:, :, None] * fv[:, None, :]).reshape(len(a), -1)
    n = share.shape[1]
    owner = np.repeat(p.owner, n)
    c0 = np.repeat(cu, len(dv), axis=1).ravel()
    c1 = np.tile(cv, (1, len(du))).ravel()
    charge = (p.charge[:, None] * share).ravel()
    nonzero = charge > 0
    return owner[nonzero], c0[nonzero], c1[nonzero], charge[nonzero]


def noise(
    det: Detector, rng: np.random.Generator, config: DigitisationConfig | None = None
) -> Digits:
    """Random noise hits, Poisson(``noise_hits``) of them.

    Hits are spread over volumes by ``noise_share`` (by sensor area when empty)
    and uniformly over the area of the modules of a volume.
    """
    cfg = config or DigitisationConfig()
    n = int(rng.poisson(cfg.noise_hits)) if cfg.noise_hits > 0 else 0
    area = (det.module_minhu + det.module_maxhu) * 2.0 * det.module_hv
    if cfg.noise_share:
        share = np.array([cfg.noise_share.get(int(v), 0.0) for v in det.volume_id])
        vol_area = {int(v): area[det.volume_id == v].sum() for v in np.unique(det.volume_id)}
        prob = share * area / np.array([vol_area[int(v)] for v in det.volume_id])
    else:
        prob = area.copy()
    if n == 0 or prob.sum() <= 0:
        e = np.zeros(0, dtype=np.int64)
        return Digits(e, np.zeros((0, 3)), e, e, e, e, np.zeros(0))
    prob = prob / prob.sum()
    mod = rng.choice(len(det), size=n, p=prob).astype(np.int64)
    hv = det.module_hv[mod]
    lo, hi = det.module_minhu[mod], det.module_maxhu[mod]
    # uniform in a trapezoid: v from the linear density ∝ hu(v) by inverting its
    # CDF, then u uniform in [-hu(v), hu(v)]
    x = rng.random(n)
    a, b = lo, hi - lo  # hu(v) = a + b * t with t = (v + hv) / (2 hv) in [0, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(
            np.abs(b) > 1e-9, (-a + np.sqrt(a**2 + b * x * (2 * a + b))) / np.where(b == 0, 1, b), x
        )
    v = (t * 2 - 1) * hv
    hu = a + b * t
    u = (rng.random(n) * 2 - 1) * hu
    # give each noise hit a cluster like a real one: a straight path through
    # the sensor pointing roughly away from the beam line (real noise hits
    # have ~3 cells, like particle hits)
    local = np.stack([u, v, np.zeros(n)], axis=1)
    glob = _to_global(det, mod, u, v)
    direction = glob / np.linalg.norm(glob, axis=1)[:, None] + rng.normal(0.0, 0.3, (n, 3))
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    local_dir = np.einsum("kji,kj->ki", det.rotations[mod], direction)
    digits = digitise(
        det, mod, local, local_dir, rng, cfg.model_copy(update={"hit_efficiency": 1.0})
    )
    return Digits(
        module=digits.module,
        position=digits.position,
        source=np.full(len(digits.module), -1, dtype=np.int64),
        cell_hit=digits.cell_hit,
        ch0=digits.ch0,
        ch1=digits.ch1,
        value=digits.value,
    )
