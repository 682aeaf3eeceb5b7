"""Muon strip chamber: strip/partition lookup, straight and bent muons, clusters."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn import units as u
from tracklearn.geometry.muon_chamber import MuonChamberGeometry, projective_slopes
from tracklearn.simulation.muon_chamber import (
    MuonChamberConfig,
    cluster_voxels,
    generate_muon_images,
    muon_crossings,
)

G = MuonChamberGeometry()
#: no scattering, no noise, every layer efficient, single-strip clusters
CLEAN = MuonChamberConfig(
    x0_before=0.0, x0_per_layer=0.0, noise_strips=0.0, background_clusters=0.0,
    layer_efficiency=1.0, cluster_size_probs=(1.0, 0.0, 0.0), pt_min=5000.0, pt_max=5001.0,
)  # fmt: skip


def test_default_chamber_is_6_layers_8_partitions_384_strips() -> None:
    assert G.shape == (6, 8, 384)
    assert G.layer_z().tolist() == [0.0, 25.0, 50.0, 75.0, 100.0, 125.0]
    assert G.partition_index([0.0, 99.9, 100.0, 799.9, 800.0, -1.0]).tolist() == [
        0, 0, 1, 7, -1, -1,
    ]  # fmt: skip


def test_straight_muon_through_the_centre_fires_one_strip_per_layer() -> None:
    # pointing at the chamber centre from the interaction point: no projective slope
    x, y = muon_crossings(CLEAN, np.array([192.0]), np.array([400.0]), np.array([1e9]),
                          np.array([1.0]))  # fmt: skip
    assert np.allclose(x, 192.0) and np.allclose(y, 400.0)
    _m, layer, part, strip = cluster_voxels(G, x, y, np.ones_like(x, dtype=np.int64))
    assert layer.tolist() == [0, 1, 2, 3, 4, 5]
    assert strip.tolist() == [192] * 6 and part.tolist() == [4] * 6


def test_off_centre_stiff_muon_follows_the_projective_line() -> None:
    x0 = np.array([292.3])  # 100.3 mm right of the centre: dx/dz = 100.3 / 5000
    sx, sy = projective_slopes(G, x0, np.array([400.0]))
    assert sx[0] == pytest.approx(100.3 / 5000.0) and sy[0] == 0.0
    x, _ = muon_crossings(CLEAN, x0, np.array([400.0]), np.array([1e9]), np.array([-1.0]))
    want = np.floor(292.3 + 100.3 / 5000.0 * G.layer_z()).astype(int)
    assert G.strip_index(x[0]).tolist() == want.tolist() == [292, 292, 293, 293, 294, 294]


def test_bending_is_charge_odd_and_falls_as_one_over_pt() -> None:
    x0, y0 = np.full(4, 192.0), np.full(4, 400.0)
    pt = np.array([5.0, 5.0, 50.0, 50.0])
    x, _ = muon_crossings(CLEAN, x0, y0, pt, np.array([1.0, -1.0, 1.0, -1.0]))
    shift = x[:, -1] - x[:, 0]  # across the chamber depth, 125 mm
    bend = u.C_LIGHT_GEV_PER_T_MM * CLEAN.field_integral * u.m / pt  # rad
    assert shift == pytest.approx(np.array([1, -1, 1, -1]) * bend * 125.0)
    assert shift[0] == pytest.approx(7.49, abs=0.01)  # a 5 GeV muon crosses ~7.5 strips


def test_cluster_sizes_add_neighbours_on_the_crossing_side() -> None:
    x = np.array([[10.2, 10.7, 10.5, 0.2, 383.9]])
    y = np.full((1, 5), 150.0)
    size = np.array([[2, 2, 3, 3, 0]])  # the last crossing: an inefficient layer
    _m, layer, part, strip = cluster_voxels(G, x, y, size)
    got = sorted(zip(layer.tolist(), strip.tolist(), strict=True))
    # size 2 left of the strip centre → left neighbour; size 3 at the chamber edge → 2 strips
    assert got == [(0, 9), (0, 10), (1, 10), (1, 11), (2, 9), (2, 10), (2, 11), (3, 0), (3, 1)]
    assert set(part.tolist()) == {1}


def test_generated_stiff_clean_muons_make_one_straight_strip_run() -> None:
    images = generate_muon_images(50, seed=3, cfg=CLEAN)
    assert np.array_equal(images.hits, images.truth)
    layer_strip = np.argwhere(images.hits)  # (image, layer, partition, strip)
    per_layer = np.bincount(layer_strip[:, 0] * 6 + layer_strip[:, 1], minlength=300)
    assert np.all(per_layer == 1)  # exactly one fired strip per layer
    strips = layer_strip[:, 3].reshape(50, 6)
    # projective slope ≤ 192/5000: at most 4.8 strips over the depth, monotonic
    steps = np.diff(strips, axis=1)
    assert np.all(np.abs(strips[:, -1] - strips[:, 0]) <= 5)
    assert np.all((steps >= 0).all(axis=1) | (steps <= 0).all(axis=1))
