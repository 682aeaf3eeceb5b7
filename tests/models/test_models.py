"""Edge models: registry, adapter, shapes, saving and loading, and learning a toy task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tracklearn.edm import Graph
from tracklearn.errors import DataError, UnknownNameError
from tracklearn.models import available_models, get_model
from tracklearn.models.adapter import edge_subset, to_data, to_numpy
from tracklearn.models.edge_model import EdgeModel
from tracklearn.models.feature_transform import FeatureTransform

NAMES = ["edge_network", "filter_mlp", "interaction_network"]


def _graph(seed: int = 0, n: int = 30, e: int = 60) -> Graph:
    rng = np.random.default_rng(seed)
    ei = rng.integers(0, n, size=(2, e))
    x = rng.normal(size=(n, 3)).astype(np.float32)
    attr = rng.normal(size=(e, 4)).astype(np.float32)
    y = (attr[:, 0] > 0).astype(np.float32)  # learnable from the edge features
    return Graph(np.arange(n), x, ei.astype(np.int64), attr, y)


def test_registry_lists_models_and_rejects_unknown_names() -> None:
    # edge models + the muon CNN + the fullspectrum classifiers' torch twin
    assert available_models() == sorted([*NAMES, "muon_cnn", "candidate_mlp"])
    with pytest.raises(UnknownNameError, match="interaction_network"):
        get_model("interaction_netwrok")


def test_adapter_keeps_shapes_and_dtypes() -> None:
    g = _graph()
    t = to_data(g)
    assert t.x.dtype == torch.float32 and t.edge_index.dtype == torch.int64
    assert tuple(t.edge_attr.shape) == (60, 4) and t.y is not None and t.num_edges == 60
    assert np.array_equal(to_numpy(t.edge_attr), g.edge_attr)
    assert to_data(Graph(g.hit_index, g.x, g.edge_index, g.edge_attr)).y is None
    with pytest.raises(DataError, match="edge_attr"):
        to_data(Graph(g.hit_index, g.x, g.edge_index))
    keep = torch.arange(60) % 3 == 0
    sub = edge_subset(t, keep)
    assert sub.num_edges == 20 and sub.num_nodes == 30 and t.num_edges == 60
    assert torch.equal(sub.y, t.y[keep]) and torch.equal(sub.edge_attr, t.edge_attr[keep])


@pytest.mark.parametrize("name", NAMES)
def test_models_give_one_logit_per_edge_and_learn(name: str) -> None:
    torch.manual_seed(0)
    t = to_data(_graph())
    model = get_model(name, hidden=16)
    assert tuple(model(t.x, t.edge_index, t.edge_attr).shape) == (60,)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(t.x, t.edge_index, t.edge_attr), t.y
        )
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_edge_model_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = get_model("interaction_network", hidden=8, n_iterations=2)
    saved = EdgeModel(module, "interaction_network", {"hidden": 8, "n_iterations": 2}, 0.3, {})
    saved.save(tmp_path)
    loaded = EdgeModel.load(tmp_path)
    g = _graph(1)
    assert loaded.threshold == 0.3
    np.testing.assert_allclose(loaded.scores(g), saved.scores(g), rtol=1e-6)
    assert loaded.scores(g).min() >= 0 and loaded.scores(g).max() <= 1


def _rotated(g: Graph, angle: float) -> Graph:
    """``g`` with every hit turned by ``angle`` about the beam axis (φ/π wrapped to [-1, 1))."""
    x = g.x.copy()
    x[:, 1] = (x[:, 1] + angle / np.pi + 1.0) % 2.0 - 1.0
    return Graph(g.hit_index, x, g.edge_index, g.edge_attr, g.y)


@pytest.mark.parametrize("features", ["invariant", "invariant_ctx"])
@pytest.mark.parametrize("name", ["filter_mlp", "interaction_network", "edge_network"])
def test_invariant_features_ignore_a_rotation_about_the_beam(name: str, features: str) -> None:
    torch.manual_seed(0)
    g = _graph()
    g.x[:, 0] = np.abs(g.x[:, 0])  # r >= 0
    inv = get_model(name, hidden=16, features=features)
    raw = get_model(name, hidden=16)
    front = FeatureTransform.of(inv)
    with torch.no_grad():
        t, tr = to_data(g), to_data(_rotated(g, 1.234))
        ti, tri = front(t), front(tr)
        a = inv(ti.x, ti.edge_index, ti.edge_attr)
        b = inv(tri.x, tri.edge_index, tri.edge_attr)
        c, d = raw(t.x, t.edge_index, t.edge_attr), raw(tr.x, tr.edge_index, tr.edge_attr)
    assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(c, d, atol=1e-3)  # the IN-paper inputs see the azimuth


def test_invariant_features_give_straight_line_z0_and_flag_same_layer_edges() -> None:
    from tracklearn.models._features import model_inputs

    # inner hit at r = 0.1 m, z = 0.05 m; outer at r = 0.3 m, z = 0.25 m: z0 = -0.05 m
    x = torch.tensor([[0.1, 0.0, 0.05], [0.3, 0.1, 0.25], [0.3, 0.2, 0.3]])
    ei = torch.tensor([[0, 1], [1, 2]])
    attr = torch.tensor([[0.2, 0.1, 0.2, 0.0], [0.0, 0.1, 0.05, 0.0]])
    nodes, edges = model_inputs("invariant", x, ei, attr)
    assert nodes.shape == (3, 2) and edges.shape == (2, 8)
    assert edges[0, 4].item() == pytest.approx(-0.05 / 0.2)
    assert edges[0, 5].item() == pytest.approx(0.1 * np.pi / 0.2 / 10.0)
    assert edges[0, 7].item() == 0.0 and edges[1, 7].item() == 1.0
    assert edges[1, 4].item() == 0.0  # undefined z0 of a same-radius edge is 0


def test_unknown_feature_set_is_a_clear_error() -> None:
    from tracklearn.errors import ConfigError

    with pytest.raises(ConfigError, match="invariant"):
        get_model("interaction_network", features="invarient")


def _line_graph() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hits 0-1-2 on a straight line from the beam spot, hit 3 a decoy off it."""
    x = torch.tensor([[0.1, 0.0, 0.1], [0.2, 0.0, 0.2], [0.3, 0.0, 0.3], [0.3, 0.05, 0.0]])
    ei = torch.tensor([[0, 1, 1], [1, 2, 3]])
    r, phi, z = x[:, 0], x[:, 1], x[:, 2]
    attr = torch.stack(
        [r[ei[1]] - r[ei[0]], phi[ei[1]] - phi[ei[0]], z[ei[1]] - z[ei[0]], torch.zeros(3)], 1
    )
    return x, ei, attr


def test_continuation_features_find_the_straight_continuation() -> None:
    from tracklearn.models._features import model_inputs

    x, ei, attr = _line_graph()
    _, e = model_inputs("invariant_ctx", x, ei, attr)
    ctx = e[:, 8:]  # per side: log1p(distance), d_slope, d_cot, has_partner
    # edge 0→1 continues exactly along 1→2; edge 1→2 is continued backwards by 0→1
    assert ctx[0, 0].item() == pytest.approx(0.0) and ctx[0, 3].item() == 1.0
    assert ctx[0, 7].item() == 0.0  # nothing enters hit 0
    assert ctx[1, 4].item() == pytest.approx(0.0) and ctx[1, 7].item() == 1.0
    # the decoy 1→3 bends away: its best backward partner is far
    assert ctx[2, 4].item() > 2.0 and ctx[2, 7].item() == 1.0
    assert ctx[1, 3].item() == 0.0 and ctx[2, 3].item() == 0.0  # nothing leaves 2 or 3


@pytest.mark.parametrize("features", ["in_paper", "invariant_ctx"])
def test_per_edge_model_scores_in_chunks_equal_whole_graph(monkeypatch, features: str) -> None:  # type: ignore[no-untyped-def]
    import tracklearn.models.edge_model as em

    torch.manual_seed(0)
    g = _graph(e=200)
    g.x[:, 0] = np.abs(g.x[:, 0])  # r >= 0
    kwargs = {"hidden": 8, "features": features}
    model = EdgeModel(get_model("filter_mlp", **kwargs), "filter_mlp", kwargs, 0.5, {})
    whole = model.scores(g)
    # the front-end (continuations included) sees the whole graph, not one chunk
    monkeypatch.setattr(em, "CHUNK_EDGES", 7)
    assert np.allclose(model.scores(g), whole, atol=1e-6)


def test_feature_transform_is_the_front_end_and_leaves_its_input_alone() -> None:
    from tracklearn.errors import ConfigError
    from tracklearn.models._features import model_inputs

    g = _graph()
    g.x[:, 0] = np.abs(g.x[:, 0])
    data = to_data(g)
    x0, e0 = data.x.clone(), data.edge_attr.clone()
    for name in ("in_paper", "invariant", "invariant_ctx"):
        out = FeatureTransform(name)(data)
        want_x, want_e = model_inputs(name, x0, data.edge_index, e0)
        assert torch.equal(out.x, want_x) and torch.equal(out.edge_attr, want_e)
        assert out.edge_index is data.edge_index and out.y is data.y
        assert torch.equal(data.x, x0) and torch.equal(data.edge_attr, e0)  # not mutated
    inv = get_model("interaction_network", hidden=8, features="invariant_ctx")
    assert FeatureTransform.of(inv).name == "invariant_ctx"
    assert FeatureTransform.of(torch.nn.Linear(2, 2)).name == "in_paper"
    assert repr(FeatureTransform("invariant")) == "FeatureTransform('invariant')"
    with pytest.raises(ConfigError, match="invariant_ctx"):
        FeatureTransform("invarient")
