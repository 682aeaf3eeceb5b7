"""Input front-ends of the edge models: which features of a graph a model sees.

Every graph carries the Interaction-Network-paper features (node
``[r/m, phi/pi, z/m]``, edge ``[dr/m, dphi/pi, dz/m, dR]``; see
:mod:`tracklearn.graph.features`).  A model chooses how to read them (its
``features``); the front-end is applied to a graph once, by
:class:`~tracklearn.models.feature_transform.FeatureTransform`, never inside a
model's ``forward``:

* ``"in_paper"``: as they are (what the IN paper's models saw, and what the
  real IN-paper graphs can feed).
* ``"invariant"``: no absolute azimuth, so the model is exactly invariant under
  rotations about the beam axis (a symmetry of the detector that a few training
  events cannot teach).  Nodes: ``[r, z]``; edges: ``[dr, dphi, dz, dR]`` plus the
  straight-line ``z0`` (z at r = 0, in units of 0.2 m, clipped to ±5), the
  azimuthal slope ``dphi/dr`` (rad/m, in units of 10 rad/m, clipped to ±5),
  ``dz/dr`` (clipped to ±20, /10) and a flag for ``|dr| < 5 mm`` (same-layer
  overlap edges, where z0 and the slopes are undefined and set to 0).
* ``"invariant_ctx"``: ``"invariant"`` plus the edge's best *continuation* on
  each side: among the edges that leave its outer hit (and, separately, that
  enter its inner hit) the one whose azimuthal slope and ``dz/dr`` are closest
  to its own (a helix keeps both nearly constant).  Per side: ``log1p`` of that
  distance, the two differences of the best partner, and whether a partner
  exists (8 more features).  This is the triplet information a message-passing
  model otherwise has to learn to extract from sums over neighbours.

Shapes: x (N, 3), edge_index (2, E), edge_attr (E, 4) → (N, F'), (E, D').
"""

from __future__ import annotations

import math

import torch

from tracklearn.errors import ConfigError

FEATURE_SETS: dict[str, tuple[int, int]] = {
    "in_paper": (3, 4),
    "invariant": (2, 8),
    "invariant_ctx": (2, 16),
}
_SMALL_DR_M = 0.005
#: scales of the slope differences in the continuation distance (units of the features)
_SLOPE_SCALE = 0.005  # azimuthal slope, units of 10 rad/m (= 0.05 rad/m)
_COT_SCALE = 0.01  # dz/dr, units of 10
#: at most this many (incoming, outgoing) edge pairs are formed at once (memory bound)
_PAIR_CHUNK = 4_000_000


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
    if name == "invariant_ctx":
        edges = torch.cat([edges, _continuations(edge_index, slope, cot, small, x.shape[0])], 1)
    return torch.stack([r, z], dim=1), edges


def _continuations(
    edge_index: torch.Tensor,
    slope: torch.Tensor,
    cot: torch.Tensor,
    small: torch.Tensor,
    n_nodes: int,
) -> torch.Tensor:
    """Best-continuation features of every edge (see the module docstring), shape (E, 8).

    Pairs (e_in, e_out) meeting at a hit (outer end of ``e_in`` = inner end of
    ``e_out``) are enumerated hit by hit with CSR offsets; same-radius edges
    (``small``) take no part.  Vectorised; no loop over hits.
    """
    with torch.no_grad():
        n_e = edge_index.shape[1]
        ok = ~small
        e_ok = torch.nonzero(ok).squeeze(1)
        inner, outer = edge_index[0][e_ok], edge_index[1][e_ok]
        # outgoing edges grouped by their inner hit (CSR)
        out_sorted = e_ok[torch.argsort(inner, stable=True)]
        out_count = torch.bincount(inner, minlength=n_nodes)
        out_start = torch.cumsum(out_count, 0) - out_count
        # every usable edge as e_in, paired with the outgoing edges of its outer hit
        n_pairs = out_count[outer]
        best_out = torch.full((n_e,), float("inf"))
        best_in = torch.full((n_e,), float("inf"))
        arg_out = torch.full((n_e,), -1, dtype=torch.long)
        arg_in = torch.full((n_e,), -1, dtype=torch.long)
        cum = torch.cumsum(n_pairs, 0)
        lo = 0
        while lo < len(e_ok):
            base = int(cum[lo - 1]) if lo else 0
            hi = int(torch.searchsorted(cum, torch.tensor(base + _PAIR_CHUNK), right=True))
            hi = max(hi, lo + 1)
            e_in = e_ok[lo:hi]
            reps = n_pairs[lo:hi]
            first = torch.repeat_interleave(e_in, reps)
            start = torch.repeat_interleave(out_start[outer[lo:hi]], reps)
            within = torch.arange(len(first)) - torch.repeat_interleave(
                torch.cumsum(reps, 0) - reps, reps
            )
            second = out_sorted[start + within]
            d = torch.hypot(
                (slope[second] - slope[first]) / _SLOPE_SCALE,
                (cot[second] - cot[first]) / _COT_SCALE,
            )
            _scatter_argmin(best_out, arg_out, first, second, d)
            _scatter_argmin(best_in, arg_in, second, first, d)
            lo = hi
        cols = []
        for best, arg, sign in ((best_out, arg_out, 1.0), (best_in, arg_in, -1.0)):
            has = arg >= 0
            partner = arg.clamp(min=0)
            zero = torch.zeros_like(slope)
            d_s = torch.where(has, sign * (slope[partner] - slope) / _SLOPE_SCALE, zero)
            d_c = torch.where(has, sign * (cot[partner] - cot) / _COT_SCALE, zero)
            dist = torch.where(has, torch.log1p(best.clamp(max=1e6)), zero)
            cols += [dist, d_s.clamp(-20, 20) / 10, d_c.clamp(-20, 20) / 10, has.to(slope.dtype)]
        return torch.stack(cols, dim=1)


def _scatter_argmin(
    best: torch.Tensor, arg: torch.Tensor, key: torch.Tensor, other: torch.Tensor, d: torch.Tensor
) -> None:
    """For each ``key`` keep the smallest ``d`` seen so far in ``best`` and its ``other``."""
    if len(key) == 0:
        return
    cand = torch.full_like(best, float("inf")).scatter_reduce(0, key, d, "amin")
    improve = cand < best
    best[improve] = cand[improve]
    # the partner: a pair whose d equals the new minimum of its key
    hit = improve[key] & (d == best[key])
    arg[key[hit]] = other[hit]
