"""Digitisation: channels, charge sharing, centroid hits — and the real event's conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.simulation._planes import barrel_plane_detector

from tracklearn.geometry.planar import local_coordinates
from tracklearn.io.trackml import read_detector
from tracklearn.simulation.digitisation import (
    DigitisationConfig,
    _cell_centres,
    digitise,
    noise,
)

PIXEL = DigitisationConfig(binary_volumes=(), noise_hits=0)


def _one(det, u, v, direction):  # type: ignore[no-untyped-def]
    d = np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    return digitise(
        det,
        np.zeros(1, dtype=np.int64),
        np.array([[u, v, 0.0]]),
        d[None, :],
        np.random.default_rng(0),
        PIXEL,
    )


def test_perpendicular_crossing_fires_one_cell_with_the_full_path() -> None:
    det = barrel_plane_detector([100.0], half_u=10.0, half_v=10.0, thickness=0.3, pitch=(0.05, 0.1))
    d = _one(det, 0.012, -0.031, (0, 0, 1))
    assert len(d.ch0) == 1
    # u = 0.012 is in channel floor((0.012 + 10) / 0.05) = 200,
    # v = −0.031 in floor((−0.031 + 10) / 0.1) = 99
    assert (d.ch0[0], d.ch1[0]) == (200, 99)
    assert d.value[0] == pytest.approx(0.3)
    u, v = _cell_centres(det, np.zeros(1, dtype=np.int64), d.ch0, d.ch1)
    assert (u[0], v[0]) == pytest.approx((0.025, -0.05))
    # the hit is the cell centre, on the module mid-plane: global = (100, u, v)
    np.testing.assert_allclose(d.position[0], [100.0, 0.025, -0.05], atol=1e-12)


def test_inclined_crossing_shares_the_path_between_cells() -> None:
    det = barrel_plane_detector(
        [100.0], half_u=10.0, half_v=10.0, thickness=0.3, pitch=(0.05, 0.05)
    )
    # crossing along v with dv/dw = 1: 0.3 mm of v, i.e. 6 cells of 0.05 mm
    d = _one(det, 0.01, 0.0, (0, 1, 1))
    assert len(d.ch1) in (6, 7)
    assert d.ch0.tolist() == [d.ch0[0]] * len(d.ch0)
    assert d.value.sum() == pytest.approx(0.3 * np.sqrt(2), rel=1e-9)
    # centroid of the shared path is the crossing point (to a fraction of a pitch)
    assert d.position[0, 2] == pytest.approx(0.0, abs=0.01)


def test_binary_strips_and_edge_crossings() -> None:
    det = barrel_plane_detector([100.0], half_u=10.0, half_v=10.0, thickness=0.3, pitch=(0.08, 1.2))
    cfg = DigitisationConfig(binary_volumes=(8,), noise_hits=0)
    mod = np.zeros(2, dtype=np.int64)
    local = np.array([[0.0, 0.0, 0.0], [10.5, 0.0, 0.0]])  # the second is outside the module
    d = digitise(det, mod, local, np.array([[0.0, 0.0, 1.0]] * 2), np.random.default_rng(0), cfg)
    assert d.source.tolist() == [0]
    assert d.value.tolist() == [1.0]


def test_hit_inefficiency_drops_the_configured_fraction() -> None:
    det = barrel_plane_detector([100.0], half_u=10.0, half_v=10.0)
    n = 20000
    rng = np.random.default_rng(5)
    local = np.column_stack([rng.uniform(-9, 9, n), rng.uniform(-9, 9, n), np.zeros(n)])
    cfg = DigitisationConfig(hit_efficiency=0.9, noise_hits=0)
    d = digitise(
        det, np.zeros(n, dtype=np.int64), local, np.tile([0.0, 0.0, 1.0], (n, 1)), rng, cfg
    )
    assert len(d.module) / n == pytest.approx(0.9, abs=0.01)


def test_noise_hits_follow_the_volume_shares(shared_data: Path) -> None:
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    cfg = DigitisationConfig(noise_hits=20000)
    d = noise(det, np.random.default_rng(1), cfg)
    assert len(d.module) == pytest.approx(20000, rel=0.03)
    vol = det.volume_id[d.module]
    for v, share in cfg.noise_share.items():
        assert (vol == v).mean() == pytest.approx(share, abs=0.01)
    local = local_coordinates(det, d.module, d.position)
    assert np.abs(local[:, 2]).max() < 1e-9


def test_channel_convention_reproduces_the_real_hits_from_their_cells(
    shared_data: Path, real_prefix: Path
) -> None:
    """Real hit = value-weighted centroid of its cells with our channel → position map."""
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    hits = pd.read_csv(f"{real_prefix}-hits.csv.gz")
    cells = pd.read_csv(f"{real_prefix}-cells.csv.gz").merge(
        hits.reset_index()[["hit_id", "index"]], on="hit_id"
    )
    module = det.module_index(hits.volume_id, hits.layer_id, hits.module_id)
    row = cells["index"].to_numpy()
    cu, cv = _cell_centres(det, module[row], cells.ch0.to_numpy(), cells.ch1.to_numpy())
    w = cells.value.to_numpy()
    n = len(hits)
    u = np.bincount(row, weights=w * cu, minlength=n) / np.bincount(row, weights=w, minlength=n)
    v = np.bincount(row, weights=w * cv, minlength=n) / np.bincount(row, weights=w, minlength=n)
    local = local_coordinates(det, module, hits[["x", "y", "z"]].to_numpy())
    # the CSV stores positions to ~1e-3 mm relative precision
    assert np.abs(local[:, 1] - v).max() < 5e-3
    assert np.median(np.abs(local[:, 1] - v)) < 5e-4
    endcap = np.isin(hits.volume_id.to_numpy(), [7, 9, 12, 14, 16, 18])
    assert np.abs(local[endcap, 0] - u[endcap]).max() < 5e-3
    # barrel hits carry a constant Lorentz-angle shift (not simulated), < 0.035 mm
    assert np.abs(local[~endcap, 0] - u[~endcap]).max() < 0.035
