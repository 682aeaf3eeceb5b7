"""Interaction Network edge classifier (Battaglia et al. 2016; DeZoort et al. 2021).

Nodes and edges are encoded to ``hidden`` features; ``n_iterations`` rounds of
message passing then update every edge from its two hits and itself, and every
hit from the sums of its incoming and outgoing edges, each with a residual
connection.  A final MLP turns each edge into one logit.  The same layer
weights are used in every round (recurrent), so the parameter count does not
grow with the number of iterations.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import MessagePassing

from tracklearn.models._features import feature_dims
from tracklearn.models._mlp import mlp
from tracklearn.models.registry import register_model


class InteractionLayer(MessagePassing):
    """One round of edge then node updates.

    Shapes
    ------
    h (N, H), edge_index (2, E) inner → outer, e (E, H) → (h', e'), same shapes.
    """

    def __init__(self, hidden: int, n_layers: int = 2, dropout: float = 0.0) -> None:
        super().__init__(aggr="sum")
        self.edge_mlp = mlp(3 * hidden, hidden, hidden, n_layers, dropout=dropout)
        self.node_mlp = mlp(3 * hidden, hidden, hidden, n_layers, dropout=dropout)

    def forward(
        self, h: torch.Tensor, edge_index: torch.Tensor, e: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        inner, outer = edge_index[0], edge_index[1]
        e = e + self.edge_mlp(torch.cat([h[inner], h[outer], e], dim=1))
        size = (h.shape[0], h.shape[0])
        # messages into a hit from the edges below it (it is their outer end) ...
        from_below = self.propagate(edge_index, m=e, size=size)
        # ... and from the edges above it (flip: aggregate at the inner end)
        from_above = self.propagate(edge_index.flip(0), m=e, size=size)
        h = h + self.node_mlp(torch.cat([h, from_below, from_above], dim=1))
        return h, e

    def message(self, m: torch.Tensor) -> torch.Tensor:
        return m


@register_model("interaction_network")
class InteractionNetwork(nn.Module):
    """Recurrent Interaction Network edge classifier.

    Parameters
    ----------
    node_dim, edge_dim
        Number of input node (F) and edge (D) features.
    hidden
        Width of every latent feature (H).
    n_iterations
        Message-passing rounds (shared weights).
    n_layers
        Linear layers per MLP.
    features
        Input front-end (:mod:`tracklearn.models._features`) the model is built
        for: ``"in_paper"`` reads the graph's features as they are
        (``node_dim``/``edge_dim`` wide); ``"invariant"`` / ``"invariant_ctx"``
        take rotation-invariant inputs derived from the IN-paper features (then
        ``node_dim``/``edge_dim`` are ignored).  ``forward`` does not compute
        them: apply :class:`~tracklearn.models.feature_transform.FeatureTransform`
        (``FeatureTransform.of(model)``) to the graph once, then call the model.
    dropout
        Dropout probability after every hidden ReLU (0: none; > 0 for MC dropout).

    Shapes
    ------
    x (N, F), edge_index (2, E), edge_attr (E, D) → logits (E,), with ``x`` and
    ``edge_attr`` the outputs of the front-end (``F, D = feature_dims(features)``).
    """

    def __init__(
        self,
        node_dim: int = 3,
        edge_dim: int = 4,
        hidden: int = 40,
        n_iterations: int = 4,
        n_layers: int = 2,
        features: str = "in_paper",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.n_iterations = n_iterations
        self.features = features
        if features != "in_paper":
            node_dim, edge_dim = feature_dims(features)
        self.node_encoder = mlp(node_dim, hidden, hidden, n_layers, dropout=dropout)
        self.edge_encoder = mlp(2 * node_dim + edge_dim, hidden, hidden, n_layers, dropout=dropout)
        self.layer = InteractionLayer(hidden, n_layers, dropout)
        self.classifier = mlp(3 * hidden, hidden, 1, n_layers, dropout=dropout)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor
    ) -> torch.Tensor:
        inner, outer = edge_index[0], edge_index[1]
        h = self.node_encoder(x)
        e = self.edge_encoder(torch.cat([x[inner], x[outer], edge_attr], dim=1))
        for _ in range(self.n_iterations):
            h, e = self.layer(h, edge_index, e)
        out: torch.Tensor = self.classifier(torch.cat([h[inner], h[outer], e], dim=1)).squeeze(-1)
        return out
