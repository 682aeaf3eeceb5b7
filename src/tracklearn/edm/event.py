"""One collision event: hits plus optional cells, particles and truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm.hits import Cells, Hits
from tracklearn.edm.particles import Particles, Truth
from tracklearn.errors import DataError


@dataclass(frozen=True, eq=False)
class Event:
    """An event as read from TrackML files or made by a simulator.

    Attributes
    ----------
    event_id
        Integer id (the number in ``event000001000``).
    hits
        Measured hits; ``hit_id`` values are unique.
    truth
        Per-hit truth aligned row by row with ``hits`` (same ``hit_id`` order), or None.
    particles
        Generated particles, or None.  Every non-zero ``truth.particle_id`` is among them.
    cells
        Channels of the hits, or None.  Every ``cells.hit_id`` is a hit.
    source
        Where the event came from (file prefix), used in error messages.
    """

    event_id: int
    hits: Hits
    truth: Truth | None = None
    particles: Particles | None = None
    cells: Cells | None = None
    source: str = "event"

    def __post_init__(self) -> None:
        src = self.source
        hit_id = self.hits.hit_id
        if len(hit_id) != len(np.unique(hit_id)):
            n_dup = len(hit_id) - len(np.unique(hit_id))
            raise DataError(src, f"{n_dup} duplicate hit_id values in hits")
        if self.truth is not None:
            if len(self.truth) != len(self.hits):
                raise DataError(
                    src, f"truth has {len(self.truth)} rows but hits has {len(self.hits)}"
                )
            if not np.array_equal(self.truth.hit_id, hit_id):
                raise DataError(src, "truth hit_ids do not match hits hit_ids row by row")
        if self.particles is not None:
            pid = self.particles.particle_id
            if len(pid) != len(np.unique(pid)):
                raise DataError(src, "duplicate particle_id values in particles")
            if np.any(pid == 0):
                raise DataError(src, "particle_id 0 (reserved for noise) in particles")
            if self.truth is not None:
                used = np.unique(self.truth.particle_id)
                used = used[used != 0]
                missing = np.setdiff1d(used, pid, assume_unique=True)
                if len(missing):
                    raise DataError(
                        src, f"truth refers to {len(missing)} particle_ids not in particles"
                    )
        if self.cells is not None and len(self.cells):
            unknown = np.setdiff1d(self.cells.hit_id, hit_id)
            if len(unknown):
                raise DataError(src, f"cells refer to {len(unknown)} hit_ids not in hits")

    @property
    def n_hits(self) -> int:
        return len(self.hits)

    @property
    def has_truth(self) -> bool:
        return self.truth is not None

    def hit_rows(self, hit_ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Row index of each given ``hit_id``; raises :class:`DataError` for unknown ids."""
        ids = np.asarray(hit_ids, dtype=np.int64)
        order = np.argsort(self.hits.hit_id, kind="stable")
        sorted_ids = self.hits.hit_id[order]
        pos = np.searchsorted(sorted_ids, ids)
        pos_c = np.minimum(pos, len(sorted_ids) - 1) if len(sorted_ids) else pos
        ok = (pos < len(sorted_ids)) & (sorted_ids[pos_c] == ids) if len(sorted_ids) else ids != ids
        if not np.all(ok):
            raise DataError(self.source, f"{int(np.count_nonzero(~ok))} hit_ids not in the event")
        return order[pos_c].astype(np.int64)
