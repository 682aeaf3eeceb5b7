"""Muon-chamber image generator: determinism, chunking, truth, config errors, file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracklearn.config import validate
from tracklearn.errors import ConfigError, DataError
from tracklearn.simulation.muon_chamber import (
    MuonChamberConfig,
    generate_muon_images,
    iter_muon_images,
    load_muon_images,
    save_muon_images,
)


def test_same_seed_same_images_and_batches_do_not_change_them() -> None:
    a = generate_muon_images(1500, seed=5)
    b = list(iter_muon_images(1500, seed=5))
    assert [len(x) for x in b] == [1000, 500]
    assert np.array_equal(a.hits, np.concatenate([x.hits for x in b]))
    assert np.array_equal(a.pt_gev, generate_muon_images(1500, seed=5).pt_gev)
    assert not np.array_equal(a.hits[:10], generate_muon_images(10, seed=6).hits)


def test_truth_is_the_trigger_muon_inside_the_hits() -> None:
    cfg = MuonChamberConfig(extra_muons=1.0, tail_fraction=0.3)
    im = generate_muon_images(400, seed=1, cfg=cfg)
    assert im.hits.shape == (400, 6, 8, 384)
    assert not np.any(im.truth & ~im.hits)
    assert np.all(im.truth.sum(axis=(1, 2, 3)) >= 1)
    assert im.pt_gev.min() >= 2.0 and im.pt_gev.max() <= 100.0
    # the trigger muon is the image's highest pT: below 5 GeV only when all its 1 + Poisson(1)
    # muons are in the tail, with probability E[0.3^n] = 0.3 exp(-0.7) = 0.149
    assert 0.10 < np.mean(im.pt_gev < 5.0) < 0.20
    assert np.any(im.n_muons > 1) and set(np.unique(im.charge).tolist()) == {-1, 1}
    # default noise: 60 voxels + 8 clusters of 1–4 strips on top of ~8 muon voxels
    n = generate_muon_images(300, seed=2).hits.sum(axis=(1, 2, 3)).mean()
    assert 70 < n < 100


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"pt_max": 3.0}, "pt_max"),
        ({"cluster_size_probs": [0.5, 0.2, 0.2]}, "sum to 1"),
        ({"noise_strip": 3}, "noise_strip"),
        ({"geometry": {"n_layers": 1}}, "n_layers"),
    ],
)
def test_bad_configs_name_the_problem(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(MuonChamberConfig, raw, "simulation config")


def test_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    im = generate_muon_images(30, seed=4)
    path = save_muon_images(iter_muon_images(30, seed=4), tmp_path / "muon-chamber.npz")
    back = load_muon_images(tmp_path)  # a folder reads its muon-chamber.npz
    assert np.array_equal(back.hits, im.hits) and np.array_equal(back.truth, im.truth)
    assert np.allclose(back.pt_gev, im.pt_gev, rtol=1e-6)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="bad.npz"):
        load_muon_images(bad)
    np.savez(tmp_path / "other.npz", hits=np.zeros(3))
    with pytest.raises(DataError, match="missing"):
        load_muon_images(tmp_path / "other.npz")
    with pytest.raises(DataError, match="does not exist"):
        load_muon_images(tmp_path / "none.npz")
