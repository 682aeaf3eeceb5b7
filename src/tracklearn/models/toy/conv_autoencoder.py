"""Convolutional autoencoder: conv + max-pool down, then a dense or a conv decoder (HEP.TrkX)."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("conv_autoencoder")
class ConvAutoencoder(nn.Module):
    """Conv blocks each halving every axis (ceil), then a decoder back to one score per cell.

    ``decoder="conv"`` is the HEP.TrkX toy-2D conv autoencoder (``build_convae_model``
    of their ``Conv2D_Toy2D.ipynb``): ReLU 3×3 convs with 8, 16, 32, 64 filters each
    followed by a 2×2 max-pool, then mirrored ReLU convs (64, 32, 16, 8), each
    followed by a nearest-neighbour up-sampling (here to the exact size of the
    matching encoder level, so any image size works, not only multiples of
    ``2^len(channels)``), and a last linear 3×3 conv to one score per cell; the
    softmax over each layer's cells is in the loss.  ``decoder="dense"`` (ours,
    the default) flattens the pooled code into a dense bottleneck of
    ``latent`` units and a dense layer to every cell.

    Parameters
    ----------
    channels
        Filters of the encoder blocks (the conv decoder mirrors them).
    latent
        Width of the dense bottleneck (``decoder="dense"`` only).
    decoder
        ``"conv"`` (HEP.TrkX) or ``"dense"``.
    skips
        Conv decoder only (ours): concatenate each encoder block's pre-pooling
        output to the decoder input at the same resolution (U-Net style), so
        the decoder sees the seed and the hits at full resolution.
    seed_skip
        Dense decoder only (ours): also feed the full-resolution seed image to
        the bottleneck: the max-pooling blurs the seed position to
        ``2^len(channels)`` pixels, which the dense decoder then has to recover.
    mask_hits
        Score only hit cells.

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) with ``C = prod(pixels)`` → logits (B, L, C).
    The network sees them as a 2-channel image (B, 2, L, *pixels).
    """

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        channels: tuple[int, ...] = (8, 16),
        latent: int = 128,
        mask_hits: bool = False,
        seed_skip: bool = False,
        decoder: Literal["dense", "conv"] = "dense",
        skips: bool = False,
    ) -> None:
        super().__init__()
        if decoder not in ("dense", "conv"):
            raise ValueError(f"decoder must be 'dense' or 'conv', not {decoder!r}")
        if skips and decoder != "conv":
            raise ValueError("skips needs decoder='conv'")
        if seed_skip and decoder != "dense":
            raise ValueError("seed_skip needs decoder='dense'")
        nd = 1 + len(pixels)
        conv = {2: nn.Conv2d, 3: nn.Conv3d}[nd]
        self.pool = {2: nn.MaxPool2d, 3: nn.MaxPool3d}[nd](2, ceil_mode=True)
        self.shape = (n_layers, *pixels)
        self.mask_hits = mask_hits
        self.seed_skip = seed_skip
        self.decoder_kind = decoder
        self.skips = skips
        # spatial size at the input of every encoder block, and after the last pool
        self.sizes = [list(self.shape)]
        for _ in channels:
            self.sizes.append([math.ceil(s / 2) for s in self.sizes[-1]])
        c_ins = (2, *channels[:-1])
        self.down = nn.ModuleList(
            conv(ci, c, 3, padding=1) for ci, c in zip(c_ins, channels, strict=True)
        )
        if decoder == "conv":
            # level j (deepest first): a conv to channels[j] at sizes[j + 1], then the
            # up-sampling to sizes[j] (and, with skips, encoder block j's output appended)
            self.up = nn.ModuleList()
            c_prev = channels[-1]
            for j in reversed(range(len(channels))):
                c_out = channels[j]
                self.up.append(conv(c_prev, c_out, 3, padding=1))
                c_prev = c_out + (channels[j] if skips else 0)
            self.head = conv(c_prev, 1, 3, padding=1)
        else:
            n_out = n_layers * math.prod(pixels)
            n_in = channels[-1] * math.prod(self.sizes[-1]) + (n_out if seed_skip else 0)
            self.decoder = nn.Sequential(
                nn.Linear(n_in, latent), nn.ReLU(), nn.Linear(latent, n_out)
            )

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        x = torch.stack([hits, seed], dim=1).reshape(hits.shape[0], 2, *self.shape)
        feats = []
        for conv in self.down:
            x = torch.relu(conv(x))
            feats.append(x)
            x = self.pool(x)
        if self.decoder_kind == "conv":
            for k, conv in enumerate(self.up):
                j = len(self.up) - 1 - k
                x = torch.relu(conv(x))
                x = nn.functional.interpolate(x, size=self.sizes[j], mode="nearest")
                if self.skips:
                    x = torch.cat([x, feats[j]], dim=1)
            logits = self.head(x).reshape(hits.shape)
        else:
            code = x.flatten(1)
            if self.seed_skip:
                code = torch.cat([code, seed.reshape(seed.shape[0], -1)], dim=1)
            logits = self.decoder(code).reshape(hits.shape)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
