from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracklearn.classical.dbscan import (
    DBSCANConfig,
    DBSCANReconstructor,
    merge_clusters,
    unrolled_features,
)
from tracklearn.edm import Event, Hits
from tracklearn.errors import ConfigError
from tracklearn.geometry.helix import helix_point, radius_of_curvature
from tracklearn.io import read_event
from tracklearn.metrics import evaluate_event
from tracklearn.pipeline import get_method
from tracklearn.simulation.quick import QuickConfig, generate_event

RADII = np.array([32.0, 72.0, 116.0, 172.0, 260.0, 360.0, 500.0, 660.0, 820.0, 1020.0])


def _helix_hits(phi0: float, cot: float, pt: float, q: int) -> np.ndarray:
    """Hit positions of a particle from the origin on the 10 barrel radii, shape (10, 3)."""
    R = radius_of_curvature(pt, q, 2.0)
    h = -np.sign(q)
    alpha = 2 * np.arcsin(RADII / (2 * R))  # chord r = 2R sin(α/2)
    x, y, z = helix_point(alpha, 0.0, 0.0, 0.0, phi0, cot, R, h)
    return np.stack([x, y, z], axis=1)


def _event(tracks: list[np.ndarray], noise: np.ndarray | None = None) -> Event:
    pts = np.concatenate([*tracks, *([] if noise is None else [noise])])
    n = len(pts)
    hits = Hits(
        hit_id=np.arange(1, n + 1),
        x=pts[:, 0],
        y=pts[:, 1],
        z=pts[:, 2],
        volume_id=np.full(n, 8),
        layer_id=np.full(n, 2),
        module_id=np.ones(n, int),
    )
    return Event(1, hits)


def test_features_are_constant_along_a_helix() -> None:
    pts = _helix_hits(0.7, 0.5, 1.3, 1)
    k = -1.0 / (2 * radius_of_curvature(1.3, 1, 2.0))  # h/(2R) with h = -1 for q = +1
    f = unrolled_features(pts[:, 0], pts[:, 1], pts[:, 2], k, 0.0, 1.0)
    np.testing.assert_allclose(np.ptp(f, axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.arctan2(f[0, 1], f[0, 0]), 0.7, atol=1e-9)
    np.testing.assert_allclose(f[0, 2], 0.5, atol=1e-9)


def test_merge_moves_hits_to_larger_clusters_only() -> None:
    labels = np.array([0, 0, 0, 0, 0])
    sizes = np.zeros(5, np.int64)
    labels, sizes = merge_clusters(labels, sizes, np.array([0, 0, 1, 1, 1]), 10, 1)
    assert labels.tolist() == [1, 1, 2, 2, 2] and sizes.tolist() == [2, 2, 3, 3, 3]
    # a 4-hit cluster takes hits 1-4 from both; hit 0 stays in a now-1-hit cluster
    labels, sizes = merge_clusters(labels, sizes, np.array([0, 1, 1, 1, 1]), 10, 10)
    assert labels.tolist() == [1, 11, 11, 11, 11] and sizes.tolist() == [1, 4, 4, 4, 4]
    # clusters above max_hits never win
    labels2, _ = merge_clusters(labels, sizes, np.zeros(5, np.int64), 4, 20)
    assert labels2.tolist() == labels.tolist()


def test_finds_separated_helices_exactly() -> None:
    params = [(0.1, 0.2, 5.0, 1), (1.7, -0.8, 2.0, -1), (-2.5, 1.5, 10.0, 1), (3.0, 0.0, 1.0, -1)]
    tracks = [_helix_hits(*p) for p in params]
    noise = np.array([[0.0, 50.0, 800.0]])  # far from every track
    ev = _event(tracks, noise)
    tc = DBSCANReconstructor()(ev)
    assert tc.n_hits == ev.n_hits
    labels = tc.to_labels()
    for t in range(len(params)):
        lab = labels[10 * t : 10 * (t + 1)]
        assert lab[0] > 0 and np.all(lab == lab[0]), f"track {t} split: {lab}"
    assert len({labels[10 * t] for t in range(len(params))}) == len(params)
    assert labels[-1] == 0  # the lone noise hit is left unassigned


def test_empty_event() -> None:
    hits = Hits.from_columns(
        {c: np.zeros(0) if c in "xyz" else np.zeros(0, int) for c in Hits.column_names()}
    )
    assert DBSCANReconstructor()(Event(1, hits)).n_tracks == 0


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="epsilon"):
        get_method("dbscan", {"epsilon": 3})
    assert isinstance(get_method("dbscan", {"eps": 0.01}), DBSCANReconstructor)
    assert DBSCANConfig().eps > 0


def test_generated_event_scores_well() -> None:
    ev = generate_event(3, np.random.default_rng(3), QuickConfig(n_particles=300))
    truthless = Event(ev.event_id, ev.hits)  # the method never sees truth
    m = evaluate_event(ev, DBSCANReconstructor()(truthless))
    # measured 0.70 and 1.0 with the default config
    assert m.trackml_score > 0.6
    assert m.efficiency > 0.9


def test_real_subsampled_event(real_prefix: Path) -> None:
    ev = read_event(real_prefix, parts=("hits", "truth", "particles"))
    m = evaluate_event(ev, DBSCANReconstructor()(Event(ev.event_id, ev.hits)))
    # measured 0.54 with the default config (see benchmarks/results/baselines.md)
    assert m.trackml_score > 0.45
    assert m.efficiency > 0.9
