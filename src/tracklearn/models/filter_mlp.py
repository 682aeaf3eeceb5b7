"""Edge filter: an MLP on the features of an edge and its two hits."""

from __future__ import annotations

import torch
from torch import nn

from tracklearn.models._features import feature_dims
from tracklearn.models._mlp import edge_inputs, mlp
from tracklearn.models.registry import register_model


@register_model("filter_mlp")
class FilterMLP(nn.Module):
    """Score every edge from ``[x_inner, x_outer, edge_attr]`` alone (no message passing).

    Cheap enough to run on the full candidate graph and thin it before the
    edge classifier.

    Parameters
    ----------
    node_dim, edge_dim
        Number of node (F) and edge (D) features.
    hidden
        Width of the hidden layers.
    n_layers
        Number of linear layers.
    features
        Input front-end the model is built for, as for
        :class:`~tracklearn.models.interaction_network.InteractionNetwork`
        (applied to the graph by
        :class:`~tracklearn.models.feature_transform.FeatureTransform`, not by ``forward``).
    dropout
        Dropout probability after every hidden ReLU (0: none; > 0 for MC dropout).

    Shapes
    ------
    x (N, F), edge_index (2, E), edge_attr (E, D) → logits (E,), with ``x`` and
    ``edge_attr`` the outputs of the front-end.
    """

    #: scores of one edge do not depend on the others (EdgeModel may score in chunks)
    per_edge = True

    def __init__(
        self,
        node_dim: int = 3,
        edge_dim: int = 4,
        hidden: int = 64,
        n_layers: int = 3,
        features: str = "in_paper",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.features = features
        if features != "in_paper":
            node_dim, edge_dim = feature_dims(features)
        self.net = mlp(2 * node_dim + edge_dim, hidden, 1, n_layers, dropout=dropout)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor
    ) -> torch.Tensor:
        out: torch.Tensor = self.net(edge_inputs(x, edge_index, edge_attr)).squeeze(-1)
        return out
