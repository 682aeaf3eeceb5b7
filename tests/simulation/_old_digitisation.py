"""The digitisation of tracklearn before cluster shapes were modelled, frozen as a reference.

A verbatim copy of ``digitise`` as it was (4 sampled points per pitch, no drift,
no diffusion, no threshold, no smearing, no hit shift); the regression test
checks that ``DigitisationConfig.geometric()`` reproduces it bit for bit.
"""

from __future__ import annotations

import numpy as np

from tracklearn.edm.detector import Detector
from tracklearn.simulation.digitisation import (
    TRACKML_STRIP_VOLUMES,
    Digits,
    FloatArray,
    IntArray,
    _cell_centres,
    _channels,
    _n_channels,
    _to_global,
)


def old_digitise(
    det: Detector,
    module: IntArray,
    local: FloatArray,
    local_dir: FloatArray,
    rng: np.random.Generator,
    hit_efficiency: float = 1.0,
    binary_volumes: tuple[int, ...] = TRACKML_STRIP_VOLUMES,
    max_cells: int = 64,
) -> Digits:
    k_all = np.arange(len(module), dtype=np.int64)
    if hit_efficiency < 1:
        k_all = k_all[rng.random(len(module)) < hit_efficiency]
    mod = module[k_all]
    thick = det.module_t[mod]
    dw = np.where(np.abs(local_dir[k_all, 2]) > 1e-6, local_dir[k_all, 2], 1e-6)
    half = local_dir[k_all] * (0.5 * thick / dw)[:, None]
    entry = local[k_all] - half
    exit_ = local[k_all] + half
    length = np.linalg.norm(exit_ - entry, axis=1)
    pu, pv = det.pitch_u[mod], det.pitch_v[mod]
    span = np.abs(exit_[:, 0] - entry[:, 0]) / pu + np.abs(exit_[:, 1] - entry[:, 1]) / pv
    n_seg = np.clip(np.ceil(4 * span).astype(np.int64) + 1, 1, 4 * max_cells)
    owner = np.repeat(np.arange(len(k_all), dtype=np.int64), n_seg)
    rank = np.arange(n_seg.sum()) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    frac = (rank + 0.5) / n_seg[owner]
    point = entry[owner] + frac[:, None] * (exit_[owner] - entry[owner])
    seg_len = length[owner] / n_seg[owner]
    ch0, ch1 = _channels(det, mod[owner], point[:, 0], point[:, 1])
    n0, n1 = _n_channels(det, mod[owner])
    inside = (ch0 >= 0) & (ch0 < n0) & (ch1 >= 0) & (ch1 < n1)
    owner, ch0, ch1, seg_len = owner[inside], ch0[inside], ch1[inside], seg_len[inside]
    key = (owner << 40) | (ch0 << 20) | ch1
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    value = np.add.reduceat(seg_len[order], first) if len(first) else np.zeros(0)
    c_owner = owner[order][first]
    c0 = ch0[order][first]
    c1 = ch1[order][first]
    binary = np.isin(det.volume_id[mod[c_owner]], np.asarray(binary_volumes, dtype=np.int64))
    value = np.where(binary, 1.0, value)
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
