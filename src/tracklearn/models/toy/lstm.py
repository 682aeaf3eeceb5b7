"""Seeded single-track hit classification with one LSTM over layers (HEP.TrkX)."""

from __future__ import annotations

import math

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("lstm")
class SeededLSTM(nn.Module):
    """LSTM reading one layer per step (hits and seed), a linear read-out per layer.

    Parameters
    ----------
    n_layers, pixels
        Layers ``L`` and the pixel grid of a layer (``C = prod(pixels)`` cells).
    hidden
        LSTM width.
    mask_hits
        Score only hit cells (see :func:`~tracklearn.models.toy.mask_to_hits`).

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) → logits (B, L, C).
    """

    def __init__(
        self, n_layers: int, pixels: tuple[int, ...], hidden: int = 32, mask_hits: bool = False
    ) -> None:
        super().__init__()
        n_cells = math.prod(pixels)
        self.lstm = nn.LSTM(2 * n_cells, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_cells)
        self.mask_hits = mask_hits

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(torch.cat([hits, seed], dim=-1))
        logits: torch.Tensor = self.head(out)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
