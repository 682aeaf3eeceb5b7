"""Symmetry augmentation for learned graph builders: φ rotations and z reflection.

The tracker is (nearly) symmetric under rotations about the beam axis and under
z → −z.  A true segment moved by such a transformation is as likely as the
original, but it joins *other* modules; so a few training events can teach a
module map about many more module pairs (the limit of a module map learned from
few events is the pairs it never saw).

:class:`ModuleLocator` finds the module that a transformed position falls on:
among the ``k`` modules of the target layer with the nearest centres, the one
whose plane the point lies closest to while inside (or least outside) its
trapezoid.  Reflection maps an endcap layer to the layer of the mirror endcap
with the opposite mean z; barrel layers map to themselves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from tracklearn.edm.detector import Detector, layer_key, module_key, split_layer_key
from tracklearn.typing import FloatArray, IntArray

__all__ = ["ModuleLocator"]


class ModuleLocator:
    """Module of a position on a given detector layer (see the module docstring).

    Parameters
    ----------
    detector
        Module geometry (TrackML ``detectors.csv``).
    k
        Nearest module centres to consider per position.
    """

    def __init__(self, detector: Detector, k: int = 4) -> None:
        self.k = k
        d = detector
        self._keys = module_key(d.volume_id, d.layer_id, d.module_id)
        self._centre = np.stack([d.cx, d.cy, d.cz], axis=1)
        # rotation columns: local u, v, w axes in global coordinates, shape (M, 3, 3)
        self._rot = np.stack(
            [
                np.stack([d.rot_xu, d.rot_yu, d.rot_zu], axis=1),
                np.stack([d.rot_xv, d.rot_yv, d.rot_zv], axis=1),
                np.stack([d.rot_xw, d.rot_yw, d.rot_zw], axis=1),
            ],
            axis=1,
        )
        self._minhu, self._maxhu, self._hv = d.module_minhu, d.module_maxhu, d.module_hv
        layer_code = layer_key(d.volume_id, d.layer_id)
        self._trees: dict[int, tuple[cKDTree, IntArray]] = {}
        for code in np.unique(layer_code):
            rows = np.flatnonzero(layer_code == code).astype(np.int64)
            self._trees[int(code)] = (cKDTree(self._centre[rows]), rows)
        # z mirror of each layer: same volume for barrels (mean z ~ 0), else the
        # layer of the mirror volume whose mean z is closest to minus this one's
        mean_z = {c: float(self._centre[r, 2].mean()) for c, (_, r) in self._trees.items()}
        self._mirror: dict[int, int] = {}
        for c, zc in mean_z.items():
            vol = split_layer_key(c)[0]
            same_vol_spread = abs(zc) < 50.0  # mm: a barrel layer is centred on z = 0
            if same_vol_spread:
                self._mirror[c] = c
                continue
            others = [o for o in mean_z if split_layer_key(o)[0] != vol and mean_z[o] * zc < 0]
            self._mirror[c] = min(others, key=lambda o: abs(mean_z[o] + zc))

    def mirror_layer(self, volume_id: int, layer_id: int) -> tuple[int, int]:
        """The (volume, layer) that z → −z maps a layer to."""
        return split_layer_key(self._mirror[int(layer_key(volume_id, layer_id))])

    def locate(
        self, volume_id: npt.ArrayLike, layer_id: npt.ArrayLike, xyz: FloatArray
    ) -> IntArray:
        """Module key of each position on the given layer.

        Parameters
        ----------
        volume_id, layer_id
            Layer of each position, shapes ``(K,)``.
        xyz
            Positions [mm], shape ``(K, 3)``.

        Returns
        -------
        numpy.ndarray
            int64 module keys (:func:`~tracklearn.edm.detector.module_key`), ``(K,)``.
        """
        code = layer_key(volume_id, layer_id)
        out = np.full(len(code), -1, dtype=np.int64)
        for c in np.unique(code):
            sel = np.flatnonzero(code == c)
            tree, rows = self._trees[int(c)]
            k = min(self.k, len(rows))
            _, nn = tree.query(xyz[sel], k=k)
            cand = rows[np.asarray(nn).reshape(len(sel), k)]  # (S, k) module rows
            local = np.einsum(
                "skij,skj->ski", self._rot[cand], xyz[sel][:, None, :] - self._centre[cand]
            )
            u, v, w = local[..., 0], local[..., 1], local[..., 2]
            hv = self._hv[cand]
            # trapezoid half-width grows linearly from minhu at v = -hv to maxhu at +hv
            t = np.clip((v + hv) / (2 * hv), 0.0, 1.0)
            hu = self._minhu[cand] + t * (self._maxhu[cand] - self._minhu[cand])
            outside = np.maximum(np.abs(u) - hu, 0.0) + np.maximum(np.abs(v) - hv, 0.0)
            best = np.argmin(outside + np.abs(w), axis=1)
            out[sel] = self._keys[cand[np.arange(len(sel)), best]]
        return out

    def transformed_keys(
        self,
        volume_id: npt.NDArray[np.integer],
        layer_id: npt.NDArray[np.integer],
        xyz: FloatArray,
        angle: float,
        reflect: bool,
    ) -> IntArray:
        """Module keys of hits after a rotation by ``angle`` [rad] and an optional z → −z.

        Shapes
        ------
        ``volume_id, layer_id`` ``(K,)``, ``xyz`` ``(K, 3)`` [mm]; output ``(K,)``.
        """
        c, s = np.cos(angle), np.sin(angle)
        moved = np.stack(
            [c * xyz[:, 0] - s * xyz[:, 1], s * xyz[:, 0] + c * xyz[:, 1], xyz[:, 2]], axis=1
        )
        vol = np.asarray(volume_id, np.int64)
        lay = np.asarray(layer_id, np.int64)
        if reflect:
            moved[:, 2] = -moved[:, 2]
            uniq, inv = np.unique(layer_key(vol, lay), return_inverse=True)
            mapped = np.array([self._mirror[int(u)] for u in uniq], dtype=np.int64)[inv]
            vol, lay = mapped >> 32, mapped & 0xFFFFFFFF
        return self.locate(vol, lay, moved)
