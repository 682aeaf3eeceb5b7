"""Batching with torch-geometric: a batch of graphs scores as the graphs one by one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.models._helix_graph import helix_graph
from torch_geometric.loader import DataLoader

from tracklearn.errors import ConfigError
from tracklearn.models.edge_model import EdgeModel
from tracklearn.models.registry import get_model


@pytest.mark.parametrize("features", ["in_paper", "invariant", "invariant_ctx"])
@pytest.mark.parametrize("name", ["filter_mlp", "interaction_network", "edge_network"])
def test_a_batch_of_two_graphs_scores_as_the_graphs_one_by_one(name: str, features: str) -> None:
    torch.manual_seed(0)
    kwargs = {"hidden": 16, "features": features}
    model = EdgeModel(get_model(name, **kwargs), name, kwargs, 0.5, {})
    graphs = [helix_graph(), helix_graph(n_particles=15, n_noise=20, seed=3)]
    one = [model.scores(g) for g in graphs]
    both = model.scores_batched(graphs, graphs_per_batch=2)
    assert [len(s) for s in both] == [g.n_edges for g in graphs]
    for a, b in zip(both, one, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    # the training path: transformed graphs batched by torch-geometric's DataLoader
    (batch,) = list(DataLoader([model.inputs(g) for g in graphs], batch_size=2))
    assert batch.num_graphs == 2 and batch.num_edges == sum(g.n_edges for g in graphs)
    with torch.no_grad():
        logits = model.module(batch.x, batch.edge_index, batch.edge_attr)
    np.testing.assert_allclose(torch.sigmoid(logits).numpy(), np.concatenate(one), atol=1e-6)


def test_batched_scores_of_graphs_without_edges_and_a_bad_batch_size() -> None:
    torch.manual_seed(0)
    net = get_model("interaction_network", hidden=8)
    model = EdgeModel(net, "interaction_network", {"hidden": 8}, 0.5, {})
    g = helix_graph(n_particles=5, n_noise=0)
    empty = type(g)(g.hit_index, g.x, g.edge_index[:, :0], g.edge_attr[:0], g.y[:0])
    out = model.scores_batched([empty, g, empty], graphs_per_batch=2)
    assert [len(s) for s in out] == [0, g.n_edges, 0]
    np.testing.assert_allclose(out[1], model.scores(g), atol=1e-6)
    assert model.scores_batched([empty], graphs_per_batch=3)[0].shape == (0,)
    with pytest.raises(ConfigError, match="graphs_per_batch"):
        model.scores_batched([g], graphs_per_batch=0)
