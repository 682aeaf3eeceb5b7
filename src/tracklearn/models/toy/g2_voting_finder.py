"""Muon g-2 track finder by parameter voting: each hit cell predicts its track, clusters are tracks.

The slot classifier (:mod:`~tracklearn.models.toy.g2_finder`) must name every
track by its rank in the island (the k-th by mean straw), a global decision
that gets harder with every track added.  Here every occupied cell instead
predicts (a) whether it is on a track and (b) the parameters of *its* track,
``(x, slope, curvature)`` at the middle of the station (the learned analogue
of a Hough vote); cells of one track vote for the same point, so the track
candidates are the clusters of the votes (:func:`cluster_votes`).  The
network is the same LSTM over layers with a time-distributed read-out, with
4 outputs per straw instead of ``K + 1`` classes.

``dropout > 0`` adds dropout on the LSTM input and output (MC dropout:
:mod:`tracklearn.models.mc_dropout`).
"""

from __future__ import annotations

import torch
from torch import nn

from tracklearn.models.toy import register_toy_model

#: outputs per straw: track logit, then x, slope, curvature of the cell's track
N_OUT = 4


@register_toy_model("g2_voting_finder")
class G2VotingFinder(nn.Module):
    """Dense → bidirectional LSTM over layers → per straw (track logit, 3 track parameters).

    Shapes
    ------
    ``occupancy`` (B, L, S) → (B, L, S, 4).
    """

    def __init__(
        self,
        n_straws: int = 32,
        hidden: int = 128,
        num_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(n_straws, hidden), nn.ReLU())
        self.lstm = nn.LSTM(
            hidden, hidden, num_layers=num_layers, batch_first=True, bidirectional=True
        )
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_straws * N_OUT)
        )

    def forward(self, occupancy: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.drop(self.inp(occupancy)))
        out: torch.Tensor = self.out(self.drop(h))
        return out.reshape(*occupancy.shape, N_OUT)
