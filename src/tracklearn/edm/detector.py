"""Planar-module detector description (TrackML ``detectors.csv``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from tracklearn.edm._table import Column, Table
from tracklearn.errors import DataError


def module_key(
    volume_id: npt.ArrayLike, layer_id: npt.ArrayLike, module_id: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Pack (volume, layer, module) into one int64 (16 + 16 + 32 bits) for lookups."""
    v = np.asarray(volume_id, dtype=np.int64)
    lay = np.asarray(layer_id, dtype=np.int64)
    mod = np.asarray(module_id, dtype=np.int64)
    return (v << 48) | (lay << 32) | mod


def layer_key(volume_id: npt.ArrayLike, layer_id: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Pack (volume, layer) into one int64 (``volume << 32 | layer``): the project's one
    layer code, for grouping hits or modules by layer (:func:`split_layer_key` undoes it).

    The layer is masked to 32 bits, so a negative ``layer_id`` (rejected when reading,
    possible in memory) cannot spill into the volume bits and merge layers.

    >>> layer_key([8, 8, 13], [2, 4, 2]).tolist() == [(8 << 32) | 2, (8 << 32) | 4, (13 << 32) | 2]
    True
    """
    volume = np.asarray(volume_id, dtype=np.int64)
    out: npt.NDArray[np.int64] = (volume << 32) | (np.asarray(layer_id, np.int64) & 0xFFFFFFFF)
    return out


def split_layer_key(key: int) -> tuple[int, int]:
    """The (volume, layer) of a :func:`layer_key`."""
    return int(key) >> 32, int(key) & 0xFFFFFFFF


@dataclass(frozen=True, eq=False)
class Detector(Table):
    """Planar modules of a tracker, one row per module.

    The local frame (u, v, w) of a module maps to global coordinates as
    ``x_global = center + rotation @ (u, v, w)``; ``rotation[:, :, 0]`` is the u
    axis in global coordinates.  Modules are trapezoids in (u, v): half-width
    ``min_hu`` at ``v = -hv`` and ``max_hu`` at ``v = +hv`` (rectangles when equal).

    Attributes
    ----------
    volume_id, layer_id, module_id : int32, shape (M,)
    cx, cy, cz : float64, shape (M,)
        Module centre [mm].
    rot_xu ... rot_zw : float64, shape (M,)
        Rotation matrix elements (global row x/y/z, local column u/v/w).
    module_t : float64, shape (M,)
        Sensor thickness along w [mm].  Measured on the real event: barrel
        cluster lengths grow as ``module_t · tan(incidence)``, so this is the
        full thickness there; end-cap clusters are those of ``2 · module_t``
        (see :mod:`tracklearn.simulation.digitisation`).
    module_minhu, module_maxhu, module_hv : float64, shape (M,)
        Trapezoid half lengths [mm].
    pitch_u, pitch_v : float64, shape (M,)
        Channel pitch along u and v [mm].
    """

    volume_id: npt.NDArray[np.int32]
    layer_id: npt.NDArray[np.int32]
    module_id: npt.NDArray[np.int32]
    cx: npt.NDArray[np.float64]
    cy: npt.NDArray[np.float64]
    cz: npt.NDArray[np.float64]
    rot_xu: npt.NDArray[np.float64]
    rot_xv: npt.NDArray[np.float64]
    rot_xw: npt.NDArray[np.float64]
    rot_yu: npt.NDArray[np.float64]
    rot_yv: npt.NDArray[np.float64]
    rot_yw: npt.NDArray[np.float64]
    rot_zu: npt.NDArray[np.float64]
    rot_zv: npt.NDArray[np.float64]
    rot_zw: npt.NDArray[np.float64]
    module_t: npt.NDArray[np.float64]
    module_minhu: npt.NDArray[np.float64]
    module_maxhu: npt.NDArray[np.float64]
    module_hv: npt.NDArray[np.float64]
    pitch_u: npt.NDArray[np.float64]
    pitch_v: npt.NDArray[np.float64]

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("volume_id", "int32"),
        Column("layer_id", "int32"),
        Column("module_id", "int32"),
        Column("cx", "float64", "mm"),
        Column("cy", "float64", "mm"),
        Column("cz", "float64", "mm"),
        *(Column(f"rot_{a}{b}", "float64") for a in "xyz" for b in "uvw"),
        Column("module_t", "float64", "mm"),
        Column("module_minhu", "float64", "mm"),
        Column("module_maxhu", "float64", "mm"),
        Column("module_hv", "float64", "mm"),
        Column("pitch_u", "float64", "mm"),
        Column("pitch_v", "float64", "mm"),
    )
    SOURCE: ClassVar[str] = "detector"

    def __post_init__(self) -> None:
        super().__post_init__()
        keys = module_key(self.volume_id, self.layer_id, self.module_id)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        if len(keys) and np.any(sorted_keys[1:] == sorted_keys[:-1]):
            raise DataError(self.SOURCE, "duplicate (volume_id, layer_id, module_id) rows")
        object.__setattr__(self, "_sorted_keys", sorted_keys)
        object.__setattr__(self, "_order", order)

    @property
    def centers(self) -> npt.NDArray[np.float64]:
        """Module centres, shape (M, 3) [mm]."""
        return np.stack([self.cx, self.cy, self.cz], axis=1)

    @property
    def rotations(self) -> npt.NDArray[np.float64]:
        """Local-to-global rotation matrices, shape (M, 3, 3)."""
        rows = [[getattr(self, f"rot_{a}{b}") for b in "uvw"] for a in "xyz"]
        return np.moveaxis(np.array(rows), 2, 0)

    def module_index(
        self, volume_id: npt.ArrayLike, layer_id: npt.ArrayLike, module_id: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """Row of each (volume, layer, module), -1 where the module does not exist."""
        keys = module_key(volume_id, layer_id, module_id)
        sk: npt.NDArray[np.int64] = self._sorted_keys  # type: ignore[attr-defined]
        order: npt.NDArray[np.int64] = self._order  # type: ignore[attr-defined]
        if len(sk) == 0:
            return np.full(keys.shape, -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(sk, keys), 0, len(sk) - 1)
        found = sk[pos] == keys
        return np.where(found, order[pos], -1).astype(np.int64)

    def check_hits(
        self,
        volume_id: npt.ArrayLike,
        layer_id: npt.ArrayLike,
        module_id: npt.ArrayLike,
        source: str,
    ) -> npt.NDArray[np.int64]:
        """Module row of every hit; raises :class:`DataError` naming ``source`` for unknown ids."""
        idx = self.module_index(volume_id, layer_id, module_id)
        bad = idx < 0
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            v = np.asarray(volume_id)[i]
            lay = np.asarray(layer_id)[i]
            mod = np.asarray(module_id)[i]
            raise DataError(
                source,
                f"{int(bad.sum())} hits on unknown detector modules "
                f"(first: volume {v}, layer {lay}, module {mod})",
            )
        return idx

    def check_hit_positions(
        self,
        rows: npt.NDArray[np.int64],
        positions: npt.NDArray[np.float64],
        hit_id: npt.NDArray[np.int64],
        source: str,
        *,
        margin: float = 5.0,  # mm
    ) -> None:
        """Raise :class:`DataError` when hits lie outside their own module.

        A hit must be within the module's half-diagonal (largest half-width,
        half-length and half-thickness) plus ``margin`` of the module centre.
        Coordinates in metres (or in µm) fail this at once, with a message saying so.

        Shapes
        ------
        rows: (N,) module row of each hit (from :meth:`check_hits`); positions: (N, 3) [mm];
        hit_id: (N,).
        """
        if len(rows) == 0:
            return
        half = np.sqrt(
            np.maximum(self.module_minhu, self.module_maxhu) ** 2
            + self.module_hv**2
            + (0.5 * self.module_t) ** 2
        )[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            dist = np.linalg.norm(positions - self.centers[rows], axis=1)
        bad = ~(dist <= half + margin)  # NaN (overflow) counts as bad
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            r_hit = float(np.hypot(positions[:, 0], positions[:, 1]).max())
            r_det = float(np.hypot(self.cx, self.cy).max())
            raise DataError(
                source,
                f"{int(bad.sum())} of {len(rows)} hits lie outside their detector module "
                f"(first: hit_id {int(hit_id[i])}, {float(dist[i]):.4g} mm from its centre); "
                f"hits reach r = {r_hit:.4g}, the detector r = {r_det:.4g}: "
                "coordinates must be in mm",
            )
