"""Metric learning: exact radius graphs on hand-placed points; training lowers the loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from tracklearn.edm import Event
from tracklearn.graph.metric_learning import (
    MetricLearningConfig,
    MetricLearningGraphBuilder,
    hinge_loss,
    hit_features,
    orient_pairs,
    radius_pairs,
)
from tracklearn.models.embedding_mlp import EmbeddingMLP
from tracklearn.training.embedding import EmbeddingStageConfig

CONFIG = Path(__file__).parents[2] / "configs" / "gnn" / "embedding.yaml"

# a unit square, a point at its centre and a far point: with radius 1.01 the
# sides (length 1) and the centre spokes (0.707) are in, the diagonals (1.414) out
SQUARE = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5], [10, 10]], dtype=np.float32)
SQUARE_EDGES = {(0, 1), (1, 2), (2, 3), (0, 3), (0, 4), (1, 4), (2, 4), (3, 4)}


@pytest.mark.parametrize("backend", ["kdtree", "faiss"])
def test_radius_pairs_exact_on_hand_placed_points(backend: str) -> None:
    got = radius_pairs(SQUARE, 1.01, k_max=10, backend=backend)  # type: ignore[arg-type]
    assert set(map(tuple, got.T.tolist())) == SQUARE_EDGES
    assert np.all(got[0] < got[1])
    # radius is exclusive: side length exactly 1 is out
    assert set(map(tuple, radius_pairs(SQUARE, 1.0, 10, backend).T.tolist())) == {  # type: ignore[arg-type]
        (0, 4),
        (1, 4),
        (2, 4),
        (3, 4),
    }


@pytest.mark.parametrize("seed", [0, 1])
def test_radius_pairs_symmetric_and_complete_vs_brute_force(seed: int) -> None:
    pts = np.random.default_rng(seed).uniform(0, 1, (200, 3)).astype(np.float32)
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    i, j = np.nonzero(np.triu(d < 0.15, k=1))
    expected = set(zip(i.tolist(), j.tolist(), strict=True))
    for backend in ("kdtree", "faiss"):
        got = set(map(tuple, radius_pairs(pts, 0.15, k_max=200, backend=backend).T.tolist()))  # type: ignore[arg-type]
        assert got == expected
    # a small k_max keeps a subset, still each pair once
    few = radius_pairs(pts, 0.15, k_max=2)
    assert set(map(tuple, few.T.tolist())) <= expected and few.shape[1] < len(expected)


def test_orient_pairs_inner_to_outer() -> None:
    r = np.array([30.0, 70.0, 100.0, 100.0])
    z = np.array([0.0, 0.0, 1000.0, 1200.0])
    out = orient_pairs(np.array([[1, 3], [0, 2]]), r, z)
    assert out.tolist() == [[0, 2], [1, 3]]


def test_one_training_step_lowers_the_loss() -> None:
    torch.manual_seed(0)
    model = EmbeddingMLP(4, hidden=16, n_layers=2, out_dim=4)
    x = torch.randn(50, 4)
    pairs = torch.randint(0, 50, (2, 200))
    y = (torch.arange(200) % 3 == 0).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = hinge_loss(model(x), pairs, y, margin=1.0)
    before.backward()
    opt.step()
    with torch.no_grad():
        after = hinge_loss(model(x), pairs, y, margin=1.0)
    assert float(after) < float(before.detach())


def test_hinge_loss_values() -> None:
    emb = torch.tensor([[0.0, 0.0], [0.3, 0.4], [3.0, 4.0]])
    pairs = torch.tensor([[0, 0], [1, 2]])
    # true pair at distance 0.5: 0.25; false pair at 0.5 with margin 1: (1-0.5)^2 = 0.25
    assert float(hinge_loss(emb, pairs[:, :1], torch.tensor([1.0]), 1.0)) == pytest.approx(0.25)
    assert float(hinge_loss(emb, pairs[:, :1], torch.tensor([0.0]), 1.0)) == pytest.approx(0.25)
    # false pair beyond the margin costs nothing
    assert float(hinge_loss(emb, pairs[:, 1:], torch.tensor([0.0]), 1.0)) == 0.0


def test_hit_features_with_cells(real_prefix: Path) -> None:
    from tracklearn.io.trackml import read_event

    ev = read_event(real_prefix)
    f = hit_features(ev, use_cells=True)
    assert f.shape == (ev.n_hits, 8) and np.all(np.isfinite(f))
    np.testing.assert_allclose(f[:, 1] ** 2 + f[:, 2] ** 2, 1.0, rtol=1e-5)
    assert f[:, 4].min() >= 0.1  # every hit has at least one cell


def test_shipped_config_validates_and_trains_one_epoch(tmp_path: Path, small_event: Event) -> None:
    from tracklearn.io.trackml import write_event
    from tracklearn.training.stages import get_stage

    raw = yaml.safe_load(CONFIG.read_text())
    EmbeddingStageConfig(**raw)  # the shipped config as is
    for i in range(3):
        ev = small_event
        write_event(
            Event(event_id=i, hits=ev.hits, truth=ev.truth, particles=ev.particles), tmp_path / "d"
        )
    raw["builder"]["use_cells"] = False  # the quick generator makes no cells
    raw["train"] = {**raw["train"], "epochs": 2, "patience": 5}
    raw["max_positives"] = 500
    raw["hard_hits"] = 50
    metrics = get_stage("embedding")(raw, tmp_path / "d", tmp_path / "out", False)
    assert set(metrics) >= {"val_loss", "val_edge_efficiency", "val_edge_purity"}
    history = (tmp_path / "out" / "history.csv").read_text().splitlines()
    assert len(history) == 3
    builder = MetricLearningGraphBuilder.from_checkpoint(tmp_path / "out" / "best.pt", radius=0.5)
    assert isinstance(builder.config, MetricLearningConfig) and builder.config.radius == 0.5
    g = builder(small_event)
    assert g.n_nodes == small_event.n_hits and g.edge_attr is not None
    r = np.hypot(small_event.hits.r, small_event.hits.z)
    assert np.all(r[g.edge_index[0]] <= r[g.edge_index[1]])
