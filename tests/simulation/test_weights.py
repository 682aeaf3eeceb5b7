"""TrackML hit weights: hand-computed cases and the real event's original weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracklearn.edm import Particles, Truth
from tracklearn.errors import DataError
from tracklearn.io.trackml import read_event
from tracklearn.simulation.weights import (
    order_weights,
    pt_weight,
    trackml_generation,
    trackml_hit_weights,
    weights_for_event,
)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (4, [10, 16 / 3, 3, 6]),
        (5, [10, 6, 3, 3, 6]),
        (6, [10, 6.8, 4.6, 3, 3.8, 6]),
        (8, [10, 54 / 7, 40 / 7, 29 / 7, 3, 3, 33 / 7, 6]),
        (9, [10, 8, 6, 5, 3, 3, 3, 5, 6]),
        (17, [10, 9, 8, 7, 6, 5.5, 5, 4, 3, 3, 3, 3, 3, 4, 5, 5.5, 6]),
    ],
)
def test_order_weights_hand_values(n: int, expected: list[float]) -> None:
    np.testing.assert_allclose(order_weights(n), expected, rtol=1e-12)


@pytest.mark.parametrize("n", range(2, 40))
def test_order_weights_shape_and_range(n: int) -> None:
    w = order_weights(n)
    assert w.shape == (n,)
    assert w[0] == 10.0 and w[-1] == 6.0
    assert np.all((w >= 3.0) & (w <= 10.0))
    assert np.argmax(w) == 0
    if n >= 3:  # some hit always falls on the plateau u in [1/2, 3/4]
        assert w.min() == 3.0


def test_order_weights_rejects_empty_track() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        order_weights(0)


def test_pt_weight_breakpoints() -> None:
    pt = np.array([0.1, 0.5 - 1e-9, 0.5, 0.5 + 1e-9, 1.75, 3.0 - 1e-9, 3.0, 3.0 + 1e-9, 50.0])
    expected = [0.2, 0.2, 0.2, 0.2, 0.6, 1.0, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(pt_weight(pt), expected, atol=1e-8)
    # the ramp is linear: slope 0.8 / 2.5 GeV
    assert pt_weight(np.array([1.0]))[0] == pytest.approx(0.36, abs=1e-12)


def _one_track(n_hits: int, pt: float, z: np.ndarray | None = None) -> dict[str, np.ndarray]:
    z = np.arange(1.0, n_hits + 1) if z is None else z
    return {
        "particle_index": np.zeros(n_hits, dtype=np.int64),
        "hit_positions": np.column_stack([np.zeros(n_hits), np.zeros(n_hits), z]),
        "particle_vertex": np.zeros((1, 3)),
        "particle_pt": np.array([pt]),
    }


def test_noise_and_short_tracks_weigh_zero() -> None:
    # particle 0: 3 hits (too few), particle 1: 4 hits, then 2 noise hits
    pidx = np.array([0, 0, 0, 1, 1, 1, 1, -1, -1])
    z = np.array([1.0, 2, 3, 1, 2, 3, 4, 5, 6])
    pos = np.column_stack([np.zeros(9), np.zeros(9), z])
    w = trackml_hit_weights(pidx, pos, np.zeros((2, 3)), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(w[:3], 0.0)
    np.testing.assert_array_equal(w[7:], 0.0)
    np.testing.assert_allclose(w[3:7], np.array([10, 16 / 3, 3, 6]) / (73 / 3), rtol=1e-12)


def test_secondaries_weigh_zero() -> None:
    pidx = np.repeat([0, 1], 5)
    pos = np.column_stack([np.zeros(10), np.zeros(10), np.tile(np.arange(5.0), 2)])
    w = trackml_hit_weights(
        pidx, pos, np.zeros((2, 3)), np.array([1.0, 1.0]), np.array([True, False])
    )
    np.testing.assert_array_equal(w[5:], 0.0)
    np.testing.assert_allclose(w[:5], np.array([10, 6, 3, 3, 6]) / 28, rtol=1e-12)


def test_no_weighted_hit_gives_zeros() -> None:
    w = trackml_hit_weights(
        np.array([-1, 0, 0]), np.zeros((3, 3)), np.zeros((1, 3)), np.array([2.0])
    )
    np.testing.assert_array_equal(w, 0.0)


def test_sum_is_one_and_particle_sums_follow_pt_weight() -> None:
    rng = np.random.default_rng(4)
    n_particles = 30
    counts = rng.integers(4, 18, n_particles)
    pidx = rng.permutation(np.repeat(np.arange(n_particles), counts))
    pidx = np.concatenate([pidx, np.full(20, -1)])
    pos = rng.normal(0.0, 500.0, (len(pidx), 3))
    pt = rng.uniform(0.1, 6.0, n_particles)
    w = trackml_hit_weights(pidx, pos, rng.normal(0.0, 1.0, (n_particles, 3)), pt)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    per_particle = np.bincount(pidx[pidx >= 0], weights=w[pidx >= 0])
    np.testing.assert_allclose(per_particle, pt_weight(pt) / pt_weight(pt).sum(), rtol=1e-12)


def test_hits_are_ranked_by_longitudinal_distance_from_the_vertex() -> None:
    # vertex at z = 10; hits given shuffled; |z - 10| = 2, 0.5, 40, 7, 1 → ranks 2, 0, 4, 3, 1.
    # The hit at z = 9.5 is also the farthest in 3D (x = 100), yet ranks first.
    args = _one_track(5, pt=0.2, z=np.array([12.0, 9.5, 50.0, 3.0, 11.0]))
    args["hit_positions"][1, 0] = 100.0
    args["particle_vertex"] = np.array([[0.0, 0.0, 10.0]])
    w = trackml_hit_weights(**args)
    np.testing.assert_allclose(w, np.array([3, 10, 6, 3, 6]) / 28, rtol=1e-12)


def _loop_reference(pidx, pos, vertex, pt, primary):  # type: ignore[no-untyped-def]
    """Per-particle Python loop, written independently of the vectorised code."""
    w = np.zeros(len(pidx))
    for k in range(len(pt)):
        rows = np.flatnonzero(pidx == k)
        if len(rows) < 4 or not primary[k]:
            continue
        rows = rows[np.argsort(np.abs(pos[rows, 2] - vertex[k, 2]), kind="stable")]
        prof = order_weights(len(rows))
        w[rows] = prof / prof.sum() * pt_weight(np.array([pt[k]]))[0]
    return w / w.sum()


def test_vectorised_equals_per_particle_loop() -> None:
    rng = np.random.default_rng(11)
    n_particles = 60
    pidx = rng.integers(-1, n_particles, 900)
    pos = rng.normal(0.0, 300.0, (900, 3))
    vertex = rng.normal(0.0, 50.0, (n_particles, 3))
    pt = rng.exponential(1.0, n_particles) + 0.1
    primary = rng.random(n_particles) < 0.8
    got = trackml_hit_weights(pidx, pos, vertex, pt, primary)
    np.testing.assert_allclose(got, _loop_reference(pidx, pos, vertex, pt, primary), rtol=1e-12)


def test_bad_shapes_and_indices_are_rejected() -> None:
    with pytest.raises(ValueError, match="hit_positions"):
        trackml_hit_weights(np.array([0]), np.zeros((1, 2)), np.zeros((1, 3)), np.array([1.0]))
    with pytest.raises(ValueError, match="particle_index"):
        trackml_hit_weights(np.array([1]), np.zeros((1, 3)), np.zeros((1, 3)), np.array([1.0]))


def test_trackml_generation_of_real_ids() -> None:
    # ids of the real event: a generator-level pion and two simulation secondaries
    ids = np.array([0x03301A4000000000, 0x04A0059001001001, 0x0740116002001001])
    np.testing.assert_array_equal(trackml_generation(ids), [0, 1, 2])


def test_weights_for_event_needs_every_particle() -> None:
    truth = Truth(
        hit_id=np.array([1, 2]),
        particle_id=np.array([5, 0]),
        tx=np.zeros(2),
        ty=np.zeros(2),
        tz=np.zeros(2),
        tpx=np.zeros(2),
        tpy=np.zeros(2),
        tpz=np.zeros(2),
        weight=np.zeros(2),
    )
    one = np.ones(1)
    particles = Particles(
        particle_id=np.array([7]), vx=one, vy=one, vz=one, px=one, py=one, pz=one,
        q=np.array([1]), nhits=np.array([1]),
    )  # fmt: skip
    with pytest.raises(DataError, match="missing from particles"):
        weights_for_event(truth, particles)


@pytest.mark.realdata
def test_real_event_weights_are_reproduced(real_prefix: Path) -> None:
    """Every hit weight of the real TrackML event, after one normalisation constant.

    The file prints weights with 6 significant digits, so the achievable agreement
    is half a unit of the last digit (relative 5e-6 at worst, not 1e-6).  Ranking
    hits by 3D distance from the vertex instead of |z - vz| fails this test
    (relative error 0.53 on two pz ≈ 0 particles).
    """
    ev = read_event(real_prefix, parts=("hits", "truth", "particles"))
    assert ev.truth is not None and ev.particles is not None
    real = ev.truth.weight
    ours = weights_for_event(ev.truth, ev.particles)
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)
    ours = ours * (real.sum() / ours.sum())  # the event is a subsample: one global constant

    nonzero = real > 0
    assert nonzero.sum() == 4300
    np.testing.assert_array_equal(ours[~nonzero], 0.0)
    assert np.all(ours[nonzero] > 0)
    rel = np.abs(ours[nonzero] / real[nonzero] - 1)
    assert rel.max() < 5e-6
    last_digit = 10.0 ** (np.floor(np.log10(real[nonzero])) - 5)
    assert (np.abs(ours[nonzero] - real[nonzero]) / last_digit).max() < 0.6
    # every weighted particle is explained, including the per-particle sums
    signal = ev.truth.particle_id != 0
    _, inv = np.unique(ev.truth.particle_id[signal], return_inverse=True)
    np.testing.assert_allclose(
        np.bincount(inv, weights=ours[signal]), np.bincount(inv, weights=real[signal]), rtol=2e-6
    )
