"""Bucket metrics on hand-made buckets with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _events import make_event

from tracklearn.edm import Buckets
from tracklearn.errors import DataError
from tracklearn.metrics import TargetSelection, bucket_metrics, sum_bucket_metrics
from tracklearn.metrics.buckets import particle_bucket_found

# particle 1: 6 hits (rows 0-5), particle 2: 5 hits (rows 6-10), particle 3: 2 hits
# (rows 11-12, not a target: < 5 layers), noise rows 13-14
PID = [1] * 6 + [2] * 5 + [3] * 2 + [0, 0]
SEL = TargetSelection(pt_min=1.0, eta_max=4.0, min_layers=5)


def csr(buckets: list[list[int]], n: int = len(PID)) -> Buckets:
    off = np.concatenate([[0], np.cumsum([len(b) for b in buckets])]).astype(np.int64)
    idx = np.array([h for b in buckets for h in b], dtype=np.int64)
    return Buckets(offsets=off, hit_index=idx, n_hits=n, query=np.full(len(buckets), -1))


def test_perfect_buckets() -> None:
    ev = make_event(PID)
    m = bucket_metrics(ev, csr([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]), SEL)
    assert (m.efficiency, m.pure_efficiency, m.fake_rate, m.pure_fake_rate) == (1, 1, 0, 0)
    assert (m.n_targets, m.n_found, m.n_buckets, m.n_buckets_min) == (2, 2, 2, 2)
    assert m.size_mean == 5.5 and m.size_max == 6


def test_four_hits_needed_and_majority_for_pure() -> None:
    ev = make_event(PID)
    buckets = csr(
        [
            [0, 1, 2, 6, 7, 8],  # 3 + 3: neither particle has 4 -> a fake bucket
            [6, 7, 8, 9, 0, 1, 2, 11, 13],  # particle 2 has 4 of 9 hits: found, not pure
            [13, 14, 11],  # under 4 hits: neither counted nor fake
        ]
    )
    m = bucket_metrics(ev, buckets, SEL)
    assert m.n_found == 1 and m.efficiency == 0.5
    assert m.n_found_pure == 0 and m.pure_efficiency == 0.0
    assert m.n_buckets_min == 2 and m.n_fake == 1 and m.fake_rate == 0.5
    assert m.n_fake_pure == 2 and m.pure_fake_rate == 1.0
    found, pure = particle_bucket_found(ev, buckets)
    assert found.tolist() == [False, True, False] and not pure.any()


def test_noise_never_seeds_and_empty_cases() -> None:
    ev = make_event(PID)
    noise_only = bucket_metrics(ev, csr([[13, 14, 11, 12]]), SEL)
    assert noise_only.fake_rate == 1.0 and noise_only.efficiency == 0.0
    none = bucket_metrics(ev, csr([]), SEL)
    assert math.isnan(none.fake_rate) and math.isnan(none.size_mean) and none.efficiency == 0
    no_targets = bucket_metrics(make_event([0, 0, 0, 0]), csr([[0, 1, 2, 3]], 4), SEL)
    assert math.isnan(no_targets.efficiency) and no_targets.fake_rate == 1.0


def test_min_hits_and_sum_over_events() -> None:
    ev = make_event(PID)
    b = csr([[0, 1, 2], [6, 7, 8, 9, 10, 13]])
    assert bucket_metrics(ev, b, SEL).n_found == 1
    assert bucket_metrics(ev, b, SEL, min_hits=3).n_found == 2
    a = bucket_metrics(ev, b, SEL)
    tot = sum_bucket_metrics([a, bucket_metrics(ev, csr([[0, 1, 2, 3]]), SEL)])
    assert tot.n_targets == 4 and tot.n_found == 2 and tot.efficiency == 0.5
    assert tot.n_buckets == 3 and tot.size_max == 6


def test_buckets_validate_and_match_event() -> None:
    with pytest.raises(DataError, match="hit_index outside"):
        csr([[0, 99]])
    with pytest.raises(DataError, match="query has"):
        Buckets(
            offsets=np.array([0, 1]), hit_index=np.array([0]), n_hits=3, query=np.zeros(2, np.int64)
        )
    with pytest.raises(DataError, match="buckets are for"):
        bucket_metrics(make_event(PID), csr([[0]], n=3), SEL)


def test_from_neighbours_puts_query_first_and_drops_repeats() -> None:
    nn = np.array([[1, 0, 2], [1, -1, 1], [2, 2, 2]])
    b = Buckets.from_neighbours(nn, 3)
    assert b.query.tolist() == [0, 1, 2]
    got = [b.hit_index[b.offsets[i] : b.offsets[i + 1]].tolist() for i in range(3)]
    assert got == [[0, 1, 2], [1], [2]]


def test_from_labels_groups_equal_labels() -> None:
    b = Buckets.from_labels(np.array([7, 3, 7, 3, 5]))
    got = sorted(sorted(b.hit_index[b.offsets[i] : b.offsets[i + 1]].tolist()) for i in range(3))
    assert got == [[0, 2], [1, 3], [4]] and (b.query == -1).all()


def test_from_neighbours_fast_path_equals_the_general_one() -> None:
    nn = np.array([[0, 2, 1], [1, 0, 2], [2, 1, 0]])
    fast = Buckets.from_neighbours(nn, 3)
    # the same neighbours with the query not first take the general path
    slow = Buckets.from_neighbours(nn[:, [1, 0, 2]], 3)
    assert np.array_equal(fast.offsets, slow.offsets)
    assert np.array_equal(fast.hit_index, slow.hit_index)
