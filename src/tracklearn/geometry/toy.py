"""Toy detectors of the HEP.TrkX studies and a muon g-2 style straw station.

* :class:`PixelToyGeometry`: ``L`` planar layers, each a regular grid of pixels
  (a line of ``P`` pixels for *toy2d*, a ``32 × 32`` plane for *toy3d*).
  Positions are in **pixel units** (a pixel ``i`` covers ``[i, i + 1)``) and
  the layer index is the depth coordinate; no physical unit is involved.
* :class:`CylinderToyGeometry`: concentric layers whose pixel count grows with
  radius (variable-size layers); each layer is mapped onto a fixed-size
  embedding of ``E`` bins in φ so that a model sees a ``(L, E)`` image.
* :class:`G2Geometry`: ``n_modules × layers_per_module`` planar straw layers
  along z, each a row of straws measuring x [mm]; odd layers are staggered by
  half a pitch.

All functions are pure and vectorised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tracklearn.typing import FloatArray, IntArray


@dataclass(frozen=True)
class PixelToyGeometry:
    """``n_layers`` planes of ``pixels`` (one int per transverse axis).

    Attributes
    ----------
    n_layers
        Number of layers ``L`` (depth, the sequence axis of the LSTMs).
    pixels
        Pixels per transverse axis: ``(50,)`` for toy2d, ``(32, 32)`` for toy3d.
    """

    n_layers: int = 10
    pixels: tuple[int, ...] = (50,)

    def __post_init__(self) -> None:
        if self.n_layers < 2 or not self.pixels or min(self.pixels) < 1:
            raise ValueError(f"bad toy geometry: {self.n_layers} layers, pixels {self.pixels}")

    @property
    def n_cells(self) -> int:
        """Pixels per layer (product of ``pixels``)."""
        return math.prod(self.pixels)

    @property
    def shape(self) -> tuple[int, ...]:
        """Image shape ``(L, *pixels)``."""
        return (self.n_layers, *self.pixels)


def straight_track_cells(
    geometry: PixelToyGeometry, entry: FloatArray, exit_: FloatArray
) -> IntArray:
    """Flat pixel index hit on every layer by straight tracks.

    A track goes from ``entry`` (its transverse position on layer 0) to
    ``exit_`` (on layer ``L - 1``); on layer ``l`` it sits at
    ``entry + (exit_ - entry) * l / (L - 1)`` and hits pixel ``floor(position)``
    on each axis.  Layers where it is outside the grid get ``-1``.

    Shapes: ``entry``, ``exit_`` (T, A) [pixel units, A = len(pixels)];
    returns (T, L) flat indices in ``[0, n_cells)`` or -1.

    >>> g = PixelToyGeometry(4, (10,))
    >>> straight_track_cells(g, np.array([[2.5]]), np.array([[5.5]])).tolist()
    [[2, 3, 4, 5]]
    """
    entry = np.asarray(entry, dtype=np.float64)
    exit_ = np.asarray(exit_, dtype=np.float64)
    frac = np.arange(geometry.n_layers) / (geometry.n_layers - 1)  # (L,)
    pos = entry[:, None, :] + (exit_ - entry)[:, None, :] * frac[None, :, None]  # (T, L, A)
    idx = np.floor(pos).astype(np.int64)
    dims = np.asarray(geometry.pixels)
    inside = np.all((idx >= 0) & (idx < dims), axis=-1)
    flat = np.zeros(idx.shape[:2], dtype=np.int64)
    for axis, size in enumerate(geometry.pixels):  # row-major ravel over the few axes
        flat = flat * size + np.clip(idx[..., axis], 0, size - 1)
    out: IntArray = np.where(inside, flat, -1)
    return out


@dataclass(frozen=True)
class CylinderToyGeometry:
    """Concentric layers of increasing size, embedded into ``embedding`` φ bins.

    Layer ``l`` (radius ``l + 1`` in layer units) has
    ``round(pixels_inner * (l + 1))`` pixels in φ, so outer layers are finer.
    """

    n_layers: int = 10
    pixels_inner: int = 8
    embedding: int = 64

    @property
    def layer_pixels(self) -> IntArray:
        """Pixels of each layer. Shapes: (L,)."""
        out: IntArray = np.round(self.pixels_inner * (np.arange(self.n_layers) + 1.0)).astype(
            np.int64
        )
        return out


def embed_layer_index(pixel: IntArray, layer_pixels: IntArray, embedding: int) -> IntArray:
    """Map pixel ``i`` of an ``n``-pixel layer to bin ``floor(i * E / n)`` of an E-bin embedding.

    Both cover φ ∈ [0, 2π) uniformly, so a bin holds the pixels whose lower
    φ edge falls in it (several pixels share a bin when ``n > E``; a pixel
    covers ``E / n`` bins but is written to the first one).

    Shapes: ``pixel`` and ``layer_pixels`` broadcast together; same shape returned.

    >>> embed_layer_index(np.array([0, 3, 7]), np.array([8, 8, 16]), 4).tolist()
    [0, 1, 1]
    """
    out: IntArray = (np.asarray(pixel) * embedding) // np.asarray(layer_pixels)
    return out


def cylinder_track_pixels(
    geometry: CylinderToyGeometry, phi0: FloatArray, curvature: FloatArray
) -> IntArray:
    """Pixel hit on every layer by tracks ``φ(r) = φ0 + curvature · r`` (r = l + 1).

    Shapes: ``phi0`` [rad], ``curvature`` [rad per layer unit] (T,); returns (T, L).
    """
    r = np.arange(geometry.n_layers) + 1.0
    phi = np.mod(np.asarray(phi0)[:, None] + np.asarray(curvature)[:, None] * r, 2 * np.pi)
    n = geometry.layer_pixels[None, :]
    out: IntArray = np.minimum(np.floor(phi / (2 * np.pi) * n).astype(np.int64), n - 1)
    return out


@dataclass(frozen=True)
class G2Geometry:
    """A straw station: ``n_modules`` modules of ``layers_per_module`` straw layers.

    Layer ``k = module * layers_per_module + j`` sits at
    ``z = module * module_spacing + j * layer_spacing`` [mm]; its straws are
    centred at ``x = (s + 0.5) * pitch + stagger`` [mm] for ``s`` in
    ``[0, n_straws)``, with ``stagger = pitch / 2`` on odd ``j``.
    """

    n_modules: int = 8
    layers_per_module: int = 4
    n_straws: int = 32
    pitch: float = 5.0  # mm
    module_spacing: float = 60.0  # mm
    layer_spacing: float = 6.0  # mm

    @property
    def n_layers(self) -> int:
        return self.n_modules * self.layers_per_module

    @property
    def layer_z(self) -> FloatArray:
        """z of every layer [mm]. Shapes: (L,)."""
        k = np.arange(self.n_layers)
        z: FloatArray = (k // self.layers_per_module) * self.module_spacing + (
            k % self.layers_per_module
        ) * self.layer_spacing
        return z

    @property
    def layer_offset(self) -> FloatArray:
        """Stagger of every layer [mm]. Shapes: (L,)."""
        j = np.arange(self.n_layers) % self.layers_per_module
        out: FloatArray = ((j % 2) * (self.pitch / 2)).astype(np.float64)
        return out

    def straw_of(self, x: FloatArray, layer: IntArray) -> IntArray:
        """Straw index at ``x`` [mm] on ``layer``; -1 outside. Shapes: broadcast."""
        s = np.floor((np.asarray(x) - self.layer_offset[layer]) / self.pitch).astype(np.int64)
        out: IntArray = np.where((s >= 0) & (s < self.n_straws), s, -1)
        return out


def time_islands(t: FloatArray, window: float = 100.0) -> IntArray:
    """Group hit times into islands of at most ``window`` [ns].

    Hits are taken in time order; an island starts at its first hit and holds
    every later hit with ``t < t_first + window``; the next hit opens the next
    island.  Islands are numbered 0, 1, ... in time order.

    Shapes: ``t`` (H,) [ns]; returns (H,) island index per hit (input order).

    >>> time_islands(np.array([150.0, 0.0, 99.0, 50.0, 300.0, 260.0])).tolist()
    [1, 0, 0, 0, 2, 2]
    """
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros(len(t), dtype=np.int64)
    if len(t) == 0:
        return out
    order = np.argsort(t, kind="stable")
    ts = t[order]
    island = np.empty(len(ts), dtype=np.int64)
    # the start of the next island depends on the previous one, so this is a
    # scan; it jumps island to island with searchsorted (O(islands · log H))
    start, k = 0, 0
    while start < len(ts):
        stop = int(np.searchsorted(ts, ts[start] + window, side="left"))
        island[start:stop] = k
        start, k = stop, k + 1
    out[order] = island
    return out
