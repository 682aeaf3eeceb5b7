"""The edge models' input front-ends in numpy, for inference without torch.

A float32 twin of :func:`tracklearn.models._features.model_inputs` (the same
formulas, documented there): the exported ONNX network of an edge model starts
*after* the front-end, because the best-continuation search of
``invariant_ctx`` (a data-dependent loop over chunks of edge pairs with a
scatter-argmin) has no ONNX form; the onnxruntime backend computes the
front-end here and feeds the network.  Parity with the torch front-end is
tested (``tests/export``).

Shapes: x (N, 3), edge_index (2, E), edge_attr (E, 4) → (N, F'), (E, D').
"""

from __future__ import annotations

import math

import numpy as np

from tracklearn.errors import ConfigError
from tracklearn.typing import BoolArray, Float32Array, IntArray

#: the same constants as tracklearn.models._features (checked by the parity test)
FEATURE_SETS: dict[str, tuple[int, int]] = {
    "in_paper": (3, 4),
    "invariant": (2, 8),
    "invariant_ctx": (2, 16),
}
_SMALL_DR_M = 0.005
_SLOPE_SCALE = 0.005
_COT_SCALE = 0.01
_PAIR_CHUNK = 4_000_000


def model_inputs_np(
    name: str, x: Float32Array, edge_index: IntArray, edge_attr: Float32Array
) -> tuple[Float32Array, Float32Array]:
    """Node and edge inputs of front-end ``name`` (float32, see the module docstring)."""
    if name not in FEATURE_SETS:
        raise ConfigError(f"unknown edge-model features {name!r}; valid: {sorted(FEATURE_SETS)}")
    x = np.asarray(x, np.float32)
    edge_attr = np.asarray(edge_attr, np.float32)
    if name == "in_paper":
        return x, edge_attr
    r, z = x[:, 0], x[:, 2]
    inner = edge_index[0]
    dr = edge_attr[:, 0]
    dphi = edge_attr[:, 1] * np.float32(math.pi)
    dz = edge_attr[:, 2]
    small = np.abs(dr) < np.float32(_SMALL_DR_M)
    safe_dr = np.where(small, np.float32(1.0), dr)
    zero = np.float32(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z0 = np.clip(
            np.where(small, zero, (z[inner] - r[inner] * dz / safe_dr) / np.float32(0.2)), -5, 5
        )
        slope = np.clip(np.where(small, zero, dphi / safe_dr / np.float32(10.0)), -5, 5)
        cot = np.where(small, zero, np.clip(dz / safe_dr, -20, 20) / np.float32(10.0))
    edges = np.concatenate(
        [edge_attr, np.stack([z0, slope, cot, small.astype(np.float32)], axis=1)], axis=1
    ).astype(np.float32)
    if name == "invariant_ctx":
        ctx = _continuations(edge_index, slope, cot, small, len(x))
        edges = np.concatenate([edges, ctx], axis=1)
    return np.stack([r, z], axis=1).astype(np.float32), edges


def _continuations(edge_index: IntArray, slope: Float32Array, cot: Float32Array, small: BoolArray,
                   n_nodes: int) -> Float32Array:  # fmt: skip
    """Best-continuation features (E, 8): the torch version's pairs, chunks and ties."""
    n_e = edge_index.shape[1]
    e_ok = np.nonzero(~small)[0]
    inner, outer = edge_index[0][e_ok], edge_index[1][e_ok]
    out_sorted = e_ok[np.argsort(inner, kind="stable")]
    out_count = np.bincount(inner, minlength=n_nodes)
    out_start = np.cumsum(out_count) - out_count
    n_pairs = out_count[outer]
    best_out = np.full(n_e, np.inf, np.float32)
    best_in = np.full(n_e, np.inf, np.float32)
    arg_out = np.full(n_e, -1, np.int64)
    arg_in = np.full(n_e, -1, np.int64)
    cum = np.cumsum(n_pairs)
    lo = 0
    while lo < len(e_ok):
        base = int(cum[lo - 1]) if lo else 0
        hi = max(int(np.searchsorted(cum, base + _PAIR_CHUNK, side="right")), lo + 1)
        e_in = e_ok[lo:hi]
        reps = n_pairs[lo:hi]
        first = np.repeat(e_in, reps)
        start = np.repeat(out_start[outer[lo:hi]], reps)
        within = np.arange(len(first)) - np.repeat(np.cumsum(reps) - reps, reps)
        second = out_sorted[start + within]
        d = np.hypot(
            (slope[second] - slope[first]) / np.float32(_SLOPE_SCALE),
            (cot[second] - cot[first]) / np.float32(_COT_SCALE),
        ).astype(np.float32)
        _scatter_argmin(best_out, arg_out, first, second, d)
        _scatter_argmin(best_in, arg_in, second, first, d)
        lo = hi
    cols = []
    for best, arg, sign in ((best_out, arg_out, 1.0), (best_in, arg_in, -1.0)):
        has = arg >= 0
        partner = np.maximum(arg, 0)
        zero = np.zeros_like(slope)
        s = np.float32(sign)
        d_s = np.where(has, s * (slope[partner] - slope) / np.float32(_SLOPE_SCALE), zero)
        d_c = np.where(has, s * (cot[partner] - cot) / np.float32(_COT_SCALE), zero)
        dist = np.where(has, np.log1p(np.minimum(best, np.float32(1e6))), zero)
        ten = np.float32(10)
        cols += [dist, np.clip(d_s, -20, 20) / ten, np.clip(d_c, -20, 20) / ten,
                 has.astype(np.float32)]  # fmt: skip
    return np.stack(cols, axis=1).astype(np.float32)


def _scatter_argmin(
    best: Float32Array, arg: IntArray, key: IntArray, other: IntArray, d: Float32Array
) -> None:
    """For each ``key`` keep the smallest ``d`` seen so far and its ``other`` (in place).

    Among pairs of one chunk with the same minimal ``d`` the last one wins, as
    in the torch version's indexed assignment.
    """
    if len(key) == 0:
        return
    order = np.lexsort((-np.arange(len(key)), d, key))  # by key, then d, then last pair first
    k_sorted = key[order]
    head = np.ones(len(order), bool)
    head[1:] = k_sorted[1:] != k_sorted[:-1]
    sel = order[head]
    k, dmin = key[sel], d[sel]
    improve = dmin < best[k]
    best[k[improve]] = dmin[improve]
    arg[k[improve]] = other[sel][improve]
