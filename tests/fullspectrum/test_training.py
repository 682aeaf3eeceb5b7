"""Training the full-spectrum tracker end to end on toy-detector events (small and fast)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.fullspectrum._toy import toy_event, toy_table

from tracklearn.fullspectrum.model import FullSpectrumModel, PassConfig
from tracklearn.fullspectrum.reconstructor import FullSpectrumConfig, FullSpectrumReconstructor
from tracklearn.metrics import evaluate_event, trackml_score
from tracklearn.training.fullspectrum import FullSpectrumTrainConfig, NetConfig, train_fullspectrum


def _events(n: int, seed: int, n_particles: int = 60):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        parts = [
            (float(rng.uniform(0.3, 5.0)), float(rng.uniform(-np.pi, np.pi)),
             float(rng.uniform(-0.8, 0.8)), int(rng.choice([-1, 1])))
            for _ in range(n_particles)
        ]  # fmt: skip
        out.append(toy_event(parts, noise=2000, seed=seed * 100 + k))
    return out


@pytest.mark.slow
def test_training_learns_and_the_model_finds_the_tracks(tmp_path: Path) -> None:
    table = toy_table()
    net = NetConfig(hidden=(16, 16), epochs=15, batch_size=128)
    cfg = FullSpectrumTrainConfig(
        passes=(PassConfig(name="primary", pt_min=0.2, d0_max=2.0, z0_max=150.0),),
        seed_net=net, track_net=net, seed_coverage=1.0, threads=1,
    )  # fmt: skip
    model = train_fullspectrum(
        _events(6, 1, 200), _events(2, 2, 200), table, cfg, tmp_path / "model"
    )
    prov = json.loads((tmp_path / "model" / "provenance.json").read_text())
    for name in ("seed_primary", "track_primary"):
        hist = (tmp_path / "model" / "runs" / name / "history.csv").read_text().splitlines()
        losses = [float(line.split(",")[1]) for line in hist[1:]]
        assert losses[-1] < losses[0], f"{name} loss did not fall: {losses}"
    # 200 toy particles per event: fake seeds from their combinations; the candidates are
    # (almost) all good, so only the seed classifier has a ROC to show
    assert prov["metrics"]["seed_primary"]["val_auc"] > 0.95
    assert prov["metrics"]["validation"]["trackml_score"] > 0.85
    # the saved folder loads and reconstructs a fresh event
    loaded = FullSpectrumModel.load(tmp_path / "model")
    assert loaded.spec == model.spec
    test = _events(1, 3, 200)[0]
    tracks = FullSpectrumReconstructor(loaded, FullSpectrumConfig(threads=2))(test)
    m = evaluate_event(test, tracks)
    assert m.efficiency >= 0.9 and m.fake_rate <= 0.1
    assert trackml_score(test, tracks) >= 0.85
