"""reconstruct with --backend onnxruntime: no torch import, the torch backend's tracks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tracklearn.export.run import ExportConfig, export_model
from tracklearn.graph.subgraph import edge_subgraph
from tracklearn.io import read_event
from tracklearn.models import get_model
from tracklearn.models.edge_model import EdgeModel
from tracklearn.parallel.simulate import simulate_to_disk
from tracklearn.pipeline import get_method

#: the onnxruntime path run in a fresh interpreter: tracks as sorted hit lists, and whether
#: torch was ever imported
SCRIPT = """
import json, sys
from tracklearn.io import read_event
from tracklearn.pipeline import get_method
event = read_event(sys.argv[1])
out = {}
for precision in ("fp32", "int8"):
    cfg = {"model": sys.argv[2], "backend": "onnxruntime", "precision": precision, "threads": 1}
    method = get_method("gnn", cfg)
    t = method(event)
    if precision == "fp32":  # the classifier's scores on the filter's graph
        from tracklearn.graph.subgraph import edge_subgraph
        g = method.graph_builder(event)
        g = edge_subgraph(g, method.filter.scores(g) >= method.filter.threshold)
        out["scores"] = method.classifier.scores(g).tolist()
    out[precision] = sorted(
        sorted(t.hit_index[t.offsets[i] : t.offsets[i + 1]].tolist())
        for i in range(len(t.offsets) - 1)
    )
out["torch_imported"] = "torch" in sys.modules
print(json.dumps(out))
"""


def _tracks(t: object) -> list[list[int]]:
    off, hits = t.offsets, t.hit_index  # type: ignore[attr-defined]
    return sorted(sorted(hits[off[i] : off[i + 1]].tolist()) for i in range(len(off) - 1))


@pytest.fixture(scope="module")
def exported_gnn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small gnn model (random weights: geometric graph, filter, IN) and its ONNX export."""
    root = tmp_path_factory.mktemp("gnn")
    torch.manual_seed(3)
    model = root / "model"
    filt = get_model("filter_mlp", hidden=8, features="invariant")
    EdgeModel(filt, "filter_mlp", {"hidden": 8, "features": "invariant"}, 0.3, {}).save(
        model / "filter"
    )
    kwargs = {"hidden": 8, "n_iterations": 2, "features": "invariant_ctx"}
    clf = get_model("interaction_network", **kwargs)
    EdgeModel(clf, "interaction_network", kwargs, 0.5, {}).save(model)
    spec = {"builder": "geometric", "builder_config": {"layer_set": "all"}, "filter": "filter",
            "classifier": ".", "building": {"method": "components", "min_hits": 3}}  # fmt: skip
    (model / "pipeline.json").write_text(json.dumps(spec))
    simulate_to_disk(detector="quick", n_events=1, seed=5, out=root / "events",
                     overrides={"n_particles": 150})  # fmt: skip
    cfg = ExportConfig(int8=True, parity_sizes=(2, 9), n_calibration=4)
    export_model(model, root / "onnx", config=cfg, data=root / "events")
    return root / "onnx", root / "events" / "event000001000"


def test_export_measures_both_networks_on_events(exported_gnn: tuple[Path, Path]) -> None:
    folder, _ = exported_gnn
    for unit in (folder, folder / "filter"):
        info = json.loads((unit / "export.json").read_text())
        assert info["calibration"] == "training data"
        metrics = info["report"]["metrics"]
        assert set(metrics) == {"torch_fp32", "ort_fp32", "ort_int8"}
        for key in ("edge_efficiency", "edge_purity"):
            assert metrics["ort_fp32"][key] == pytest.approx(metrics["torch_fp32"][key])
    assert (folder / "pipeline.json").exists() and (folder / "filter" / "model.onnx").exists()
    import onnx

    ops = [n.op_type for n in onnx.load(str(folder / "model.onnx")).graph.node]
    # the message-passing sums (2 per iteration) run as row-wise ScatterND
    assert ops.count("ScatterND") == 4 and "ScatterElements" not in ops


def test_onnxruntime_backend_imports_no_torch_and_matches_torch(
    exported_gnn: tuple[Path, Path],
) -> None:
    folder, prefix = exported_gnn
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(prefix), str(folder)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["torch_imported"] is False
    method = get_method("gnn", {"model": str(folder), "threads": 1})
    event = read_event(prefix)
    want = _tracks(method(event))
    assert len(want) >= 2  # random weights still make tracks
    assert got["fp32"] == want
    g = method.graph_builder(event)  # type: ignore[attr-defined]
    g = edge_subgraph(g, method.filter.scores(g) >= method.filter.threshold)  # type: ignore[attr-defined]
    scores = method.classifier.scores(g)  # type: ignore[attr-defined]
    assert len(scores) > 100
    assert np.abs(np.asarray(got["scores"]) - scores).max() <= 1e-5
    # int8 runs too; its tracks may differ where scores sit near the threshold
    assert len(got["int8"]) > 0 and np.isfinite(len(got["int8"]))


def test_torch_backend_on_an_export_needs_no_onnx_and_onnx_needs_an_export(
    exported_gnn: tuple[Path, Path], tmp_path: Path
) -> None:
    from tracklearn.errors import ConfigError
    from tracklearn.pipeline.gnn import DEFAULT_MODEL

    with pytest.raises(ConfigError, match="tracklearn export"):
        get_method("gnn", {"model": str(DEFAULT_MODEL), "backend": "onnxruntime"})
    with pytest.raises(ConfigError, match="backend"):
        get_method("gnn", {"backend": "tensorflow"})


def test_mc_dropout_needs_the_torch_backend_and_onnxruntime_saves_edge_scores(
    exported_gnn: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    from tracklearn.errors import ConfigError

    folder, prefix = exported_gnn
    with pytest.raises(ConfigError, match="needs backend torch"):
        get_method("gnn", {"model": str(folder), "backend": "onnxruntime", "mc_samples": 2})
    # the classifier's label definition comes from the model.json the export keeps
    copy = tmp_path / "onnx"
    shutil.copytree(folder, copy)
    meta = json.loads((copy / "model.json").read_text())
    (copy / "model.json").write_text(json.dumps({**meta, "data": {"label_pt_min": 0.7}}))
    event = read_event(prefix)
    cfg = {"threads": 1, "save_edge_scores": True}
    ort = get_method("gnn", {**cfg, "model": str(copy), "backend": "onnxruntime"})(event)
    pt = get_method("gnn", {**cfg, "model": str(folder)})(event)
    assert ort.edges is not None and pt.edges is not None
    assert ort.edges.score_std is None and ort.edges.label_pt_min == 0.7
    assert pt.edges.label_pt_min is None
    np.testing.assert_array_equal(ort.edges.inner, pt.edges.inner)
    np.testing.assert_array_equal(ort.edges.outer, pt.edges.outer)
    assert len(pt.edges.score) > 100
    assert np.abs(ort.edges.score - pt.edges.score).max() <= 1e-5
