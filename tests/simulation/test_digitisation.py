"""Digitisation: channels, charge sharing, drift, diffusion, centroid hits — and the real
event's conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.simulation._old_digitisation import old_digitise
from tests.simulation._planes import barrel_plane_detector

from tracklearn.geometry.planar import local_coordinates
from tracklearn.io.trackml import read_detector
from tracklearn.simulation.digitisation import (
    TRACKML_HIT_SHIFT_U,
    DigitisationConfig,
    _cell_centres,
    digitise,
    noise,
)

#: exact stepping, nothing else: no drift, diffusion, threshold, smearing or shift
PIXEL = DigitisationConfig.geometric(stepping="exact", binary_volumes=(), noise_hits=0)


def _one(det, u, v, direction, cfg=PIXEL, seed=0):  # type: ignore[no-untyped-def]
    d = np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    return digitise(
        det,
        np.zeros(1, dtype=np.int64),
        np.array([[u, v, 0.0]]),
        d[None, :],
        np.random.default_rng(seed),
        cfg,
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
    assert len(d.ch1) == 6
    np.testing.assert_allclose(d.value, 0.05 * np.sqrt(2), rtol=1e-9)
    assert d.ch0.tolist() == [d.ch0[0]] * len(d.ch0)
    assert d.value.sum() == pytest.approx(0.3 * np.sqrt(2), rel=1e-9)
    # centroid of the shared path is the crossing point (to a fraction of a pitch)
    assert d.position[0, 2] == pytest.approx(0.0, abs=0.01)


def test_binary_strips_and_edge_crossings() -> None:
    det = barrel_plane_detector([100.0], half_u=10.0, half_v=10.0, thickness=0.3, pitch=(0.08, 1.2))
    cfg = DigitisationConfig.geometric(binary_volumes=(8,), noise_hits=0)
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
    # barrel hits carry a constant Lorentz-angle shift per volume: the simulated one
    vol = hits.volume_id.to_numpy()
    for v, shift in TRACKML_HIT_SHIFT_U.items():
        assert np.abs(local[vol == v, 0] - u[vol == v] - shift).max() < 5e-3
        assert np.median(local[vol == v, 0] - u[vol == v]) == pytest.approx(shift, abs=5e-4)


# --------------------------------------------------------------------------- cluster shapes

#: one 0.3 mm thick module, u pitch 0.05 mm: u = 0 ... 0.05 is channel 200
FLAT = dict(half_u=10.0, half_v=10.0, thickness=0.3, pitch=(0.05, 0.1))


def test_exact_stepping_fires_a_clipped_cell_that_sampling_misses() -> None:
    det = barrel_plane_detector([100.0], **FLAT)  # type: ignore[arg-type]
    # du/dw = 0.1: u runs 0.0205 → 0.0505, i.e. 0.0005 mm (1/60 of it) in channel 201
    direction = (0.1, 0.0, 1.0)
    exact = _one(det, 0.0355, 0.0, direction)
    length = 0.3 * np.sqrt(1.01)
    assert exact.ch0.tolist() == [200, 201]
    np.testing.assert_allclose(exact.value, [length * 59 / 60, length / 60], rtol=1e-9)
    sampled = _one(det, 0.0355, 0.0, direction, PIXEL.model_copy(update={"stepping": "sampled"}))
    assert sampled.ch0.tolist() == [200]


def test_lorentz_drift_moves_a_perpendicular_cluster_by_tan_times_drift() -> None:
    det = barrel_plane_detector([100.0], **FLAT)  # type: ignore[arg-type]
    # charge made at depth w drifts 0 ... 0.3 mm to the readout side w = −t/2 and moves
    # by 0.1 per mm along u: the crossing at u = 0.04 projects onto u = 0.04 ... 0.07
    cfg = PIXEL.model_copy(update={"lorentz_tan": {8: 0.1}, "readout_side": {8: -1}})
    d = _one(det, 0.04, 0.0, (0, 0, 1), cfg)
    assert d.ch0.tolist() == [200, 201]
    np.testing.assert_allclose(d.value, [0.1, 0.2], rtol=1e-9)  # 1/3 and 2/3 of 0.3 mm
    assert d.position[0, 1] == pytest.approx((0.1 * 0.025 + 0.2 * 0.075) / 0.3, abs=1e-12)
    # the opposite drift: u = 0.01 ... 0.04, all in channel 200
    back = _one(det, 0.04, 0.0, (0, 0, 1), cfg.model_copy(update={"lorentz_tan": {8: -0.1}}))
    assert back.ch0.tolist() == [200]
    assert back.value[0] == pytest.approx(0.3)
    # other volumes do not drift
    still = _one(det, 0.04, 0.0, (0, 0, 1), cfg.model_copy(update={"lorentz_tan": {13: 0.1}}))
    assert still.ch0.tolist() == [200]


def test_lorentz_centroid_shift_is_half_the_full_drift_and_hit_shift_moves_it_back() -> None:
    # a fine pitch resolves the mean drift tan θ_L · t/2 = 0.1 · 0.15 = 0.015 mm
    det = barrel_plane_detector([100.0], half_u=10.0, half_v=10.0, thickness=0.3, pitch=(1e-3, 0.1))
    for side in (-1, 1):
        cfg = PIXEL.model_copy(update={"lorentz_tan": {8: 0.1}, "readout_side": {8: side}})
        d = _one(det, 0.0123, 0.0, (0, 0, 1), cfg)
        assert len(d.ch0) in (30, 31)  # 0.03 mm of u
        assert d.position[0, 1] - 0.0123 == pytest.approx(0.015, abs=1e-4)
        undo = _one(
            det, 0.0123, 0.0, (0, 0, 1), cfg.model_copy(update={"hit_shift_u": {8: -0.015}})
        )
        assert undo.position[0, 1] == pytest.approx(0.0123, abs=1e-4)


def test_lorentz_drift_cancels_a_track_inclined_by_the_lorentz_angle() -> None:
    det = barrel_plane_detector([100.0], **FLAT)  # type: ignore[arg-type]
    cfg = PIXEL.model_copy(update={"lorentz_tan": {8: 0.1}, "readout_side": {8: -1}})
    # du/dw = −0.1: without drift u = 0.055 → 0.025 (two channels) ...
    assert _one(det, 0.04, 0.0, (-0.1, 0.0, 1.0)).ch0.tolist() == [200, 201]
    # ... with it every depth lands on u = 0.04 + 0.1 · 0.15 = 0.055: one channel
    d = _one(det, 0.04, 0.0, (-0.1, 0.0, 1.0), cfg)
    assert d.ch0.tolist() == [201]
    assert d.value[0] == pytest.approx(0.3 * np.sqrt(1.01))


def test_thickness_scale_lengthens_the_path() -> None:
    det = barrel_plane_detector([100.0], **FLAT)  # type: ignore[arg-type]
    cfg = PIXEL.model_copy(update={"thickness_scale": {8: 2.0}})
    d = _one(det, 0.0, 0.0, (0, 1, 1), cfg)  # dv/dw = 1 through 0.6 mm: 6 rows of 0.1
    assert np.count_nonzero(d.value > 1e-9) == 6
    assert d.value.sum() == pytest.approx(0.6 * np.sqrt(2))


def test_diffusion_widens_the_cluster_with_drift_distance_and_keeps_the_charge() -> None:
    det = barrel_plane_detector(
        [100.0], half_u=10.0, half_v=10.0, thickness=0.3, pitch=(0.005, 0.05)
    )
    sigma = 0.01  # mm after drifting the whole 0.3 mm
    cfg = PIXEL.model_copy(
        update={"readout_side": {8: -1}, "diffusion_sigma": sigma, "diffusion_slices": 60}
    )
    # dv/dw = 1 from v = −0.15 (w = −t/2, at the readout side) to v = +0.15: row r of
    # 0.05 mm holds the charge drifted d = 0.05 r ... 0.05 (r + 1) mm
    u0 = 0.0025  # the centre of channel 2000
    d = _one(det, u0, 0.0, (0, 1, 1), cfg)
    assert d.value.sum() == pytest.approx(0.3 * np.sqrt(2), rel=1e-4)  # tails beyond 4 σ
    # the six rows the path crosses (v diffusion leaks a little charge into two more)
    rows = [r for r in np.unique(d.ch1) if d.value[d.ch1 == r].sum() > 0.05]
    assert len(rows) == 6
    u, _ = _cell_centres(det, np.zeros(len(d.ch0), dtype=np.int64), d.ch0, d.ch1)
    rms = np.array(
        [np.sqrt(np.average((u[d.ch1 == r] - u0) ** 2, weights=d.value[d.ch1 == r])) for r in rows]
    )
    assert np.all(np.diff(rms) > 0)  # wider the further the charge drifts
    # the last row: σ² = σ_full² · d / t averaged over d = 0.25 ... 0.3 mm, plus the
    # pitch² / 12 of the cell centres (v diffusion mixes neighbouring rows a little)
    expected = np.sqrt(sigma**2 * 0.275 / 0.3 + 0.005**2 / 12)
    assert rms[-1] == pytest.approx(expected, rel=0.1)
    # no diffusion: one channel along u
    flat = _one(det, u0, 0.0, (0, 1, 1), PIXEL)
    assert set(flat.ch0.tolist()) == {2000}


def test_threshold_drops_small_cells_and_empty_hits() -> None:
    det = barrel_plane_detector([100.0], **FLAT)  # type: ignore[arg-type]
    small = 0.3 * np.sqrt(1.01) / 60  # the clipped cell of the first test
    cut = PIXEL.model_copy(update={"threshold": 2 * small})
    d = _one(det, 0.0355, 0.0, (0.1, 0.0, 1.0), cut)
    assert d.ch0.tolist() == [200]
    gone = _one(det, 0.0355, 0.0, (0.1, 0.0, 1.0), PIXEL.model_copy(update={"threshold": 1.0}))
    assert len(gone.module) == 0 and len(gone.ch0) == 0


def test_value_smearing_has_the_configured_spread_and_follows_the_seed() -> None:
    det = barrel_plane_detector([100.0], **FLAT)  # type: ignore[arg-type]
    n = 4000
    rng = np.random.default_rng(3)
    local = np.column_stack([rng.uniform(-9, 9, n), rng.uniform(-9, 9, n), np.zeros(n)])
    cfg = PIXEL.model_copy(update={"value_smearing": 0.1})

    def run(seed: int):  # type: ignore[no-untyped-def]
        return digitise(
            det,
            np.zeros(n, dtype=np.int64),
            local,
            np.tile([0.0, 0.0, 1.0], (n, 1)),
            np.random.default_rng(seed),
            cfg,
        )

    d = run(1)
    assert len(d.value) == n  # perpendicular: one cell each
    assert np.std(d.value / 0.3) == pytest.approx(0.1, rel=0.05)
    assert np.mean(d.value / 0.3) == pytest.approx(1.0, abs=0.005)
    np.testing.assert_array_equal(run(1).value, d.value)
    assert not np.array_equal(run(2).value, d.value)


def test_grazing_crossings_are_capped_at_max_cells() -> None:
    det = barrel_plane_detector([100.0], **FLAT)  # type: ignore[arg-type]
    d = _one(det, 0.0, 0.0, (1.0, 0.0, 1e-7), PIXEL.model_copy(update={"max_cells": 10}))
    assert 10 <= len(d.ch0) <= 11
    assert abs(d.position[0, 1]) < 0.05  # centred on the crossing


def _random_crossings(det, n, seed):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    module = rng.integers(0, len(det), n)
    hv = det.module_hv[module]
    hu = det.module_minhu[module]
    local = np.column_stack([rng.uniform(-1, 1, n) * hu, rng.uniform(-1, 1, n) * hv, np.zeros(n)])
    direction = rng.normal(0.0, 1.0, (n, 3))
    direction[:, 2] = np.abs(direction[:, 2]) + 0.05
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    return module.astype(np.int64), local, direction


def _assert_same(a, b) -> None:  # type: ignore[no-untyped-def]
    for name in ("module", "position", "source", "cell_hit", "ch0", "ch1", "value"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_geometric_config_reproduces_the_old_digitisation_exactly() -> None:
    """Regression: no drift, diffusion, threshold, smearing or shift = the old readout."""
    det = barrel_plane_detector(
        [100.0, 200.0], half_u=10.0, half_v=20.0, thickness=0.3, pitch=(0.05, 0.1), volume=[8, 13]
    )
    module, local, direction = _random_crossings(det, 3000, 4)
    for eff in (1.0, 0.8):
        cfg = DigitisationConfig.geometric(hit_efficiency=eff, binary_volumes=(13,))
        new = digitise(det, module, local, direction, np.random.default_rng(9), cfg)
        old = old_digitise(
            det, module, local, direction, np.random.default_rng(9), eff, binary_volumes=(13,)
        )
        _assert_same(new, old)
        assert len(new.module) > 0.7 * eff * 3000


def test_geometric_config_reproduces_the_old_digitisation_on_the_trackml_detector(
    shared_data: Path,
) -> None:
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    module, local, direction = _random_crossings(det, 5000, 5)
    new = digitise(
        det, module, local, direction, np.random.default_rng(1), DigitisationConfig.geometric()
    )
    old = old_digitise(det, module, local, direction, np.random.default_rng(1))
    _assert_same(new, old)


def test_default_config_reproduces_the_real_cells(shared_data: Path, real_prefix: Path) -> None:
    """Re-digitise the real event's true crossings: ≥ 98 % get exactly their real cells."""
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    hits = pd.read_csv(f"{real_prefix}-hits.csv.gz")
    truth = pd.read_csv(f"{real_prefix}-truth.csv.gz")
    cells = pd.read_csv(f"{real_prefix}-cells.csv.gz")
    sel = (truth.particle_id != 0).to_numpy()
    module = det.module_index(hits.volume_id, hits.layer_id, hits.module_id)[sel]
    rot, centre = det.rotations[module], det.centers[module]
    local = np.einsum("kji,kj->ki", rot, truth[["tx", "ty", "tz"]].to_numpy()[sel] - centre)
    direction = np.einsum("kji,kj->ki", rot, truth[["tpx", "tpy", "tpz"]].to_numpy()[sel])
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    local -= direction * (local[:, 2] / direction[:, 2])[:, None]  # onto w = 0
    cfg = DigitisationConfig(noise_hits=0)
    d = digitise(det, module, local, direction, np.random.default_rng(0), cfg)
    hit_id = hits.hit_id.to_numpy()[sel]
    sim = pd.DataFrame({"hit_id": hit_id[d.source[d.cell_hit]], "ch0": d.ch0, "ch1": d.ch1})
    real = cells[cells.hit_id.isin(hit_id)][["hit_id", "ch0", "ch1"]]
    both = real.merge(sim, how="outer", indicator=True)
    wrong = both.loc[both._merge != "both", "hit_id"].nunique()
    assert 1 - wrong / len(hit_id) >= 0.98
    # the old readout gets about half of them
    old = digitise(
        det, module, local, direction, np.random.default_rng(0), DigitisationConfig.geometric()
    )
    sim_old = pd.DataFrame(
        {"hit_id": hit_id[old.source[old.cell_hit]], "ch0": old.ch0, "ch1": old.ch1}
    )
    both_old = real.merge(sim_old, how="outer", indicator=True)
    assert both_old.loc[both_old._merge != "both", "hit_id"].nunique() / len(hit_id) > 0.4


def test_simulated_hits_sit_at_the_configured_shift_from_their_centroid(shared_data: Path) -> None:
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    module, local, direction = _random_crossings(det, 3000, 6)
    cfg = DigitisationConfig(noise_hits=0)
    d = digitise(det, module, local, direction, np.random.default_rng(1), cfg)
    cu, _ = _cell_centres(det, d.module[d.cell_hit], d.ch0, d.ch1)
    n = len(d.module)
    centroid = np.bincount(d.cell_hit, d.value * cu, n) / np.bincount(d.cell_hit, d.value, n)
    # solve, not transpose: the CSV's rotations are orthogonal to 1e-6 only
    rel = d.position - det.centers[d.module]
    u = np.linalg.solve(det.rotations[d.module], rel[:, :, None])[:, 0, 0]
    vol = det.volume_id[d.module]
    for v in (7, 8, 9, 12, 13, 14, 16, 17, 18):
        np.testing.assert_allclose(
            u[vol == v] - centroid[vol == v], cfg.hit_shift_u.get(v, 0.0), atol=1e-9
        )
