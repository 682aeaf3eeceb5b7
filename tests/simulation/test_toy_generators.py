"""Toy and g-2 generators: seeded, with the signal where it should be, and overlays."""

from __future__ import annotations

import numpy as np

from tracklearn.metrics.toy import island_candidate_counts
from tracklearn.simulation.g2 import (
    G2Config,
    fill_islands,
    generate_fill,
    generate_islands,
    isolated_tracks,
    load_islands,
    overlay_islands,
    save_islands,
)
from tracklearn.simulation.toy import (
    TOY3D,
    TOY_CYLINDER,
    ToyConfig,
    generate_toy,
    load_toy,
    save_toy,
)


def test_toy2d_signal_is_a_hit_and_seeds_mark_it() -> None:
    s = generate_toy(50, 1, ToyConfig(noise_prob=0.2, n_background=2))
    rows = np.arange(50)[:, None]
    assert np.all(s.hits[rows, np.arange(10), s.target] == 1)
    assert s.seed.sum() == 50 * 3
    assert np.all(s.seed[rows, np.arange(3), s.target[:, :3]] == 1)
    assert s.n_tracks.tolist() == [3] * 50
    assert 0.15 < s.hits.mean() < 0.35
    # slope and intercept reproduce the signal's pixels
    slope, icpt = s.params[:, 0, 0], s.params[:, 0, 1]
    assert np.array_equal(np.floor(icpt[:, None] + slope[:, None] * np.arange(10)), s.target)


def test_toy_is_seeded() -> None:
    a, b = (
        generate_toy(5, 3, ToyConfig(noise_prob=0.1)),
        generate_toy(5, 3, ToyConfig(noise_prob=0.1)),
    )
    assert np.array_equal(a.hits, b.hits)
    assert not np.array_equal(a.hits, generate_toy(5, 4, ToyConfig(noise_prob=0.1)).hits)


def test_noise_free_single_track_has_one_hit_per_layer() -> None:
    for cfg in (ToyConfig(), TOY3D, TOY_CYLINDER):
        s = generate_toy(20, 2, cfg)
        assert np.all(s.hits.sum(-1) == 1)


def test_poisson_background_varies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = generate_toy(200, 5, ToyConfig(n_background=3, poisson_background=True))
    assert 2.5 < (s.n_tracks - 1).mean() < 3.5
    assert np.isnan(s.params[s.n_tracks < s.params.shape[1], -1]).all()
    save_toy(s, tmp_path / "toy.npz")
    back = load_toy(tmp_path / "toy.npz")
    assert np.array_equal(back.hits, s.hits) and back.pixels == (50,)


def test_g2_fill_islands_hold_whole_tracks_and_truth_matches_itself(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = G2Config(tracks_per_fill=10, noise_per_fill=0, crosstalk_prob=0.0)
    fill = generate_fill(1, cfg)
    assert fill.t.min() >= 0 and set(np.unique(fill.particle_id)) >= {1}
    isl = fill_islands(fill, cfg)
    # every hit lands in exactly one island image
    assert int(isl.occupancy.sum()) <= len(fill.t)
    n_fill = len(np.unique(fill.particle_id[fill.particle_id > 0]))
    # a track is in one island, or two when it straddles a boundary
    assert n_fill <= isl.n_tracks.sum() <= 2 * n_fill
    counts = island_candidate_counts(np.maximum(isl.owner, 0), isl.owner)
    assert counts.efficiency() == 1.0 and counts.purity() == 1.0
    save_islands(isl, tmp_path / "g2.npz")
    assert np.array_equal(load_islands(tmp_path / "g2.npz").owner, isl.owner)


def test_overlay_builds_high_occupancy_islands() -> None:
    low = generate_islands(10, 1, G2Config(tracks_per_fill=3))
    tracks = isolated_tracks(low, min_layers=24)
    assert tracks and all(len(np.unique(t[:, 0])) >= 24 for t in tracks)
    ov = overlay_islands(tracks, 30, 2, n_tracks_range=(5, 5), noise_hits=0.0)
    assert len(ov) == 30
    assert ov.n_tracks.mean() > 4  # shifted tracks may fall off the edge
    # slots are ordered by mean straw
    own = ov.owner[0]
    means = [np.argwhere(own == k)[:, 1].mean() for k in range(1, ov.n_tracks[0] + 1)]
    assert means == sorted(means)


def test_clean_seed_layers_hold_only_the_signal() -> None:
    """HEP.TrkX removes noise and background hits from the seed layers."""
    cfg = ToyConfig(noise_prob=0.2, n_background=3, clean_seed_layers=True)
    s = generate_toy(30, 7, cfg)
    assert np.array_equal(s.hits[:, :3], s.seed[:, :3])
    assert s.hits[:, 3:].sum(-1).min() >= 1 and s.hits[:, 3:].mean() > 0.15
    # the later layers are the same events as without cleaning
    dirty = generate_toy(30, 7, cfg.model_copy(update={"clean_seed_layers": False}))
    assert np.array_equal(dirty.hits[:, 3:], s.hits[:, 3:])
