"""MC dropout: identical to evaluation with dropout off, a real spread with it on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tracklearn.edm import Graph
from tracklearn.errors import ConfigError
from tracklearn.models._mlp import mlp
from tracklearn.models.edge_model import EdgeModel
from tracklearn.models.mc_dropout import has_dropout, mc_dropout, mc_dropout_mode
from tracklearn.models.registry import get_model


def _net(dropout: float) -> nn.Module:
    torch.manual_seed(0)
    return mlp(4, 16, 1, 3, dropout=dropout)


def test_dropout_zero_adds_no_layer_so_old_weights_still_load() -> None:
    plain, dropped = _net(0.0), _net(0.3)
    assert not has_dropout(plain) and has_dropout(dropped)
    # parameter names shift with the dropout layers, but a p = 0 network is the old one
    assert list(plain.state_dict()) == list(mlp(4, 16, 1, 3).state_dict())


def test_mc_dropout_with_dropout_off_is_the_evaluation_output() -> None:
    net = _net(0.3)
    x = torch.randn(50, 4)
    net.eval()
    with torch.no_grad():
        ref = net(x)
    mean, std = mc_dropout(net, lambda: net(x), 8, rate=0.0)
    assert torch.equal(mean, ref)
    assert torch.all(std == 0)
    # one sample with the network's own dropout would differ; with rate 0 it never does
    mean1, std1 = mc_dropout(net, lambda: net(x), 1, rate=0.0)
    assert torch.equal(mean1, ref) and torch.all(std1 == 0)


def test_mc_dropout_gives_a_reproducible_nonzero_spread_and_restores_the_network() -> None:
    net = _net(0.3)
    net.train()  # the caller's mode must come back unchanged
    x = torch.randn(50, 4)
    mean, std = mc_dropout(net, lambda: net(x), 30, seed=3)
    assert torch.all(std > 0)
    mean2, std2 = mc_dropout(net, lambda: net(x), 30, seed=3)
    assert torch.equal(mean, mean2) and torch.equal(std, std2)
    _, std3 = mc_dropout(net, lambda: net(x), 30, seed=4)
    assert not torch.equal(std, std3)
    assert net.training and all(m.training for m in net.modules())
    assert [m.p for m in net.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3]
    # the spread of the mean of 30 samples is near the spread of single samples
    net.eval()
    with torch.no_grad():
        ref = net(x)
    assert float((mean - ref).abs().mean()) < float(std.mean())


def test_a_network_without_dropout_needs_a_rate_and_gets_hooks_only_while_sampling() -> None:
    net = _net(0.0)
    x = torch.randn(20, 4)
    with pytest.raises(ConfigError, match="no dropout layers"):
        mc_dropout(net, lambda: net(x), 5)
    with pytest.raises(ConfigError, match=r"\[0, 1\)"):
        mc_dropout(net, lambda: net(x), 5, rate=1.0)
    _, std = mc_dropout(net, lambda: net(x), 10, rate=0.2)
    assert torch.all(std > 0)
    net.eval()
    with torch.no_grad():  # the hooks are gone: two evaluations agree exactly
        assert torch.equal(net(x), net(x))
    with mc_dropout_mode(net, rate=0.2):
        assert not torch.equal(net(x), net(x))


def _graph(n: int = 12, seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    edges = np.stack([np.arange(n - 1), np.arange(1, n)]).astype(np.int64)
    return Graph(
        x=rng.normal(size=(n, 3)).astype(np.float32),
        edge_index=edges,
        edge_attr=rng.normal(size=(n - 1, 4)).astype(np.float32),
        hit_index=np.arange(n, dtype=np.int64),
    )


@pytest.mark.parametrize("name", ["interaction_network", "filter_mlp"])
def test_edge_models_sample_their_scores(name: str) -> None:
    torch.manual_seed(1)
    module = get_model(name, hidden=16, dropout=0.2)
    model = EdgeModel(module, name, {"hidden": 16, "dropout": 0.2}, 0.5, {})
    g = _graph()
    plain = model.scores(g)
    off_mean, off_std = model.scores_mc(g, 4, rate=0.0)
    np.testing.assert_array_equal(off_mean, plain)
    assert np.all(off_std == 0)
    mean, std = model.scores_mc(g, 20, seed=1)
    assert mean.shape == std.shape == (g.n_edges,)
    assert np.all(std > 0) and np.all((mean >= 0) & (mean <= 1))
    assert not module.training  # left in evaluation mode
