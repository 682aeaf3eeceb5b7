"""The fullspectrum model's classifiers export to ONNX with parity (issue 13's 'every network')."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import tracklearn.fullspectrum
from tracklearn.export.run import export_model
from tracklearn.fullspectrum.model import DEFAULT_MODEL, FullSpectrumModel
from tracklearn.models.candidate_mlp import CandidateMLP


def test_torch_twin_of_a_numpy_network_gives_the_same_logits() -> None:
    model = FullSpectrumModel.load(DEFAULT_MODEL)
    rng = np.random.default_rng(0)
    for net in [*model.seed_nets.values(), *model.track_nets.values()]:
        x = net.mean + net.scale * rng.standard_normal((500, len(net.mean)))
        with torch.no_grad():
            t = CandidateMLP.from_numpy(net)(torch.from_numpy(x.astype(np.float32))).numpy()
        assert np.allclose(t, net.logit(x), atol=1e-4, rtol=1e-5)


@pytest.mark.slow
def test_shipped_fullspectrum_networks_export_with_parity(tmp_path: Path) -> None:
    shipped = Path(tracklearn.fullspectrum.__file__).parent / "default"
    reports = export_model(shipped, tmp_path / "onnx")
    names = sorted(r.name for r in reports)
    assert names == sorted(["seed_primary", "seed_displaced", "track_primary", "track_displaced"])
    for r in reports:
        assert r.parity_max_abs <= 1e-4
        info = json.loads((tmp_path / "onnx" / r.name / "export.json").read_text())
        assert info["model"] == "candidate_mlp"
