"""Pattern (road) look-up muon trigger for strip-chamber images: the classical baseline.

What hardware muon triggers do (CMS CSC/GEM "pattern units"): a fixed bank of
straight-line patterns, each a strip offset per layer relative to a *key*
strip; for every key strip and pattern count the layers with a fired strip
inside the road; keep the best (most layers) and mark the fired strips in its
road as the muon.

* Patterns: slopes ``-max_slope … +max_slope`` strips per layer in steps of
  ``slope_step``; layer ``l`` of a pattern is offset by
  ``round(slope · (l − (L − 1) / 2))`` strips from the key strip (the key sits
  midway through the chamber).  Straighter patterns are tried first and win ties.
* A road is ``± road_halfwidth`` strips around the pattern's strip in every
  layer.  Score = 10 × (layers with a fired strip in the road) + (layers with a
  fired strip exactly on the pattern), so better-aligned candidates win among
  equal layer counts.
* Muons may cross a partition boundary: candidates are searched in every single
  partition and every pair of neighbouring partitions (hits OR-ed).
* The trigger fires when the best candidate has ``≥ min_layers`` layers; its
  fired voxels inside the road are the output.

Vectorised over images, partition windows and key strips; the only loop is over
the patterns (25 by default).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.typing import BoolArray, IntArray


class RoadConfig(BaseModel):
    """Settings of :class:`RoadTrigger`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_slope: float = Field(3.0, ge=0)  # strips per layer
    slope_step: float = Field(0.25, gt=0)  # strips per layer
    road_halfwidth: int = Field(1, ge=0)  # strips
    min_layers: int = Field(4, ge=1)
    partition_pairs: bool = True  # also search pairs of neighbouring partitions


def _dilate(x: BoolArray, w: int) -> BoolArray:
    """OR of ``x`` shifted by ``-w … +w`` along the last axis (zero-padded)."""
    out = x.copy()
    for d in range(1, w + 1):
        out[..., d:] |= x[..., :-d]
        out[..., :-d] |= x[..., d:]
    return out


class RoadTrigger:
    """Callable: hits ``(N, L, P, S)`` bool → voxels assigned to the muon, same shape."""

    def __init__(self, config: RoadConfig | None = None) -> None:
        self.config = config or RoadConfig()
        c = self.config
        n_half = int(np.floor(c.max_slope / c.slope_step + 1e-9))
        slopes = np.arange(-n_half, n_half + 1) * c.slope_step
        self.slopes = slopes[np.argsort(np.abs(slopes), kind="stable")]  # straightest first

    def offsets(self, n_layers: int) -> IntArray:
        """Strip offset of every pattern on every layer, shape (K, L)."""
        rel = np.arange(n_layers) - (n_layers - 1) / 2.0
        return np.round(self.slopes[:, None] * rel[None, :]).astype(np.int64)

    def windows(self, n_partitions: int) -> IntArray:
        """Partitions ``(first, last)`` of every search window, shape (W, 2)."""
        single = np.stack([np.arange(n_partitions)] * 2, axis=1)
        if not self.config.partition_pairs or n_partitions < 2:
            return single
        pairs = np.stack([np.arange(n_partitions - 1), np.arange(1, n_partitions)], axis=1)
        return np.concatenate([single, pairs])

    def __call__(self, hits: BoolArray) -> BoolArray:
        hits = np.asarray(hits, dtype=bool)
        n, n_layers, n_parts, n_strips = hits.shape
        c = self.config
        offsets = self.offsets(n_layers)
        win = self.windows(n_parts)
        # hits of each window: (N, L, W, S)
        wh = hits[:, :, win[:, 0], :] | hits[:, :, win[:, 1], :]
        pad = int(np.abs(offsets).max()) + c.road_halfwidth
        # per voxel 10 (a fired strip within the road) + 1 (a fired strip on the pattern)
        cell = 10 * _dilate(wh, c.road_halfwidth).astype(np.int8) + wh.astype(np.int8)
        cell = np.pad(cell, [(0, 0)] * 3 + [(pad, pad)])
        best = np.full((n, len(win), n_strips), -1, np.int8)
        best_k = np.zeros((n, len(win), n_strips), np.int8)
        score = np.empty((n, len(win), n_strips), np.int8)
        for k, off in enumerate(offsets):
            score[...] = cell[:, 0, :, pad + off[0] : pad + off[0] + n_strips]
            for layer in range(1, n_layers):
                lo = pad + off[layer]
                score += cell[:, layer, :, lo : lo + n_strips]
            better = score > best
            np.copyto(best, score, where=better)
            best_k[better] = k
        flat = best.reshape(n, -1)
        arg = np.argmax(flat, axis=1)  # first maximum: the lowest window, then the lowest strip
        top = flat[np.arange(n), arg]
        fired = top // 10 >= c.min_layers
        w_idx, key = np.divmod(arg, n_strips)
        k_idx = best_k.reshape(n, -1)[np.arange(n), arg].astype(np.int64)
        # road of the winner on every layer: strips key + offset ± halfwidth
        span = np.arange(-c.road_halfwidth, c.road_halfwidth + 1)
        strips = key[:, None, None] + offsets[k_idx][:, :, None] + span[None, None, :]  # (N, L, R)
        inside = (strips >= 0) & (strips < n_strips) & fired[:, None, None]
        road = np.zeros_like(hits)
        img = np.broadcast_to(np.arange(n)[:, None, None], strips.shape)
        lay = np.broadcast_to(np.arange(n_layers)[None, :, None], strips.shape)
        for side in (0, 1):
            part = np.broadcast_to(win[w_idx, side][:, None, None], strips.shape)
            road[img[inside], lay[inside], part[inside], strips[inside]] = True
        return road & hits
