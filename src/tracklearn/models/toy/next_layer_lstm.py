"""Next-layer LSTM: after reading layers 0..l it predicts the track's cell on layer l + 1."""

from __future__ import annotations

import math

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("next_layer_lstm")
class NextLayerLSTM(nn.Module):
    """Forecasts the next plane without seeing it (HEP.TrkX "next-layer" model).

    The scores of layer ``l + 1`` come from the LSTM state after layer ``l``;
    layer 0's scores are the seed itself.  With ``mask_hits`` the forecast is
    restricted to the hits present on the predicted layer (a one-step filter).

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) → logits (B, L, C).
    """

    def __init__(
        self, n_layers: int, pixels: tuple[int, ...], hidden: int = 64, mask_hits: bool = False
    ) -> None:
        super().__init__()
        n_cells = math.prod(pixels)
        self.inp = nn.Sequential(nn.Linear(2 * n_cells, hidden), nn.ReLU())
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_cells)
        self.mask_hits = mask_hits

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.inp(torch.cat([hits, seed], dim=-1)))
        first = 10.0 * seed[:, :1]  # layer 0: the seed cell
        logits = torch.cat([first, self.head(h[:, :-1])], dim=1)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
