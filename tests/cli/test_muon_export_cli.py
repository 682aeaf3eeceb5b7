"""CLI round trip: simulate muon-chamber, train muon_cnn, export --int8, trigger (2 backends)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _run import run

TINY = """
model: {channels: [4, 4], dilations: [1, 2]}
val_fraction: 0.5
fresh_images: 200
batch_size: 32
train: {epochs: 1, threads: 1}
"""
EXPORT = "parity_sizes: [2, 5]\nn_calibration: 4\nn_eval: 200\n"
NO_TORCH = """
import json, sys
from tracklearn.pipeline.trigger import run_trigger
res = run_trigger(sys.argv[1], sys.argv[2], "cnn", {"model": sys.argv[3], "backend": "onnxruntime"})
print(json.dumps({"torch": "torch" in sys.modules, "eff": res["efficiency_pt10"]}))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    run("simulate", "--detector", "muon-chamber", "--events", "300", "--seed", "4",
        "--out", root / "data")  # fmt: skip
    info = json.loads((root / "data" / "simulation.json").read_text())
    assert info["detector"] == "muon-chamber" and info["config"]["noise_strips"] == 60.0
    (root / "tiny.yaml").write_text(TINY)
    out = run("train", "muon_cnn", "--config", root / "tiny.yaml", "--data", root / "data",
              "--out", root / "model").stdout  # fmt: skip
    assert "val_efficiency=" in out
    (root / "export.yaml").write_text(EXPORT)
    out = run("export", root / "model", "--format", "onnx", "--out", root / "onnx", "--int8",
              "--config", root / "export.yaml").stdout  # fmt: skip
    assert "exported 1 network(s)" in out
    return root


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "trigger-metrics.json").read_text())


def test_trigger_backends_agree_and_the_roads_run(trained: Path) -> None:
    data = trained / "data"
    run("trigger", data, "--model", trained / "model", "--out", trained / "t_torch")
    run("trigger", data, "--model", trained / "onnx", "--backend", "onnxruntime",
        "--out", trained / "t_ort")  # fmt: skip
    out = run("trigger", data, "--model", trained / "onnx", "--backend", "onnxruntime",
              "--int8", "--out", trained / "t_int8").stdout  # fmt: skip
    assert "efficiency (pT >= 10 GeV)" in out
    run("trigger", data, "--method", "roads", "--out", trained / "t_roads")
    torch_m, ort_m = _metrics(trained / "t_torch"), _metrics(trained / "t_ort")
    assert torch_m["n_images"] == ort_m["n_images"] == 300
    assert ort_m["efficiency_pt10"] == torch_m["efficiency_pt10"]
    assert ort_m["fake_rate"] == torch_m["fake_rate"]
    assert (trained / "t_torch" / "trigger.npz").read_bytes() == (
        trained / "t_ort" / "trigger.npz"
    ).read_bytes()
    assert _metrics(trained / "t_roads")["efficiency_pt10"] > 0.9


def test_onnxruntime_trigger_never_imports_torch(trained: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(trained / "data"), str(trained / "t_nt"),
         str(trained / "onnx")],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["torch"] is False and 0 <= got["eff"] <= 1


def test_bad_inputs_fail_with_one_line(trained: Path, tmp_path: Path) -> None:
    proc = run("export", tmp_path / "nothing", "--out", tmp_path / "x", check=False)
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0
    assert "not a model folder" in proc.stderr
    bad = tmp_path / "muon-chamber.npz"
    bad.write_bytes((trained / "data" / "muon-chamber.npz").read_bytes()[:500])
    proc = run("trigger", bad, "--method", "roads", "--out", tmp_path / "t", check=False)
    assert proc.returncode == 1 and "muon-chamber.npz" in proc.stderr
    assert not (tmp_path / "t" / "trigger-metrics.json").exists()
    proc = run("trigger", trained / "data", "--method", "hough", "--out", tmp_path / "t",
               check=False)  # fmt: skip
    assert proc.returncode == 1 and "valid: cnn, roads" in proc.stderr
    proc = run("trigger", trained / "data", "--model", trained / "model", "--backend",
               "onnxruntime", "--out", tmp_path / "t", check=False)  # fmt: skip
    assert proc.returncode == 1 and "tracklearn export" in proc.stderr
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("noise_strip: 3\n")
    proc = run("simulate", "--detector", "muon-chamber", "--config", cfg, "--out",
               tmp_path / "s", check=False)  # fmt: skip
    assert proc.returncode == 1 and "noise_strip" in proc.stderr
    proc = run("reconstruct", trained / "data", "--backend", "jax", "--out", tmp_path / "r",
               check=False)  # fmt: skip
    assert proc.returncode == 1 and "unknown backend" in proc.stderr
