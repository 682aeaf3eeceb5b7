"""Hits of one event sorted into a (φ, t) grid per layer, for window queries.

On a barrel layer ``t`` is z, on a disk it is r.  Hits are reordered so that
each layer's hits are contiguous and, within a layer, sorted by grid cell; a
window query then visits a handful of cells and reads contiguous hit ranges.
Cells are sized for about :data:`HITS_PER_CELL` hits and a square shape in
(r·φ, t), so that the cost of a query scales with the window's area.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

from tracklearn.edm import Hits
from tracklearn.fullspectrum.layers import LayerTable
from tracklearn.typing import FloatArray, IntArray

HITS_PER_CELL = 4.0
TWO_PI = 2.0 * np.pi


class HitGrid(NamedTuple):
    """Hits sorted by (layer, φ cell, t cell), with their grid (a tuple, so that the
    compiled kernels take it as one argument).

    Attributes
    ----------
    x, y, z, r, phi : float64, shape (N,)
        Coordinates of the sorted hits [mm, rad]; φ in [-π, π).
    layer : int32, shape (N,)
        Layer index (row of the :class:`LayerTable`).
    module : int64, shape (N,)
        Module id within the layer (hits on one module never belong to one track twice).
    row : int64, shape (N,)
        Row of each sorted hit in the event's hits table.
    layer_start : int64, shape (L + 1,)
        Sorted hits of layer ``k`` are ``layer_start[k]:layer_start[k + 1]``.
    n_phi, n_t : int64, shape (L,)
        Grid size of each layer.
    t_lo, t_step : float64, shape (L,)
        Lower edge and width of the t cells [mm].
    cell_start : int64, shape (L,)
        First cell of each layer in ``cell_ptr``.
    cell_ptr : int64, shape (C + 1,)
        Sorted hits of cell ``c`` are ``cell_ptr[c]:cell_ptr[c + 1]``.
    """

    x: FloatArray
    y: FloatArray
    z: FloatArray
    r: FloatArray
    phi: FloatArray
    layer: npt.NDArray[np.int32]
    module: IntArray
    row: IntArray
    layer_start: IntArray
    n_phi: IntArray
    n_t: IntArray
    t_lo: FloatArray
    t_step: FloatArray
    cell_start: IntArray
    cell_ptr: IntArray

    @property
    def n_hits(self) -> int:
        return len(self.x)


def build_grid(hits: Hits, layer: npt.NDArray[np.int32], table: LayerTable) -> HitGrid:
    """Sort ``hits`` into per-layer (φ, t) grids.

    Parameters
    ----------
    hits
        The event's hits.
    layer : int32, shape (N,)
        Layer index of every hit (:meth:`LayerTable.index_of`).
    table
        The layers.
    """
    n_layers = len(table)
    x, y, z = hits.x, hits.y, hits.z
    r = np.hypot(x, y)
    phi = np.arctan2(y, x)
    phi = np.where(phi >= np.pi, phi - TWO_PI, phi)
    t = np.where(table.barrel[layer], z, r)
    counts = np.bincount(layer, minlength=n_layers).astype(np.float64)
    extent = table.t_max - table.t_min
    # mean radius of the layer's area, for square cells in (r·φ, t)
    radius = np.where(table.barrel, table.position, 0.5 * (table.t_min + table.t_max))
    n_cells = np.maximum(counts / HITS_PER_CELL, 1.0)
    n_phi = np.clip(np.rint(np.sqrt(n_cells * TWO_PI * radius / extent)), 1, 4096).astype(np.int64)
    n_t = np.clip(np.rint(n_cells / n_phi), 1, 4096).astype(np.int64)
    t_step = extent / n_t
    cell_start = np.concatenate([[0], np.cumsum(n_phi * n_t)]).astype(np.int64)
    lay = layer.astype(np.int64)
    i_phi = np.minimum(((phi + np.pi) / TWO_PI * n_phi[lay]).astype(np.int64), n_phi[lay] - 1)
    i_t = np.clip(((t - table.t_min[lay]) / t_step[lay]).astype(np.int64), 0, n_t[lay] - 1)
    cell = cell_start[lay] + i_phi * n_t[lay] + i_t
    order = np.argsort(cell, kind="stable")
    cell_ptr = np.zeros(cell_start[-1] + 1, np.int64)
    np.cumsum(np.bincount(cell, minlength=int(cell_start[-1])), out=cell_ptr[1:])
    layer_start = np.zeros(n_layers + 1, np.int64)
    np.cumsum(counts.astype(np.int64), out=layer_start[1:])
    return HitGrid(
        x=np.ascontiguousarray(x[order]),
        y=np.ascontiguousarray(y[order]),
        z=np.ascontiguousarray(z[order]),
        r=np.ascontiguousarray(r[order]),
        phi=np.ascontiguousarray(phi[order]),
        layer=np.ascontiguousarray(layer[order]).astype(np.int32),
        module=np.ascontiguousarray(hits.module_id[order]).astype(np.int64),
        row=order.astype(np.int64),
        layer_start=layer_start,
        n_phi=n_phi,
        n_t=n_t,
        t_lo=table.t_min.astype(np.float64),
        t_step=t_step.astype(np.float64),
        cell_start=cell_start,
        cell_ptr=cell_ptr,
    )


@nb.njit(cache=True, nogil=True)
def cell_ranges(
    lay: int,
    phi_lo: float,
    phi_hi: float,
    t_lo: float,
    t_hi: float,
    grid: HitGrid,
    out: IntArray,
) -> int:
    """Hit ranges of the cells overlapping a (φ, t) window on layer ``lay``.

    ``phi_lo`` may be below -π and ``phi_hi`` above π (the window wraps).
    Writes ``(begin, end)`` pairs into ``out`` (shape (K, 2)) and returns
    their number; stops when ``out`` is full.
    """
    n_phi, n_t, cell_start, cell_ptr = grid.n_phi, grid.n_t, grid.cell_start, grid.cell_ptr
    grid_t_lo, t_step = grid.t_lo, grid.t_step
    nphi = n_phi[lay]
    nt = n_t[lay]
    if phi_hi - phi_lo >= 2.0 * np.pi:
        a0, a1 = 0, nphi - 1
    else:
        a0 = int(np.floor((phi_lo + np.pi) / (2.0 * np.pi) * nphi))
        a1 = int(np.floor((phi_hi + np.pi) / (2.0 * np.pi) * nphi))
    b0 = int(np.floor((t_lo - grid_t_lo[lay]) / t_step[lay]))
    b1 = int(np.floor((t_hi - grid_t_lo[lay]) / t_step[lay]))
    if b0 < 0:
        b0 = 0
    if b1 > nt - 1:
        b1 = nt - 1
    k = 0
    if b1 < b0:
        return 0
    base = cell_start[lay]
    for a in range(a0, a1 + 1):
        aa = a % nphi
        c0 = base + aa * nt + b0
        c1 = base + aa * nt + b1
        # cells of one φ row are contiguous: one range per row
        if k < out.shape[0]:
            out[k, 0] = cell_ptr[c0]
            out[k, 1] = cell_ptr[c1 + 1]
            k += 1
    return k
