"""The filter and edge_classifier stages on tiny real data: every shipped config trains.

The data are three copies of the real 5 % TrackML event (two train, one
validation), so each run takes seconds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import torch

from tracklearn.config import load_yaml
from tracklearn.models.edge_model import EdgeModel
from tracklearn.training.edge_stages import threshold_for_efficiency, threshold_max_f1
from tracklearn.training.stages import get_stage

CONFIGS = sorted((Path(__file__).parents[2] / "configs" / "gnn").glob("*.yaml"))
EDGE_CONFIGS = [p for p in CONFIGS if load_yaml(p).get("model")]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("events")
    src = shared_data / "trackml"
    for i in (1, 2, 3):
        for part in ("hits", "truth", "particles"):
            target = src / f"event000000001-{part}.csv.gz"
            (folder / f"event00000000{i}-{part}.csv.gz").symlink_to(target)
    return folder


def _tiny(cfg: dict[str, Any], data_dir: Path, work: Path) -> dict[str, Any]:
    """The config shrunk to seconds: 3 events, whole graphs, 3 epochs.

    Every same-particle edge is true here: the real 5 % event has too few target
    edges for a steadily falling loss in 6 steps.

    A module-map builder gets a map built from the tiny events themselves.
    """
    data = {**cfg["data"], "max_events": 3, "val_events": 1, "sectors": 1, "label_pt_min": None}
    if data["builder"] == "module_map":
        from tracklearn.graph.module_map import run_module_map_stage

        run_module_map_stage({"pt_min": 0.8, "val_events": 1}, data_dir, work / "map", False)
        data["builder_config"] = {
            **data["builder_config"],
            "path": str(work / "map/module_map.npz"),
        }
    data.pop("sectors_per_event", None)
    train = {**cfg.get("train", {}), "epochs": 3, "patience": 3, "threads": 1}
    out = {**cfg, "data": data, "train": train}
    if "edges_per_step" in cfg:
        out.update(edges_per_step=5000, steps_per_epoch=3)
    if "filter_model" in cfg:
        out["filter_model"] = None
    return out


def _losses(out: Path) -> list[float]:
    with (out / "history.csv").open() as fh:
        return [float(r["train_loss"]) for r in csv.DictReader(fh)]


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("path", EDGE_CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_trains_with_falling_loss(
    path: Path, tiny_data: Path, tmp_path: Path
) -> None:
    torch.set_num_threads(1)
    cfg = load_yaml(path)
    stage = "filter" if "target_efficiency" in cfg else "edge_classifier"
    out = tmp_path / "out"
    metrics = get_stage(stage)(_tiny(cfg, tiny_data, tmp_path), tiny_data, out, False)
    losses = _losses(out)
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert 0 <= metrics["threshold"] <= 1
    model = EdgeModel.load(out)
    assert model.info["stage"] == stage and "val_metrics" in model.info
    if stage == "edge_classifier":
        spec = json.loads((out / "pipeline.json").read_text())
        assert spec["builder"] == cfg["data"]["builder"] and spec["classifier"] == "."
        if spec["builder"] == "module_map":  # the map travels with the model folder
            assert spec["builder_config"]["path"] == "module_map.npz"
            assert (out / "module_map.npz").exists() and (out / "module_map.json").exists()


def test_every_shipped_config_validates() -> None:
    from tracklearn.config import validate
    from tracklearn.training.edge_stages import EdgeClassifierStageConfig, FilterStageConfig

    assert EDGE_CONFIGS
    for path in EDGE_CONFIGS:
        cfg = load_yaml(path)
        model = FilterStageConfig if "target_efficiency" in cfg else EdgeClassifierStageConfig
        validate(model, cfg, str(path))


def test_thresholds_on_hand_made_scores() -> None:
    import numpy as np

    y = np.array([1, 1, 1, 1, 0, 0, 0, 0], np.float32)
    s = np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.1, 0.1, 0.05], np.float32)
    # keeping 75 % of the 4 true edges: the 3rd-best true score
    assert threshold_for_efficiency(y, s, 0.75) == pytest.approx(0.7)
    assert threshold_for_efficiency(y, s, 1.0) == pytest.approx(0.2)
    # F1: cut in (0.6, 0.7] keeps 3 of 3 true → 6/7; cut in (0.1, 0.2] keeps 4 true of 5
    # → 8/9, the best; the grid's first point there is 0.11
    assert threshold_max_f1(y, s) == pytest.approx(0.11)


def _filter_config(tiny_data: Path, work: Path) -> dict[str, Any]:
    path = next(p for p in EDGE_CONFIGS if "target_efficiency" in load_yaml(p))
    return _tiny(load_yaml(path), tiny_data, work)


@pytest.mark.slow
@pytest.mark.realdata
def test_same_seed_same_model_and_resume_names_the_changed_setting(
    tiny_data: Path, tmp_path: Path
) -> None:
    from tracklearn.errors import ConfigError
    from tracklearn.training.stages import run_stage

    torch.set_num_threads(1)
    cfg = _filter_config(tiny_data, tmp_path)
    run_stage("filter", cfg, tiny_data, tmp_path / "a", False)
    torch.manual_seed(12345)  # whatever the global RNG holds before: the seed decides
    run_stage("filter", cfg, tiny_data, tmp_path / "b", False)
    wa = torch.load(tmp_path / "a" / "best.pt", weights_only=False)["model"]
    wb = torch.load(tmp_path / "b" / "best.pt", weights_only=False)["model"]
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    # another network shape on --resume: one line naming the setting, no size-mismatch trace
    wider = {**cfg, "model": {**cfg["model"], "kwargs": {**cfg["model"]["kwargs"], "hidden": 7}}}
    with pytest.raises(ConfigError, match=r"another config \(model\.kwargs\.hidden: .* -> 7\)"):
        run_stage("filter", wider, tiny_data, tmp_path / "a", True)
    faster = {**cfg, "train": {**cfg["train"], "lr": 0.5}}
    with pytest.raises(ConfigError, match=r"train\.lr: .* -> 0\.5"):
        run_stage("filter", faster, tiny_data, tmp_path / "a", True)


@pytest.mark.slow
@pytest.mark.realdata
def test_filter_trains_on_two_processes(tiny_data: Path, tmp_path: Path) -> None:
    from tracklearn.training.stages import run_stage

    cfg = _filter_config(tiny_data, tmp_path)
    cfg["train"] = {**cfg["train"], "batches_per_step": 2}
    cfg["steps_per_epoch"] = 4
    out = tmp_path / "ddp"
    metrics = run_stage("filter", cfg, tiny_data, out, False, nproc=2)
    losses = _losses(out)
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert 0 <= metrics["threshold"] <= 1
    assert EdgeModel.load(out).info["stage"] == "filter"


def test_edge_samples_batch_in_the_data_loader_drawing_as_one_per_batch() -> None:
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader

    from tracklearn.training.edge_stages import EdgeSamples

    graphs = [
        Data(x=torch.zeros(n, 2), edge_index=torch.randint(n, (2, 3 * n)),
             edge_attr=torch.arange(3.0 * n)[:, None], y=torch.ones(3 * n))
        for n in (10, 20)
    ]  # fmt: skip
    two = list(DataLoader(EdgeSamples(graphs, 6, 8, torch.Generator().manual_seed(4)), 2))
    one = list(DataLoader(EdgeSamples(graphs, 6, 8, torch.Generator().manual_seed(4)), 1))
    assert len(two) == 3 and all(b.num_graphs == 2 and b.num_edges == 16 for b in two)
    # the same draws, grouped by two: sample k of the epoch is the same either way
    flat = [b.get_example(i).edge_attr for b in two for i in range(2)]
    assert all(torch.equal(a, b.edge_attr) for a, b in zip(flat, one, strict=True))


#: train losses of the tiny runs below at 013cedf, before batching and the feature
#: transform (one thread): the default graphs_per_batch: 1 trains exactly as then
LOSSES_013CEDF = {
    "filter": [0.009389334358274937, 0.007455084317674239, 0.006038254126906395],
    "edge_classifier": [0.009696655441075563, 0.007284968858584762, 0.005172711331397295],
}


def _stage_config(name: str, tiny_data: Path, tmp_path: Path) -> dict:
    """The stage's shipped config cut to the tiny data (one torch thread)."""
    torch.set_num_threads(1)
    return _tiny(load_yaml(CONFIGS[0].parent / f"{name}.yaml"), tiny_data, tmp_path)


def _run_stage(name: str, cfg: dict, tiny_data: Path, tmp_path: Path) -> None:
    from tracklearn.training.stages import run_stage

    run_stage(name, cfg, tiny_data, tmp_path / "out", False)


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(LOSSES_013CEDF))
def test_one_graph_per_batch_trains_as_before_batching(
    name: str, tiny_data: Path, tmp_path: Path
) -> None:
    cfg = _stage_config(name, tiny_data, tmp_path)
    assert cfg.get("graphs_per_batch", 1) == 1
    _run_stage(name, cfg, tiny_data, tmp_path)
    assert _losses(tmp_path / "out") == pytest.approx(LOSSES_013CEDF[name], rel=1e-5)


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(LOSSES_013CEDF))
def test_two_graphs_per_batch_train_with_falling_loss(
    name: str, tiny_data: Path, tmp_path: Path
) -> None:
    cfg = _stage_config(name, tiny_data, tmp_path)
    cfg["graphs_per_batch"] = 2
    if name == "edge_classifier":  # 2 events x 4 sectors: 4 batches of 2 graphs per epoch
        cfg["data"] = {**cfg["data"], "sectors": 4}
    _run_stage(name, cfg, tiny_data, tmp_path)
    losses = _losses(tmp_path / "out")
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert EdgeModel.load(tmp_path / "out").info["stage"] == name
