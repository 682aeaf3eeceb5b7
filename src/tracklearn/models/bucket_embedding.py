"""Hit embedding for hashing buckets: the hand-made helix space plus a learned correction."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BucketEmbedding"]


class BucketEmbedding(nn.Module):
    """``out = pad(x[:, :n_skip]) + mlp(x)``: analytical coordinates, learned residual.

    The first ``n_skip`` inputs are the coordinates of the hand-made space
    (:class:`~tracklearn.graph.hashing.HelixSpace`), passed through unchanged
    into the first ``n_skip`` outputs (the others start at 0); the MLP (``n_layers``
    hidden layers of width ``hidden``, LayerNorm and tanh) adds a correction from
    all inputs (e.g. the cluster shape).  Its last layer starts at zero, so an
    untrained model *is* the hand-made space, and the fixed skip path keeps the
    embedding from collapsing whatever the loss does.

    Shapes
    ------
    input ``(N, in_features)`` float32 → output ``(N, out_dim)`` float32, with
    ``n_skip <= out_dim`` and ``n_skip <= in_features``.
    """

    def __init__(
        self,
        in_features: int,
        hidden: int = 64,
        n_layers: int = 3,
        out_dim: int = 8,
        n_skip: int = 4,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError("n_layers must be at least 1")
        if not 0 <= n_skip <= min(in_features, out_dim):
            raise ValueError(f"n_skip must be in [0, {min(in_features, out_dim)}]")
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.Tanh()]
            width = hidden
        last = nn.Linear(width, out_dim)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        layers.append(last)
        self.net = nn.Sequential(*layers)
        self.in_features, self.out_dim, self.n_skip = in_features, out_dim, n_skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        if self.n_skip:
            skip = nn.functional.pad(x[:, : self.n_skip], (0, self.out_dim - self.n_skip))
            out = out + skip
        return out
