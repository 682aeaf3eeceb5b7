"""Scored edges: the classifier's view of the graph the tracks were built from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.errors import DataError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ScoredEdges:
    """Edges between hits with their classifier score and, with MC dropout, its spread.

    Attributes
    ----------
    inner, outer : int64, shape (E,)
        Hit rows of the two ends (``inner`` the hit nearer the beam line, as in
        ``Graph.edge_index``).
    score : float32, shape (E,)
        Edge probability in [0, 1] (the mean over MC-dropout samples when there were any).
    score_std : float32, shape (E,), optional
        Standard deviation of the score over the MC-dropout samples (None without them).
    label_pt_min : float or None
        The classifier's notion of a true edge (for calibration against truth): both
        ends on one particle of pT ≥ ``label_pt_min`` [GeV] (None: any particle).
    """

    inner: npt.NDArray[np.int64]
    outer: npt.NDArray[np.int64]
    score: npt.NDArray[np.float32]
    score_std: npt.NDArray[np.float32] | None = None
    label_pt_min: float | None = None

    def __post_init__(self) -> None:
        src = "scored edges"
        inner = np.asarray(self.inner)
        outer = np.asarray(self.outer)
        n = len(inner)
        if inner.ndim != 1 or outer.shape != (n,):
            raise DataError(src, "inner and outer must be 1-D of one length")
        if n and (inner.dtype.kind not in "iu" or outer.dtype.kind not in "iu"):
            raise DataError(src, "inner and outer must hold hit rows (integers)")
        score = np.asarray(self.score, dtype=np.float32)
        if score.shape != (n,) or (n and not np.all((score >= 0) & (score <= 1))):
            raise DataError(src, f"score must be {n} probabilities in [0, 1]")
        values: dict[str, npt.NDArray[np.generic]] = {
            "inner": inner.astype(np.int64),
            "outer": outer.astype(np.int64),
            "score": score,
        }
        if self.score_std is not None:
            std = np.asarray(self.score_std, dtype=np.float32)
            if std.shape != (n,) or (n and not np.all(np.isfinite(std) & (std >= 0))):
                raise DataError(src, f"score_std must be {n} finite values >= 0")
            values["score_std"] = std
        for name, arr in values.items():
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.inner)

    def track_scores(
        self, offsets: npt.ArrayLike, hit_index: npt.ArrayLike, n_hits: int
    ) -> tuple[FloatArray, FloatArray]:
        """Per track: mean score and mean MC spread of the edges inside it.

        An edge is inside track ``t`` when both its hits belong to ``t`` (tracks
        given in CSR form, as :class:`~tracklearn.edm.TrackCandidates`).  Tracks
        without an inner edge get NaN; the spread is NaN without ``score_std``.
        Shapes: returns (T,), (T,).

        >>> f32 = np.float32
        >>> e = ScoredEdges(np.array([0, 1, 2]), np.array([1, 2, 3]),
        ...                 np.array([0.9, 0.7, 0.2], f32), np.array([0.1, 0.3, 0.0], f32))
        >>> m, s = e.track_scores([0, 3, 4], [0, 1, 2, 3], 4)
        >>> m.round(3).tolist(), s.round(3).tolist()
        ([0.8, nan], [0.2, nan])
        """
        off = np.asarray(offsets, dtype=np.int64)
        idx = np.asarray(hit_index, dtype=np.int64)
        n_tracks = len(off) - 1
        # a hit's track (the first listing it, as TrackCandidates.to_labels); -1 if none
        owner = np.full(n_hits, -1, dtype=np.int64)
        tid = np.repeat(np.arange(n_tracks, dtype=np.int64), np.diff(off))
        owner[idx[::-1]] = tid[::-1]
        a, b = owner[self.inner], owner[self.outer]
        inside = (a >= 0) & (a == b)
        t = a[inside]
        count = np.bincount(t, minlength=n_tracks).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(t, weights=self.score[inside], minlength=n_tracks) / count
            if self.score_std is None:
                spread = np.full(n_tracks, np.nan)
            else:
                spread = np.bincount(t, weights=self.score_std[inside], minlength=n_tracks) / count
        return np.asarray(mean), np.asarray(spread)
