"""Truth helpers for training the full-spectrum tracker: particles' hits in order.

Only training code reads these; reconstruction never sees truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.typing import IntArray


@dataclass(frozen=True, eq=False)
class Sequences:
    """The hits of every particle, ordered along its trajectory (CSR).

    Attributes
    ----------
    particle_id : int64, shape (P,)
        Particles with at least one hit, increasing.
    ptr : int64, shape (P + 1,)
        Hits of particle ``k`` are ``rows[ptr[k]:ptr[k + 1]]``.
    rows : int64, shape (H,)
        Hit rows of the event, ordered by distance from the production vertex.
    first_on_layer : bool, shape (H,)
        True for a particle's first hit on each layer it crosses (False for the
        overlap duplicates that follow on the same layer).
    """

    particle_id: IntArray
    ptr: IntArray
    rows: IntArray
    first_on_layer: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.particle_id)


def particle_sequences(event: Event, layer: npt.NDArray[np.int32]) -> Sequences:
    """Order each particle's hits by their true distance from its production vertex.

    Within half a turn (the simulation's loop protection, and the part of a
    looper the TrackML score weighs most) that distance grows along the path.
    """
    if event.truth is None or event.particles is None:
        raise DataError(event.source, "training needs truth and particles")
    t, p = event.truth, event.particles
    sel = np.nonzero(t.particle_id != 0)[0]
    pid = t.particle_id[sel]
    order_p = np.argsort(p.particle_id)
    k = order_p[np.searchsorted(p.particle_id[order_p], pid)]
    dist = np.sqrt(
        (t.tx[sel] - p.vx[k]) ** 2 + (t.ty[sel] - p.vy[k]) ** 2 + (t.tz[sel] - p.vz[k]) ** 2
    )
    o = np.lexsort((dist, pid))
    rows = sel[o].astype(np.int64)
    pids, start = np.unique(pid[o], return_index=True)
    ptr = np.append(start, len(rows)).astype(np.int64)
    # first hit of a particle on each layer: no earlier hit of the same particle there
    key = pid[o].astype(np.int64)
    lay = layer[rows].astype(np.int64)
    seen = np.zeros(len(rows), bool)
    uniq = np.unique(np.stack([key, lay], 1), axis=0, return_index=True)[1]
    seen[uniq] = True
    return Sequences(pids.astype(np.int64), ptr, rows, seen)
