from __future__ import annotations

import numpy as np
import pytest

from tracklearn.geometry.helix import radius_of_curvature
from tracklearn.simulation.quick import QuickConfig, generate_event, generate_events


def _circle_radius(x: np.ndarray, y: np.ndarray) -> float:
    """Radius of the circle through three points."""
    a = np.hypot(x[1] - x[0], y[1] - y[0])
    b = np.hypot(x[2] - x[1], y[2] - y[1])
    c = np.hypot(x[2] - x[0], y[2] - y[0])
    area2 = abs((x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]))
    return float(a * b * c / (2 * area2))


def test_unsmeared_hits_lie_on_the_generated_helix() -> None:
    cfg = QuickConfig(n_particles=30, smear=False, noise_fraction=0.0, pt_min=0.5, pt_max=5.0)
    ev = generate_event(1, np.random.default_rng(3), cfg)
    assert ev.truth is not None and ev.particles is not None
    checked = 0
    for i, pid in enumerate(ev.particles.particle_id):
        rows = np.flatnonzero(ev.truth.particle_id == pid)
        if len(rows) < 3:
            continue
        x, y, z = ev.hits.x[rows], ev.hits.y[rows], ev.hits.z[rows]
        order = np.argsort(np.hypot(x, y) if abs(ev.particles.eta[i]) < 1 else np.abs(z))
        x, y, z = x[order], y[order], z[order]
        expected = radius_of_curvature(ev.particles.pt[i], 1, cfg.b_field)
        assert _circle_radius(x[:3], y[:3]) == pytest.approx(expected, rel=1e-6)
        # the true momentum at each hit keeps |pT| and pz
        tpt = np.hypot(ev.truth.tpx[rows], ev.truth.tpy[rows])
        np.testing.assert_allclose(tpt, ev.particles.pt[i], rtol=1e-12)
        checked += 1
    assert checked >= 10


def test_same_seed_same_event_different_seed_differs() -> None:
    a = list(generate_events(2, seed=5, cfg=QuickConfig(n_particles=20)))
    b = list(generate_events(2, seed=5, cfg=QuickConfig(n_particles=20)))
    c = list(generate_events(2, seed=6, cfg=QuickConfig(n_particles=20)))
    np.testing.assert_array_equal(a[1].hits.x, b[1].hits.x)
    assert a[0].event_id == 1000 and a[1].event_id == 1001
    assert not np.array_equal(a[0].hits.x[:10], c[0].hits.x[:10])


def test_event_content_is_consistent() -> None:
    ev = generate_event(1, np.random.default_rng(0), QuickConfig(n_particles=400))
    assert ev.truth is not None and ev.particles is not None
    assert ev.truth.weight.sum() == pytest.approx(1.0)
    noise = ev.truth.particle_id == 0
    assert np.all(ev.truth.weight[noise] == 0)
    # noise fraction: 0.1 noise hits per particle hit
    assert noise.sum() / (~noise).sum() == pytest.approx(0.1, abs=0.03)
    # nhits matches the truth
    _, counts = np.unique(ev.truth.particle_id[~noise], return_counts=True)
    assert counts.sum() == ev.particles.nhits.sum()
    # particle ids are above 2**53 (exercise 64-bit handling)
    assert ev.particles.particle_id.min() > 2**53
    # high-pT central particles cross all 10 barrel layers
    central = (ev.particles.pt > 2) & (np.abs(ev.particles.eta) < 0.8)
    assert central.any() and np.all(ev.particles.nhits[central] == 10)
    # hit order carries no truth: hits are shuffled
    assert not np.all(np.diff(ev.truth.particle_id) >= 0)
