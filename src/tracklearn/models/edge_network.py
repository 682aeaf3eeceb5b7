"""HEP.TrkX segment classifier: alternating EdgeNetwork and NodeNetwork (Farrell et al. 2018).

Hits carry ``[input features, hidden]``; an EdgeNetwork gives every edge a weight
in (0, 1) from its two hits; a NodeNetwork updates every hit from the
edge-weighted sums of its neighbours below and above.  After ``n_iterations``
rounds a last EdgeNetwork gives the edge logits.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import MessagePassing

from tracklearn.models._features import feature_dims
from tracklearn.models._mlp import mlp
from tracklearn.models.registry import register_model


class NodeNetwork(MessagePassing):
    """Hit update from weighted neighbour sums.

    Shapes
    ------
    h (N, C), edge_index (2, E), w (E,) → (N, hidden).
    """

    def __init__(self, n_in: int, hidden: int, n_layers: int = 2) -> None:
        super().__init__(aggr="sum")
        self.net = mlp(3 * n_in, hidden, hidden, n_layers)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        size = (h.shape[0], h.shape[0])
        below = self.propagate(edge_index, h=h, w=w, size=size)  # inner hits, summed at outer
        above = self.propagate(edge_index.flip(0), h=h, w=w, size=size)
        out: torch.Tensor = torch.tanh(self.net(torch.cat([below, above, h], dim=1)))
        return out

    def message(self, h_j: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return w.unsqueeze(-1) * h_j


@register_model("edge_network")
class EdgeNetworkClassifier(nn.Module):
    """The HEP.TrkX GNN segment classifier.

    Parameters
    ----------
    node_dim, edge_dim
        Input node (F) and edge (D) features; edge features join the edge MLPs.
    hidden
        Hidden node features.
    n_iterations
        Edge/node rounds (shared weights).
    features
        Input front-end (:mod:`tracklearn.models._features`) the model is built
        for, as for the Interaction Network: ``"in_paper"`` reads the graph's
        features as they are; ``"invariant"`` / ``"invariant_ctx"`` take
        rotation-invariant ones (then ``node_dim``/``edge_dim`` are ignored),
        computed once per graph by
        :class:`~tracklearn.models.feature_transform.FeatureTransform`, not by ``forward``.

    Shapes
    ------
    x (N, F), edge_index (2, E), edge_attr (E, D) → logits (E,), with ``x`` and
    ``edge_attr`` the outputs of the front-end.
    """

    def __init__(
        self,
        node_dim: int = 3,
        edge_dim: int = 4,
        hidden: int = 32,
        n_iterations: int = 4,
        n_layers: int = 2,
        features: str = "in_paper",
    ) -> None:
        super().__init__()
        self.n_iterations = n_iterations
        self.features = features
        if features != "in_paper":
            node_dim, edge_dim = feature_dims(features)
        width = node_dim + hidden
        self.input_net = nn.Sequential(nn.Linear(node_dim, hidden), nn.Tanh())
        self.edge_net = mlp(2 * width + edge_dim, hidden, 1, n_layers)
        self.node_net = NodeNetwork(width, hidden, n_layers)

    def _edge_logits(
        self, h: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor
    ) -> torch.Tensor:
        feats = torch.cat([h[edge_index[0]], h[edge_index[1]], edge_attr], dim=1)
        out: torch.Tensor = self.edge_net(feats).squeeze(-1)
        return out

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor
    ) -> torch.Tensor:
        h = torch.cat([self.input_net(x), x], dim=1)
        for _ in range(self.n_iterations):
            w = torch.sigmoid(self._edge_logits(h, edge_index, edge_attr))
            h = torch.cat([self.node_net(h, edge_index, w), x], dim=1)
        return self._edge_logits(h, edge_index, edge_attr)
