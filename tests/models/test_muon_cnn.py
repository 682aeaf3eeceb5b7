"""The muon-trigger CNN: weighted BCE by hand, shapes, training, the shipped model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tracklearn.config import load_yaml
from tracklearn.errors import ConfigError
from tracklearn.models import get_model
from tracklearn.models.muon_cnn import weighted_bce
from tracklearn.models.muon_model import MuonCNNModel
from tracklearn.parallel.simulate import simulate_to_disk
from tracklearn.simulation.muon_chamber import generate_muon_images
from tracklearn.training.stages import get_stage

ROOT = Path(__file__).resolve().parents[2]


def _bce(z: float, p: float, beta: float) -> float:
    q = 1 / (1 + math.exp(-z))
    return -(beta * p * math.log(q) + (1 - p) * math.log(1 - q))


def test_weighted_bce_matches_a_hand_computation() -> None:
    z = torch.tensor([[0.0, 2.0], [-1.5, 30.0]])
    p = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    want = [_bce(0.0, 1, 4.0), _bce(2.0, 0, 4.0), _bce(-1.5, 1, 4.0), _bce(30.0, 1, 4.0)]
    assert float(weighted_bce(z, p, beta=4.0)) == pytest.approx(sum(want) / 4, rel=1e-6)
    mask = torch.tensor([[True, False], [True, False]])
    assert float(weighted_bce(z, p, 4.0, mask)) == pytest.approx((want[0] + want[2]) / 2)
    # confident and wrong stays finite: -log sigmoid(-100) = 100
    assert float(weighted_bce(torch.tensor([-100.0]), torch.tensor([1.0]), 1.0)) == pytest.approx(
        100.0
    )


def test_cnn_keeps_the_image_shape_and_rejects_bad_architectures() -> None:
    net = get_model("muon_cnn", channels=(4, 4), dilations=(1, 2))
    assert tuple(net(torch.zeros(3, 6, 8, 384)).shape) == (3, 6, 8, 384)
    with pytest.raises(ConfigError, match="dilations"):
        get_model("muon_cnn", channels=(4, 4), dilations=(1,))
    with pytest.raises(ConfigError, match="odd"):
        get_model("muon_cnn", kernel=(3, 6))


@pytest.fixture(scope="module")
def muon_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("muon") / "data"
    simulate_to_disk(detector="muon-chamber", n_events=600, seed=3, out=out)
    return out


def test_training_lowers_the_loss_and_finds_the_muons(muon_data: Path, tmp_path: Path) -> None:
    config = {
        "model": {"channels": [8, 8], "dilations": [1, 3]},
        "beta": 5.0,
        "val_fraction": 0.5,
        "fresh_images": 1200,
        "batch_size": 32,
        "train": {"epochs": 2, "lr": 0.005, "threads": 1},
    }
    get_stage("muon_cnn")(config, muon_data, tmp_path / "run", False)
    hist = np.genfromtxt(tmp_path / "run" / "history.csv", delimiter=",", names=True)
    assert hist["val_loss"][-1] < hist["val_loss"][0]
    # a two-layer CNN after 2400 images already finds most muons of pT ≥ 10 GeV
    assert hist["val_efficiency"][-1] > 0.8
    model = MuonCNNModel.load(tmp_path / "run")
    assert model.info["simulation"]["noise_strips"] == 60.0 and model.threshold == 0.5
    images = generate_muon_images(20, seed=9)
    pred = model(images.hits)
    assert pred.shape == images.hits.shape and not np.any(pred & ~images.hits)


def test_shipped_config_trains_one_step(muon_data: Path, tmp_path: Path) -> None:
    config = load_yaml(ROOT / "configs" / "train" / "muon_cnn.yaml")
    config["fresh_images"] = 64
    config["train"] = {**config["train"], "epochs": 1}
    out = get_stage("muon_cnn")(config, muon_data, tmp_path / "run", False)
    assert set(out) == {"val_loss", "val_efficiency", "val_fake_rate"}
    assert all(np.isfinite(v) for v in out.values())


def test_shipped_model_meets_the_floors_on_fresh_images() -> None:
    from tracklearn.metrics.muon_trigger import fake, matched, voxel_counts
    from tracklearn.pipeline.trigger import DEFAULT_MUON_MODEL

    model = MuonCNNModel.load(DEFAULT_MUON_MODEL)
    images = generate_muon_images(1000, seed=77)
    tp, p, m = voxel_counts(model(images.hits), images.truth)
    assert matched(tp, p)[images.pt_gev >= 10].mean() >= 0.95
    assert fake(tp, m)[m > 0].mean() <= 0.05
