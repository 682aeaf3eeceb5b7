"""Measured hits of one event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from tracklearn.edm._table import Column, Table


@dataclass(frozen=True, eq=False)
class Hits(Table):
    """Space points of one event (TrackML ``hits`` table), one row per hit.

    Attributes
    ----------
    hit_id : int64, shape (N,)
        Unique identifier of the hit within the event (TrackML counts from 1).
    x, y, z : float64, shape (N,)
        Global position [mm].
    volume_id, layer_id, module_id : int32, shape (N,)
        Detector element that recorded the hit.
    """

    hit_id: npt.NDArray[np.int64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    z: npt.NDArray[np.float64]
    volume_id: npt.NDArray[np.int32]
    layer_id: npt.NDArray[np.int32]
    module_id: npt.NDArray[np.int32]

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("hit_id", "int64"),
        Column("x", "float64", "mm"),
        Column("y", "float64", "mm"),
        Column("z", "float64", "mm"),
        # ids are >= 0: the layer key (volume << 32 | layer) assumes it
        Column("volume_id", "int32", nonnegative=True),
        Column("layer_id", "int32", nonnegative=True),
        Column("module_id", "int32", nonnegative=True),
    )
    SOURCE: ClassVar[str] = "hits"

    @property
    def r(self) -> npt.NDArray[np.float64]:
        """Transverse radius sqrt(x² + y²) [mm], shape (N,)."""
        return np.hypot(self.x, self.y)

    @property
    def phi(self) -> npt.NDArray[np.float64]:
        """Azimuth atan2(y, x) in (-π, π] [rad], shape (N,)."""
        return np.arctan2(self.y, self.x)

    @property
    def positions(self) -> npt.NDArray[np.float64]:
        """Positions as an (N, 3) array [mm]."""
        return np.stack([self.x, self.y, self.z], axis=1)


@dataclass(frozen=True, eq=False)
class Cells(Table):
    """Channels that make up each hit (TrackML ``cells`` table), one row per channel.

    Attributes
    ----------
    hit_id : int64, shape (C,)
        Hit the channel belongs to.
    ch0, ch1 : int32, shape (C,)
        Channel indices along the module's local u and v axes.
    value : float32, shape (C,)
        Deposited charge (arbitrary units, as in TrackML).
    """

    hit_id: npt.NDArray[np.int64]
    ch0: npt.NDArray[np.int32]
    ch1: npt.NDArray[np.int32]
    value: npt.NDArray[np.float32]

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("hit_id", "int64"),
        Column("ch0", "int32"),
        Column("ch1", "int32"),
        Column("value", "float32"),
    )
    SOURCE: ClassVar[str] = "cells"
