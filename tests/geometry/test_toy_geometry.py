"""Toy geometries: exact pixels of straight tracks, embeddings, straws, time islands."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.geometry.toy import (
    CylinderToyGeometry,
    G2Geometry,
    PixelToyGeometry,
    cylinder_track_pixels,
    embed_layer_index,
    straight_track_cells,
    time_islands,
)


def test_straight_track_hits_expected_pixels_2d() -> None:
    g = PixelToyGeometry(10, (50,))
    # y(l) = 2.5 + 1.0 · l  →  pixels 2, 3, ..., 11; a flat track at 49.9 stays in pixel 49
    cells = straight_track_cells(g, np.array([[2.5], [49.9]]), np.array([[11.5], [49.9]]))
    assert cells.tolist() == [list(range(2, 12)), [49] * 10]


def test_straight_track_leaving_the_grid_gets_minus_one() -> None:
    g = PixelToyGeometry(4, (10,))
    # 8.0, 9.5, 11.0, 12.5: only the first two layers are inside
    assert straight_track_cells(g, np.array([[8.0]]), np.array([[12.5]])).tolist() == [
        [8, 9, -1, -1]
    ]


def test_straight_track_3d_uses_row_major_cells() -> None:
    g = PixelToyGeometry(3, (32, 32))
    # x: 1.5 → 3.5 (pixels 1, 2, 3); y: 30.2 constant → cell x * 32 + 30
    cells = straight_track_cells(g, np.array([[1.5, 30.2]]), np.array([[3.5, 30.2]]))
    assert cells.tolist() == [[1 * 32 + 30, 2 * 32 + 30, 3 * 32 + 30]]


def test_embedding_maps_variable_layers_to_fixed_bins() -> None:
    assert embed_layer_index(np.array([0, 3, 4, 7]), np.array([8]), 4).tolist() == [0, 1, 2, 3]
    assert embed_layer_index(np.array([0, 15]), np.array([16]), 64).tolist() == [0, 60]
    geom = CylinderToyGeometry(n_layers=3, pixels_inner=4, embedding=8)
    assert geom.layer_pixels.tolist() == [4, 8, 12]
    # a radial track at φ = π (half way round) sits half way along every layer
    assert cylinder_track_pixels(geom, np.array([np.pi]), np.array([0.0])).tolist() == [[2, 4, 6]]


def test_g2_straws_and_stagger() -> None:
    g = G2Geometry(n_modules=2, layers_per_module=2, n_straws=4, pitch=5.0, module_spacing=60.0,
                   layer_spacing=6.0)  # fmt: skip
    assert g.layer_z.tolist() == [0.0, 6.0, 60.0, 66.0]
    assert g.layer_offset.tolist() == [0.0, 2.5, 0.0, 2.5]
    # layer 1 starts at 2.5 mm; layer 3's last straw ends at 2.5 + 4 · 5 = 22.5 mm
    x = np.array([1.0, 1.0, 19.9, 23.0])
    assert g.straw_of(x, np.arange(4)).tolist() == [0, -1, 3, -1]


def test_time_islands_on_hand_made_times() -> None:
    t = np.array([150.0, 0.0, 99.0, 50.0, 300.0, 260.0, 100.0])
    # from 0: 0, 50, 99 (< 100); 100 opens the next island with 150; 260 opens the third
    assert time_islands(t, 100.0).tolist() == [1, 0, 0, 0, 2, 2, 1]
    assert time_islands(t, 1000.0).tolist() == [0] * 7
    assert time_islands(np.array([]), 100.0).tolist() == []


@pytest.mark.parametrize("window", [10.0, 100.0])
def test_time_islands_never_longer_than_window(window: float) -> None:
    t = np.random.default_rng(3).uniform(0, 2000, 500)
    isl = time_islands(t, window)
    for k in np.unique(isl):
        assert np.ptp(t[isl == k]) < window
    assert np.all(np.diff(isl[np.argsort(t)]) >= 0)
