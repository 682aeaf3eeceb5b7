"""Reconstructed tracks as a CSR list of hit rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm.scored_edges import ScoredEdges
from tracklearn.edm.track_parameters import TrackParameters
from tracklearn.errors import DataError


@dataclass(frozen=True, eq=False)
class TrackCandidates:
    """Track candidates of one event in CSR form.

    Track ``t`` holds the hit rows ``hit_index[offsets[t]:offsets[t + 1]]`` (row
    indices into the event's :class:`~tracklearn.edm.Hits`, not ``hit_id``\\s).

    Attributes
    ----------
    offsets : int64, shape (T + 1,)
        Non-decreasing, ``offsets[0] == 0`` and ``offsets[-1] == len(hit_index)``.
    hit_index : int64, shape (H,)
        Hit rows, grouped by track.
    n_hits : int
        Number of hits in the event (bounds ``hit_index``).
    parameters : TrackParameters or None
        Fitted perigee parameters of (some of) the tracks, rows keyed by track
        number; ``None`` for methods that do not fit their tracks.
    edges : ScoredEdges or None
        The scored edges the tracks were built from (edge-classifier methods, when
        asked for: MC-dropout spreads, calibration); ``None`` otherwise.
    """

    offsets: npt.NDArray[np.int64]
    hit_index: npt.NDArray[np.int64]
    n_hits: int
    parameters: TrackParameters | None = None
    edges: ScoredEdges | None = None

    def __post_init__(self) -> None:
        for name in ("offsets", "hit_index"):
            kind = np.asarray(getattr(self, name)).dtype.kind
            if kind not in "iu" and np.asarray(getattr(self, name)).size:
                raise DataError("tracks", f"{name} must hold integers")
        if self.n_hits < 0:
            raise DataError("tracks", "n_hits must be >= 0")
        off = np.array(self.offsets, dtype=np.int64)
        idx = np.array(self.hit_index, dtype=np.int64)
        if off.ndim != 1 or len(off) < 1 or off[0] != 0 or off[-1] != len(idx):
            raise DataError("tracks", "offsets must start at 0 and end at len(hit_index)")
        if np.any(np.diff(off) < 0):
            raise DataError("tracks", "offsets must be non-decreasing")
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n_hits):
            raise DataError("tracks", f"hit_index outside [0, {self.n_hits})")
        # a hit may be shared by several tracks, but not listed twice in one track
        tid = np.repeat(np.arange(len(off) - 1, dtype=np.int64), np.diff(off))
        keys = tid * max(self.n_hits, 1) + idx
        if len(np.unique(keys)) != len(keys):
            raise DataError("tracks", "a track lists the same hit twice")
        if self.parameters is not None:
            if not isinstance(self.parameters, TrackParameters):
                raise DataError("tracks", "parameters must be a TrackParameters table")
            tr = self.parameters.track
            if len(tr) and tr.max() >= len(off) - 1:
                raise DataError(
                    "tracks", f"parameters refer to track {int(tr.max())} of {len(off) - 1}"
                )
        if self.edges is not None:
            if not isinstance(self.edges, ScoredEdges):
                raise DataError("tracks", "edges must be ScoredEdges")
            e = self.edges
            if len(e) and max(int(e.inner.max()), int(e.outer.max())) >= self.n_hits:
                raise DataError("tracks", f"scored edges outside [0, {self.n_hits})")
        off.flags.writeable = False
        idx.flags.writeable = False
        object.__setattr__(self, "offsets", off)
        object.__setattr__(self, "hit_index", idx)

    def with_parameters(self, parameters: TrackParameters | None) -> TrackCandidates:
        """The same tracks carrying ``parameters`` (a new object; ``edges`` are kept)."""
        return TrackCandidates(self.offsets, self.hit_index, self.n_hits, parameters, self.edges)

    def with_edges(self, edges: ScoredEdges | None) -> TrackCandidates:
        """The same tracks carrying scored ``edges`` (a new object)."""
        return TrackCandidates(self.offsets, self.hit_index, self.n_hits, self.parameters, edges)

    def track_scores(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per track mean edge score and mean MC spread (:meth:`ScoredEdges.track_scores`)."""
        if self.edges is None:
            nan = np.full(self.n_tracks, np.nan)
            return nan, nan.copy()
        return self.edges.track_scores(self.offsets, self.hit_index, self.n_hits)

    @property
    def n_tracks(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        """Hits per track, shape (T,)."""
        return np.diff(self.offsets)

    def track(self, t: int) -> npt.NDArray[np.int64]:
        """Hit rows of track ``t``."""
        return self.hit_index[self.offsets[t] : self.offsets[t + 1]]

    def track_of_entry(self) -> npt.NDArray[np.int64]:
        """Track number of each entry of ``hit_index``, shape (H,)."""
        return np.repeat(np.arange(self.n_tracks, dtype=np.int64), self.lengths)

    @classmethod
    def from_labels(cls, labels: npt.ArrayLike, *, min_hits: int = 1) -> TrackCandidates:
        """Build tracks from one label per hit; labels ≤ 0 mean unassigned.

        Tracks are numbered in increasing label value; tracks with fewer
        than ``min_hits`` hits are dropped (their hits become unassigned).

        >>> tc = TrackCandidates.from_labels([3, 0, 3, 7, -1])
        >>> tc.n_tracks, tc.track(0).tolist(), tc.track(1).tolist()
        (2, [0, 2], [3])
        """
        lab = np.asarray(labels)
        if lab.dtype.kind not in "iu":
            raise DataError("tracks", f"track labels must be integers, got {lab.dtype}")
        lab = lab.astype(np.int64)
        rows = np.flatnonzero(lab > 0)
        keys = lab[rows]
        order = np.argsort(keys, kind="stable")
        rows, keys = rows[order], keys[order]
        _, counts = np.unique(keys, return_counts=True)
        keep = counts >= min_hits
        if not np.all(keep):
            mask = np.repeat(keep, counts)
            rows = rows[mask]
            counts = counts[keep]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(offsets=offsets, hit_index=rows, n_hits=len(lab))

    def to_labels(self) -> npt.NDArray[np.int64]:
        """One label per hit: track number + 1, 0 for unassigned, shape (n_hits,).

        A hit shared by several tracks goes to the first of them.
        """
        labels = np.zeros(self.n_hits, dtype=np.int64)
        tid = self.track_of_entry() + 1
        # write in reverse so the first track listing a hit wins
        labels[self.hit_index[::-1]] = tid[::-1]
        return labels

    @classmethod
    def empty(cls, n_hits: int) -> TrackCandidates:
        return cls(offsets=np.zeros(1, np.int64), hit_index=np.zeros(0, np.int64), n_hits=n_hits)
