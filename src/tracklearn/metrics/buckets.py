"""Bucket metrics of hashing / nearest-neighbour bucketing (Amrouche et al.).

Definitions (one place; cited by :mod:`tracklearn.graph.hashing`, the ``hashing``
benchmark and the README).  A *bucket* is a set of hit rows
(:class:`~tracklearn.edm.Buckets`); ``m = min_hits`` (default 4: a bucket holding
four hits of a particle is enough to seed its track).

* **bucket efficiency** = target particles (:func:`~tracklearn.metrics.targets.target_mask`)
  for which some bucket holds ≥ ``m`` of their hits / target particles;
* **pure bucket efficiency**: the same, and those hits are the majority
  (> 50 %) of that bucket;
* **fake rate** = buckets of ≥ ``m`` hits in which no particle (noise excluded)
  holds ≥ ``m`` hits / buckets of ≥ ``m`` hits: the buckets that seed no track;
* **pure fake rate** = buckets of ≥ ``m`` hits in which no particle holds both
  ≥ ``m`` hits and the majority / buckets of ≥ ``m`` hits (meaningful for
  resolved buckets, after an in-bucket classifier kept the members of one track);
* **bucket size**: hits per bucket (mean, median, 90 % quantile, maximum).

Amrouche, Kiehn, Golling, Salzburger (NeurIPS ML4PS 2019, arXiv:2101.06428) state
the efficiency criterion (≥ 4 hits of a particle in one bucket) and report "bucket
tracking efficiency of 96 % and a fake rate of 8 %" for buckets of 20–50 hits; only
their abstract could be consulted here, so the fake rate above is our reading: a
bucket (one candidate) that holds no particle's seed, the bucket-level analogue of
DESIGN.md's "track matched to no particle".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Buckets, Event
from tracklearn.errors import DataError
from tracklearn.metrics.targets import TargetSelection, target_mask

__all__ = [
    "MIN_BUCKET_HITS",
    "BucketMetrics",
    "bucket_metrics",
    "particle_bucket_found",
    "sum_bucket_metrics",
]

#: hits of one particle a bucket must hold for the particle to count as found
MIN_BUCKET_HITS: int = 4


@dataclass(frozen=True)
class BucketMetrics:
    """Bucket metrics of one event or a sum of events (module docstring: definitions).

    Attributes
    ----------
    efficiency, pure_efficiency
        Found (pure-found) target particles / target particles (NaN without targets).
    fake_rate, pure_fake_rate
        Fake (pure-fake) buckets / buckets with ≥ ``min_hits`` hits (NaN without any).
    n_targets, n_found, n_found_pure
        Target particles, and those found (purely).
    n_buckets, n_buckets_min, n_fake, n_fake_pure
        Buckets, those with ≥ ``min_hits`` hits, and the fake ones among them.
    size_mean, size_median, size_p90, size_max
        Hits per bucket (NaN without buckets).
    """

    efficiency: float
    pure_efficiency: float
    fake_rate: float
    pure_fake_rate: float
    n_targets: int
    n_found: int
    n_found_pure: int
    n_buckets: int
    n_buckets_min: int
    n_fake: int
    n_fake_pure: int
    size_mean: float
    size_median: float
    size_p90: float
    size_max: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def _particle_rows(event: Event) -> npt.NDArray[np.int64]:
    """Row in ``event.particles`` of every hit's particle; -1 for noise, shape ``(N,)``."""
    assert event.truth is not None and event.particles is not None
    pid = event.truth.particle_id
    ids = event.particles.particle_id
    out = np.full(len(pid), -1, dtype=np.int64)
    if len(ids) == 0:
        return out
    order = np.argsort(ids)
    pos = np.clip(np.searchsorted(ids[order], pid), 0, len(ids) - 1)
    found = (pid != 0) & (ids[order][pos] == pid)
    out[found] = order[pos[found]]
    return out


def _bucket_particle_counts(
    event: Event, buckets: Buckets
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(bucket, particle row, hits of that particle in that bucket) for every pair present."""
    if event.truth is None or event.particles is None:
        raise DataError(event.source, "bucket metrics need truth and particles")
    if buckets.n_hits != event.n_hits:
        raise DataError(
            event.source, f"buckets are for {buckets.n_hits} hits, event has {event.n_hits}"
        )
    prow = _particle_rows(event)[buckets.hit_index]
    b = buckets.bucket_of_entry
    real = prow >= 0
    n_p = max(len(event.particles), 1)
    # one int64 key per (bucket, particle): np.unique counts the hits of each pair
    keys, counts = np.unique(b[real] * n_p + prow[real], return_counts=True)
    return keys // n_p, keys % n_p, counts.astype(np.int64)


def particle_bucket_found(
    event: Event, buckets: Buckets, min_hits: int = MIN_BUCKET_HITS
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which particles some bucket holds ≥ ``min_hits`` hits of (and purely, > 50 %).

    Returns
    -------
    found, found_pure : bool arrays aligned with ``event.particles`` rows, shape ``(P,)``.
    """
    bk, pr, cnt = _bucket_particle_counts(event, buckets)
    assert event.particles is not None
    n_p = len(event.particles)
    enough = cnt >= min_hits
    pure = enough & (2 * cnt > buckets.sizes[bk])
    found = np.zeros(n_p, dtype=bool)
    found_pure = np.zeros(n_p, dtype=bool)
    found[pr[enough]] = True
    found_pure[pr[pure]] = True
    return found, found_pure


def bucket_metrics(
    event: Event,
    buckets: Buckets,
    sel: TargetSelection | None = None,
    min_hits: int = MIN_BUCKET_HITS,
) -> BucketMetrics:
    """Bucket efficiency, pure efficiency, fake rates and sizes on one event.

    Parameters
    ----------
    event
        Event with truth and particles.
    buckets
        Buckets of the event's hit rows.
    sel
        Target selection; DESIGN.md's default (pT ≥ 1 GeV, |η| ≤ 4, ≥ 5 layers) when None.
    min_hits
        Hits of one particle a bucket must hold (default 4, as Amrouche et al.).
    """
    bk, pr, cnt = _bucket_particle_counts(event, buckets)
    sizes = buckets.sizes
    enough = cnt >= min_hits
    pure = enough & (2 * cnt > sizes[bk])
    assert event.particles is not None
    n_p = len(event.particles)
    found = np.zeros(n_p, dtype=bool)
    found_pure = np.zeros(n_p, dtype=bool)
    found[pr[enough]] = True
    found_pure[pr[pure]] = True
    targets = target_mask(event, sel)
    seeds = np.zeros(buckets.n_buckets, dtype=bool)
    seeds[bk[enough]] = True
    seeds_pure = np.zeros(buckets.n_buckets, dtype=bool)
    seeds_pure[bk[pure]] = True
    big = sizes >= min_hits
    n_big = int(np.count_nonzero(big))
    n_fake = int(np.count_nonzero(big & ~seeds))
    n_fake_pure = int(np.count_nonzero(big & ~seeds_pure))
    n_t = int(np.count_nonzero(targets))
    n_f = int(np.count_nonzero(found & targets))
    n_fp = int(np.count_nonzero(found_pure & targets))
    if len(sizes):
        s = sizes.astype(np.float64)
        stats = (float(s.mean()), float(np.median(s)), float(np.quantile(s, 0.9)), float(s.max()))
    else:
        stats = (float("nan"),) * 4
    return BucketMetrics(
        efficiency=_ratio(n_f, n_t),
        pure_efficiency=_ratio(n_fp, n_t),
        fake_rate=_ratio(n_fake, n_big),
        pure_fake_rate=_ratio(n_fake_pure, n_big),
        n_targets=n_t,
        n_found=n_f,
        n_found_pure=n_fp,
        n_buckets=buckets.n_buckets,
        n_buckets_min=n_big,
        n_fake=n_fake,
        n_fake_pure=n_fake_pure,
        size_mean=stats[0],
        size_median=stats[1],
        size_p90=stats[2],
        size_max=stats[3],
    )


def sum_bucket_metrics(parts: list[BucketMetrics]) -> BucketMetrics:
    """Metrics of several events: counts summed before dividing; sizes: count-weighted means
    (median and 90 % quantile are averaged over events, maximum is the maximum)."""
    if not parts:
        raise ValueError("no bucket metrics to sum")
    tot = {k: sum(getattr(p, k) for p in parts) for k in (
        "n_targets", "n_found", "n_found_pure", "n_buckets", "n_buckets_min", "n_fake",
        "n_fake_pure")}  # fmt: skip
    w = np.array([p.n_buckets for p in parts], dtype=np.float64)
    w = w / w.sum() if w.sum() else np.full(len(parts), 1.0 / len(parts))
    return BucketMetrics(
        efficiency=_ratio(tot["n_found"], tot["n_targets"]),
        pure_efficiency=_ratio(tot["n_found_pure"], tot["n_targets"]),
        fake_rate=_ratio(tot["n_fake"], tot["n_buckets_min"]),
        pure_fake_rate=_ratio(tot["n_fake_pure"], tot["n_buckets_min"]),
        size_mean=float(np.dot(w, [p.size_mean for p in parts])),
        size_median=float(np.dot(w, [p.size_median for p in parts])),
        size_p90=float(np.dot(w, [p.size_p90 for p in parts])),
        size_max=float(max(p.size_max for p in parts)),
        **tot,
    )
