"""Convolutional autoencoder: conv + max-pool down, dense decode (HEP.TrkX)."""

from __future__ import annotations

import math

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("conv_autoencoder")
class ConvAutoencoder(nn.Module):
    """Conv blocks each halving every axis (ceil), a dense bottleneck, a dense decoder.

    Parameters
    ----------
    channels, latent
        Channels of the conv blocks; width of the dense bottleneck.
    seed_skip
        Also feed the full-resolution seed image to the bottleneck (ours): the
        max-pooling blurs the seed position to ``2^len(channels)`` pixels, which
        the dense decoder then has to recover.
    mask_hits
        Score only hit cells.

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) with ``C = prod(pixels)`` → logits (B, L, C).
    """

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        channels: tuple[int, ...] = (8, 16),
        latent: int = 128,
        mask_hits: bool = False,
        seed_skip: bool = False,
    ) -> None:
        super().__init__()
        nd = 1 + len(pixels)
        conv = {2: nn.Conv2d, 3: nn.Conv3d}[nd]
        pool = {2: nn.MaxPool2d, 3: nn.MaxPool3d}[nd]
        blocks: list[nn.Module] = []
        c_in, shape = 2, [n_layers, *pixels]
        for c in channels:
            blocks += [conv(c_in, c, 3, padding=1), nn.ReLU(), pool(2, ceil_mode=True)]
            c_in, shape = c, [math.ceil(s / 2) for s in shape]
        self.encoder = nn.Sequential(*blocks, nn.Flatten())
        n_out = n_layers * math.prod(pixels)
        n_in = c_in * math.prod(shape) + (n_out if seed_skip else 0)
        self.decoder = nn.Sequential(nn.Linear(n_in, latent), nn.ReLU(), nn.Linear(latent, n_out))
        self.shape = (n_layers, *pixels)
        self.mask_hits = mask_hits
        self.seed_skip = seed_skip

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        x = torch.stack([hits, seed], dim=1).reshape(len(hits), 2, *self.shape)
        code = self.encoder(x)
        if self.seed_skip:
            code = torch.cat([code, seed.reshape(len(seed), -1)], dim=1)
        logits = self.decoder(code).reshape(hits.shape)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
