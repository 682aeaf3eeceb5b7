"""Muon g-2 track finder: LSTM over detector layers, time-distributed dense read-out.

The input is one time island as a (layer, straw) occupancy image; the LSTM
treats layers as time steps; the same dense layers at every step score each
straw of that layer for ``max_tracks + 1`` classes (0 = noise, ``k`` = the
k-th track candidate in slot order).  Hits take their cell's arg-max class,
which clusters them into candidates; :func:`tracklearn.training.toy.predict_g2_tracks`
turns those into parabola tracks (:func:`~tracklearn.training.toy.ransac_candidates`).
``dropout > 0`` adds dropout on the LSTM input and output (MC dropout).
"""

from __future__ import annotations

import torch
from torch import nn

from tracklearn.models.toy import register_toy_model


@register_toy_model("g2_finder")
class G2TrackFinder(nn.Module):
    """Dense → (bidirectional) LSTM over layers → time-distributed dense.

    Shapes
    ------
    ``occupancy`` (B, L, S) → logits (B, L, S, K + 1).
    """

    def __init__(
        self,
        n_straws: int = 32,
        max_tracks: int = 6,
        hidden: int = 96,
        num_layers: int = 2,
        bidirectional: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(n_straws, hidden), nn.ReLU())
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.lstm = nn.LSTM(
            hidden, hidden, num_layers=num_layers, batch_first=True, bidirectional=bidirectional
        )
        width = hidden * (2 if bidirectional else 1)
        self.out = nn.Sequential(
            nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, n_straws * (max_tracks + 1))
        )
        self.n_classes = max_tracks + 1

    def forward(self, occupancy: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.drop(self.inp(occupancy)))
        logits: torch.Tensor = self.out(self.drop(h))
        return logits.reshape(*occupancy.shape, self.n_classes)
