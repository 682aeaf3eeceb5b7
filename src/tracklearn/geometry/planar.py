"""Fast lookup of the planar modules of a detector near a point, layer by layer.

A propagator crossing a layer must test only the few modules near the crossing
point, not all ~18,700 modules of the TrackML detector.  :class:`ModuleLookup`
classifies every (volume, layer) of a :class:`~tracklearn.edm.Detector` as a
*barrel* layer (module normals transverse to the beam, stacked in r) or a
*disk* (normals along the beam, stacked in z), gives each layer an envelope
(the r or z interval its sensors occupy, plus a margin) and a 2-D grid in
(φ, z) for barrels or (φ, r) for disks listing which modules touch each cell.

Shapes: ``M`` modules, ``L`` layers, ``Q`` queries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm.detector import Detector, layer_key
from tracklearn.geometry.coords import wrap_phi
from tracklearn.typing import FloatArray, IntArray

#: Grid cell size along φ (as an arc length at the layer's mean radius) and along
#: the second coordinate (z for barrels, r for disks) [mm].
CELL_MM: float = 20.0


def module_outline(detector: Detector, rows: IntArray | None = None) -> FloatArray:
    """Global positions of 9 points per module (corners, edge midpoints, centre).

    Shapes: returns (M, 9, 3) [mm].
    """
    if rows is None:
        rows = np.arange(len(detector), dtype=np.int64)
    hv = detector.module_hv[rows]
    lo = detector.module_minhu[rows]
    hi = detector.module_maxhu[rows]
    # local (u, v) of the 9 points: v in {-hv, 0, +hv}, u in {-hu(v), 0, +hu(v)}
    fv = np.array([-1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    fu = np.array([-1.0, 0.0, 1.0, -1.0, 0.0, 1.0, -1.0, 0.0, 1.0])
    v = fv[None, :] * hv[:, None]
    hu_at_v = lo[:, None] + (hi - lo)[:, None] * (v + hv[:, None]) / (2.0 * hv[:, None])
    u = fu[None, :] * hu_at_v
    local = np.stack([u, v, np.zeros_like(u)], axis=-1)
    rot = detector.rotations[rows]
    centre = detector.centers[rows]
    out: FloatArray = np.einsum("mij,mpj->mpi", rot, local) + centre[:, None, :]
    return out


@dataclass(frozen=True, eq=False)
class ModuleLookup:
    """Per-layer envelopes and (φ, s) grids of a planar detector.

    ``s`` is z for barrel layers and r for disks.

    Attributes
    ----------
    detector : Detector
    layer_volume, layer_layer : int64, shape (L,)
        Volume and layer id of each layer.
    is_barrel : bool, shape (L,)
    env_lo, env_hi : float64, shape (L,)
        Stacking-coordinate interval of the layer's sensors (r for barrels,
        z for disks) widened by ``margin`` [mm].
    s_lo, s_hi : float64, shape (L,)
        Extent along the other coordinate (z for barrels, r for disks) [mm].
    ref : float64, shape (L,)
        Mean stacking coordinate of the layer [mm].
    n_phi, n_s : int64, shape (L,)
        Grid size of each layer; cell ``(i, j)`` of layer ``k`` has flat index
        ``cell_start[k] + i * n_s[k] + j``.
    cell_start : int64, shape (L,)
    cell_offsets : int64, shape (C + 1,)
        CSR offsets into ``cell_modules`` for every grid cell.
    cell_modules : int64, shape (E,)
        Module rows.
    module_layer : int64, shape (M,)
        Layer index of every module.
    """

    detector: Detector
    layer_volume: IntArray
    layer_layer: IntArray
    is_barrel: npt.NDArray[np.bool_]
    env_lo: FloatArray
    env_hi: FloatArray
    s_lo: FloatArray
    s_hi: FloatArray
    ref: FloatArray
    n_phi: IntArray
    n_s: IntArray
    cell_start: IntArray
    cell_offsets: IntArray
    cell_modules: IntArray
    module_layer: IntArray

    @classmethod
    def build(cls, detector: Detector, margin: float = 5.0) -> ModuleLookup:
        """Build the lookup; ``margin`` [mm] widens every module's footprint."""
        if len(detector) == 0:
            raise ValueError("detector has no modules")
        key = layer_key(detector.volume_id, detector.layer_id)
        uniq, module_layer = np.unique(key, return_inverse=True)
        n_layers = len(uniq)
        pts = module_outline(detector)
        r = np.hypot(pts[..., 0], pts[..., 1])
        z = pts[..., 2]
        normal_z = np.abs(detector.rot_zw)
        barrel_module = normal_z < 0.5
        is_barrel = np.zeros(n_layers, dtype=bool)
        np.logical_or.at(is_barrel, module_layer, barrel_module)
        stack = np.where(is_barrel[module_layer][:, None], r, z)
        other = np.where(is_barrel[module_layer][:, None], z, r)

        def reduce(values: FloatArray, fn: np.ufunc, init: float) -> FloatArray:
            out = np.full(n_layers, init)
            fn.at(out, module_layer, values)
            return out

        t = detector.module_t
        env_lo = reduce(stack.min(1) - t, np.minimum, np.inf) - margin
        env_hi = reduce(stack.max(1) + t, np.maximum, -np.inf) + margin
        s_lo = reduce(other.min(1), np.minimum, np.inf) - margin
        s_hi = reduce(other.max(1), np.maximum, -np.inf) + margin
        ref = np.bincount(module_layer, weights=stack[:, 4]) / np.bincount(module_layer)
        mean_r = np.bincount(module_layer, weights=r[:, 4]) / np.bincount(module_layer)

        n_phi = np.maximum(np.ceil(2 * np.pi * mean_r / CELL_MM), 8).astype(np.int64)
        n_s = np.maximum(np.ceil((s_hi - s_lo) / CELL_MM), 1).astype(np.int64)
        cell_start = np.concatenate([[0], np.cumsum(n_phi * n_s)[:-1]]).astype(np.int64)

        # footprint of each module in grid cells: φ interval around its centre
        # (differences wrapped so modules across φ = ±π work) and s interval
        phi_pts = np.arctan2(pts[..., 1], pts[..., 0])
        phi_c = phi_pts[:, 4]
        dphi = wrap_phi(phi_pts - phi_c[:, None])
        lay = module_layer
        r_min = np.maximum(r.min(1), 1.0)
        phi_margin = margin / r_min
        dphi_bin = 2 * np.pi / n_phi[lay]
        i_lo = np.floor((phi_c + dphi.min(1) - phi_margin + np.pi) / dphi_bin).astype(np.int64)
        i_hi = np.floor((phi_c + dphi.max(1) + phi_margin + np.pi) / dphi_bin).astype(np.int64)
        ds = (s_hi[lay] - s_lo[lay]) / n_s[lay]
        j_lo = np.clip(np.floor((other.min(1) - margin - s_lo[lay]) / ds), 0, n_s[lay] - 1)
        j_hi = np.clip(np.floor((other.max(1) + margin - s_lo[lay]) / ds), 0, n_s[lay] - 1)
        j_lo = j_lo.astype(np.int64)
        j_hi = j_hi.astype(np.int64)
        n_i = i_hi - i_lo + 1
        n_j = j_hi - j_lo + 1
        count = n_i * n_j
        # expand every module into its (i, j) cells without a Python loop: entry k
        # of module m has rank k in [0, count[m]), i = k // n_j, j = k % n_j
        mod = np.repeat(np.arange(len(detector), dtype=np.int64), count)
        rank = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        ii = (i_lo[mod] + rank // n_j[mod]) % n_phi[lay[mod]]
        jj = j_lo[mod] + rank % n_j[mod]
        cell = cell_start[lay[mod]] + ii * n_s[lay[mod]] + jj
        order = np.argsort(cell, kind="stable")
        n_cells = int((n_phi * n_s).sum())
        offsets = np.zeros(n_cells + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=n_cells), out=offsets[1:])
        return cls(
            detector=detector,
            layer_volume=(uniq >> 32).astype(np.int64),
            layer_layer=(uniq & 0xFFFFFFFF).astype(np.int64),
            is_barrel=is_barrel,
            env_lo=env_lo,
            env_hi=env_hi,
            s_lo=s_lo,
            s_hi=s_hi,
            ref=ref,
            n_phi=n_phi,
            n_s=n_s,
            cell_start=cell_start,
            cell_offsets=offsets,
            cell_modules=mod[order],
            module_layer=module_layer.astype(np.int64),
        )

    @property
    def n_layers(self) -> int:
        return len(self.layer_volume)

    @property
    def r_max(self) -> float:
        """Outer radius of all sensors [mm]."""
        return float(np.max(np.where(self.is_barrel, self.env_hi, self.s_hi)))

    @property
    def z_max(self) -> float:
        """Largest |z| of all sensors [mm]."""
        return float(np.max(np.abs(np.where(self.is_barrel, self.s_hi, self.env_hi))))

    def candidates(
        self, layer: IntArray, x: FloatArray, y: FloatArray, z: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Modules of ``layer`` near each query point.

        Shapes: ``layer``, ``x``, ``y``, ``z`` (Q,); returns ``(query, module)``
        pairs, each (K,), for every module whose footprint (plus margin) covers
        the point's grid cell.
        """
        phi = np.arctan2(y, x)
        s = np.where(self.is_barrel[layer], z, np.hypot(x, y))
        n_phi = self.n_phi[layer]
        n_s = self.n_s[layer]
        i = np.floor((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64) % n_phi
        ds = (self.s_hi[layer] - self.s_lo[layer]) / n_s
        j = np.floor((s - self.s_lo[layer]) / ds).astype(np.int64)
        inside = (j >= 0) & (j < n_s)
        j = np.clip(j, 0, n_s - 1)
        cell = self.cell_start[layer] + i * n_s + j
        start = self.cell_offsets[cell]
        count = np.where(inside, self.cell_offsets[cell + 1] - start, 0)
        query = np.repeat(np.arange(len(layer), dtype=np.int64), count)
        rank = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return query, self.cell_modules[start[query] + rank]

    def layers_crossed(
        self, lo: FloatArray, hi: FloatArray, barrel: bool, volume_layers: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Layers among ``volume_layers`` whose envelope overlaps ``[lo, hi]``.

        ``volume_layers`` must be sorted by envelope and their envelopes must
        be disjoint (true within one volume).  Shapes: ``lo``, ``hi`` (Q,);
        returns ``(query, layer)`` pairs.
        """
        del barrel
        first = np.searchsorted(self.env_hi[volume_layers], lo, side="left")
        last = np.searchsorted(self.env_lo[volume_layers], hi, side="right")
        count = np.maximum(last - first, 0)
        query = np.repeat(np.arange(len(lo), dtype=np.int64), count)
        rank = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return query, volume_layers[first[query] + rank]

    def volume_groups(self) -> list[tuple[bool, IntArray]]:
        """Layers grouped by volume, each sorted by envelope: ``[(is_barrel, layers)]``."""
        groups = []
        for vol in np.unique(self.layer_volume):
            layers = np.flatnonzero(self.layer_volume == vol)
            layers = layers[np.argsort(self.env_lo[layers])]
            groups.append((bool(self.is_barrel[layers[0]]), layers.astype(np.int64)))
        return groups


def local_coordinates(detector: Detector, module: IntArray, points: FloatArray) -> FloatArray:
    """Local (u, v, w) of global points on given modules.  Shapes: (K,), (K, 3) → (K, 3)."""
    rot = detector.rotations[module]
    out: FloatArray = np.einsum("kji,kj->ki", rot, points - detector.centers[module])
    return out


def inside_bounds(
    detector: Detector, module: IntArray, u: FloatArray, v: FloatArray
) -> npt.NDArray[np.bool_]:
    """Whether local (u, v) lies within each module's trapezoid.  Shapes: (K,) each."""
    hv = detector.module_hv[module]
    lo = detector.module_minhu[module]
    hi = detector.module_maxhu[module]
    hu = lo + (hi - lo) * (v + hv) / (2.0 * hv)
    out: npt.NDArray[np.bool_] = (np.abs(v) <= hv) & (np.abs(u) <= hu)
    return out
