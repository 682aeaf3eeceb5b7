"""Efficiency as a function of a particle variable, with Clopper-Pearson intervals.

Efficiency in a bin = passed / total for the entries in that bin (for tracking:
matched target particles / target particles, see :mod:`tracklearn.metrics.rates`).
To accumulate over many events, concatenate :func:`particle_table` results with
:meth:`ParticleTable.concatenate` and call :func:`efficiency_curve` once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from tracklearn.edm import Event, TrackCandidates
from tracklearn.metrics.matching import match_tracks
from tracklearn.metrics.targets import TargetSelection, particle_eta, target_mask

__all__ = [
    "ONE_SIGMA",
    "EfficiencyCurve",
    "ParticleTable",
    "clopper_pearson",
    "efficiency_curve",
    "particle_table",
]

#: Central probability of ±1 standard deviation of a normal distribution (68.27 %).
ONE_SIGMA: float = 0.6826894921370859


def clopper_pearson(
    n_pass: npt.ArrayLike, n_total: npt.ArrayLike, cl: float = ONE_SIGMA
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Central Clopper-Pearson interval of a binomial proportion.

    ``lower = Beta(α/2; k, n-k+1)`` (0 when k = 0) and ``upper = Beta(1-α/2; k+1, n-k)``
    (1 when k = n) with ``α = 1 - cl``; NaN where ``n == 0``.

    Shapes
    ------
    ``n_pass`` and ``n_total`` broadcast together; both outputs have that shape.
    """
    k = np.asarray(n_pass, dtype=np.float64)
    n = np.asarray(n_total, dtype=np.float64)
    k, n = np.broadcast_arrays(k, n)
    alpha = 1.0 - cl
    lower = np.full(k.shape, np.nan)
    upper = np.full(k.shape, np.nan)
    has = n > 0
    lower[has & (k == 0)] = 0.0
    upper[has & (k == n)] = 1.0
    lo = has & (k > 0)
    up = has & (k < n)
    lower[lo] = stats.beta.ppf(alpha / 2, k[lo], n[lo] - k[lo] + 1)
    upper[up] = stats.beta.ppf(1 - alpha / 2, k[up] + 1, n[up] - k[up])
    return lower, upper


@dataclass(frozen=True, eq=False)
class EfficiencyCurve:
    """Binned efficiency with Clopper-Pearson uncertainties.

    Attributes
    ----------
    edges : float64, shape (B + 1,)
        Bin edges in the unit of the binned variable (e.g. GeV for pT).
    n_total, n_pass : int64, shape (B,)
        Entries, and entries that passed, per bin.
    efficiency : float64, shape (B,)
        ``n_pass / n_total``; NaN for empty bins.
    lower, upper : float64, shape (B,)
        Central Clopper-Pearson interval at ``cl``; NaN for empty bins.
    cl : float
        Confidence level of the interval (default 68.27 %).
    """

    edges: npt.NDArray[np.float64]
    n_total: npt.NDArray[np.int64]
    n_pass: npt.NDArray[np.int64]
    efficiency: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    cl: float = ONE_SIGMA

    @property
    def centers(self) -> npt.NDArray[np.float64]:
        """Bin centres, shape (B,)."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def efficiency_curve(
    values: npt.ArrayLike,
    passed: npt.ArrayLike,
    bins: int | npt.ArrayLike,
    cl: float = ONE_SIGMA,
) -> EfficiencyCurve:
    """Efficiency of ``passed`` in bins of ``values``.

    Parameters
    ----------
    values
        Variable to bin in, shape (N,); non-finite values and values outside the
        edges are ignored.
    passed
        Whether each entry passed, bool, shape (N,).
    bins
        Number of equal bins over the finite range of ``values`` or bin edges
        (increasing, shape (B + 1,)), as in :func:`numpy.histogram` (last bin closed).
    cl
        Confidence level of the Clopper-Pearson interval.

    Returns
    -------
    EfficiencyCurve
    """
    x = np.asarray(values, dtype=np.float64)
    ok = np.asarray(passed, dtype=bool)
    if x.shape != ok.shape or x.ndim != 1:
        raise ValueError(f"values and passed must be 1-D of equal length: {x.shape}, {ok.shape}")
    finite = np.isfinite(x)
    x, ok = x[finite], ok[finite]
    edges = np.histogram_bin_edges(x, bins=bins)
    n_total = np.histogram(x, bins=edges)[0].astype(np.int64)
    n_pass = np.histogram(x[ok], bins=edges)[0].astype(np.int64)
    eff = np.full(n_total.shape, np.nan)
    np.divide(n_pass, n_total, out=eff, where=n_total > 0)
    lower, upper = clopper_pearson(n_pass, n_total, cl)
    return EfficiencyCurve(
        edges=edges.astype(np.float64),
        n_total=n_total,
        n_pass=n_pass,
        efficiency=eff,
        lower=lower,
        upper=upper,
        cl=cl,
    )


@dataclass(frozen=True, eq=False)
class ParticleTable:
    """Target particles of one or more events with whether each was matched.

    Attributes
    ----------
    event_id : int64, shape (P,)
    particle_id : int64, shape (P,)
    pt : float64, shape (P,)
        Transverse momentum [GeV].
    eta : float64, shape (P,)
        Pseudorapidity asinh(pz / pT).
    matched : bool, shape (P,)
        At least one track is double-majority matched to the particle.
    """

    event_id: npt.NDArray[np.int64]
    particle_id: npt.NDArray[np.int64]
    pt: npt.NDArray[np.float64]
    eta: npt.NDArray[np.float64]
    matched: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.particle_id)

    @classmethod
    def concatenate(cls, tables: Sequence[ParticleTable]) -> ParticleTable:
        """Stack the tables of several events."""
        if not tables:
            return cls(
                event_id=np.zeros(0, np.int64),
                particle_id=np.zeros(0, np.int64),
                pt=np.zeros(0),
                eta=np.zeros(0),
                matched=np.zeros(0, bool),
            )
        return cls(
            event_id=np.concatenate([t.event_id for t in tables]),
            particle_id=np.concatenate([t.particle_id for t in tables]),
            pt=np.concatenate([t.pt for t in tables]),
            eta=np.concatenate([t.eta for t in tables]),
            matched=np.concatenate([t.matched for t in tables]),
        )


def particle_table(
    event: Event, tracks: TrackCandidates, targets: TargetSelection | None = None
) -> ParticleTable:
    """Per-target-particle pT, η and matched flag of one event.

    Parameters
    ----------
    event
        Event with ``truth`` and ``particles``.
    tracks
        Track candidates of ``event``.
    targets
        Target-particle cuts; ``TargetSelection()`` when None.

    Returns
    -------
    ParticleTable
        One row per target particle, in ``event.particles`` order.
    """
    is_target = target_mask(event, targets)
    assert event.particles is not None  # target_mask checked
    match = match_tracks(event, tracks)
    return ParticleTable(
        event_id=np.full(int(is_target.sum()), event.event_id, dtype=np.int64),
        particle_id=event.particles.particle_id[is_target].copy(),
        pt=event.particles.pt[is_target],
        eta=particle_eta(event)[is_target],
        matched=match.n_matched_tracks[is_target] > 0,
    )
