"""Simulation-vs-real statistics on hand-made tables with exact answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tracklearn.edm import Cells, Hits, Particles
from tracklearn.simulation.validation import (
    FLOOR_CLUSTER,
    VOLUMES,
    BinnedComparison,
    ClusterStats,
    Sample,
    ValidationRow,
    binned_counts,
    cluster_row,
    cluster_stats,
    compare_means,
    compare_samples,
    hit_event_stats,
    occupancy_correction,
    one_hot_counts,
    particle_event_stats,
    spectrum_row,
    within_floor,
    worst_bin,
)


def make_hits(volume: list[int], layer: list[int], module: list[int]) -> Hits:
    n = len(volume)
    return Hits(
        hit_id=np.arange(1, n + 1),
        x=np.ones(n),
        y=np.zeros(n),
        z=np.zeros(n),
        volume_id=np.array(volume, dtype=np.int32),
        layer_id=np.array(layer, dtype=np.int32),
        module_id=np.array(module, dtype=np.int32),
    )


def make_particles(
    px: list[float],
    py: list[float],
    pz: list[float],
    q: list[int],
    nhits: list[int],
    vx: list[float] | None = None,
) -> Particles:
    n = len(px)
    return Particles(
        particle_id=np.arange(1, n + 1),
        vx=np.zeros(n) if vx is None else np.array(vx),
        vy=np.zeros(n),
        vz=np.zeros(n),
        px=np.array(px, dtype=np.float64),
        py=np.array(py, dtype=np.float64),
        pz=np.array(pz, dtype=np.float64),
        q=np.array(q, dtype=np.int32),
        nhits=np.array(nhits, dtype=np.int32),
    )


# six hits: volume 7 (2 hits, one module), volume 8 (3 hits, two layers), volume 18 (1)
HITS = make_hits([7, 7, 8, 8, 8, 18], [2, 2, 2, 4, 4, 2], [1, 1, 1, 1, 2, 5])


def test_hit_event_stats_counts_volumes_layers_modules_and_noise() -> None:
    particles = make_particles([1, 1, 1], [0, 0, 0], [0, 0, 0], [1, -1, 1], [2, 2, 0])
    stats = hit_event_stats(5, HITS, particles, truth_particle_id=[1, 1, 2, 2, 0, 0])
    assert stats.n_hits == 6
    assert stats.volume_counts.tolist() == [2, 3, 0, 0, 0, 0, 0, 0, 1]
    assert stats.layer_counts.to_dict() == {(7, 2): 2, (8, 2): 1, (8, 4): 2, (18, 2): 1}
    assert stats.module_hits.tolist() == [2, 1, 1, 1, 1]
    assert stats.n_noise_estimated == 6 - 4  # hits − Σ nhits
    assert stats.n_noise_truth == 2


def test_hit_event_stats_without_particles_or_truth() -> None:
    stats = hit_event_stats(5, HITS)
    assert stats.n_noise_estimated is None
    assert stats.n_noise_truth is None


def test_particle_selection_matches_the_real_generator_cuts() -> None:
    big_pz = float(np.sinh(4.5))  # |eta| = 4.5 at pT = 1
    particles = make_particles(
        px=[0.3, 0.05, 1.0, 1.0, 0.1],
        py=[0.4, 0.0, 0.0, 0.0, 0.0],
        pz=[0.0, 0.0, 0.0, big_pz, 0.0],
        q=[1, 1, 0, -1, -1],
        nhits=[4, 0, 3, 2, 0],
        vx=[3.0, 0, 0, 0, 0],
    )
    stats = particle_event_stats(9, particles)
    # kept: pT 0.5 (|eta| 0) and pT exactly 0.1; dropped: pT 0.05, neutral, |eta| 4.5
    assert stats.n_all == 2
    assert stats.n_excluded == 3
    assert stats.n_with_hits == 1
    assert stats.n_with_3_hits == 1
    np.testing.assert_allclose(stats.table["pt"], [0.5, 0.1])
    np.testing.assert_allclose(stats.table["vr"], [3.0, 0.0])
    assert stats.table["q"].tolist() == [1, -1]


def test_binned_counts_per_event_with_flows_into_edge_bins() -> None:
    counts = binned_counts(
        [-5.0, 0.5, 1.0, 1.5, 99.0, np.nan], [0, 0, 1, 1, 1, 1], 3, [0.0, 1.0, 2.0]
    )
    # −5 → first bin, 1.0 → second bin (right-open bins), 99 → last, NaN dropped
    assert counts.tolist() == [[2, 0], [0, 3], [0, 0]]
    assert one_hot_counts([0.5, 1.5, 1.6], [0.0, 1.0, 2.0]).tolist() == [[1, 0], [0, 1], [0, 1]]


@pytest.mark.parametrize(
    ("sim", "passed"),
    [(110.0, True), (90.0, True), (100.0, True), (110.01, False), (89.99, False)],
)
def test_floor_boundary_is_inclusive(sim: float, passed: bool) -> None:
    assert within_floor(sim, 100.0, 0.10) is passed
    assert compare_means("q", [100.0], [sim], 0.10).passed is passed


def test_floor_fails_without_a_real_reference() -> None:
    assert not within_floor(1.0, 0.0, 0.10)
    assert not within_floor(np.nan, 100.0, 0.10)


def test_compare_means_ratio_and_spread_over_events() -> None:
    row = compare_means("hits", [90, 110], [120, 130], floor=0.10)
    assert row.real_mean == 100.0
    assert row.real_spread == pytest.approx(np.sqrt(200.0))  # sample std, ddof = 1
    assert row.sim_mean == 125.0
    assert row.ratio == 1.25
    assert row.passed is False
    assert compare_means("info", [1], [2]).passed is None


def test_binned_comparison_means_poisson_errors_and_ratio() -> None:
    cmp = BinnedComparison(
        "x", np.array([0.0, 1.0, 2.0]), np.array([[4, 1], [0, 3]]), np.array([[2, 2]])
    )
    np.testing.assert_allclose(cmp.real_mean, [2.0, 2.0])
    np.testing.assert_allclose(cmp.real_err, [1.0, 1.0])  # sqrt(4) / 2 events
    np.testing.assert_allclose(cmp.sim_err, [np.sqrt(2.0)] * 2)
    np.testing.assert_allclose(cmp.ratio, [1.0, 1.0])
    np.testing.assert_allclose(cmp.ratio_err, [np.sqrt(0.5 + 0.25)] * 2)
    np.testing.assert_allclose(cmp.real_spread, [np.sqrt(8.0), np.sqrt(2.0)])


def test_empty_real_bin_has_no_ratio_and_is_the_worst() -> None:
    cmp = BinnedComparison("x", np.array([0.0, 1.0, 2.0]), np.array([[5, 0]]), np.array([[5, 1]]))
    assert np.isnan(cmp.ratio[1])
    assert worst_bin(cmp, 0.0, 2.0) == 1


def test_spectrum_row_judges_the_worst_bin_inside_the_range() -> None:
    edges = np.array([0.1, 1.0, 10.0, 100.0])
    # ratios 1.1, 0.8 (exactly at the ±20 % floor) and 0 (outside 0.1–10: ignored)
    cmp = BinnedComparison("pt", edges, np.array([[100, 100, 1]]), np.array([[110, 80, 0]]))
    row = spectrum_row(cmp, 0.1, 10.0, 0.20, "pT", "GeV")
    assert "worst bin 1-10 GeV" in row.quantity
    assert (row.real_mean, row.sim_mean) == (100.0, 80.0)
    assert row.passed is True
    cmp = BinnedComparison("pt", edges, np.array([[100, 100, 1]]), np.array([[110, 79, 0]]))
    assert spectrum_row(cmp, 0.1, 10.0, 0.20, "pT", "GeV").passed is False


def _sample(volume_scale: int, n_particles: int, nhits: int) -> Sample:
    hits = make_hits([7] * volume_scale + [8], [2] * volume_scale + [2], [1] * (volume_scale + 1))
    particles = make_particles(
        [1.0] * n_particles, [0.0] * n_particles, [0.0] * n_particles,
        [1] * n_particles, [nhits] * n_particles,
    )  # fmt: skip
    return Sample((hit_event_stats(1, hits, particles),), (particle_event_stats(1, particles),))


def test_compare_samples_rows_floors_and_notes() -> None:
    real = _sample(volume_scale=10, n_particles=10, nhits=1)
    sim = _sample(volume_scale=11, n_particles=8, nhits=1)
    result = compare_samples(real, sim, notes=["no secondaries from material interactions"])
    rows = {r.quantity: r for r in result.rows}
    judged = "(real × 1.000, selection-corrected)"  # real Σ nhits + noise = its hits
    v7 = rows[f"hits per event, volume 7 {judged}"]
    assert (v7.real_mean, v7.sim_mean, v7.passed) == (10.0, 11.0, True)  # +10 %: on the floor
    assert rows[f"hits per event, volume 8 {judged}"].passed is True
    assert rows[f"hits per event, volume 9 {judged}"].passed is False  # empty: no reference
    assert rows["hits per event, volume 7 (raw)"].passed is None
    particles = next(r for r in result.rows if r.quantity.startswith("particles per event ("))
    assert (particles.ratio, particles.passed) == (0.8, False)
    # 9 volumes + particles per event + mean nhits + pT spectrum
    assert result.n_judged == len(VOLUMES) + 3
    assert result.notes[0] == "no secondaries from material interactions"
    assert any("no particles with nhits == 0" in n for n in result.notes)
    assert set(result.histograms) >= {"hits_per_volume", "hits_per_layer", "pt", "nhits"}
    json.dumps(result.to_dict(), allow_nan=False)  # every number is JSON-safe


def test_compare_samples_needs_events_on_both_sides() -> None:
    real = _sample(10, 10, 1)
    with pytest.raises(ValueError, match="simulated sample"):
        compare_samples(real, Sample((), ()))


def test_occupancy_correction_rescales_a_low_occupancy_hit_selection() -> None:
    """Hit events: 11 hits of which 10 from particles (1 noise).  Particle lists:
    that event (Σ nhits 10) and a busier one (Σ nhits 30): expected hits per
    event of the whole sample = mean Σ nhits 20 + noise 1 = 21, i.e. 21/11."""
    low = _sample(volume_scale=10, n_particles=10, nhits=1)
    busy = _sample(volume_scale=10, n_particles=10, nhits=3)
    real = Sample(low.hit_events, (*low.particle_events, *busy.particle_events))
    assert occupancy_correction(real) == pytest.approx(21 / 11)
    assert occupancy_correction(low) == pytest.approx(1.0)


# --------------------------------------------------------------------------- cluster shapes


def test_docstring_examples_hold() -> None:
    import doctest

    import tracklearn.simulation.digitisation as digitisation
    import tracklearn.simulation.validation as validation

    for module in (validation, digitisation):
        assert doctest.testmod(module).failed == 0, module.__name__


def _cluster_event():  # type: ignore[no-untyped-def]
    """One module (pitch 0.05 × 0.1 mm, u channel 200 = [0, 0.05)) and five hits.

    1: primary, pT 1 GeV, η 0: cells (200, 5) value 1, (201, 5) value 3, (201, 6) value 0
       → size 3, extents 2 × 2, centroid u = (0.025 + 3 · 0.075) / 4 = 0.0625; the hit
       sits at u = 0.08: offset 0.0175 mm
    2: noise; 3: a secondary (generation 1); 4: primary with pT 0.3 GeV (all left out)
    5: primary, pT 2 GeV, η = asinh(1): one cell (300, 7) at its centre → offset 0
    """
    from tests.simulation._planes import barrel_plane_detector

    det = barrel_plane_detector([100.0], half_u=10.0, half_v=10.0, pitch=(0.05, 0.1))
    u = np.array([0.08, 1.0, 2.0, 3.0, 5.025])  # local u = global y for this module
    hits = Hits(
        hit_id=np.array([11, 12, 13, 14, 15]),
        x=np.full(5, 100.0),
        y=u,
        z=np.array([0.0, 0.0, 0.0, 0.0, -9.25]),
        volume_id=np.full(5, 8, dtype=np.int32),
        layer_id=np.full(5, 2, dtype=np.int32),
        module_id=np.ones(5, dtype=np.int32),
    )
    cells = Cells(
        hit_id=np.array([11, 11, 11, 12, 13, 14, 15]),
        ch0=np.array([200, 201, 201, 220, 240, 260, 300], dtype=np.int32),
        ch1=np.array([5, 5, 6, 1, 1, 1, 7], dtype=np.int32),
        value=np.array([1.0, 3.0, 0.0, 1, 1, 1, 1], dtype=np.float32),
    )
    secondary = (1 << 36) | (1 << 24)  # generation bits 24-35 = 1
    pids = np.array([1 << 36, secondary, 3 << 36, 4 << 36], dtype=np.int64)
    particles = Particles(
        particle_id=pids,
        vx=np.zeros(4),
        vy=np.zeros(4),
        vz=np.zeros(4),
        px=np.array([1.0, 1.0, 0.3, 2.0]),
        py=np.zeros(4),
        pz=np.array([0.0, 0.0, 0.0, 2.0]),
        q=np.ones(4, dtype=np.int32),
        nhits=np.ones(4, dtype=np.int32),
    )
    hit_pid = np.array([pids[0], 0, secondary, pids[2], pids[3]])
    return hits, cells, hit_pid, particles, det


def test_cluster_stats_of_a_hand_made_event() -> None:
    c = cluster_stats(*_cluster_event())
    assert len(c) == 2 and c.n_events == 1  # hits 11 and 15
    assert c.volume.tolist() == [8, 8]
    assert c.size.tolist() == [3, 1]
    assert c.extent_u.tolist() == [2, 1]
    assert c.extent_v.tolist() == [2, 1]
    np.testing.assert_allclose(c.offset_u, [0.0175, 0.0], atol=1e-12)
    np.testing.assert_allclose(c.abs_eta, [0.0, np.arcsinh(1.0)])
    assert c.weight.tolist() == [1.0, 1.0]


def _clusters(volume, eta, size, offset=None):  # type: ignore[no-untyped-def]
    n = len(volume)
    return ClusterStats(
        volume=np.asarray(volume, dtype=np.int64),
        abs_eta=np.asarray(eta, dtype=np.float64),
        size=np.asarray(size, dtype=np.int64),
        extent_u=np.ones(n, dtype=np.int64),
        extent_v=np.asarray(size, dtype=np.int64),
        offset_u=np.zeros(n) if offset is None else np.asarray(offset, dtype=np.float64),
        weight=np.ones(n),
    )


def test_reweighting_removes_a_difference_in_the_eta_mix() -> None:
    # size = 1 at |η| < 1, 5 above, in both samples; real: half low, half high;
    # sim: 3 low for each high → unweighted mean 2, reweighted 3 (the real one)
    real = _clusters([8] * 4, [0.2, 0.2, 1.5, 1.5], [1, 1, 5, 5])
    sim = _clusters([8] * 8, [0.2] * 6 + [1.5] * 2, [1] * 6 + [5] * 2)
    w = sim.reweighted_to(real)
    np.testing.assert_allclose(w.weight, [2 / 3] * 6 + [2.0] * 2)
    assert cluster_row("size", real, sim, "size").sim_mean == pytest.approx(2.0)
    row = cluster_row("size", real, w, "size")
    assert (row.real_mean, row.sim_mean, row.passed) == (3.0, pytest.approx(3.0), True)
    # volumes are reweighted separately (share in the real bin / own share: 0.5 / 1);
    # a volume or bin the real sample lacks gets weight 0
    other = _clusters([8, 7, 7], [0.2, 3.0, 0.2], [1, 1, 1]).reweighted_to(real)
    assert other.weight.tolist() == [0.5, 0.0, 0.0]


def test_cluster_row_floor_is_ten_percent_or_three_standard_errors() -> None:
    real = _clusters([8] * 3, [0.1] * 3, [3, 3, 3])  # no spread: the floor is 10 %
    for sizes, passed in (([3, 4, 3, 3, 3, 3, 3, 3, 3, 2], True), ([4] * 4, False)):
        row = cluster_row(
            "size", real, _clusters([8] * len(sizes), [0.1] * len(sizes), sizes), "size"
        )
        assert row.passed is passed
    sim = _clusters([8] * 10, [0.1] * 10, [3] * 9 + [6])  # mean 3.3: +10 %, on the floor
    assert cluster_row("size", real, sim, "size").floor > FLOOR_CLUSTER  # sim spread widens it
    assert ValidationRow("q", 3.0, 0.0, 3.3, FLOOR_CLUSTER).passed is True
    assert ValidationRow("q", 3.0, 0.0, 3.31, FLOOR_CLUSTER).passed is False
    # real sizes 2 and 4 (mean 3, standard error 1): 3 σ of 1/3 → a 100 % floor
    wide = cluster_row("size", _clusters([8, 8], [0.1, 0.1], [2, 4]), real, "size")
    assert (wide.real_mean, wide.real_spread, wide.floor) == (3.0, 1.0, 1.0)
    exact = cluster_row("size", real, real, "size")
    assert (exact.floor, exact.ratio, exact.passed) == (0.10, 1.0, True)
    assert cluster_row("size", real, real, "size", judged=False).floor is None


def test_negative_offsets_are_judged_by_their_magnitude() -> None:
    assert within_floor(-0.0301, -0.0301, 0.10)
    assert within_floor(-0.0280, -0.0301, 0.10)
    assert not within_floor(0.0301, -0.0301, 0.10)  # the wrong direction
    assert not within_floor(0.0, -0.0301, 0.10)  # no shift at all
    assert ValidationRow("offset", -0.03, 0.0, -0.027, 0.10).ratio == pytest.approx(0.9)
    # an unshifted simulation fails, however noisy its own (zero) mean
    real = _clusters([13] * 4, [0.1] * 4, [1] * 4, [-0.0301, -0.0302, -0.0300, -0.0301])
    sim = _clusters([13] * 4, [0.1] * 4, [1] * 4, [1e-4, -1e-4, 2e-4, -2e-4])
    row = cluster_row("offset", real, sim, "offset_u")
    assert (row.floor, row.passed) == (FLOOR_CLUSTER, False)


def test_cluster_rows_and_plots_in_compare_samples() -> None:
    volumes = list(VOLUMES)
    n = len(volumes)
    real_c = _clusters(volumes * 2, [0.3] * n + [1.2] * n, [2] * n + [4] * n, [0.01] * 2 * n)
    sim_c = _clusters(volumes * 3, [0.3] * 2 * n + [1.2] * n, [2] * 2 * n + [4] * n, [0.01] * 3 * n)
    real, sim = _sample(10, 10, 1), _sample(10, 10, 1)
    real = Sample(real.hit_events, real.particle_events, real_c)
    sim = Sample(sim.hit_events, sim.particle_events, ClusterStats.concat([sim_c, sim_c]))
    result = compare_samples(real, sim)
    rows = {r.quantity: r for r in result.rows}
    reweighted = "(sim reweighted to the real |eta|)"
    size8 = rows[f"cluster cells per hit, volume 8 {reweighted}"]
    assert (size8.real_mean, size8.sim_mean, size8.passed) == (3.0, pytest.approx(3.0), True)
    raw8 = rows["cluster cells per hit, volume 8 (raw)"]
    assert (raw8.sim_mean, raw8.passed) == (pytest.approx(8 / 3), None)
    eta_row = rows["cluster extent along (v) [cells], volume 8, 1 <= |eta| < 1.5 (reweighted)"]
    assert (eta_row.real_mean, eta_row.sim_mean) == (4.0, 4.0)
    assert rows["hit - cell centroid along u [mm], volume 13"].passed is True
    # judged: 3 pixel volumes × 3 + 6 strip volumes + 6 |η| bins × 3 + 3 barrel offsets
    n_cluster = sum(r.quantity.startswith(("cluster", "hit - cell")) for r in result.rows)
    n_judged = sum(
        r.floor is not None for r in result.rows if r.quantity.startswith(("cluster", "hit -"))
    )
    assert (n_cluster, n_judged) == (36 + 15, 36)
    # bins without real hits (|η| > 1.5) give NaN means, which fail
    assert rows["cluster cells per hit, volume 8, 2 <= |eta| < 2.5 (reweighted)"].passed is False
    assert result.n_events["real_cells"] == 1 and result.n_events["sim_cells"] == 2
    names = {
        "cluster_size_per_volume",
        "cluster_extent_v_pixel_barrel_eta",
        "cluster_size_pixel_barrel",
        "cluster_size_strips",
    }
    assert names <= set(result.histograms)
    dist = result.histograms["cluster_size_strips"]
    np.testing.assert_allclose(dist.real_mean[:4], [0.0, 0.5, 0.0, 0.5])
    np.testing.assert_allclose(dist.sim_mean[:4], [0.0, 0.5, 0.0, 0.5])  # reweighted
    json.dumps(result.to_dict(), allow_nan=False)


def test_no_cluster_rows_without_cells() -> None:
    result = compare_samples(_sample(10, 10, 1), _sample(10, 10, 1))
    assert not any(r.quantity.startswith("cluster") for r in result.rows)
    assert any("no real events with cells" in note for note in result.notes)
    assert result.n_events["real_cells"] == 0
