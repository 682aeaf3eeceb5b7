"""Truth-free efficiency: helix fits of tracks matched to the particle list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracklearn.edm import Event, TrackCandidates
from tracklearn.io import read_event
from tracklearn.metrics.truthfree import (
    TruthFreeCuts,
    fit_helices,
    target_particles,
    truth_free_efficiency,
)
from tracklearn.simulation.quick import QuickConfig, generate_event


def _truth_tracks(event: Event) -> TrackCandidates:
    assert event.truth is not None
    pid = event.truth.particle_id
    sel = np.nonzero(pid != 0)[0]
    order = sel[np.argsort(pid[sel], kind="stable")]
    _, counts = np.unique(pid[order], return_counts=True)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return TrackCandidates(offsets, order.astype(np.int64), event.n_hits)


@pytest.fixture(scope="module")
def event() -> Event:
    return generate_event(3, np.random.default_rng(3), QuickConfig(n_particles=600))


def test_helix_fit_recovers_the_generated_parameters(event: Event) -> None:
    tracks = _truth_tracks(event)
    fit = fit_helices(event.hits, tracks)
    p = event.particles
    assert p is not None and event.truth is not None
    pid = np.unique(event.truth.particle_id[event.truth.particle_id != 0])
    k = np.searchsorted(p.particle_id, pid)
    good = target_particles(p, TruthFreeCuts())[k]
    pt = np.hypot(p.px[k], p.py[k])
    assert good.sum() > 30, good.sum()
    assert np.all(fit.charge[good] == p.q[k][good])
    assert np.median(np.abs(fit.pt[good] / pt[good] - 1)) < 0.02
    dphi = np.abs(np.angle(np.exp(1j * (fit.phi0 - np.arctan2(p.py[k], p.px[k])))))
    assert np.median(dphi[good]) < 2e-3
    assert np.median(np.abs(fit.z0[good] - p.vz[k][good])) < 1.0


def test_truth_tracks_find_every_target_and_shuffled_tracks_none(event: Event) -> None:
    tracks = _truth_tracks(event)
    res = truth_free_efficiency(event.hits, tracks, event.particles)
    assert res.n_targets > 30 and res.efficiency == 1.0, res
    # the same track lengths with the hits of random rows: nothing matches
    rng = np.random.default_rng(0)
    rows = rng.permutation(event.n_hits)[: len(tracks.hit_index)]
    shuffled = TrackCandidates(tracks.offsets, rows, event.n_hits)
    assert truth_free_efficiency(event.hits, shuffled, event.particles).n_found == 0


def test_no_tracks_and_no_targets() -> None:
    ev = generate_event(4, np.random.default_rng(4), QuickConfig(n_particles=20))
    empty = TrackCandidates(np.zeros(1, np.int64), np.zeros(0, np.int64), ev.n_hits)
    res = truth_free_efficiency(ev.hits, empty, ev.particles)
    assert res.n_found == 0 and res.n_targets > 0
    none = truth_free_efficiency(ev.hits, empty, ev.particles, TruthFreeCuts(pt_min=1e9))
    assert none.n_targets == 0 and np.isnan(none.efficiency)


def test_real_event_truth_tracks_are_all_found(real_prefix: Path) -> None:
    ev = read_event(real_prefix)
    res = truth_free_efficiency(ev.hits, _truth_tracks(ev), ev.particles)
    assert res.n_targets >= 20 and res.efficiency == 1.0
