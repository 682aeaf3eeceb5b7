"""Sensor crossings → channels (cells) → measured hits, and noise hits.

Conventions measured on the real TrackML event (``event000000001``, hits and
cells against ``detectors.csv``):

* a module's channels are ``ch0 = floor((u + max_hu) / pitch_u)`` and
  ``ch1 = floor((v + hv) / pitch_v)``; cell centres are
  ``u = (ch0 + ½) pitch_u − max_hu`` and ``v = (ch1 + ½) pitch_v − hv``;
* ``module_t`` is the full sensor thickness: cluster lengths grow as
  ``module_t · tan(incidence)``;
* a pixel cell's ``value`` is the particle's path length in that cell [mm],
  strip cells (volumes 12–18) read out binary ``value = 1``;
* the hit is the value-weighted centroid of its cells on the module mid-plane
  (w = 0), so the hit resolution comes from the pitch.

The real barrel hits are also shifted from the centroid by a constant per
volume (a Lorentz-angle correction, 0.018–0.03 mm); it is not simulated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm.detector import Detector

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

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


class DigitisationConfig(BaseModel):
    """Channel readout, inefficiency and noise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hit_efficiency: float = Field(1.0, gt=0, le=1)  # probability that a crossing makes a hit
    binary_volumes: tuple[int, ...] = TRACKML_STRIP_VOLUMES  # cells read out as value 1
    noise_hits: float = Field(TRACKML_NOISE_HITS, ge=0)  # mean noise hits per event (Poisson)
    noise_share: dict[int, float] = Field(  # per volume; empty = by sensor area
        default_factory=lambda: dict(TRACKML_NOISE_SHARE)
    )
    max_cells: int = Field(64, gt=0)  # longest cluster along a sensor path


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


def digitise(
    det: Detector,
    module: IntArray,
    local: FloatArray,
    local_dir: FloatArray,
    rng: np.random.Generator,
    config: DigitisationConfig | None = None,
) -> Digits:
    """Turn sensor crossings into cells and centroid hits.

    Parameters
    ----------
    module : int64, shape (K,)
        Detector row of each crossing.
    local : float64, shape (K, 3)
        Local crossing point on the mid-plane [mm].
    local_dir : float64, shape (K, 3)
        Unit direction in the module frame.
    """
    cfg = config or DigitisationConfig()
    k_all = np.arange(len(module), dtype=np.int64)
    if cfg.hit_efficiency < 1:
        k_all = k_all[rng.random(len(module)) < cfg.hit_efficiency]
    mod = module[k_all]
    thick = det.module_t[mod]
    dw = np.where(np.abs(local_dir[k_all, 2]) > 1e-6, local_dir[k_all, 2], 1e-6)
    # the straight path through the sensor, from w = −t/2 to w = +t/2
    half = local_dir[k_all] * (0.5 * thick / dw)[:, None]
    entry = local[k_all] - half
    exit_ = local[k_all] + half
    length = np.linalg.norm(exit_ - entry, axis=1)
    pu, pv = det.pitch_u[mod], det.pitch_v[mod]
    span = np.abs(exit_[:, 0] - entry[:, 0]) / pu + np.abs(exit_[:, 1] - entry[:, 1]) / pv
    # split each path into sub-segments much shorter than a pitch; each adds its
    # length to the cell holding its midpoint (exact up to the segment size)
    n_seg = np.clip(np.ceil(4 * span).astype(np.int64) + 1, 1, 4 * cfg.max_cells)
    owner = np.repeat(np.arange(len(k_all), dtype=np.int64), n_seg)
    rank = np.arange(n_seg.sum()) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    frac = (rank + 0.5) / n_seg[owner]
    point = entry[owner] + frac[:, None] * (exit_[owner] - entry[owner])
    seg_len = length[owner] / n_seg[owner]
    ch0, ch1 = _channels(det, mod[owner], point[:, 0], point[:, 1])
    n0, n1 = _n_channels(det, mod[owner])
    inside = (ch0 >= 0) & (ch0 < n0) & (ch1 >= 0) & (ch1 < n1)
    owner, ch0, ch1, seg_len = owner[inside], ch0[inside], ch1[inside], seg_len[inside]
    # sum sub-segments per (crossing, ch0, ch1): sort by a packed key, reduce runs
    key = (owner << 40) | (ch0 << 20) | ch1
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    value = np.add.reduceat(seg_len[order], first) if len(first) else np.zeros(0)
    c_owner = owner[order][first]
    c0 = ch0[order][first]
    c1 = ch1[order][first]
    binary = np.isin(det.volume_id[mod[c_owner]], np.asarray(cfg.binary_volumes, dtype=np.int64))
    value = np.where(binary, 1.0, value)
    # hits: crossings with at least one cell, at the value-weighted centroid
    hit_rows, cell_hit = np.unique(c_owner, return_inverse=True)
    cu, cv = _cell_centres(det, mod[c_owner], c0, c1)
    wsum = np.bincount(cell_hit, weights=value)
    u = np.bincount(cell_hit, weights=value * cu) / wsum
    v = np.bincount(cell_hit, weights=value * cv) / wsum
    hmod = mod[hit_rows]
    return Digits(
        module=hmod,
        position=_to_global(det, hmod, u, v),
        source=k_all[hit_rows],
        cell_hit=cell_hit.astype(np.int64),
        ch0=c0,
        ch1=c1,
        value=value,
    )


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
