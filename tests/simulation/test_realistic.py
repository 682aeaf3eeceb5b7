"""Realistic events (Pythia 8 → real TrackML geometry): reproducibility and TrackML form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracklearn.config import validate
from tracklearn.edm import Event
from tracklearn.errors import ConfigError
from tracklearn.io.trackml import read_detector, read_event, write_event
from tracklearn.simulation.realistic import (
    RealisticConfig,
    RealisticSimulator,
    interaction_of,
    particle_name,
)
from tracklearn.simulation.weights import trackml_generation

SMALL = {
    "generator": {"hard_process": "none", "pileup": 4},
    "digitisation": {"noise_hits": 100},
}


@pytest.fixture(scope="module")
def simulator(shared_data: Path) -> RealisticSimulator:
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    return RealisticSimulator(validate(RealisticConfig, SMALL, "test"), det)


@pytest.fixture(scope="module")
def event(simulator: RealisticSimulator) -> Event:
    return simulator.event(123, 1000)


def _arrays(ev: Event) -> dict[str, np.ndarray]:
    out = {}
    for part in ("hits", "truth", "particles", "cells"):
        for k, v in getattr(ev, part).to_columns().items():
            out[f"{part}.{k}"] = np.asarray(v)
    return out


def test_same_seed_same_event_whatever_came_before(
    simulator: RealisticSimulator, event: Event
) -> None:
    simulator.event(999, 5)  # a different event in between must not matter
    again = simulator.event(123, 1000)
    a, b = _arrays(event), _arrays(again)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    other = simulator.event(124, 1000)
    assert len(other.hits) != len(event.hits) or not np.array_equal(other.hits.x, event.hits.x)


def test_event_has_trackml_form(event: Event) -> None:
    hits, truth, particles, cells = event.hits, event.truth, event.particles, event.cells
    assert truth is not None and particles is not None and cells is not None
    n = len(hits)
    assert n > 1000
    assert hits.hit_id.tolist() == list(range(1, n + 1))
    # hit ids follow (volume, layer, module) so that their order hides noise
    key = hits.volume_id.astype(np.int64) * 10**8 + hits.layer_id * 10**5 + hits.module_id
    assert np.all(np.diff(key) >= 0)
    assert set(np.unique(hits.volume_id)) <= {7, 8, 9, 12, 13, 14, 16, 17, 18}
    ids = particles.particle_id
    assert len(np.unique(ids)) == len(ids)
    signal = truth.particle_id != 0
    assert set(truth.particle_id[signal]) <= set(ids)
    counts = dict(zip(*np.unique(truth.particle_id[signal], return_counts=True), strict=True))
    assert all(counts.get(p, 0) == nh for p, nh in zip(ids, particles.nhits, strict=True))
    assert (~signal).sum() == pytest.approx(100, abs=40)
    # weights: TrackML rules, sum 1, zero for noise and for secondaries
    assert truth.weight.sum() == pytest.approx(1.0)
    assert np.all(truth.weight[~signal] == 0)
    gen = dict(zip(ids, trackml_generation(ids), strict=True))
    secondary = np.array([gen.get(p, 0) > 0 for p in truth.particle_id])
    assert np.all(truth.weight[secondary] == 0)
    # generator-level cuts of the real lists
    pt = np.hypot(particles.px, particles.py)
    assert pt.min() > 0.1
    assert np.abs(np.arcsinh(particles.pz / pt)).max() < 4.0
    assert set(np.abs(particles.q)) == {1}
    assert set(np.unique(cells.hit_id)) == set(hits.hit_id)


def test_event_round_trips_through_trackml_csv(event: Event, tmp_path: Path) -> None:
    prefix = write_event(event, tmp_path)
    back = read_event(prefix)
    np.testing.assert_allclose(back.hits.x, event.hits.x, rtol=1e-6)
    np.testing.assert_array_equal(back.truth.particle_id, event.truth.particle_id)
    np.testing.assert_array_equal(back.particles.particle_type, event.particles.particle_type)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"generator": {"pileup": -1}}, "pileup"),
        ({"generator": {"pilup": 3}}, "pilup"),
        ({"propagation": {"step_mm": 0}}, "step_mm"),
        ({"generator": {"hard_process": "higgs"}}, "hard_process"),
    ],
)
def test_bad_configs_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(RealisticConfig, raw, "config.yaml")


def test_particles_know_their_interaction_and_type(event: Event) -> None:
    particles = event.particles
    assert particles is not None and particles.particle_type is not None
    inter = interaction_of(particles.particle_id)
    # no hard process in this sample: pile-up interactions 0..n-1 (Poisson(4) of them)
    assert inter.min() >= 0 and inter.max() < 20
    names = {particle_name(int(t)) for t in particles.particle_type}
    assert names <= {
        "pi+",
        "pi-",
        "K+",
        "K-",
        "p",
        "p~",
        "e-",
        "e+",
        "mu-",
        "mu+",
        "Sigma+",
        "Sigma-",
        "Sigma~+",
        "Sigma~-",
        "Xi-",
        "Xi~+",
        "Omega-",
        "Omega~+",
    }
    assert "pi+" in names
