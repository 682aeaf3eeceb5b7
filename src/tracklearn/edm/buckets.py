"""Buckets of hits (hashing / approximate nearest neighbours) as a CSR list of hit rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.errors import DataError

__all__ = ["Buckets"]


@dataclass(frozen=True, eq=False)
class Buckets:
    """Buckets of one event: bucket ``b`` holds ``hit_index[offsets[b]:offsets[b + 1]]``.

    A bucket is a small set of hits that a hash or a nearest-neighbour query put
    together (Amrouche et al., "Hashing and metric learning for charged particle
    tracking"); a hit may be in many buckets.  Query buckets (every hit asks for
    its ``k`` nearest neighbours) list their query hit first and record it in
    ``query``; hash buckets (hits sharing a hash code) have ``query == -1``.

    Attributes
    ----------
    offsets : int64, shape (B + 1,)
        Non-decreasing, ``offsets[0] == 0`` and ``offsets[-1] == len(hit_index)``.
    hit_index : int64, shape (H,)
        Hit rows of the event, grouped by bucket (no hit twice in one bucket:
        the builders guarantee it, it is not re-checked here for speed).
    n_hits : int
        Hits in the event (bounds ``hit_index``).
    query : int64, shape (B,)
        Hit row whose query made the bucket, or -1.
    """

    offsets: npt.NDArray[np.int64]
    hit_index: npt.NDArray[np.int64]
    n_hits: int
    query: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        off = np.asarray(self.offsets)
        idx = np.asarray(self.hit_index)
        q = np.asarray(self.query)
        for name, a in (("offsets", off), ("hit_index", idx), ("query", q)):
            if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
                raise DataError("buckets", f"{name} must be a 1-D integer array")
        if len(off) < 1 or off[0] != 0 or off[-1] != len(idx) or np.any(np.diff(off) < 0):
            raise DataError("buckets", "offsets must rise from 0 to len(hit_index)")
        if len(q) != len(off) - 1:
            raise DataError("buckets", f"query has {len(q)} entries for {len(off) - 1} buckets")
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n_hits):
            raise DataError("buckets", f"hit_index outside [0, {self.n_hits})")
        if len(q) and (q.min() < -1 or q.max() >= self.n_hits):
            raise DataError("buckets", f"query outside [-1, {self.n_hits})")

    @property
    def n_buckets(self) -> int:
        """Number of buckets ``B``."""
        return len(self.offsets) - 1

    @property
    def sizes(self) -> npt.NDArray[np.int64]:
        """Hits per bucket, shape ``(B,)``."""
        return np.diff(self.offsets).astype(np.int64)

    @property
    def bucket_of_entry(self) -> npt.NDArray[np.int64]:
        """Bucket number of every entry of ``hit_index``, shape ``(H,)``."""
        return np.repeat(np.arange(self.n_buckets, dtype=np.int64), self.sizes)

    @classmethod
    def from_neighbours(cls, neighbours: npt.ArrayLike, n_hits: int) -> Buckets:
        """Query buckets from a neighbour table: row ``i`` is hit ``i``'s bucket.

        Entries ``< 0`` (an index that found fewer than ``k`` neighbours) are
        dropped; the query hit is put first (added if the index missed it) and
        repeats are removed.  A table whose first column is the query and that has
        no ``-1`` is taken as it stands (a nearest-neighbour index lists a point at
        most once per row).

        Shapes
        ------
        ``neighbours`` ``(N, k)`` int → ``B = N`` buckets.
        """
        nn = np.asarray(neighbours, dtype=np.int64)
        if nn.ndim != 2 or nn.shape[0] != n_hits:
            raise DataError("buckets", f"neighbour table must be ({n_hits}, k), got {nn.shape}")
        n, k = nn.shape
        rows = np.arange(n, dtype=np.int64)
        if k and np.array_equal(nn[:, 0], rows) and not (nn < 0).any():
            # the usual kNN answer: the query first, k distinct rows (an index never
            # lists a point twice), so the table is the CSR as it stands
            offsets = np.arange(0, n * k + 1, k, dtype=np.int64)
            return cls(offsets=offsets, hit_index=nn.reshape(-1), n_hits=n_hits, query=rows)
        # put the query in column 0, then blank its other occurrences and repeats
        table = np.concatenate([rows[:, None], nn], axis=1)
        srt = np.sort(table, axis=1)
        dup_sorted = np.zeros_like(srt, dtype=bool)
        dup_sorted[:, 1:] = srt[:, 1:] == srt[:, :-1]
        # a value is a repeat if it equals an earlier column value; find by first position
        order = np.argsort(table, axis=1, kind="stable")
        first = np.ones_like(table, dtype=bool)
        np.put_along_axis(first, order, ~dup_sorted, axis=1)
        keep = first & (table >= 0)
        sizes = keep.sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return cls(offsets=offsets, hit_index=table[keep], n_hits=n_hits, query=rows)

    @classmethod
    def from_labels(cls, labels: npt.ArrayLike) -> Buckets:
        """Hash buckets: hits with equal ``labels`` share one bucket (``query = -1``).

        Shapes
        ------
        ``labels`` ``(N,)`` (any sortable dtype) → one bucket per distinct label.
        """
        lab = np.asarray(labels)
        n = len(lab)
        order = np.argsort(lab, kind="stable")
        _, counts = np.unique(lab[order], return_counts=True)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(
            offsets=offsets,
            hit_index=order.astype(np.int64),
            n_hits=n,
            query=np.full(len(counts), -1, dtype=np.int64),
        )
