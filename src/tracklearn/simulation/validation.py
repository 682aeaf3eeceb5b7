"""Compare simulated TrackML-format events with real ones: pure statistics.

Everything here works on arrays already read from disk and returns frozen
dataclasses; reading events, plotting and writing reports live in
:mod:`tracklearn.validate_simulation`.

The central object is a per-event count matrix of shape (E, B): row ``e`` holds
event ``e``'s entries in bin ``b``.  "Per event" values are means over the rows,
"spread over events" is their standard deviation, and the Poisson error of a
per-event mean is ``sqrt(sum of counts) / E``.  Bins can be value ranges (pT),
categories (detector volumes) or, for per-event totals, a one-hot histogram of
the totals themselves.

Examples
--------
>>> row = compare_means("hits, volume 8", real=[100, 100], sim=[110], floor=0.10)
>>> round(row.ratio, 6), row.passed
(1.1, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from tracklearn.edm import Cells, Hits, Particles
from tracklearn.edm.detector import Detector

#: TrackML volume ids, barrel and end-caps of pixel, short-strip and long-strip systems
VOLUMES: tuple[int, ...] = (7, 8, 9, 12, 13, 14, 16, 17, 18)

#: generator-level cuts of the real TrackML particle lists (checked on all 38 events:
#: smallest pT 0.1000 GeV, every primary |η| < 4); applied to both sides
PT_MIN = 0.1  # GeV
ETA_MAX = 4.0

#: pT bin edges [GeV]: 5 log bins per decade, 0.1-100 GeV.  Finer bins leave the
#: 6-10 GeV bin with ~100 real particles in 38 events, i.e. a 10 % statistical
#: error that would eat half of the ±20 % floor on its own.
PT_BINS = 10.0 ** np.linspace(-1.0, 2.0, 16)
#: pT range [GeV] in which every bin must meet the spectrum floor
PT_FLOOR_RANGE = (0.1, 10.0)
ETA_BINS = np.linspace(-ETA_MAX, ETA_MAX, 33)
PHI_BINS = np.linspace(-np.pi, np.pi, 25)  # rad
#: production vertex radius bin edges [mm], log: beam spot (~0.02 mm) to secondaries (~1 m)
VERTEX_R_BINS = 10.0 ** np.linspace(-3.0, 3.0, 25)
VERTEX_Z_BINS = np.linspace(-300.0, 300.0, 31)  # mm
CHARGE_BINS = np.array([-1.5, -0.5, 0.5, 1.5])  # e
NHITS_BINS = np.arange(0.5, 31.5)  # one bin per count, 1..30
OCCUPANCY_BINS = np.arange(0.5, 51.5)  # hits per module, 1..50

#: floors: allowed relative deviation |sim/real − 1| of a row
FLOOR_HITS_PER_VOLUME = 0.10
FLOOR_PARTICLES_PER_EVENT = 0.10
FLOOR_MEAN_NHITS = 0.10
FLOOR_PT_SPECTRUM = 0.20

#: relative slack in :func:`within_floor`, so that 110 vs 100 at ±10 % passes despite
#: 110/100 − 1 = 0.10000000000000009 in binary floating point
_FLOOR_EPS = 1e-9

PARTICLE_DEFINITION = (
    f"charged particles with pT >= {PT_MIN} GeV and |eta| <= {ETA_MAX} "
    "(the generator cuts of the real TrackML particle lists), any number of hits"
)


# --------------------------------------------------------------------------- per event


@dataclass(frozen=True, eq=False)
class HitEventStats:
    """Hit-level counts of one event.

    Attributes
    ----------
    event_id
        Event number.
    n_hits
        Hits in the event.
    layer_counts
        Hits per (volume_id, layer_id): int64 Series with that two-level index, sorted.
    module_hits : int64, shape (M,)
        Hits of each module that has at least one hit.
    n_noise_estimated
        ``n_hits − sum(particles.nhits)``, or None without a particles table.
    n_noise_truth
        Hits with ``truth.particle_id == 0``, or None without truth.
    """

    event_id: int
    n_hits: int
    layer_counts: pd.Series
    module_hits: npt.NDArray[np.int64]
    n_noise_estimated: int | None = None
    n_noise_truth: int | None = None

    @property
    def volume_counts(self) -> npt.NDArray[np.int64]:
        """Hits per volume in the order of :data:`VOLUMES`, shape (9,)."""
        per_volume = self.layer_counts.groupby(level="volume_id").sum()
        return per_volume.reindex(list(VOLUMES), fill_value=0).to_numpy(dtype=np.int64)


def hit_event_stats(
    event_id: int,
    hits: Hits,
    particles: Particles | None = None,
    truth_particle_id: npt.ArrayLike | None = None,
) -> HitEventStats:
    """Count one event's hits per volume, layer and module, and its noise.

    Parameters
    ----------
    event_id
        Event number.
    hits
        The event's hits, N rows.
    particles
        The event's particles; their ``nhits`` give the estimated noise
        ``N − sum(nhits)`` (the only estimate possible for real events without truth).
    truth_particle_id : int64, shape (N,), optional
        Per-hit particle id (0 = noise) from the truth table.

    Returns
    -------
    HitEventStats
    """
    frame = pd.DataFrame(
        {"volume_id": hits.volume_id, "layer_id": hits.layer_id, "module_id": hits.module_id}
    )
    layer_counts = frame.groupby(["volume_id", "layer_id"]).size().astype(np.int64)
    module_hits = frame.groupby(["volume_id", "layer_id", "module_id"]).size()
    noise_est = None if particles is None else len(hits) - int(particles.nhits.sum())
    noise_truth = None
    if truth_particle_id is not None:
        noise_truth = int(np.count_nonzero(np.asarray(truth_particle_id) == 0))
    return HitEventStats(
        event_id=event_id,
        n_hits=len(hits),
        layer_counts=layer_counts,
        module_hits=module_hits.to_numpy(dtype=np.int64),
        n_noise_estimated=noise_est,
        n_noise_truth=noise_truth,
    )


@dataclass(frozen=True, eq=False)
class ParticleEventStats:
    """The selected particles of one event (see :data:`PARTICLE_DEFINITION`).

    Attributes
    ----------
    event_id
        Event number.
    table
        One row per selected particle, P rows, columns ``pt`` [GeV], ``eta``,
        ``phi`` [rad], ``vr`` and ``vz`` (production vertex radius and z) [mm],
        ``q`` [e] and ``nhits``.
    n_excluded
        Particles in the file outside the selection (neutral, pT < 0.1 GeV or |η| > 4).
    """

    event_id: int
    table: pd.DataFrame
    n_excluded: int = 0

    @property
    def n_all(self) -> int:
        """Selected particles."""
        return len(self.table)

    @property
    def n_with_hits(self) -> int:
        """Selected particles with at least one hit."""
        return int(np.count_nonzero(self.table["nhits"].to_numpy() > 0))

    @property
    def n_with_3_hits(self) -> int:
        """Selected particles with at least three hits."""
        return int(np.count_nonzero(self.table["nhits"].to_numpy() >= 3))


def particle_event_stats(event_id: int, particles: Particles) -> ParticleEventStats:
    """Select one event's particles as in the real lists and compute their kinematics.

    Parameters
    ----------
    event_id
        Event number.
    particles
        The event's particles table, P rows.

    Returns
    -------
    ParticleEventStats
        Only charged particles with pT >= :data:`PT_MIN` and |η| <= :data:`ETA_MAX`.
    """
    pt = particles.pt
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(particles.pz / pt)
    keep = (particles.q != 0) & (pt >= PT_MIN) & (np.abs(eta) <= ETA_MAX)
    table = pd.DataFrame(
        {
            "pt": pt[keep],
            "eta": eta[keep],
            "phi": particles.phi[keep],
            "vr": np.hypot(particles.vx, particles.vy)[keep],
            "vz": particles.vz[keep],
            "q": particles.q[keep].astype(np.int64),
            "nhits": particles.nhits[keep].astype(np.int64),
        }
    )
    return ParticleEventStats(event_id, table, n_excluded=int(np.count_nonzero(~keep)))


# --------------------------------------------------------------------------- binning


def binned_counts(
    values: npt.ArrayLike, event_index: npt.ArrayLike, n_events: int, edges: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Histogram ``values`` separately for each event.

    Values outside the edges are counted in the first or last bin (nothing is
    lost); NaN values are dropped.

    Parameters
    ----------
    values : shape (V,)
        Entries to histogram.
    event_index : int, shape (V,)
        Row (0 .. ``n_events`` − 1) each value belongs to.
    n_events
        Number of rows E of the result (events with no entries give zero rows).
    edges : shape (B + 1,)
        Increasing bin edges.

    Returns
    -------
    int64 array, shape (E, B)

    Examples
    --------
    >>> binned_counts([0.5, 1.5, 1.7, 9.0], [0, 0, 1, 1], 2, [0, 1, 2]).tolist()
    [[1, 1], [0, 2]]
    """
    v = np.asarray(values, dtype=np.float64)
    ev = np.asarray(event_index, dtype=np.int64)
    e = np.asarray(edges, dtype=np.float64)
    n_bins = len(e) - 1
    ok = np.isfinite(v)
    # searchsorted on the inner edges maps (-inf, e1) → 0 ... [e_B-1, inf) → B-1: the
    # outer bins absorb under- and overflow without clipping the values themselves
    b = np.searchsorted(e[1:-1], v[ok], side="right")
    flat = ev[ok] * n_bins + b  # one bincount over (event, bin) pairs, no Python loop
    return np.bincount(flat, minlength=n_events * n_bins).reshape(n_events, n_bins)


def one_hot_counts(totals: npt.ArrayLike, edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Histogram of per-event totals as a count matrix: each event puts 1 in its bin.

    Parameters
    ----------
    totals : shape (E,)
        One number per event (e.g. hits per event).
    edges : shape (B + 1,)
        Bin edges.

    Returns
    -------
    int64 array, shape (E, B)
    """
    t = np.asarray(totals, dtype=np.float64)
    return binned_counts(t, np.arange(len(t)), len(t), edges)


def category_edges(n_bins: int) -> npt.NDArray[np.float64]:
    """Edges −0.5, 0.5, ..., ``n_bins`` − 0.5: bin k is category k, shape (n_bins + 1,)."""
    return np.arange(n_bins + 1, dtype=np.float64) - 0.5


def covering_edges(*samples: npt.ArrayLike, n_bins: int = 12) -> npt.NDArray[np.float64]:
    """``n_bins`` equal bins spanning every value of every sample, with 5 % margins.

    Returns
    -------
    float64 array, shape (n_bins + 1,)
    """
    values = np.concatenate([np.ravel(np.asarray(s, dtype=np.float64)) for s in samples])
    values = values[np.isfinite(values)]
    lo, hi = (0.0, 1.0) if values.size == 0 else (float(values.min()), float(values.max()))
    pad = 0.05 * (hi - lo) if hi > lo else max(0.05 * abs(hi), 0.5)
    return np.linspace(lo - pad, hi + pad, n_bins + 1)


@dataclass(frozen=True, eq=False)
class BinnedComparison:
    """Per-event count matrices of one quantity for real and simulated events.

    Attributes
    ----------
    name
        Short identifier (also the PNG and JSON name).
    edges : float64, shape (B + 1,)
        Bin edges (for categorical bins: −0.5, 0.5, ..., with ``labels``).
    real : int64, shape (E_real, B)
        Counts per real event and bin.
    sim : int64, shape (E_sim, B)
        Counts per simulated event and bin.
    labels
        Names of categorical bins (B strings), or empty for numeric bins.
    """

    name: str
    edges: npt.NDArray[np.float64]
    real: npt.NDArray[np.int64]
    sim: npt.NDArray[np.int64]
    labels: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        n_bins = len(self.edges) - 1
        for side in ("real", "sim"):
            arr = getattr(self, side)
            if arr.ndim != 2 or arr.shape[1] != n_bins:
                raise ValueError(
                    f"{self.name}: {side} has shape {arr.shape}, expected (E, {n_bins})"
                )
        if self.labels and len(self.labels) != n_bins:
            raise ValueError(f"{self.name}: {len(self.labels)} labels for {n_bins} bins")

    @property
    def real_mean(self) -> npt.NDArray[np.float64]:
        """Real entries per event in each bin, shape (B,)."""
        return _mean(self.real)

    @property
    def sim_mean(self) -> npt.NDArray[np.float64]:
        """Simulated entries per event in each bin, shape (B,)."""
        return _mean(self.sim)

    @property
    def real_err(self) -> npt.NDArray[np.float64]:
        """Poisson error of :attr:`real_mean`: sqrt(total count) / E_real, shape (B,)."""
        return _poisson_err(self.real)

    @property
    def sim_err(self) -> npt.NDArray[np.float64]:
        """Poisson error of :attr:`sim_mean`, shape (B,)."""
        return _poisson_err(self.sim)

    @property
    def real_spread(self) -> npt.NDArray[np.float64]:
        """Standard deviation over real events of the count in each bin, shape (B,)."""
        return _spread(self.real)

    @property
    def ratio(self) -> npt.NDArray[np.float64]:
        """sim / real of the per-event means; NaN where the real bin is empty, shape (B,)."""
        return _ratio(self.sim_mean, self.real_mean)

    @property
    def ratio_err(self) -> npt.NDArray[np.float64]:
        """Poisson error of :attr:`ratio` (relative errors added in quadrature), shape (B,)."""
        r = self.ratio
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_s = np.where(self.sim_mean > 0, self.sim_err / self.sim_mean, 0.0)
            rel_r = self.real_err / self.real_mean
        return np.abs(r) * np.hypot(rel_s, rel_r)

    def to_dict(self) -> dict[str, Any]:
        """Per-bin numbers as plain lists (for JSON)."""
        return {
            "edges": self.edges.tolist(),
            **({"labels": list(self.labels)} if self.labels else {}),
            "n_events_real": int(self.real.shape[0]),
            "n_events_sim": int(self.sim.shape[0]),
            "real_per_event": self.real_mean.tolist(),
            "real_err": self.real_err.tolist(),
            "sim_per_event": self.sim_mean.tolist(),
            "sim_err": self.sim_err.tolist(),
            "ratio": _nan_to_none(self.ratio),
            "ratio_err": _nan_to_none(self.ratio_err),
        }


def _mean(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    if counts.shape[0] == 0:
        return np.full(counts.shape[1], np.nan)
    return counts.mean(axis=0)


def _poisson_err(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    if counts.shape[0] == 0:
        return np.full(counts.shape[1], np.nan)
    return np.sqrt(counts.sum(axis=0)) / counts.shape[0]


def _spread(values: npt.NDArray[Any]) -> Any:
    n = np.shape(values)[0]
    return np.std(values, axis=0, ddof=1 if n > 1 else 0) if n else np.nan


def _ratio(num: Any, den: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(den) > 0, np.asarray(num) / np.asarray(den), np.nan)


def _nan_to_none(a: npt.NDArray[np.float64]) -> list[float | None]:
    return [None if not np.isfinite(x) else float(x) for x in a]


# --------------------------------------------------------------------------- rows


def within_floor(sim: float, real: float, floor: float) -> bool:
    """Whether ``sim`` lies within ±``floor`` (relative, inclusive) of ``real``.

    Relative to ``|real|``, so a negative ``real`` (a signed offset) passes only for
    a ``sim`` of the same sign; a zero or non-finite ``real`` never passes.

    Examples
    --------
    >>> within_floor(110.0, 100.0, 0.10), within_floor(89.9, 100.0, 0.10)
    (True, False)
    >>> within_floor(-0.029, -0.030, 0.10), within_floor(0.030, -0.030, 0.10)
    (True, False)
    """
    if not (np.isfinite(sim) and np.isfinite(real)) or real == 0:
        return False
    return abs(sim - real) <= floor * abs(real) * (1.0 + _FLOOR_EPS)


@dataclass(frozen=True)
class ValidationRow:
    """One line of the validation table.

    Attributes
    ----------
    quantity
        What is compared, with its definition.
    real_mean, real_spread
        Mean over real events and the standard deviation over events (cluster
        rows: mean over the hits of the one real event with cells and its
        standard error).
    sim_mean
        Mean over simulated events.
    floor
        Allowed relative deviation |sim/real − 1| (0.10 = ±10 %), or None for a
        row that is reported but not judged.
    """

    quantity: str
    real_mean: float
    real_spread: float
    sim_mean: float
    floor: float | None = None

    @property
    def ratio(self) -> float:
        """sim_mean / real_mean (NaN if real_mean is zero or not finite)."""
        if not np.isfinite(self.real_mean) or self.real_mean == 0:
            return np.nan
        return float(self.sim_mean / self.real_mean)

    @property
    def passed(self) -> bool | None:
        """Whether the row meets its floor; None for a row without floor."""
        if self.floor is None:
            return None
        return within_floor(self.sim_mean, self.real_mean, self.floor)

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (NaN → None)."""

        def num(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {
            "quantity": self.quantity,
            "real_mean": num(self.real_mean),
            "real_spread": num(self.real_spread),
            "sim_mean": num(self.sim_mean),
            "ratio": num(self.ratio),
            "floor": self.floor,
            "passed": self.passed,
        }


def compare_means(
    quantity: str, real: npt.ArrayLike, sim: npt.ArrayLike, floor: float | None = None
) -> ValidationRow:
    """Row comparing the mean over events of a per-event value.

    Parameters
    ----------
    quantity
        Row label.
    real : shape (E_real,)
        The value in each real event.
    sim : shape (E_sim,)
        The value in each simulated event.
    floor
        Allowed relative deviation, or None.

    Returns
    -------
    ValidationRow
    """
    r = np.asarray(real, dtype=np.float64)
    s = np.asarray(sim, dtype=np.float64)
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    return ValidationRow(
        quantity=quantity,
        real_mean=float(r.mean()) if r.size else np.nan,
        real_spread=float(_spread(r)) if r.size else np.nan,
        sim_mean=float(s.mean()) if s.size else np.nan,
        floor=floor,
    )


def worst_bin(comparison: BinnedComparison, lo: float, hi: float) -> int:
    """Index of the bin inside [lo, hi] whose sim/real ratio is furthest from 1.

    A bin with an undefined ratio (empty real bin) counts as the worst.

    Parameters
    ----------
    comparison
        Numeric bins.
    lo, hi
        Range; only bins lying entirely inside it are considered (units of the edges).

    Returns
    -------
    int
        Bin index.
    """
    e = comparison.edges
    inside = np.flatnonzero((e[:-1] >= lo * (1 - 1e-9)) & (e[1:] <= hi * (1 + 1e-9)))
    if inside.size == 0:
        raise ValueError(f"{comparison.name}: no bin lies inside [{lo}, {hi}]")
    dev = np.abs(comparison.ratio[inside] - 1.0)
    dev = np.where(np.isfinite(dev), dev, np.inf)
    return int(inside[np.argmax(dev)])


def spectrum_row(
    comparison: BinnedComparison, lo: float, hi: float, floor: float, label: str, unit: str
) -> ValidationRow:
    """Row for a spectrum floor: the worst bin in [lo, hi] decides.

    The row's means are the entries per event in that bin, so the row passes
    exactly when every bin in the range is within ±``floor``.
    """
    b = worst_bin(comparison, lo, hi)
    e0, e1 = comparison.edges[b], comparison.edges[b + 1]
    return ValidationRow(
        quantity=(
            f"{label} per event, worst bin {e0:.3g}-{e1:.3g} {unit} of the bins in "
            f"{lo:g}-{hi:g} {unit}"
        ),
        real_mean=float(comparison.real_mean[b]),
        real_spread=float(comparison.real_spread[b]),
        sim_mean=float(comparison.sim_mean[b]),
        floor=floor,
    )


# --------------------------------------------------------------------------- cluster shapes

#: cluster-shape rows use the hits of primary particles (generation 0) above this pT,
#: where the shapes are those of straight crossings (the digitisation, not the loopers)
CLUSTER_PT_MIN = 0.5  # GeV
PIXEL_VOLUMES: tuple[int, ...] = (7, 8, 9)
PIXEL_BARREL = 8
BARREL_VOLUMES: tuple[int, ...] = (8, 13, 17)
#: |η| bin edges of the pixel-barrel cluster rows
CLUSTER_ETA_BINS = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 4.0])
#: |η| bins in which the simulated hits are reweighted to the real event's |η|
#: distribution, per volume: the real event with cells has a ~9× longer luminous
#: region than the simulation (σz ≈ 49 mm vs 5.5 mm), which changes the mix of
#: incidence angles in a volume; a barrel cluster's length along v grows as
#: sinh |η|, by < 2.5 % across a bin of 0.05
CLUSTER_REWEIGHT_ETA_BINS = np.linspace(0.0, 4.0, 81)
#: cluster size bins of the distribution plots: one per size, 1 ... 40 cells (pixel
#: barrel; 1 ... 15 elsewhere)
CLUSTER_SIZE_BINS = np.arange(0.5, 41.5)
#: a cluster row passes within ±10 % of the real mean, or within 3 standard errors of
#: sim − real where the one real event with cells is too small for 10 %
FLOOR_CLUSTER = 0.10
CLUSTER_FLOOR_SIGMAS = 3.0

CLUSTER_DEFINITION = (
    f"hits of primary particles (TrackML generation 0) with pT > {CLUSTER_PT_MIN} GeV; "
    "size = cells per hit; extent = max − min + 1 of the cell index along u (ch0, across "
    "the module) or v (ch1, along it); offset = hit − value-weighted centroid of its cells "
    "along u [mm]"
)


@dataclass(frozen=True, eq=False)
class ClusterStats:
    """Cluster shapes of selected hits, one entry per hit (one or more events).

    Attributes
    ----------
    volume : int64, shape (H,)
        Volume of the hit.
    abs_eta : float64, shape (H,)
        |η| of the hit's particle.
    size : int64, shape (H,)
        Cells of the hit.
    extent_u, extent_v : int64, shape (H,)
        max − min + 1 of the cells' ``ch0`` (across the module) and ``ch1`` (along it).
    offset_u : float64, shape (H,)
        Hit − value-weighted centroid of its cells along the local u axis [mm].
    weight : float64, shape (H,)
        Weight of each hit in means and fractions (1 unless :meth:`reweighted_to`).
    n_events
        Events the hits come from.
    """

    volume: npt.NDArray[np.int64]
    abs_eta: npt.NDArray[np.float64]
    size: npt.NDArray[np.int64]
    extent_u: npt.NDArray[np.int64]
    extent_v: npt.NDArray[np.int64]
    offset_u: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    n_events: int = 1

    FIELDS: ClassVar[tuple[str, ...]] = (
        "volume", "abs_eta", "size", "extent_u", "extent_v", "offset_u", "weight"
    )  # fmt: skip

    def __post_init__(self) -> None:
        n = len(self.volume)
        for name in self.FIELDS:
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"ClusterStats.{name} has {len(getattr(self, name))} rows, not {n}"
                )

    def __len__(self) -> int:
        return len(self.volume)

    @classmethod
    def concat(cls, parts: Sequence[ClusterStats]) -> ClusterStats:
        """The hits of several events together (none: an empty set of 0 events)."""
        if not parts:
            e = np.zeros(0, dtype=np.int64)
            f = np.zeros(0)
            return cls(e, f, e, e, e, f, f, n_events=0)
        arrays = {k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.FIELDS}
        return cls(**arrays, n_events=sum(p.n_events for p in parts))

    def select(self, mask: npt.NDArray[np.bool_]) -> ClusterStats:
        """The hits where ``mask`` is true (same event count)."""
        arrays = {k: getattr(self, k)[mask] for k in self.FIELDS}
        return ClusterStats(**arrays, n_events=self.n_events)

    def unweighted(self) -> ClusterStats:
        """The same hits, each with weight 1."""
        arrays = {k: getattr(self, k) for k in self.FIELDS}
        return ClusterStats(**{**arrays, "weight": np.ones(len(self))}, n_events=self.n_events)

    def reweighted_to(
        self, target: ClusterStats, edges: npt.ArrayLike = CLUSTER_REWEIGHT_ETA_BINS
    ) -> ClusterStats:
        """Weights that give these hits ``target``'s |η| distribution in every volume.

        Each hit's weight is (target share) / (own share) of its (volume, |η| bin)
        among the hits of its volume, so weighted means are those this sample would
        have at the target's kinematics.  Bins the target lacks get weight 0.

        Examples
        --------
        >>> def make(eta):  # one volume, cluster size = 1
        ...     n = len(eta)
        ...     one = np.ones(n, dtype=np.int64)
        ...     return ClusterStats(8 * one, np.array(eta), one, one, one, np.zeros(n), np.ones(n))
        >>> make([0.1, 0.1, 0.1, 0.7]).reweighted_to(make([0.1, 0.7]), [0, 0.5, 1]).weight.tolist()
        [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
        """
        e = np.asarray(edges, dtype=np.float64)
        n_eta = len(e) - 1
        vols = np.unique(np.concatenate([self.volume, target.volume]))

        def shares(c: ClusterStats) -> npt.NDArray[np.float64]:
            v = np.searchsorted(vols, c.volume)
            b = np.clip(np.searchsorted(e, c.abs_eta, side="right") - 1, 0, n_eta - 1)
            counts = np.bincount(v * n_eta + b, c.weight, len(vols) * n_eta)
            counts = counts.reshape(len(vols), n_eta)
            with np.errstate(divide="ignore", invalid="ignore"):
                out: npt.NDArray[np.float64] = counts / counts.sum(axis=1, keepdims=True)
            return np.nan_to_num(out)

        own, goal = shares(self), shares(target)
        v = np.searchsorted(vols, self.volume)
        b = np.clip(np.searchsorted(e, self.abs_eta, side="right") - 1, 0, n_eta - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(own[v, b] > 0, goal[v, b] / own[v, b], 0.0)
        arrays = {k: getattr(self, k) for k in self.FIELDS}
        arrays["weight"] = w * self.weight
        return ClusterStats(**arrays, n_events=self.n_events)


def cluster_stats(
    hits: Hits,
    cells: Cells,
    hit_particle_id: npt.ArrayLike,
    particles: Particles,
    detector: Detector,
    pt_min: float = CLUSTER_PT_MIN,
) -> ClusterStats:
    """Cluster shapes of one event's hits of primary particles with pT > ``pt_min``.

    Parameters
    ----------
    hits
        The event's hits, N rows.
    cells
        Its cells (every ``hit_id`` must be a hit's).
    hit_particle_id : int64, shape (N,)
        Particle of each hit (``truth.particle_id``; 0 = noise).
    particles
        The event's particles (pT, η and the TrackML generation of the id).
    detector
        Geometry: local u axis and cell centres of each module.
    pt_min
        pT cut [GeV].

    Returns
    -------
    ClusterStats
        Hits without cells are left out.
    """
    from tracklearn.geometry.planar import local_coordinates
    from tracklearn.simulation.digitisation import _cell_centres
    from tracklearn.simulation.weights import trackml_generation

    pid = np.asarray(hit_particle_id, dtype=np.int64)
    order = np.argsort(particles.particle_id, kind="stable")
    sorted_pid = particles.particle_id[order]
    if len(sorted_pid) == 0:
        empty = ClusterStats.concat([])
        return ClusterStats(**{k: getattr(empty, k) for k in empty.FIELDS}, n_events=1)
    pos = np.clip(np.searchsorted(sorted_pid, pid), 0, len(sorted_pid) - 1)
    known = (pid != 0) & (sorted_pid[pos] == pid)
    p = order[pos]
    pt = particles.pt
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(particles.pz / pt)
    primary = trackml_generation(particles.particle_id) == 0
    keep = known & primary[p] & (pt[p] > pt_min)
    # cells → hit rows (hit ids need not be sorted)
    hit_order = np.argsort(hits.hit_id, kind="stable")
    row = hit_order[np.searchsorted(hits.hit_id[hit_order], cells.hit_id)]
    n = len(hits)
    module = detector.module_index(hits.volume_id, hits.layer_id, hits.module_id)
    ch0 = cells.ch0.astype(np.int64)
    ch1 = cells.ch1.astype(np.int64)
    value = cells.value.astype(np.float64)
    size = np.bincount(row, minlength=n)
    # per-hit min / max of the channel indices: sort the cells by hit, reduce the runs
    by_hit = np.argsort(row, kind="stable")
    start = np.flatnonzero(np.r_[True, row[by_hit][1:] != row[by_hit][:-1]]) if n else row
    first_row = row[by_hit][start]
    extent = []
    for ch in (ch0, ch1):
        e = np.zeros(n, dtype=np.int64)
        if len(start):
            c = ch[by_hit]
            e[first_row] = np.maximum.reduceat(c, start) - np.minimum.reduceat(c, start) + 1
        extent.append(e)
    cu, _ = _cell_centres(detector, module[row], ch0, ch1)
    with np.errstate(divide="ignore", invalid="ignore"):
        centroid = np.bincount(row, value * cu, n) / np.bincount(row, value, n)
    xyz = np.stack([hits.x, hits.y, hits.z], axis=1)
    u = local_coordinates(detector, np.maximum(module, 0), xyz)[:, 0]
    sel = keep & (size > 0) & (module >= 0)
    return ClusterStats(
        volume=hits.volume_id[sel].astype(np.int64),
        abs_eta=np.abs(eta[p[sel]]),
        size=size[sel].astype(np.int64),
        extent_u=extent[0][sel],
        extent_v=extent[1][sel],
        offset_u=(u - centroid)[sel],
        weight=np.ones(int(sel.sum())),
    )


@dataclass(frozen=True, eq=False)
class MeanComparison:
    """Mean of a per-hit quantity in bins or categories, real vs simulated.

    Drawn like a :class:`BinnedComparison` (same attribute names), but the
    values are means (or fractions) with their standard errors, not counts per event.

    Attributes
    ----------
    name
        Short identifier (also the PNG and JSON name).
    edges : float64, shape (B + 1,)
        Bin edges (for categories −0.5, 0.5, ..., with ``labels``).
    real_mean, real_err, sim_mean, sim_err : float64, shape (B,)
        Means and standard errors (NaN for empty bins).
    labels
        Category names (B strings), or empty for numeric bins.
    """

    name: str
    edges: npt.NDArray[np.float64]
    real_mean: npt.NDArray[np.float64]
    real_err: npt.NDArray[np.float64]
    sim_mean: npt.NDArray[np.float64]
    sim_err: npt.NDArray[np.float64]
    labels: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        n_bins = len(self.edges) - 1
        for side in ("real_mean", "real_err", "sim_mean", "sim_err"):
            if np.shape(getattr(self, side)) != (n_bins,):
                raise ValueError(f"{self.name}: {side} has shape {np.shape(getattr(self, side))}")

    @property
    def ratio(self) -> npt.NDArray[np.float64]:
        """sim / real; NaN where the real mean is not positive, shape (B,)."""
        out: npt.NDArray[np.float64] = _ratio(self.sim_mean, self.real_mean)
        return out

    @property
    def ratio_err(self) -> npt.NDArray[np.float64]:
        """Standard error of :attr:`ratio` (relative errors in quadrature), shape (B,)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.hypot(self.sim_err / self.sim_mean, self.real_err / self.real_mean)
        return np.abs(self.ratio) * rel

    def to_dict(self) -> dict[str, Any]:
        """Per-bin numbers as plain lists (for JSON)."""
        return {
            "edges": self.edges.tolist(),
            **({"labels": list(self.labels)} if self.labels else {}),
            "real_mean": _nan_to_none(self.real_mean),
            "real_err": _nan_to_none(self.real_err),
            "sim_mean": _nan_to_none(self.sim_mean),
            "sim_err": _nan_to_none(self.sim_err),
            "ratio": _nan_to_none(self.ratio),
            "ratio_err": _nan_to_none(self.ratio_err),
        }


def _mean_and_err(
    values: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> tuple[float, float]:
    """Weighted mean and its standard error; NaN when empty.

    The error is the weighted standard deviation over sqrt(n_eff), with the
    effective count n_eff = (Σw)² / Σw² (n for equal weights).

    Examples
    --------
    >>> [round(x, 6) for x in _mean_and_err([1.0, 2.0, 3.0])]  # std 1, n 3
    [2.0, 0.57735]
    >>> _mean_and_err([1.0, 5.0], [3.0, 1.0])[0]
    2.0
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.ones(v.shape) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = w > 0
    v, w = v[keep], w[keep]
    if v.size == 0:
        return np.nan, np.nan
    mean = float(np.average(v, weights=w))
    if v.size < 2:
        return mean, np.nan
    n_eff = w.sum() ** 2 / (w**2).sum()
    var = float(np.average((v - mean) ** 2, weights=w)) * n_eff / (n_eff - 1)
    return mean, float(np.sqrt(var / n_eff))


def _binned_means(
    values: npt.ArrayLike, weights: npt.ArrayLike, bins: npt.ArrayLike, n_bins: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(bins)
    out = np.array([_mean_and_err(v[b == k], w[b == k]) for k in range(n_bins)])
    return out.reshape(n_bins, 2)[:, 0], out.reshape(n_bins, 2)[:, 1]


def cluster_mean_comparison(
    name: str,
    real: ClusterStats,
    sim: ClusterStats,
    quantity: str,
    by: str,
    edges: npt.ArrayLike | None = None,
) -> MeanComparison:
    """Weighted mean of ``quantity`` (``size``, ``extent_u``, ...) per volume or |η| bin.

    ``by="volume"`` gives one category per :data:`VOLUMES` entry; ``by="abs_eta"``
    uses ``edges`` (values outside them are left out).
    """
    means = []
    if by == "volume":
        n_bins = len(VOLUMES)
        e = category_edges(n_bins)
        labels = tuple(str(v) for v in VOLUMES)
        for c in (real, sim):
            index = np.searchsorted(np.asarray(VOLUMES), c.volume)
            index = np.where(np.isin(c.volume, VOLUMES), index, -1)
            means.append(_binned_means(getattr(c, quantity), c.weight, index, n_bins))
    else:
        e = np.asarray(edges, dtype=np.float64)
        n_bins = len(e) - 1
        labels = ()
        for c in (real, sim):
            x = getattr(c, by)
            index = np.where((x >= e[0]) & (x < e[-1]), np.searchsorted(e, x, "right") - 1, -1)
            means.append(_binned_means(getattr(c, quantity), c.weight, index, n_bins))
    (rm, re_), (sm, se) = means
    return MeanComparison(name, e, rm, re_, sm, se, labels)


def cluster_size_distribution(
    name: str, real: ClusterStats, sim: ClusterStats, edges: npt.ArrayLike = CLUSTER_SIZE_BINS
) -> MeanComparison:
    """Weighted fraction of hits per cluster size (bins ``edges``).

    Errors are binomial with the effective count; sizes beyond the last bin count in it.
    """
    fractions = []
    edges = np.asarray(edges, dtype=np.float64)
    for c in (real, sim):
        b = np.clip(np.searchsorted(edges, c.size, side="right") - 1, 0, len(edges) - 2)
        total = c.weight.sum()
        n_eff = total**2 / (c.weight**2).sum() if total > 0 else 1.0
        f = np.bincount(b, c.weight, len(edges) - 1) / max(total, 1e-300)
        fractions.append((f, np.sqrt(f * (1 - f) / n_eff)))
    (rf, re_), (sf, se) = fractions
    return MeanComparison(name, edges.astype(np.float64), rf, re_, sf, se)


def cluster_row(
    label: str,
    real: ClusterStats,
    sim: ClusterStats,
    quantity: str,
    judged: bool = True,
) -> ValidationRow:
    """Row comparing the (weighted) per-hit means of ``quantity``.

    The real spread column holds the standard error of the real mean; the floor
    is ±:data:`FLOOR_CLUSTER`, or :data:`CLUSTER_FLOOR_SIGMAS` standard errors of
    sim − real (relative to the real mean) when larger, in whole percent.
    """
    rm, re_ = _mean_and_err(getattr(real, quantity), real.weight)
    sm, se = _mean_and_err(getattr(sim, quantity), sim.weight)
    floor = None
    if judged:
        # standard error of sim − real, relative to the real mean
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = float(np.hypot(re_, se) / abs(rm))
        floor = FLOOR_CLUSTER
        if np.isfinite(rel):
            floor = max(floor, float(np.ceil(CLUSTER_FLOOR_SIGMAS * rel * 100) / 100))
    return ValidationRow(label, rm, re_, sm, floor)


_CLUSTER_NAMES = {
    "size": "cells per hit",
    "extent_u": "extent across (u) [cells]",
    "extent_v": "extent along (v) [cells]",
}


def cluster_rows(real: ClusterStats, sim: ClusterStats) -> list[ValidationRow]:
    """Per-volume size and extents, pixel-barrel |η| bins, and barrel hit offsets.

    ``sim`` should carry weights from :meth:`ClusterStats.reweighted_to` ``real``:
    those rows are judged; the per-volume rows are also listed unweighted ("raw").
    """
    rows = []
    raw = sim.unweighted()
    for v in VOLUMES:
        r, s, s_raw = (c.select(c.volume == v) for c in (real, sim, raw))
        for q in ("size", "extent_u", "extent_v") if v in PIXEL_VOLUMES else ("size",):
            label = f"cluster {_CLUSTER_NAMES[q]}, volume {v}"
            rows.append(cluster_row(f"{label} (raw)", r, s_raw, q, judged=False))
            rows.append(cluster_row(f"{label} (sim reweighted to the real |eta|)", r, s, q))
    for lo, hi in itertools.pairwise(CLUSTER_ETA_BINS):
        r, s = (
            c.select((c.volume == PIXEL_BARREL) & (c.abs_eta >= lo) & (c.abs_eta < hi))
            for c in (real, sim)
        )
        for q in ("size", "extent_u", "extent_v"):
            label = f"cluster {_CLUSTER_NAMES[q]}, volume {PIXEL_BARREL}, {lo:g} <= |eta| < {hi:g}"
            rows.append(cluster_row(f"{label} (reweighted)", r, s, q))
    for v in BARREL_VOLUMES:
        r, s = real.select(real.volume == v), sim.select(sim.volume == v)
        rows.append(cluster_row(f"hit - cell centroid along u [mm], volume {v}", r, s, "offset_u"))
    return rows


def cluster_comparisons(real: ClusterStats, sim: ClusterStats) -> dict[str, MeanComparison]:
    """The cluster plots: means per volume and per pixel-barrel |η| bin, size distributions.

    ``sim`` as in :func:`cluster_rows` (reweighted).
    """
    out: dict[str, MeanComparison] = {}
    for q in ("size", "extent_u", "extent_v"):
        name = f"cluster_{q}_per_volume"
        out[name] = cluster_mean_comparison(name, real, sim, q, "volume")
    rb, sb = real.select(real.volume == PIXEL_BARREL), sim.select(sim.volume == PIXEL_BARREL)
    for q in ("size", "extent_u", "extent_v"):
        name = f"cluster_{q}_pixel_barrel_eta"
        out[name] = cluster_mean_comparison(name, rb, sb, q, "abs_eta", CLUSTER_ETA_BINS)
    groups = {
        "pixel_barrel": (PIXEL_BARREL,),
        "pixel_endcaps": tuple(v for v in PIXEL_VOLUMES if v != PIXEL_BARREL),
        "strips": tuple(v for v in VOLUMES if v not in PIXEL_VOLUMES),
    }
    for group, vols in groups.items():
        name = f"cluster_size_{group}"
        r, s = (c.select(np.isin(c.volume, vols)) for c in (real, sim))
        edges = CLUSTER_SIZE_BINS if group == "pixel_barrel" else CLUSTER_SIZE_BINS[:16]
        out[name] = cluster_size_distribution(name, r, s, edges)
    return out


# --------------------------------------------------------------------------- samples


@dataclass(frozen=True, eq=False)
class Sample:
    """A set of events: hit-level and particle-level statistics (possibly of different events).

    Attributes
    ----------
    hit_events
        One entry per event with hits.
    particle_events
        One entry per event with a particle list.
    clusters
        Cluster shapes of the events with cells (their hits need not be in
        ``hit_events``: the real event with cells is a 5 % subsample), or None.
    """

    hit_events: tuple[HitEventStats, ...]
    particle_events: tuple[ParticleEventStats, ...]
    clusters: ClusterStats | None = None

    @property
    def volume_counts(self) -> npt.NDArray[np.int64]:
        """Hits per event and volume (:data:`VOLUMES` order), shape (E_hits, 9)."""
        rows = [h.volume_counts for h in self.hit_events]
        return np.array(rows, dtype=np.int64).reshape(len(rows), len(VOLUMES))

    def layer_counts(self, layers: Sequence[tuple[int, int]]) -> npt.NDArray[np.int64]:
        """Hits per event and (volume, layer), zero where absent, shape (E_hits, L)."""
        index = pd.MultiIndex.from_tuples(list(layers), names=["volume_id", "layer_id"])
        rows = [h.layer_counts.reindex(index, fill_value=0).to_numpy() for h in self.hit_events]
        return np.array(rows, dtype=np.int64).reshape(len(rows), len(layers))

    @property
    def layers(self) -> set[tuple[int, int]]:
        """Every (volume, layer) with hits in some event."""
        return {(int(v), int(lay)) for h in self.hit_events for v, lay in h.layer_counts.index}

    def per_event(self, what: str) -> npt.NDArray[np.float64]:
        """A per-event number, shape (E,): see the keys of :data:`PER_EVENT`."""
        return np.array([PER_EVENT[what](e) for e in self._events_for(what)], dtype=np.float64)

    def _events_for(self, what: str) -> Sequence[Any]:
        return self.hit_events if what in _HIT_KEYS else self.particle_events

    def particle_column(self, column: str, min_hits: int = 0) -> tuple[Any, Any]:
        """All selected particles' ``column`` and their event row index.

        Returns
        -------
        values : shape (P,)
        event_index : int64, shape (P,)
        """
        values, index = [], []
        for i, p in enumerate(self.particle_events):
            t = p.table if min_hits <= 0 else p.table[p.table["nhits"] >= min_hits]
            values.append(t[column].to_numpy())
            index.append(np.full(len(t), i, dtype=np.int64))
        if not values:
            return np.empty(0), np.empty(0, dtype=np.int64)
        return np.concatenate(values), np.concatenate(index)


def _noise_fraction(n: int | None, total: int) -> float:
    return np.nan if n is None or total == 0 else n / total


def _mean_nhits(p: ParticleEventStats) -> float:
    nh = p.table["nhits"].to_numpy()
    nh = nh[nh > 0]
    return float(nh.mean()) if nh.size else np.nan


#: per-event numbers a :class:`Sample` can give, by name
PER_EVENT: Mapping[str, Any] = {
    "hits": lambda h: h.n_hits,
    "noise_fraction_estimated": lambda h: _noise_fraction(h.n_noise_estimated, h.n_hits),
    "noise_fraction_truth": lambda h: _noise_fraction(h.n_noise_truth, h.n_hits),
    "mean_hits_per_module": lambda h: float(h.module_hits.mean()) if h.module_hits.size else 0,
    "particles": lambda p: p.n_all,
    "particles_with_hits": lambda p: p.n_with_hits,
    "particles_with_3_hits": lambda p: p.n_with_3_hits,
    "mean_nhits": _mean_nhits,
    "mean_pt": lambda p: float(p.table["pt"].mean()),
    "mean_abs_eta": lambda p: float(p.table["eta"].abs().mean()),
    "mean_vertex_r": lambda p: float(p.table["vr"].mean()),
    "mean_abs_vertex_z": lambda p: float(p.table["vz"].abs().mean()),
    "positive_fraction": lambda p: float((p.table["q"] > 0).mean()),
    "excluded_particles": lambda p: p.n_excluded,
}
_HIT_KEYS = frozenset(
    {"hits", "noise_fraction_estimated", "noise_fraction_truth", "mean_hits_per_module"}
)


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """Everything :func:`compare_samples` measured.

    Attributes
    ----------
    rows
        Table rows, judged (with a floor) and informational.
    histograms
        Binned comparisons and per-hit means by name (one plot each).
    n_events
        Events used: ``real_hits``, ``real_particles``, ``sim_hits``, ``sim_particles``,
        and for the cluster rows ``real_cells``, ``sim_cells``.
    notes
        Known limitations and automatic remarks, one sentence each.
    """

    rows: tuple[ValidationRow, ...]
    histograms: Mapping[str, BinnedComparison | MeanComparison]
    n_events: Mapping[str, int]
    notes: tuple[str, ...] = ()

    @property
    def n_judged(self) -> int:
        """Rows with a floor."""
        return sum(r.passed is not None for r in self.rows)

    @property
    def n_failed(self) -> int:
        """Rows that miss their floor."""
        return sum(r.passed is False for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """All numbers, JSON-ready."""
        return {
            "definitions": {
                "particles": PARTICLE_DEFINITION,
                "per_event": "means over events; spread = standard deviation over events",
                "errors": "Poisson: sqrt(total count in a bin) / number of events",
                "floor": "allowed |sim/real - 1|, inclusive",
                "clusters": CLUSTER_DEFINITION,
            },
            "n_events": dict(self.n_events),
            "n_judged": self.n_judged,
            "n_failed": self.n_failed,
            "rows": [r.to_dict() for r in self.rows],
            "histograms": {k: v.to_dict() for k, v in self.histograms.items()},
            "notes": list(self.notes),
        }


def compare_samples(real: Sample, sim: Sample, notes: Iterable[str] = ()) -> ValidationResult:
    """Compare a simulated sample with a real one: table rows and binned comparisons.

    Parameters
    ----------
    real
        Real events (hit-level and particle-level sets may differ).
    sim
        Simulated events.
    notes
        Known limitations of the simulation, copied into the result.

    Returns
    -------
    ValidationResult

    Raises
    ------
    ValueError
        If either sample has no hit events or no particle events.
    """
    for name, s in (("real", real), ("simulated", sim)):
        if not s.hit_events or not s.particle_events:
            raise ValueError(f"the {name} sample needs events with hits and with particles")
    rows: list[ValidationRow] = []
    hists: dict[str, BinnedComparison | MeanComparison] = {}

    def per_event(what: str, quantity: str, floor: float | None = None) -> None:
        rows.append(compare_means(quantity, real.per_event(what), sim.per_event(what), floor))

    # hit level
    per_event("hits", "hits per event")
    rv, sv = real.volume_counts, sim.volume_counts
    scale = occupancy_correction(real)
    for j, vol in enumerate(VOLUMES):
        rows.append(compare_means(f"hits per event, volume {vol} (raw)", rv[:, j], sv[:, j]))
    for j, vol in enumerate(VOLUMES):
        rows.append(
            compare_means(
                f"hits per event, volume {vol} (real × {scale:.3f}, selection-corrected)",
                rv[:, j] * scale,
                sv[:, j],
                FLOOR_HITS_PER_VOLUME,
            )
        )
    hists["hits_per_event"] = _totals("hits_per_event", real, sim, "hits")
    hists["hits_per_volume"] = BinnedComparison(
        "hits_per_volume", category_edges(len(VOLUMES)), rv, sv, tuple(str(v) for v in VOLUMES)
    )
    layers = sorted(real.layers | sim.layers)
    layer_cmp = BinnedComparison(
        "hits_per_layer",
        category_edges(len(layers)),
        real.layer_counts(layers),
        sim.layer_counts(layers),
        tuple(f"{v}:{lay}" for v, lay in layers),
    )
    hists["hits_per_layer"] = layer_cmp
    b = int(np.argmax(np.abs(np.nan_to_num(layer_cmp.ratio, nan=np.inf) - 1.0)))
    rows.append(
        ValidationRow(
            f"hits per event, worst (volume:layer) {layer_cmp.labels[b]} of {len(layers)}",
            float(layer_cmp.real_mean[b]),
            float(layer_cmp.real_spread[b]),
            float(layer_cmp.sim_mean[b]),
        )
    )
    hists["module_occupancy"] = BinnedComparison(
        "module_occupancy",
        OCCUPANCY_BINS,
        _module_counts(real),
        _module_counts(sim),
    )
    per_event("mean_hits_per_module", "mean hits per module (modules with >= 1 hit)")
    per_event("noise_fraction_estimated", "noise fraction, (hits - sum nhits) / hits")
    sim_truth = sim.per_event("noise_fraction_truth")
    rows.append(
        compare_means(
            "noise fraction: real (hits - sum nhits) / hits vs sim truth particle_id == 0",
            real.per_event("noise_fraction_estimated"),
            sim_truth,
        )
    )
    hists["noise_fraction"] = _totals("noise_fraction", real, sim, "noise_fraction_estimated")

    # particle level
    per_event(
        "particles",
        f"particles per event (charged, pT >= {PT_MIN} GeV, |eta| <= {ETA_MAX}, any nhits)",
        FLOOR_PARTICLES_PER_EVENT,
    )
    per_event("particles_with_hits", "particles per event, as above with nhits >= 1")
    per_event("particles_with_3_hits", "particles per event, as above with nhits >= 3")
    hists["particles_per_event"] = _totals("particles_per_event", real, sim, "particles")
    per_event("mean_nhits", "mean nhits per particle (particles with nhits >= 1)", FLOOR_MEAN_NHITS)
    pt_hist = _particle_hist("pt", real, sim, "pt", PT_BINS)
    hists["pt"] = pt_hist
    rows.append(
        spectrum_row(pt_hist, *PT_FLOOR_RANGE, FLOOR_PT_SPECTRUM, "pT spectrum: particles", "GeV")
    )
    per_event("mean_pt", "mean pT [GeV]")
    per_event("mean_abs_eta", "mean |eta|")
    per_event("mean_vertex_r", "mean production vertex r [mm]")
    per_event("mean_abs_vertex_z", "mean production vertex |z| [mm]")
    per_event("positive_fraction", "fraction of positive particles")
    for name, column, edges in (
        ("eta", "eta", ETA_BINS),
        ("phi", "phi", PHI_BINS),
        ("vertex_r", "vr", VERTEX_R_BINS),
        ("vertex_z", "vz", VERTEX_Z_BINS),
        ("charge", "q", CHARGE_BINS),
    ):
        hists[name] = _particle_hist(name, real, sim, column, edges)
    hists["nhits"] = _particle_hist("nhits", real, sim, "nhits", NHITS_BINS, min_hits=1)

    # cluster shapes (the real event with cells)
    if real.clusters is not None and sim.clusters is not None:
        sim_clusters = sim.clusters.reweighted_to(real.clusters)
        rows += cluster_rows(real.clusters, sim_clusters)
        hists.update(cluster_comparisons(real.clusters, sim_clusters))

    n_events = {
        "real_hits": len(real.hit_events),
        "real_particles": len(real.particle_events),
        "sim_hits": len(sim.hit_events),
        "sim_particles": len(sim.particle_events),
        "real_cells": 0 if real.clusters is None else real.clusters.n_events,
        "sim_cells": 0 if sim.clusters is None else sim.clusters.n_events,
    }
    auto = _automatic_notes(sim)
    if real.clusters is None or sim.clusters is None:
        side = "real" if real.clusters is None else "simulated"
        auto.append(f"no {side} events with cells (or no geometry): no cluster-shape rows")
    return ValidationResult(tuple(rows), hists, n_events, (*notes, *auto))


def occupancy_correction(real: Sample) -> float:
    """Factor that corrects the real hit-level events for their selection.

    The real full events with hits are only those whose hits file was small
    enough to be published (< 4 MiB), i.e. the lower-occupancy part of the
    sample; the particle lists have no such bias.  The expected hits per event
    of the whole sample are ``mean Σ nhits`` (over all particle lists) plus the
    mean noise of the hit-level events; the factor is that over the mean hits
    of the hit-level events.  1 when the particle lists hold no hit counts.

    """
    hits = real.per_event("hits")
    noise = np.array(
        [h.n_noise_estimated for h in real.hit_events if h.n_noise_estimated is not None],
        dtype=np.float64,
    )
    signal = np.array([p.table["nhits"].sum() for p in real.particle_events], dtype=np.float64)
    if hits.size == 0 or noise.size == 0 or signal.size == 0 or hits.mean() <= 0:
        return 1.0
    return float((signal.mean() + noise.mean()) / hits.mean())


def _totals(name: str, real: Sample, sim: Sample, what: str) -> BinnedComparison:
    r, s = real.per_event(what), sim.per_event(what)
    edges = covering_edges(r, s)
    return BinnedComparison(name, edges, one_hot_counts(r, edges), one_hot_counts(s, edges))


def _particle_hist(
    name: str, real: Sample, sim: Sample, column: str, edges: Any, min_hits: int = 0
) -> BinnedComparison:
    counts = []
    for s in (real, sim):
        values, index = s.particle_column(column, min_hits)
        counts.append(binned_counts(values, index, len(s.particle_events), edges))
    return BinnedComparison(name, np.asarray(edges, dtype=np.float64), counts[0], counts[1])


def _module_counts(sample: Sample) -> npt.NDArray[np.int64]:
    values = [h.module_hits for h in sample.hit_events]
    index = [np.full(len(v), i) for i, v in enumerate(values)]
    return binned_counts(np.concatenate(values), np.concatenate(index), len(values), OCCUPANCY_BINS)


def _automatic_notes(sim: Sample) -> list[str]:
    notes = []
    if not any(p.n_all - p.n_with_hits for p in sim.particle_events):
        notes.append(
            "the simulated particle lists hold no particles with nhits == 0 (the real ones "
            "hold ~13 %), so 'particles per event' compares different sets; compare the "
            "'nhits >= 1' row instead"
        )
    excluded = sim.per_event("excluded_particles")
    if excluded.sum() > 0:
        notes.append(
            f"{excluded.mean():.0f} simulated particles per event are neutral or outside "
            f"pT >= {PT_MIN} GeV, |eta| <= {ETA_MAX} and were left out of particle-level "
            "comparisons (they still count in the noise estimate hits - sum nhits)"
        )
    if all(h.n_noise_truth is None for h in sim.hit_events):
        notes.append("the simulated events have no truth: noise fraction only estimated")
    return notes
