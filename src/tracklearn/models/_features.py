"""Input front-ends of the edge models: which features of a graph a model sees.

Every graph carries the Interaction-Network-paper features (node
``[r/m, phi/pi, z/m]``, edge ``[dr/m, dphi/pi, dz/m, dR]``; see
:mod:`tracklearn.graph.features`).  A model chooses how to read them:

* ``"in_paper"``: as they are (what the IN paper's models saw, and what the
  real IN-paper graphs can feed).
* ``"invariant"``: no absolute azimuth, so the model is exactly invariant under
  rotations about the beam axis (a symmetry of the detector that a few training
  events cannot teach).  Nodes: ``[r, z]``; edges: ``[dr, dphi, dz, dR]`` plus the
  straight-line ``z0`` (z at r = 0, in units of 0.2 m, clipped to ±5), the
  azimuthal slope ``dphi/dr`` (rad/m, in units of 10 rad/m, clipped to ±5),
  ``dz/dr`` (clipped to ±20, /10) and a flag for ``|dr| < 5 mm`` (same-layer
  overlap edges, where z0 and the slopes are undefined and set to 0).

Shapes: x (N, 3), edge_index (2, E), edge_attr (E, 4) → (N, F'), (E, D').
"""

from __future__ import annotations

import math

import torch

from tracklearn.errors import ConfigError

FEATURE_SETS: dict[str, tuple[int, int]] = {"in_paper": (3, 4), "invariant": (2, 8)}
_SMALL_DR_M = 0.005


def feature_dims(name: str) -> tuple[int, int]:
    """(node, edge) feature widths that the front-end ``name`` produces."""
    if name not in FEATURE_SETS:
        raise ConfigError(f"unknown edge-model features {name!r}; valid: {sorted(FEATURE_SETS)}")
    return FEATURE_SETS[name]


def model_inputs(
    name: str, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Node and edge inputs of front-end ``name`` (see the module docstring)."""
    if name == "in_paper":
        return x, edge_attr
    r, z = x[:, 0], x[:, 2]
    inner = edge_index[0]
    dr, dphi, dz = edge_attr[:, 0], edge_attr[:, 1] * math.pi, edge_attr[:, 2]
    small = dr.abs() < _SMALL_DR_M
    safe_dr = torch.where(small, torch.ones_like(dr), dr)
    zero = torch.zeros_like(dr)
    z0 = torch.where(small, zero, (z[inner] - r[inner] * dz / safe_dr) / 0.2).clamp(-5, 5)
    slope = torch.where(small, zero, dphi / safe_dr / 10.0).clamp(-5, 5)
    cot = torch.where(small, zero, (dz / safe_dr).clamp(-20, 20) / 10.0)
    edges = torch.cat(
        [edge_attr, torch.stack([z0, slope, cot, small.to(edge_attr.dtype)], dim=1)], dim=1
    )
    return torch.stack([r, z], dim=1), edges
