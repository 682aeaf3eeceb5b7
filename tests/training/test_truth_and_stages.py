"""Graph truth on a hand-made event, and the stage registry."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.edm import Event, Hits, Particles, Truth
from tracklearn.errors import UnknownNameError
from tracklearn.graph.truth import edge_labels, true_segments
from tracklearn.training import stages
from tracklearn.training.stages import get_stage, register_stage


def _event() -> Event:
    # particle 1: hits 3 (r=30), 0 (r=70), 2 (r=110); particle 2 (pT 0.5): hits 4, 1; noise: 5
    r = np.array([70.0, 60.0, 110.0, 30.0, 20.0, 50.0])
    pid = np.array([1, 2, 1, 1, 2, 0])
    n = len(r)
    hits = Hits(
        hit_id=np.arange(1, n + 1), x=r, y=np.zeros(n), z=np.zeros(n),
        volume_id=np.full(n, 8, np.int32), layer_id=np.full(n, 2, np.int32),
        module_id=np.ones(n, np.int32),
    )  # fmt: skip
    truth = Truth(
        hit_id=np.arange(1, n + 1), particle_id=pid, tx=r, ty=np.zeros(n), tz=np.zeros(n),
        tpx=np.ones(n), tpy=np.zeros(n), tpz=np.zeros(n), weight=np.full(n, 1 / n),
    )  # fmt: skip
    particles = Particles(
        particle_id=np.array([1, 2]), vx=np.zeros(2), vy=np.zeros(2), vz=np.zeros(2),
        px=np.array([2.0, 0.5]), py=np.zeros(2), pz=np.zeros(2), q=np.array([1, -1], np.int32),
        nhits=np.array([3, 2], np.int32),
    )  # fmt: skip
    return Event(event_id=1, hits=hits, truth=truth, particles=particles)


def test_true_segments_follow_each_track_outwards() -> None:
    ev = _event()
    seg = true_segments(ev)
    assert sorted(map(tuple, seg.T.tolist())) == sorted([(3, 0), (0, 2), (4, 1)])
    assert true_segments(ev, pt_min=1.0).T.tolist() == [[3, 0], [0, 2]]
    assert true_segments(ev, min_hits=3).T.tolist() == [[3, 0], [0, 2]]


def test_edge_labels_same_particle_not_noise() -> None:
    ev = _event()
    edges = np.array([[3, 4, 5, 0], [0, 1, 5, 1]])
    assert edge_labels(ev, edges).tolist() == [1.0, 1.0, 0.0, 0.0]


def test_stage_registry_lists_valid_names() -> None:
    @register_stage("unit-test-stage")
    def _stage(config, data, out, resume):  # type: ignore[no-untyped-def]
        return {"ok": 1.0}

    try:
        assert get_stage("unit-test-stage")({}, None, None, False) == {"ok": 1.0}  # type: ignore[arg-type]
        with pytest.raises(UnknownNameError, match="unit-test-stage"):
            get_stage("nope")
    finally:  # leave the registry as the providers made it (train --help tests compare)
        stages._STAGES.remove("unit-test-stage")
