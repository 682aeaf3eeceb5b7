"""Deep LSTM: dense layers before and after a stacked LSTM (HEP.TrkX)."""

from __future__ import annotations

import math

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("deep_lstm")
class DeepLSTM(nn.Module):
    """Dense → ``num_layers`` LSTM → dense → per-layer scores.

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) → logits (B, L, C).
    """

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        hidden: int = 64,
        num_layers: int = 2,
        mask_hits: bool = False,
    ) -> None:
        super().__init__()
        n_cells = math.prod(pixels)
        self.inp = nn.Sequential(nn.Linear(2 * n_cells, hidden), nn.ReLU())
        self.lstm = nn.LSTM(hidden, hidden, num_layers=num_layers, batch_first=True)
        self.out = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_cells))
        self.mask_hits = mask_hits

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.inp(torch.cat([hits, seed], dim=-1)))
        logits: torch.Tensor = self.out(h)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
