"""Resolution and pull definitions on hand-made events and synthetic residuals."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.edm import Event, Hits, Particles, TrackCandidates, TrackParameters, Truth
from tracklearn.errors import DataError
from tracklearn.geometry.field import UniformField
from tracklearn.geometry.perigee import perigee_from_point
from tracklearn.metrics.resolution import (
    Residuals,
    central_half_width,
    pt_resolution,
    pull_widths,
    resolution_summary,
    track_residuals,
)

FIELD = UniformField(2.0)


def three_particle_event() -> Event:
    """Particles 1, 2 from the beam line, 3 from r = 50 mm; 6 hits each on 6 layers, 2 noise."""
    pid = np.repeat([1, 2, 3], 6)
    n = len(pid) + 2
    hits = Hits(
        hit_id=np.arange(1, n + 1),
        x=np.arange(n, dtype=float),
        y=np.zeros(n),
        z=np.zeros(n),
        volume_id=np.full(n, 8),
        layer_id=np.r_[np.tile(np.arange(2, 14, 2), 3), 2, 4],
        module_id=np.ones(n, dtype=np.int32),
    )
    zeros = np.zeros(n)
    truth = Truth(
        np.arange(1, n + 1),
        np.r_[pid, 0, 0],
        zeros,
        zeros,
        zeros,
        zeros,
        zeros,
        zeros,
        np.ones(n) / n,
    )
    particles = Particles(
        particle_id=np.array([1, 2, 3]),
        vx=np.array([0.01, 0.0, 50.0]),
        vy=np.array([0.0, -0.02, 0.0]),
        vz=np.array([5.0, -20.0, 0.0]),
        px=np.array([3.0, -1.0, 2.0]),
        py=np.array([4.0, 0.5, 0.0]),
        pz=np.array([1.0, -2.0, 0.0]),
        q=np.array([1, -1, 1], dtype=np.int32),
        nhits=np.array([6, 6, 6], dtype=np.int32),
    )
    return Event(9, hits, truth, particles)


def test_track_residuals_by_hand() -> None:
    event = three_particle_event()
    # tracks: particle 1, particle 2, particle 3 (displaced: left out), the noise pair
    tracks = TrackCandidates.from_labels(np.r_[np.repeat([1, 2, 3], 6), 4, 4])
    p = event.particles
    assert p is not None
    truth = perigee_from_point(p.vx, p.vy, p.vz, p.px, p.py, p.pz, p.q, 2.0)
    sigma = np.array([0.01, 0.1, 1e-3, 1e-3, 1e-3])
    shift = np.array([[1.0, -2.0, 0.5, 0.0, 3.0], [-1.0, 0.0, 0.0, 2.0, -3.0], [0, 0, 0, 0, 0]])
    fitted = truth + shift * sigma
    params = TrackParameters.from_arrays(
        [0, 1, 2], fitted, np.tile(np.diag(sigma**2), (3, 1, 1)), np.ones(3), np.full(3, 7)
    )
    res = track_residuals(event, tracks.with_parameters(params), field=FIELD)
    assert res.track.tolist() == [0, 1] and res.particle_id.tolist() == [1, 2]
    np.testing.assert_allclose(res.pull, shift[:2], atol=1e-6)
    np.testing.assert_allclose(res.pt_true, [5.0, np.hypot(1.0, 0.5)])
    np.testing.assert_allclose(res.truth, truth[:2])
    # fitted pT from θ and q/p: rel_pt = sin θ' / |q/p'| / pT − 1
    want = np.sin(fitted[:2, 3]) / np.abs(fitted[:2, 4]) / res.pt_true - 1
    np.testing.assert_allclose(res.rel_pt, want)
    # with the displaced vertex allowed, particle 3 joins
    wide = track_residuals(event, tracks.with_parameters(params), field=FIELD, max_vertex_r=100.0)
    assert wide.particle_id.tolist() == [1, 2, 3]
    with pytest.raises(DataError, match="no fitted parameters"):
        track_residuals(event, tracks)


def synthetic(n: int, seed: int, rel_sigma: float) -> Residuals:
    """n tracks with Gaussian pulls of width 1 (2 for z0) and pT smeared by rel_sigma."""
    rng = np.random.default_rng(seed)
    pt = rng.uniform(1.0, 50.0, n)
    eta = rng.uniform(-3, 3, n)
    theta = 2 * np.arctan(np.exp(-eta))
    truth = np.stack([np.zeros(n), np.zeros(n), np.zeros(n), theta, np.sin(theta) / pt], axis=1)
    sigma = np.tile([0.01, 0.05, 1e-3, 1e-3, 1e-3], (n, 1))
    width = np.array([1.0, 2.0, 1.0, 1.0, 1.0])
    fitted = truth + rng.standard_normal((n, 5)) * sigma * width
    fitted[:, 4] = np.sin(fitted[:, 3]) / (pt * (1 + rel_sigma * rng.standard_normal(n)))
    zi = np.zeros(n, np.int64)
    return Residuals(zi, np.arange(n), zi + 1, pt, eta, truth, fitted, sigma)


def test_widths_of_synthetic_residuals() -> None:
    res = synthetic(40_000, seed=3, rel_sigma=0.02)
    w = pull_widths(res)
    for name in ("d0", "phi", "theta"):
        assert w[name]["core_sigma"] == pytest.approx(1.0, abs=0.02)
        assert w[name]["width_68"] == pytest.approx(1.0, abs=0.02)
        assert w[name]["core_mean"] == pytest.approx(0.0, abs=0.02)
    # width 2: the ±5 clip cuts 1.2 % of it, the 68 % width does not care
    assert w["z0"]["width_68"] == pytest.approx(2.0, abs=0.04)
    assert w["z0"]["std"] == pytest.approx(2.0, abs=0.04)
    bins = pt_resolution(res, (1.0, 10.0, 50.0))
    assert [b["n"] for b in bins] == [int(np.sum(res.pt_true < 10)), int(np.sum(res.pt_true >= 10))]
    for b in bins:
        assert b["sigma_pt_over_pt"] == pytest.approx(0.02, rel=0.05)
    barrel = pt_resolution(res, (1.0, 50.0), eta_max=1.0)[0]
    assert barrel["n"] == int(np.sum(np.abs(res.eta_true) < 1.0))
    summary = resolution_summary(res)
    assert summary["n_tracks"] == 40_000
    assert set(summary["pulls"]) == {"d0", "z0", "phi", "theta", "qop"}


def test_central_half_width_known_answers() -> None:
    assert central_half_width(np.linspace(-1.0, 1.0, 101)) == pytest.approx(0.68)
    assert np.isnan(central_half_width([1.0, 2.0, 3.0, 4.0]))
    rng = np.random.default_rng(0)
    assert central_half_width(rng.normal(0, 3.0, 100_000)) == pytest.approx(2.984, rel=0.01)


def test_empty_residuals_give_nan_bins() -> None:
    res = Residuals.concatenate([])
    assert len(res) == 0
    bins = pt_resolution(res)
    assert all(b["n"] == 0 and np.isnan(b["sigma_pt_over_pt"]) for b in bins)
