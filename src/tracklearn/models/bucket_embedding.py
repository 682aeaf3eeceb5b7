"""Hit embeddings for hashing buckets: the hand-made helix space plus a learned correction
(``BucketEmbedding``) or a learned switch to the cluster's own direction
(``GatedBucketEmbedding``)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ARCHITECTURES", "BucketEmbedding", "GatedBucketEmbedding"]


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


class GatedBucketEmbedding(nn.Module):
    """``out = [helix + g·(direction − helix), g·z0]``: a learned switch per hit between
    the helix coordinates and the coordinates of its cluster's direction.

    The helix space assumes a particle from the beam line: a hit's η is that of the
    line from the origin.  A pixel-barrel cluster's length along z measures the
    particle's own dip angle (:class:`~tracklearn.graph.hashing.DirectionConfig`),
    so a hit of a particle made far from the beam line can be placed by *its*
    direction and by the z at which that line crosses the beam axis (``z0``).  The
    network only decides, per hit, how much to trust that: ``g = sigmoid(mlp(x)) ·
    mask`` (``mask`` = the hit has direction coordinates).  Its last bias starts at
    −4 and its weights at 0, so an untrained model is (almost exactly) the helix space.

    Inputs: :func:`~tracklearn.graph.hashing.learned_features` with a direction
    config: the first 4 columns are the helix coordinates; the last 6 the direction
    coordinates (4), the scaled ``z0`` and the mask.

    Shapes
    ------
    input ``(N, in_features)`` float32 → output ``(N, 5)`` float32.
    """

    def __init__(
        self,
        in_features: int,
        hidden: int = 32,
        n_layers: int = 2,
        out_dim: int = 5,
        n_skip: int = 4,
    ) -> None:
        super().__init__()
        if out_dim != 5 or n_skip != 4:
            raise ValueError("the gated embedding has 4 helix coordinates and z0: out_dim 5")
        if in_features < 10:
            raise ValueError("the gated embedding needs the helix and direction features")
        if n_layers < 1:
            raise ValueError("n_layers must be at least 1")
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        last = nn.Linear(width, 1)
        nn.init.zeros_(last.weight)
        nn.init.constant_(last.bias, -4.0)
        layers.append(last)
        self.net = nn.Sequential(*layers)
        self.in_features, self.out_dim, self.n_skip = in_features, out_dim, n_skip

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """``g`` of every hit, shape ``(N, 1)``: 0 where the hit has no direction."""
        out: torch.Tensor = torch.sigmoid(self.net(x)) * x[:, -1:]
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        helix, direction, z0 = x[:, :4], x[:, -6:-2], x[:, -2:-1]
        g = self.gate(x)
        return torch.cat([helix + g * (direction - helix), g * z0], dim=1)


#: the embeddings by name (``architecture`` of a saved embedding's ``.json``)
ARCHITECTURES: dict[str, type[nn.Module]] = {
    "residual": BucketEmbedding,
    "gated": GatedBucketEmbedding,
}
