"""A small MLP that embeds hits so that hits of one particle are close (metric learning)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["EmbeddingMLP"]


class EmbeddingMLP(nn.Module):
    """Hit features → a point in a low-dimensional embedding space.

    ``n_layers`` hidden layers of width ``hidden`` with LayerNorm and tanh, then a
    linear map to ``out_dim`` (no normalisation: distances are compared with a
    radius in the embedding space, dimensionless).

    Parameters
    ----------
    in_features
        Features per hit.
    hidden
        Width of the hidden layers.
    n_layers
        Number of hidden layers (≥ 1).
    out_dim
        Embedding dimension.

    Shapes
    ------
    input ``(N, in_features)`` float32 → output ``(N, out_dim)`` float32.
    """

    def __init__(self, in_features: int, hidden: int = 64, n_layers: int = 3, out_dim: int = 8):
        super().__init__()
        if n_layers < 1:
            raise ValueError("n_layers must be at least 1")
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.Tanh()]
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)
        self.in_features, self.out_dim = in_features, out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out
