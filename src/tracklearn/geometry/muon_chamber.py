"""A generic muon chamber read out in strips: layers × partitions × strips.

The chamber is a stack of ``n_layers`` parallel planes (6 by default), each
divided along y into ``n_partitions`` (8) partitions of ``n_strips`` (384)
strips that measure x, the bending coordinate.  A readout image is the binary
array ``(n_layers, n_partitions, n_strips)``: a voxel is 1 when its strip fired.

Local frame [mm]: ``x`` across the strips, ``0 ≤ x < n_strips · strip_pitch``
(strip ``i`` covers ``[i · pitch, (i + 1) · pitch)``); ``y`` across the
partitions, ``0 ≤ y < n_partitions · partition_height``; ``z`` along the
depth, layer ``l`` at ``z = l · layer_pitch``.  The interaction point lies
``distance`` in front of layer 0, on the normal through the chamber centre, so
an infinitely stiff muon from it crosses the chamber along the straight line
pointing back to it (:func:`projective_slopes`).

All functions are pure and vectorised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.typing import FloatArray, IntArray


class MuonChamberGeometry(BaseModel):
    """Sizes of the chamber (defaults: the 6 × 8 × 384 chamber of the trigger study)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_layers: int = Field(6, ge=2)
    n_partitions: int = Field(8, ge=1)
    n_strips: int = Field(384, ge=8)
    strip_pitch: float = Field(1.0, gt=0)  # mm, width of a strip (x)
    partition_height: float = Field(100.0, gt=0)  # mm, height of a partition (y)
    layer_pitch: float = Field(25.0, gt=0)  # mm, distance between consecutive layers (z)
    distance: float = Field(5000.0, gt=0)  # mm, interaction point to layer 0 along z

    @property
    def shape(self) -> tuple[int, int, int]:
        """Image shape ``(layers, partitions, strips)``."""
        return (self.n_layers, self.n_partitions, self.n_strips)

    @property
    def width(self) -> float:
        """Extent in x [mm]."""
        return self.n_strips * self.strip_pitch

    @property
    def height(self) -> float:
        """Extent in y [mm]."""
        return self.n_partitions * self.partition_height

    def layer_z(self) -> FloatArray:
        """z of every layer [mm], shape (L,)."""
        return np.arange(self.n_layers, dtype=np.float64) * self.layer_pitch

    def strip_index(self, x: npt.ArrayLike) -> IntArray:
        """Strip containing ``x`` [mm] (-1 outside the chamber); same shape as ``x``.

        >>> MuonChamberGeometry().strip_index([0.0, 0.99, 1.0, 383.5, 384.0, -0.1]).tolist()
        [0, 0, 1, 383, -1, -1]
        """
        i = np.floor(np.asarray(x, dtype=np.float64) / self.strip_pitch).astype(np.int64)
        return np.where((i >= 0) & (i < self.n_strips), i, -1)

    def partition_index(self, y: npt.ArrayLike) -> IntArray:
        """Partition containing ``y`` [mm] (-1 outside the chamber); same shape as ``y``."""
        i = np.floor(np.asarray(y, dtype=np.float64) / self.partition_height).astype(np.int64)
        return np.where((i >= 0) & (i < self.n_partitions), i, -1)


def projective_slopes(
    geometry: MuonChamberGeometry, x0: FloatArray, y0: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``dx/dz`` and ``dy/dz`` of a straight line from the interaction point through ``(x0, y0)``.

    ``(x0, y0)`` [mm] is the crossing point on layer 0; the interaction point
    sits ``distance`` before layer 0 on the chamber's central normal.  Shapes:
    any (broadcast), returned alike.

    >>> g = MuonChamberGeometry()
    >>> projective_slopes(g, np.array([192.0, 692.0]), np.array([400.0, 400.0]))[0].tolist()
    [0.0, 0.1]
    """
    sx = (np.asarray(x0, dtype=np.float64) - 0.5 * geometry.width) / geometry.distance
    sy = (np.asarray(y0, dtype=np.float64) - 0.5 * geometry.height) / geometry.distance
    return sx, sy
