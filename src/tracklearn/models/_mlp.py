"""A small MLP block shared by the models."""

from __future__ import annotations

import torch
from torch import nn


def mlp(
    n_in: int,
    hidden: int,
    n_out: int,
    n_layers: int = 2,
    *,
    layer_norm: bool = True,
    dropout: float = 0.0,
) -> nn.Sequential:
    """``n_layers`` linear layers with ReLU (and LayerNorm) between them.

    ``dropout > 0`` adds dropout of that probability after every ReLU (for
    MC dropout, :mod:`tracklearn.models.mc_dropout`); with 0 no layer is added,
    so the parameter names, and weights saved before, are unchanged.

    Shapes: (..., n_in) → (..., n_out).  The last layer has no activation.
    """
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(n_layers - 1):
        layers.append(nn.Linear(width, hidden))
        if layer_norm:
            layers.append(nn.LayerNorm(hidden))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def edge_inputs(x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
    """Concatenate ``[x_inner, x_outer, edge_attr]`` per edge, shape (E, 2F + D)."""
    return torch.cat([x[edge_index[0]], x[edge_index[1]], edge_attr], dim=1)
