"""Simulation-vs-real statistics on hand-made tables with exact answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tracklearn.edm import Hits, Particles
from tracklearn.simulation.validation import (
    VOLUMES,
    BinnedComparison,
    Sample,
    binned_counts,
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
