"""The toy and g-2 stages of ``tracklearn train``, end to end on tiny generated data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tracklearn.errors import ConfigError
from tracklearn.simulation.g2 import G2Config, generate_islands, save_islands
from tracklearn.simulation.toy import ToyConfig, generate_toy, save_toy
from tracklearn.training.loop import TrainConfig
from tracklearn.training.stages import available_stages, get_stage
from tracklearn.training.toy import G2StageConfig, augment_with_overlay

ONE_THREAD = {"threads": 1, "epochs": 1}


def test_all_toy_stages_registered() -> None:
    names = set(available_stages())
    assert {"toy_lstm", "toy_bilstm", "toy_convnn", "toy_conv_autoencoder", "g2_lstm"} <= names
    assert {"toy_deep_lstm", "toy_next_layer_lstm", "toy_conv_lstm_regression"} <= names


@pytest.mark.slow
def test_trained_track_follower_beats_stated_accuracy(tmp_path: Path) -> None:
    """A small model on a fixed tiny toy set (1 track + 10 % noise) beats 0.85."""
    torch.set_num_threads(1)
    save_toy(generate_toy(1500, 11, ToyConfig(noise_prob=0.1)), tmp_path / "toy.npz")
    config = {
        "model": {"channels": 16},
        "batch_size": 32,
        "train": {**ONE_THREAD, "epochs": 5, "lr": 3e-3},
    }
    metrics = get_stage("toy_track_follower")(config, tmp_path, tmp_path / "run", False)
    assert metrics["val_accuracy"] > 0.85
    assert (tmp_path / "run" / "best.pt").exists() and (tmp_path / "run" / "history.csv").exists()


def test_lstm_and_regression_stages_run_and_reject_typos(tmp_path: Path) -> None:
    save_toy(generate_toy(60, 1, ToyConfig(n_background=2)), tmp_path / "toy.npz")
    config = {"model": {"hidden": 8}, "train": ONE_THREAD}
    assert "val_accuracy" in get_stage("toy_lstm")(config, tmp_path, tmp_path / "a", False)
    reg = {"model": {"max_tracks": 3, "hidden": 8}, "train": ONE_THREAD}
    out = get_stage("toy_conv_lstm_regression")(reg, tmp_path, tmp_path / "b", False)
    assert np.isfinite(out["val_loss"]) and "val_pull_std" in out
    with pytest.raises(ConfigError, match="batch"):
        get_stage("toy_lstm")({"batchsize": 3}, tmp_path, tmp_path / "c", False)


def test_g2_stage_with_overlay(tmp_path: Path) -> None:
    islands = generate_islands(4, 2, G2Config(tracks_per_fill=15))
    save_islands(islands, tmp_path / "g2.npz")
    cfg = G2StageConfig(overlay=True, overlay_ratio=0.5, train=TrainConfig(threads=1, epochs=1))
    bigger = augment_with_overlay(islands, cfg, seed=0)
    assert len(bigger) == len(islands) + round(0.5 * len(islands))
    assert bigger.n_tracks[len(islands) :].mean() > islands.n_tracks.mean()
    config = {"overlay": True, "model": {"hidden": 16}, "train": ONE_THREAD}
    out = get_stage("g2_lstm")(config, tmp_path, tmp_path / "g2", False)
    assert {"val_loss", "val_efficiency", "val_purity", "val_finder_efficiency"} <= set(out)


@pytest.mark.parametrize(
    ("stage", "config_file"),
    [
        ("toy_track_follower", "toy_track_follower.yaml"),
        ("toy_lstm", "toy_lstm_hep_trkx.yaml"),
        ("toy_conv_lstm_regression", "toy_conv_lstm_regression.yaml"),
        ("g2_lstm", "g2_lstm_overlay.yaml"),
    ],
)
def test_shipped_toy_configs_train_one_epoch(stage: str, config_file: str, tmp_path: Path) -> None:
    from tracklearn.config import load_yaml

    root = Path(__file__).resolve().parents[2] / "configs" / "train"
    config = load_yaml(root / config_file)
    config["train"] = {**config["train"], **ONE_THREAD}
    if stage == "g2_lstm":
        save_islands(generate_islands(3, 1, G2Config(tracks_per_fill=10)), tmp_path / "g2.npz")
    else:
        save_toy(generate_toy(40, 1, ToyConfig(noise_prob=0.1)), tmp_path / "toy.npz")
    out = get_stage(stage)(config, tmp_path, tmp_path / "run", False)
    assert all(np.isfinite(v) for v in out.values())
    if stage == "toy_conv_lstm_regression":  # best.pt holds the calibrated σ scale
        best = torch.load(tmp_path / "run" / "best.pt", weights_only=False)
        want = [out["val_sigma_scale_slope"], out["val_sigma_scale_intercept"]]
        assert best["model"]["sigma_scale"].tolist() == pytest.approx(want)
