"""Convolutional hit classifier without downsampling (HEP.TrkX "3D ConvNN")."""

from __future__ import annotations

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("convnn")
class ConvNN(nn.Module):
    """Stacked same-padded convolutions over (layer, pixels...), one score per cell.

    The convolution has ``1 + len(pixels)`` dimensions: 2-D on toy2d, 3-D on
    toy3d (10 planes × 32 × 32).  No pooling, so the output keeps the input
    resolution.  Dilations (1, 2, 4, ...) widen the receptive field so that a
    cell far from the seed still sees it (±32 cells by default).

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) with ``C = prod(pixels)`` → logits (B, L, C).
    """

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        channels: tuple[int, ...] = (16, 16, 16, 16, 16, 16),
        dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1),
        kernel: int = 3,
        mask_hits: bool = False,
    ) -> None:
        super().__init__()
        conv = {1: nn.Conv2d, 2: nn.Conv3d}[len(pixels)]
        blocks: list[nn.Module] = []
        c_in = 2
        if len(dilations) != len(channels):
            raise ValueError("give one dilation per conv block")
        for c, d in zip(channels, dilations, strict=True):
            blocks += [conv(c_in, c, kernel, padding=d * (kernel // 2), dilation=d), nn.ReLU()]
            c_in = c
        blocks.append(conv(c_in, 1, kernel, padding=kernel // 2))
        self.net = nn.Sequential(*blocks)
        self.shape = (n_layers, *pixels)
        self.mask_hits = mask_hits

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        x = torch.stack([hits, seed], dim=1).reshape(hits.shape[0], 2, *self.shape)
        logits = self.net(x).reshape(hits.shape)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
