"""ONNX export of every kind of network: parity with torch, int8, pruning, metrics, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tracklearn.errors import ConfigError, UnknownNameError
from tracklearn.export.onnx_io import ExportError
from tracklearn.export.run import ExportConfig, export_model
from tracklearn.export.runtime import OnnxNetwork, OrtMuonTrigger, read_export
from tracklearn.export.spec import exportable_models
from tracklearn.models import get_model
from tracklearn.models.edge_model import EdgeModel
from tracklearn.models.muon_model import MuonCNNModel
from tracklearn.simulation.muon_chamber import MuonChamberConfig, generate_muon_images

FAST = {"parity_sizes": (2, 9), "n_calibration": 4}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _edge_folder(tmp: Path, name: str, features: str, threshold: float = 0.5) -> Path:
    torch.manual_seed(1)
    kwargs = {"hidden": 8, "features": features}
    if name == "interaction_network":
        kwargs["n_iterations"] = 2
    module = get_model(name, **kwargs)
    return EdgeModel(module, name, kwargs, threshold, {"stage": "test"}).save(tmp / name)


def test_every_trained_kind_of_network_has_an_export_spec() -> None:
    names = exportable_models()
    for n in ("filter_mlp", "interaction_network", "edge_network", "muon_cnn", "g2_finder",
              "toy_lstm", "toy_track_follower", "toy_conv_lstm_regression"):  # fmt: skip
        assert n in names
    with pytest.raises(UnknownNameError, match="muon_cnn"):
        from tracklearn.export.spec import get_export_spec

        get_export_spec("muon_cnm")


@pytest.mark.parametrize(("name", "features"), [("edge_network", "in_paper"),
                                                ("filter_mlp", "invariant")])  # fmt: skip
def test_edge_model_export_matches_torch(name: str, features: str, tmp_path: Path) -> None:
    folder = _edge_folder(tmp_path, name, features)
    (report,) = export_model(folder, tmp_path / "onnx", config=ExportConfig(**FAST))
    assert report.parity_max_abs <= 1e-5 and report.exporter == "dynamo"
    info = read_export(tmp_path / "onnx")
    assert info["front_end"] == "edge" and info["features"] == features
    assert info["files"] == {"fp32": "model.onnx"} and info["calibration"] == "example inputs"
    # the export folder also runs with torch (weights travel with it)
    assert (tmp_path / "onnx" / "weights.pt").exists()


def _muon_folder(tmp: Path) -> Path:
    torch.manual_seed(2)
    module = get_model("muon_cnn", channels=(4, 4), dilations=(1, 2))
    info = {"simulation": MuonChamberConfig().model_dump(mode="json"), "data": {"seed": 5}}
    kwargs = {"n_layers": 6, "channels": [4, 4], "dilations": [1, 2]}
    return MuonCNNModel(module, "muon_cnn", kwargs, 0.5, info).save(tmp / "muon")


def test_muon_cnn_export_int8_and_pruning_are_measured(tmp_path: Path) -> None:
    folder = _muon_folder(tmp_path)
    cfg = ExportConfig(int8=True, prune_fraction=0.5, n_eval=300, **FAST)
    (r,) = export_model(folder, tmp_path / "onnx", config=cfg)
    assert r.parity_max_abs <= 1e-5
    assert r.pruning is not None and r.pruning["n_zero"] == pytest.approx(
        0.5 * r.pruning["n_weights"], abs=1
    )
    assert r.gzip_bytes["pruned"] < r.gzip_bytes["fp32"]  # zeros compress
    assert r.int8_max_abs is not None and r.int8_max_abs < 0.5  # quantised, not broken
    assert set(r.metrics) == {"torch_fp32", "ort_fp32", "ort_int8", "torch_pruned"}
    assert r.metrics["ort_fp32"] == pytest.approx(r.metrics["torch_fp32"], abs=1e-3)
    info = read_export(tmp_path / "onnx")
    assert info["calibration"] == "training data" and info["image_shape"] == [6, 8, 384]
    # the onnxruntime twin of the model gives the torch model's voxels
    images = generate_muon_images(40, seed=8)
    torch_pred = MuonCNNModel.load(folder)(images.hits)
    ort_pred = OrtMuonTrigger.load(tmp_path / "onnx")(images.hits)
    assert np.array_equal(torch_pred, ort_pred)
    assert OrtMuonTrigger.load(tmp_path / "onnx", "int8")(images.hits).shape == images.hits.shape


def test_a_bad_export_fails_and_leaves_nothing(tmp_path: Path) -> None:
    folder = _edge_folder(tmp_path, "filter_mlp", "invariant")
    with pytest.raises(ExportError, match="differs from torch"):
        export_model(folder, tmp_path / "onnx", config=ExportConfig(parity_tol=1e-15, **FAST))
    assert not (tmp_path / "onnx").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".onnx")]
    with pytest.raises(ConfigError, match="format"):
        export_model(folder, tmp_path / "x", fmt="tflite")
    with pytest.raises(ConfigError, match="not an exportable model folder"):
        export_model(tmp_path, tmp_path / "x")
    with pytest.raises(ConfigError, match="no int8 model"):
        export_model(folder, tmp_path / "ok", config=ExportConfig(**FAST))
        OnnxNetwork(tmp_path / "ok", "int8")


def _toy_run(tmp: Path, model: str, kwargs: dict) -> tuple[Path, Path]:
    from tracklearn.simulation.toy import ToyConfig, generate_toy, save_toy
    from tracklearn.training.stages import get_stage

    data = tmp / "data"
    if not (data / "toy.npz").exists():
        save_toy(generate_toy(60, 1, ToyConfig(noise_prob=0.1)), data / "toy.npz")
    config = {"model": kwargs, "train": {"epochs": 1, "threads": 1}}
    get_stage(f"toy_{model}")(config, data, tmp / model, False)
    return tmp / model, data


TOYS = [
    ("lstm", {"hidden": 8}),
    ("convnn", {"channels": [4, 4], "dilations": [1, 2]}),
]
#: every other toy model: parity of the export (random weights, no training)
OTHER_TOYS = [
    ("deep_lstm", {"hidden": 8}),
    ("bilstm", {"hidden": 8}),
    ("next_layer_lstm", {"hidden": 8}),
    ("conv_autoencoder", {"channels": [4, 8]}),
    ("conv_lstm", {"hidden": 4}),
    ("track_follower", {"channels": 4}),
    ("conv_lstm_regression", {"hidden": 8, "channels": [4, 4]}),
]


def _check_toy(tmp: Path, model: str, kwargs: dict) -> None:
    folder, data = _toy_run(tmp, model, kwargs)
    with pytest.raises(ConfigError, match="needs --data"):
        export_model(folder, tmp / "x")
    (r,) = export_model(folder, tmp / f"{model}-onnx", data=data,
                        config=ExportConfig(int8=True, **FAST))  # fmt: skip
    assert r.parity_max_abs <= 1e-5
    (metric,) = r.metrics["torch_fp32"]
    assert r.metrics["ort_fp32"][metric] == pytest.approx(r.metrics["torch_fp32"][metric], abs=1e-6)
    assert np.isfinite(r.metrics["ort_int8"][metric])


@pytest.mark.parametrize(("model", "kwargs"), TOYS)
def test_toy_models_export(model: str, kwargs: dict, tmp_path: Path) -> None:
    _check_toy(tmp_path, model, kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(("model", "kwargs"), OTHER_TOYS)
def test_every_other_toy_model_exports(model: str, kwargs: dict, tmp_path: Path) -> None:
    from tracklearn.models.toy import build_toy_model
    from tracklearn.simulation.toy import ToyConfig, generate_toy, save_toy

    torch.manual_seed(0)
    save_toy(generate_toy(40, 1, ToyConfig(noise_prob=0.1)), tmp_path / "toy.npz")
    module = build_toy_model(model, n_layers=10, pixels=(50,), **kwargs)
    stage = f"toy_{model}"
    config = {"stage": stage, "model": kwargs, "train": {"seed": 0}, "val_fraction": 0.2}
    torch.save({"model": module.state_dict(), "config": config}, tmp_path / "best.pt")
    (r,) = export_model(tmp_path, tmp_path / "onnx", data=tmp_path / "toy.npz",
                        config=ExportConfig(measure=False, **FAST))  # fmt: skip
    assert r.parity_max_abs <= 1e-5 and r.model == stage


@pytest.mark.slow
def test_g2_finder_exports(tmp_path: Path) -> None:
    from tracklearn.simulation.g2 import G2Config, generate_islands, save_islands
    from tracklearn.training.stages import get_stage

    save_islands(generate_islands(3, 1, G2Config(tracks_per_fill=10)), tmp_path / "g2.npz")
    get_stage("g2_lstm")({"model": {"hidden": 8}, "train": {"epochs": 1, "threads": 1}},
                         tmp_path, tmp_path / "run", False)  # fmt: skip
    (r,) = export_model(tmp_path / "run", tmp_path / "onnx", data=tmp_path / "g2.npz",
                        config=ExportConfig(**FAST))  # fmt: skip
    assert r.parity_max_abs <= 1e-5 and set(r.metrics["ort_fp32"]) == {"efficiency", "purity"}
    assert json.loads((tmp_path / "onnx" / "export.json").read_text())["model"] == "g2_finder"
