"""Module lookup and bounds of planar modules (real TrackML geometry and hand-made)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tests.simulation._planes import barrel_plane_detector

from tracklearn.geometry.planar import ModuleLookup, inside_bounds, local_coordinates
from tracklearn.io.trackml import read_detector


def test_trapezoid_bounds_follow_min_hu_at_negative_v() -> None:
    # half-width 10 at v = -20, 30 at v = +20
    det = barrel_plane_detector([100.0], half_u=10.0, max_half_u=30.0, half_v=20.0)
    module = np.zeros(6, dtype=np.int64)
    u = np.array([9.9, 10.1, 29.9, 30.1, 19.9, 20.1])
    v = np.array([-20.0, -20.0, 20.0, 20.0, 0.0, 0.0])
    assert inside_bounds(det, module, u, v).tolist() == [True, False, True, False, True, False]
    assert not inside_bounds(det, module[:1], np.array([0.0]), np.array([20.1]))[0]


def test_lookup_finds_a_module_on_both_sides_of_phi_wrap() -> None:
    det = barrel_plane_detector([100.0], half_u=20.0, phi=np.pi)  # centred at φ = ±π
    lookup = ModuleLookup.build(det)
    eps = 0.05
    phis = np.array([np.pi - eps, -np.pi + eps, 0.0])
    q, m = lookup.candidates(
        np.zeros(3, dtype=np.int64), 100 * np.cos(phis), 100 * np.sin(phis), np.zeros(3)
    )
    assert sorted(q.tolist()) == [0, 1]  # not the point at φ = 0
    assert m.tolist() == [0, 0]


def test_lookup_on_the_real_geometry_finds_every_real_hit_module(shared_data: Path) -> None:
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    lookup = ModuleLookup.build(det)
    assert lookup.n_layers == 48
    assert int(lookup.is_barrel.sum()) == 10  # 4 pixel + 4 short-strip + 2 long-strip
    # each layer names its real (volume, layer) pair, in (volume, layer) order
    pairs = sorted(set(zip(det.volume_id.tolist(), det.layer_id.tolist(), strict=True)))
    named = zip(lookup.layer_volume.tolist(), lookup.layer_layer.tolist(), strict=True)
    assert list(named) == pairs
    assert lookup.layer_volume[lookup.module_layer].tolist() == det.volume_id.tolist()
    hits = pd.read_csv(shared_data / "trackml" / "event000000001-hits.csv.gz")
    module = det.module_index(hits.volume_id, hits.layer_id, hits.module_id)
    q, m = lookup.candidates(
        lookup.module_layer[module], hits.x.to_numpy(), hits.y.to_numpy(), hits.z.to_numpy()
    )
    found = np.zeros(len(hits), dtype=bool)
    found[q[m == module[q]]] = True
    assert found.all()
    assert len(q) / len(hits) < 8  # a handful of candidates, not all 18,728 modules
    # real hits lie on their module's mid-plane and inside its trapezoid
    local = local_coordinates(det, module, hits[["x", "y", "z"]].to_numpy())
    assert np.abs(local[:, 2]).max() < 0.01
    assert inside_bounds(det, module, local[:, 0], local[:, 1]).all()


def test_perpendicular_basis_is_orthonormal_and_right_handed() -> None:
    from tracklearn.geometry.coords import perpendicular_basis

    rng = np.random.default_rng(0)
    t = rng.normal(size=(500, 3))
    t = np.vstack([t, [[0, 0, 1.0], [0, 0, -1.0], [1.0, 0, 0]]])
    t /= np.linalg.norm(t, axis=1)[:, None]
    e1, e2 = perpendicular_basis(t)
    for a, b in ((e1, e2), (e1, t), (e2, t)):
        np.testing.assert_allclose(np.sum(a * b, axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(e1, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(e2, axis=1), 1.0)
    np.testing.assert_allclose(np.cross(e1, e2), t, atol=1e-12)
