"""g-2 track building: parabolas by (guided) RANSAC on hand-made islands, hit scores."""

from __future__ import annotations

import numpy as np
import torch

from tracklearn.metrics.toy import island_candidate_counts
from tracklearn.models.toy import build_toy_model
from tracklearn.simulation.g2 import G2Config, G2Islands, generate_islands
from tracklearn.training.toy import (
    _layer_u,
    cell_positions,
    g2_hit_scores,
    predict_g2_tracks,
    ransac_candidates,
    ransac_parabola,
)

L, S = 32, 32


def _island(coefs: list[tuple[float, float, float]], noise: list[tuple[int, int]]) -> G2Islands:
    """Tracks ``x(u) = a + b u + c u²`` [straws] drawn cell by cell, plus noise cells."""
    u = _layer_u(L, S)
    cx = cell_positions(L, S)
    occ = np.zeros((1, L, S), np.float32)
    owner = np.full((1, L, S), -1, np.int64)
    for k, (a, b, c) in enumerate(coefs, start=1):
        x = a + b * u + c * u * u
        straw = np.argmin(np.abs(cx - x[:, None]), axis=1)  # the straw whose centre is nearest
        occ[0, np.arange(L), straw] = 1
        owner[0, np.arange(L), straw] = k
    for lay, st in noise:
        occ[0, lay, st] = 1
        owner[0, lay, st] = 0
    return G2Islands(occ, owner, np.array([len(coefs)]))


def test_ransac_parabola_recovers_exact_points_and_ignores_outliers() -> None:
    rng = np.random.default_rng(0)
    u = np.linspace(-1, 1, 20)
    x = 10.0 + 3.0 * u - 1.5 * u * u
    x_out = x.copy()
    x_out[[3, 11]] += 5.0
    coef, inl = ransac_parabola(u, x_out, rng)
    np.testing.assert_allclose(coef, [10.0, 3.0, -1.5], atol=1e-2)  # the ridge on c is tiny
    assert inl.sum() == 18 and not inl[3] and not inl[11]


def test_crossing_tracks_are_found_whatever_the_finder_said() -> None:
    # two tracks crossing near the middle of the station, and three noise cells
    isl = _island([(15.0, 8.0, 0.5), (16.0, -7.0, -0.5)], [(2, 1), (20, 30), (25, 2)])
    truth_counts = (2, 2)
    garbage = np.where(isl.occupancy > 0, 1, 0)  # the finder merged everything
    for pred, guided in ((np.zeros_like(isl.owner), False), (garbage, True)):
        got = ransac_candidates(pred, isl.occupancy, guided=guided)
        c = island_candidate_counts(got, isl.owner)
        assert (int(c.n_tracks[0]), int(c.n_matched_tracks[0])) == truth_counts
        assert c.purity() == 1.0
        assert np.all(got[isl.owner == 0] == 0)  # noise cells stay noise
    # an empty island and an island of noise give no candidate
    empty = G2Islands(
        np.zeros((1, L, S), np.float32), np.full((1, L, S), -1), np.zeros(1, np.int64)
    )
    assert not ransac_candidates(empty.owner.clip(0), empty.occupancy).any()


def test_finder_tracks_and_hit_scores_on_generated_islands() -> None:
    torch.manual_seed(0)
    islands = generate_islands(2, 1, G2Config(tracks_per_fill=10))
    model = build_toy_model("g2_finder", n_straws=32, max_tracks=6, hidden=16, dropout=0.2)
    tracks = predict_g2_tracks(model, islands)
    assert tracks.shape == islands.owner.shape
    assert np.all(tracks[islands.occupancy == 0] == 0)
    score, spread = g2_hit_scores(model, islands)
    assert score.shape == islands.owner.shape and np.all(spread == 0)
    assert np.all((score >= 0) & (score <= 1))
    mc, mc_spread = g2_hit_scores(model, islands, mc_samples=5)
    assert np.all((mc >= 0) & (mc <= 1))
    assert np.all(mc_spread >= 0) and mc_spread.max() > 0
    off, off_spread = g2_hit_scores(model, islands, mc_samples=3, rate=0.0)
    np.testing.assert_allclose(off, score, rtol=1e-6)
    assert np.all(off_spread < 1e-6)
