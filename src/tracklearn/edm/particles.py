"""Generated particles and their per-hit truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from tracklearn.edm._table import Column, Table


@dataclass(frozen=True, eq=False)
class Particles(Table):
    """Generated particles (TrackML ``particles`` table), one row per particle.

    Attributes
    ----------
    particle_id : int64, shape (P,)
        Unique, non-zero identifier (TrackML ids are large 64-bit integers).
    vx, vy, vz : float64, shape (P,)
        Production vertex [mm].
    px, py, pz : float64, shape (P,)
        Momentum at production [GeV].
    q : int32, shape (P,)
        Charge [e].
    nhits : int32, shape (P,)
        Number of hits the particle left.
    particle_type : int64, shape (P,) or None
        PDG id (present in the CodaLab release of TrackML, absent in Kaggle's).
    """

    particle_id: npt.NDArray[np.int64]
    vx: npt.NDArray[np.float64]
    vy: npt.NDArray[np.float64]
    vz: npt.NDArray[np.float64]
    px: npt.NDArray[np.float64]
    py: npt.NDArray[np.float64]
    pz: npt.NDArray[np.float64]
    q: npt.NDArray[np.int32]
    nhits: npt.NDArray[np.int32]
    particle_type: npt.NDArray[np.int64] | None = None

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("particle_id", "int64"),
        Column("vx", "float64", "mm"),
        Column("vy", "float64", "mm"),
        Column("vz", "float64", "mm"),
        Column("px", "float64", "GeV"),
        Column("py", "float64", "GeV"),
        Column("pz", "float64", "GeV"),
        Column("q", "int32", "e"),
        Column("nhits", "int32"),
        Column("particle_type", "int64", optional=True),
    )
    SOURCE: ClassVar[str] = "particles"

    @property
    def pt(self) -> npt.NDArray[np.float64]:
        """Transverse momentum [GeV], shape (P,)."""
        return np.hypot(self.px, self.py)

    @property
    def eta(self) -> npt.NDArray[np.float64]:
        """Pseudorapidity asinh(pz / pT), shape (P,)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arcsinh(self.pz / self.pt)

    @property
    def phi(self) -> npt.NDArray[np.float64]:
        """Azimuth of the momentum [rad], shape (P,)."""
        return np.arctan2(self.py, self.px)


@dataclass(frozen=True, eq=False)
class Truth(Table):
    """Per-hit truth (TrackML ``truth`` table), aligned row by row with :class:`Hits`.

    Attributes
    ----------
    hit_id : int64, shape (N,)
        Same order as ``Hits.hit_id``.
    particle_id : int64, shape (N,)
        Particle that made the hit; 0 means noise.
    tx, ty, tz : float64, shape (N,)
        True intersection point [mm].
    tpx, tpy, tpz : float64, shape (N,)
        True particle momentum at the hit [GeV] (meaningless for noise).
    weight : float64, shape (N,)
        TrackML score weight of the hit (0 for noise); finite and >= 0.
    """

    hit_id: npt.NDArray[np.int64]
    particle_id: npt.NDArray[np.int64]
    tx: npt.NDArray[np.float64]
    ty: npt.NDArray[np.float64]
    tz: npt.NDArray[np.float64]
    tpx: npt.NDArray[np.float64]
    tpy: npt.NDArray[np.float64]
    tpz: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("hit_id", "int64"),
        Column("particle_id", "int64"),
        Column("tx", "float64", "mm"),
        Column("ty", "float64", "mm"),
        Column("tz", "float64", "mm"),
        Column("tpx", "float64", "GeV"),
        Column("tpy", "float64", "GeV"),
        Column("tpz", "float64", "GeV"),
        Column("weight", "float64", nonnegative=True),
    )
    SOURCE: ClassVar[str] = "truth"
