"""Detector layers as the full-spectrum tracker sees them: cylinders and disks.

Every (volume, layer) pair of a TrackML-style detector is either a *barrel*
layer (modules at nearly one radius, spread along z) or a *disk* (modules at
nearly one z, spread in r).  The tracker only needs, per layer, its kind, its
nominal position (radius or z) and the extent of its active area along the
other coordinate; :class:`LayerTable` holds that, derived once from the
module positions of ``detectors.csv`` and stored in the model folder, so that
reconstruction needs no geometry file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Detector, Hits
from tracklearn.errors import DataError
from tracklearn.typing import FloatArray, IntArray


def stored_layer_key(volume_id: npt.ArrayLike, layer_id: npt.ArrayLike) -> IntArray:
    """The layer key a model folder stores (``layers.npz``): ``volume · 1000 + layer``.

    Part of the shipped model's file format, so it is kept as trained; everything else
    groups layers with :func:`tracklearn.edm.layer_key`.
    """
    return np.asarray(volume_id, np.int64) * 1000 + np.asarray(layer_id, np.int64)


class LayerSurfaces(NamedTuple):
    """The per-layer arrays of a :class:`LayerTable` that the compiled kernels read
    (a tuple, so that numba takes it as one argument)."""

    barrel: npt.NDArray[np.bool_]
    position: FloatArray
    t_min: FloatArray
    t_max: FloatArray
    depth: FloatArray


@dataclass(frozen=True, eq=False)
class LayerTable:
    """Kind, position and active extent of each layer, ordered by key.

    Attributes
    ----------
    key : int64, shape (L,)
        ``stored_layer_key(volume, layer)``, increasing.
    barrel : bool, shape (L,)
        True for a cylinder (position = radius), False for a disk (position = z).
    position : float64, shape (L,)
        Nominal radius [mm] of a barrel layer or z [mm] of a disk.
    t_min, t_max : float64, shape (L,)
        Active extent along the other coordinate: z [mm] for a barrel layer,
        r [mm] for a disk.
    depth : float64, shape (L,)
        How far the sensors reach from the nominal position [mm]: radially for
        a barrel layer (staggered, flat modules), along z for a disk.
    """

    key: IntArray
    barrel: npt.NDArray[np.bool_]
    position: FloatArray
    t_min: FloatArray
    t_max: FloatArray
    depth: FloatArray

    def __post_init__(self) -> None:
        n = len(self.key)
        for name in ("barrel", "position", "t_min", "t_max", "depth"):
            if len(getattr(self, name)) != n:
                raise DataError("layer table", f"{name} has a length other than key's ({n})")
        if n and np.any(np.diff(self.key) <= 0):
            raise DataError("layer table", "keys must be strictly increasing")
        if not (np.all(np.isfinite(self.position)) and np.all(self.t_max > self.t_min)):
            raise DataError("layer table", "positions must be finite and extents non-empty")

    @property
    def surfaces(self) -> LayerSurfaces:
        """Barrel flags, positions, extents and depths for the compiled kernels."""
        return LayerSurfaces(self.barrel, self.position, self.t_min, self.t_max, self.depth)

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def from_detector(cls, detector: Detector) -> LayerTable:
        """Derive the table from the module centres and half-sizes of a detector.

        A layer is a barrel when its module centres spread more in z than in r.
        The extent adds each module's largest half-size to its centre, so it
        bounds the active area from outside.
        """
        key = stored_layer_key(detector.volume_id, detector.layer_id)
        keys, inv = np.unique(key, return_inverse=True)
        r = np.hypot(detector.cx, detector.cy)
        z = detector.cz
        half = np.maximum(detector.module_maxhu, detector.module_hv)
        n = len(keys)
        barrel = np.zeros(n, bool)
        position, t_min, t_max, depth = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        for k in range(n):  # a few dozen layers
            sel = inv == k
            rr, zz, hh = r[sel], z[sel], half[sel]
            hu, thick = detector.module_maxhu[sel], detector.module_t[sel]
            barrel[k] = np.ptp(zz) > np.ptp(rr)
            if barrel[k]:
                position[k] = float(np.mean(rr))
                t_min[k], t_max[k] = float(np.min(zz - hh)), float(np.max(zz + hh))
                # a flat module's edge lies sqrt(r² + hu²) - r further out than its centre
                outer = np.sqrt(rr**2 + hu**2) + thick - position[k]
                inner = position[k] - rr + thick
                depth[k] = float(max(outer.max(), inner.max()))
            else:
                position[k] = float(np.mean(zz))
                t_min[k] = float(max(np.min(rr - hh), 0.0))
                t_max[k] = float(np.max(rr + hh))
                depth[k] = float(np.max(np.abs(zz - position[k]) + thick))
        return cls(keys.astype(np.int64), barrel, position, t_min, t_max, depth)

    def index_of(self, hits: Hits, source: str = "hits") -> npt.NDArray[np.int32]:
        """Layer index (row of this table) of every hit, shape (N,).

        Raises :class:`DataError` naming the first unknown (volume, layer) pair.
        """
        key = stored_layer_key(hits.volume_id, hits.layer_id)
        pos = np.searchsorted(self.key, key)
        pos_c = np.minimum(pos, len(self.key) - 1)
        bad = self.key[pos_c] != key
        if np.any(bad):
            k = int(key[np.argmax(bad)])
            raise DataError(
                source,
                f"{int(bad.sum())} hits on layers this model does not know "
                f"(first: volume {k // 1000}, layer {k % 1000})",
            )
        return pos_c.astype(np.int32)

    def save(self, path: str | Path) -> None:
        """Write the table as an ``.npz`` (the caller makes the write atomic)."""
        np.savez(
            path,
            key=self.key,
            barrel=self.barrel,
            position=self.position,
            t_min=self.t_min,
            t_max=self.t_max,
            depth=self.depth,
        )

    @classmethod
    def load(cls, path: str | Path) -> LayerTable:
        """Read a table written by :meth:`save`."""
        try:
            with np.load(path) as f:
                return cls(
                    f["key"].astype(np.int64),
                    f["barrel"].astype(bool),
                    f["position"].astype(np.float64),
                    f["t_min"].astype(np.float64),
                    f["t_max"].astype(np.float64),
                    f["depth"].astype(np.float64),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(path, f"not a layer table ({exc})") from None
