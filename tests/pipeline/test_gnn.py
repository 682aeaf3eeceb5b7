"""The gnn method with the shipped default model, and evaluate-edges on a real IN graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tracklearn.io import read_event
from tracklearn.metrics import evaluate_event
from tracklearn.pipeline import get_method
from tracklearn.pipeline.gnn import DEFAULT_MODEL

#: floor for the shipped model on a generated tt̄ event without pile-up: measured 0.28
#: (26 of 93 targets) with the first, under-trained default; raise it with the model.
#: Now 0.99 (92 of 93) with the hybrid building, 0.89 (83) with components at 0.95.
MIN_EFFICIENCY = 0.9


def test_default_model_is_small_and_has_provenance() -> None:
    files = [p for p in DEFAULT_MODEL.rglob("*") if p.is_file()]
    weights = sum(p.stat().st_size for p in files if p.suffix == ".pt")
    assert weights < 1_000_000  # the networks are small
    # the module map (graph construction data, ~3.7 MB compressed) dominates the folder
    assert sum(p.stat().st_size for p in files) < 8_000_000
    spec = json.loads((DEFAULT_MODEL / "pipeline.json").read_text())
    if spec["builder"] == "module_map":  # self-contained: the map ships with the model
        assert (DEFAULT_MODEL / spec["builder_config"]["path"]).exists()
    prov = json.loads((DEFAULT_MODEL / "provenance.json").read_text())
    for key in ("command", "simulation", "code_revision", "validation"):
        assert key in prov


@pytest.mark.slow
def test_default_model_reconstructs_a_generated_event(tmp_path: Path) -> None:
    from tracklearn.parallel.simulate import simulate_to_disk

    simulate_to_disk(
        detector="trackml", n_events=1, seed=11, out=tmp_path,
        overrides={"generator.pileup": 0},
    )  # fmt: skip
    (prefix,) = sorted({p.name.split("-")[0] for p in tmp_path.glob("event*-hits.csv.gz")})
    event = read_event(tmp_path / prefix)
    tracks = get_method("gnn")(event)
    metrics = evaluate_event(event, tracks)
    assert metrics.n_particles_target > 10
    assert metrics.efficiency > MIN_EFFICIENCY


def test_gnn_rejects_a_folder_without_a_model(tmp_path: Path) -> None:
    from tracklearn.errors import ConfigError

    with pytest.raises(ConfigError, match="pipeline.json"):
        get_method("gnn", {"model": str(tmp_path)})


@pytest.mark.realdata
def test_evaluate_edges_on_one_real_graph(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "trackml_graphs" / "interaction_network_paper" / "heptrkx_plus_2GeV"
    graphs = tmp_path / "graphs" / "heptrkx_plus_2GeV"
    graphs.mkdir(parents=True)
    (graphs / "event000001001_g000.npz").symlink_to(src / "event000001001_g000.npz")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "tracklearn.cli", "evaluate-edges", str(tmp_path / "graphs")]
    run = subprocess.run([*cmd, "--format", "in-npz", "--out", str(out)], capture_output=True)
    assert run.returncode == 0, run.stderr.decode()
    res = json.loads((out / "edge_metrics.json").read_text())
    for key in ("edge_efficiency", "edge_purity", "roc_auc", "n_edges", "per_file", "per_set"):
        assert key in res
    assert res["n_edges"] == len(np.load(src / "event000001001_g000.npz")["y"])
    assert res["edge_efficiency"] > 0.9 and res["edge_purity"] > 0.9
    bad = subprocess.run([*cmd, "--format", "csv", "--out", str(out)], capture_output=True)
    assert bad.returncode == 1 and b"in-npz" in bad.stderr


def test_building_spec_picks_a_registered_builder_and_rejects_unknown_ones() -> None:
    from tracklearn.building import HybridBuilder
    from tracklearn.errors import ConfigError
    from tracklearn.pipeline.gnn import GNNConfig, GNNReconstructor

    spec = json.loads((DEFAULT_MODEL / "pipeline.json").read_text())["building"]
    reco = GNNReconstructor(GNNConfig(threads=1))
    assert reco.track_builder == HybridBuilder(
        threshold=spec["threshold"],
        min_hits=spec["min_hits"],
        extend_threshold=spec["extend_threshold"],
        extend_min_layers=spec["extend_min_layers"],
    )
    assert reco.min_layers == spec["min_layers"]
    # another method from the config does not inherit the hybrid's settings
    other = GNNReconstructor(GNNConfig(threads=1, building="components", threshold=0.9))
    assert other.track_builder.threshold == 0.9 and not hasattr(
        other.track_builder, "extend_threshold"
    )
    with pytest.raises(ConfigError, match="valid: components, hybrid, walkthrough"):
        get_method("gnn", {"building": "hybird"})
