"""Bidirectional LSTM: every layer's decision sees the layers before and after it."""

from __future__ import annotations

import math

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("bilstm")
class BiLSTM(nn.Module):
    """Dense → bidirectional LSTM → dense → per-layer scores.

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) → logits (B, L, C).
    """

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        hidden: int = 64,
        num_layers: int = 1,
        mask_hits: bool = False,
    ) -> None:
        super().__init__()
        n_cells = math.prod(pixels)
        self.inp = nn.Sequential(nn.Linear(2 * n_cells, hidden), nn.ReLU())
        self.lstm = nn.LSTM(
            hidden, hidden, num_layers=num_layers, batch_first=True, bidirectional=True
        )
        self.head = nn.Linear(2 * hidden, n_cells)
        self.mask_hits = mask_hits

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.inp(torch.cat([hits, seed], dim=-1)))
        logits: torch.Tensor = self.head(h)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
