"""Geometric graph construction as in the HEP.TrkX / Interaction-Network papers.

Candidate edges join every pair of hits on an allowed (inner layer, outer layer)
pair that passes two cuts (SOURCE.md of the IN-paper graphs):

* ``|dphi / dr| < phi_slope_max`` [rad/mm] (curvature: low-pT tracks bend more);
* ``|z0| < z0_max`` [mm], where ``z0 = z_in - r_in * dz / dr`` is where the
  straight line through both hits meets the beam axis.

Layer sets (TrackML volumes and layers):

* ``pixel_barrel``: the 4 pixel barrel layers ``(8, 2..8)``, pairs (0,1),(1,2),(2,3)
  (the IN "classic" graphs);
* ``pixel``: barrel plus the 7 disks of each pixel endcap (18 layers), pairs as in
  the IN "plus" graphs: adjacent barrel layers, adjacent disks of each endcap
  going outward, and every barrel layer to the innermost disk of each endcap;
* ``all``: every TrackML layer.  Within each subdetector (pixel, short strips,
  long strips) the pairs follow the ``pixel`` rule, and every layer of one
  subdetector connects to the innermost barrel layer and to the innermost disk on
  its side of the next subdetector outward.

Algorithm (vectorised): per layer pair, hits of both layers are sorted by φ;
for each inner hit the outer hits inside the largest φ window the slope cut can
allow (``phi_slope_max * max|dr|``) are found with ``np.searchsorted`` on a copy
of the outer layer extended by ±2π (so windows wrap around φ = ±π), the
candidate pairs are expanded without a Python loop, and the exact cuts applied.
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, Graph
from tracklearn.errors import DataError
from tracklearn.graph.features import edge_features, node_features_from, wrap_phi
from tracklearn.metrics.truth import edge_labels
from tracklearn.typing import FloatArray, IntArray

__all__ = [
    "GeometricConfig",
    "GeometricGraphBuilder",
    "layer_numbers",
    "layer_pairs",
    "layers_of",
    "window_pairs",
]

#: TrackML barrel volumes and their layers, inside out
_BARRELS: dict[int, tuple[int, ...]] = {8: (2, 4, 6, 8), 13: (2, 4, 6, 8), 17: (2, 4)}
#: TrackML endcap volumes and their disks, from the barrel outward in |z|
_ENDCAPS: dict[int, tuple[int, ...]] = {
    7: (14, 12, 10, 8, 6, 4, 2),
    9: (2, 4, 6, 8, 10, 12, 14),
    12: (12, 10, 8, 6, 4, 2),
    14: (2, 4, 6, 8, 10, 12),
    16: (12, 10, 8, 6, 4, 2),
    18: (2, 4, 6, 8, 10, 12),
}
#: subdetectors inside out: (barrel volume, z<0 endcap volume, z>0 endcap volume)
_SUBDETECTORS: tuple[tuple[int, int, int], ...] = ((8, 7, 9), (13, 12, 14), (17, 16, 18))

LayerSet = Literal["pixel_barrel", "pixel", "all"]


def layers_of(layer_set: LayerSet) -> list[tuple[int, int]]:
    """The ``(volume_id, layer_id)`` of each layer of a set; the list index is the layer number.

    >>> layers_of("pixel_barrel")
    [(8, 2), (8, 4), (8, 6), (8, 8)]
    >>> len(layers_of("pixel")), len(layers_of("all"))
    (18, 48)
    """
    subs = _SUBDETECTORS[:1] if layer_set != "all" else _SUBDETECTORS
    out: list[tuple[int, int]] = []
    for barrel, neg, pos in subs:
        out += [(barrel, lay) for lay in _BARRELS[barrel]]
        if layer_set != "pixel_barrel":
            out += [(neg, lay) for lay in _ENDCAPS[neg]]
            out += [(pos, lay) for lay in _ENDCAPS[pos]]
    return out


def layer_pairs(layer_set: LayerSet) -> list[tuple[int, int]]:
    """Allowed (inner, outer) layer-number pairs of a set (see the module docstring).

    >>> layer_pairs("pixel_barrel")
    [(0, 1), (1, 2), (2, 3)]
    >>> len(layer_pairs("pixel"))  # 3 barrel + 2 x 6 disk + 2 x 4 barrel-to-disk
    23
    """
    layers = layers_of(layer_set)
    num = {vl: i for i, vl in enumerate(layers)}
    subs = _SUBDETECTORS[:1] if layer_set != "all" else _SUBDETECTORS
    pairs: list[tuple[int, int]] = []
    for barrel, neg, pos in subs:
        bl = [num[(barrel, lay)] for lay in _BARRELS[barrel]]
        pairs += list(itertools.pairwise(bl))
        if layer_set == "pixel_barrel":
            continue
        for cap in (neg, pos):
            dl = [num[(cap, lay)] for lay in _ENDCAPS[cap]]
            pairs += list(itertools.pairwise(dl))
        for cap in (neg, pos):
            pairs += [(b, num[(cap, _ENDCAPS[cap][0])]) for b in bl]
    if layer_set == "all":
        for (b0, n0, p0), (b1, n1, p1) in itertools.pairwise(_SUBDETECTORS):
            first_b = num[(b1, _BARRELS[b1][0])]
            first_n = num[(n1, _ENDCAPS[n1][0])]
            first_p = num[(p1, _ENDCAPS[p1][0])]
            for lay in _BARRELS[b0]:
                pairs += [(num[(b0, lay)], t) for t in (first_b, first_n, first_p)]
            for lay in _ENDCAPS[n0]:
                pairs += [(num[(n0, lay)], t) for t in (first_b, first_n)]
            for lay in _ENDCAPS[p0]:
                pairs += [(num[(p0, lay)], t) for t in (first_b, first_p)]
    return pairs


def layer_numbers(
    volume_id: npt.ArrayLike, layer_id: npt.ArrayLike, layer_set: LayerSet
) -> IntArray:
    """Layer number of each hit in ``layer_set``, ``-1`` for hits outside the set.

    Shapes
    ------
    inputs ``(N,)``; output ``(N,)`` int64.
    """
    vol = np.asarray(volume_id, dtype=np.int64)
    lay = np.asarray(layer_id, dtype=np.int64)
    layers = layers_of(layer_set)
    keys = np.array([v * 1000 + lay_ for v, lay_ in layers], dtype=np.int64)
    order = np.argsort(keys)
    hit_keys = vol * 1000 + lay
    pos = np.clip(np.searchsorted(keys[order], hit_keys), 0, len(keys) - 1)
    found = keys[order][pos] == hit_keys
    return np.where(found, order[pos], -1).astype(np.int64)


def window_pairs(
    phi_in: FloatArray, phi_out: FloatArray, half_width: FloatArray
) -> tuple[IntArray, IntArray]:
    """All (inner, outer) index pairs with ``|wrap(phi_out - phi_in)| <= half_width``.

    Parameters
    ----------
    phi_in, phi_out
        Azimuths [rad] of the inner and outer hits.
    half_width
        Window half-width [rad] per inner hit (values above π are clipped to π).

    Returns
    -------
    tuple of numpy.ndarray
        Indices into ``phi_in`` and ``phi_out``, each pair once.

    Shapes
    ------
    ``phi_in`` and ``half_width`` ``(A,)``, ``phi_out`` ``(B,)``; outputs ``(K,)``.
    """
    n_out = len(phi_out)
    if len(phi_in) == 0 or n_out == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    order = np.argsort(phi_out, kind="stable")
    sorted_phi = phi_out[order]
    # Extend by ±2π so that a window reaching past ±π continues on the other side;
    # clipping the half-width to π keeps each outer hit at most once per window.
    ext_phi = np.concatenate([sorted_phi - 2 * math.pi, sorted_phi, sorted_phi + 2 * math.pi])
    ext_idx = np.concatenate([order, order, order])
    w = np.minimum(half_width, math.pi * (1 - 1e-12))
    lo = np.searchsorted(ext_phi, phi_in - w, side="left")
    hi = np.searchsorted(ext_phi, phi_in + w, side="right")
    counts = (hi - lo).astype(np.int64)
    total = int(counts.sum())
    inner = np.repeat(np.arange(len(phi_in), dtype=np.int64), counts)
    # position k of the flat output belongs to inner hit inner[k]; its offset within
    # that inner hit's window is k - start[inner[k]]
    start = np.cumsum(counts) - counts
    offset = np.arange(total, dtype=np.int64) - np.repeat(start, counts)
    outer = ext_idx[np.repeat(lo, counts) + offset]
    return inner, outer.astype(np.int64)


class GeometricConfig(BaseModel):
    """Settings of :class:`GeometricGraphBuilder` (defaults: the IN 1 GeV "plus" graphs).

    Attributes
    ----------
    layer_set
        ``"pixel_barrel"``, ``"pixel"`` or ``"all"`` (see the module docstring).
    phi_slope_max
        Largest ``|dphi / dr|`` [rad/mm].
    z0_max
        Largest ``|z0|`` [mm].
    truth_pt_min
        If set, keep only hits of particles with pT > this [GeV] and one hit per
        (particle, layer), the one with the smallest r: the idealised hit
        filtering of the IN paper (needs truth).  None uses every hit.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    layer_set: LayerSet = "pixel"
    phi_slope_max: float = Field(0.0006, gt=0)  # rad/mm
    z0_max: float = Field(15000.0, gt=0)  # mm
    truth_pt_min: float | None = Field(None, ge=0)  # GeV


class GeometricGraphBuilder:
    """Build IN-style candidate-edge graphs: ``builder(event) -> Graph``.

    Nodes are the hits on the configured layers (after the optional truth filter),
    in hit-row order; ``hit_index`` maps them back to the event.  Node features are
    :func:`tracklearn.graph.features.node_features`, edge features
    :func:`tracklearn.graph.features.edge_features`, and ``y`` the same-particle
    label when the event has truth.

    Shapes
    ------
    ``Graph.x`` ``(N, 3)``, ``edge_index`` ``(2, E)`` inner → outer,
    ``edge_attr`` ``(E, 4)``, ``y`` ``(E,)``.
    """

    def __init__(self, config: GeometricConfig | None = None) -> None:
        self.config = config or GeometricConfig()
        self._pairs = layer_pairs(self.config.layer_set)

    def select_hits(self, event: Event) -> tuple[IntArray, IntArray]:
        """Hit rows used as nodes and their layer numbers, shapes ``(N,)`` each."""
        h = event.hits
        layer = layer_numbers(h.volume_id, h.layer_id, self.config.layer_set)
        keep = layer >= 0
        pt_min = self.config.truth_pt_min
        if pt_min is not None:
            if event.truth is None or event.particles is None:
                raise DataError(event.source, "truth_pt_min needs truth and particles")
            p = event.particles
            pt = np.hypot(p.px, p.py)
            fast = np.sort(p.particle_id[pt > pt_min])
            pid = event.truth.particle_id
            if len(fast):
                pos = np.clip(np.searchsorted(fast, pid), 0, len(fast) - 1)
                keep &= fast[pos] == pid
            else:
                keep[:] = False
            # one hit per (particle, layer): the one with the smallest r
            rows = np.flatnonzero(keep)
            order = np.lexsort((h.r[rows], layer[rows], pid[rows]))
            rows = rows[order]
            key_p, key_l = pid[rows], layer[rows]
            first = np.ones(len(rows), dtype=bool)
            first[1:] = (key_p[1:] != key_p[:-1]) | (key_l[1:] != key_l[:-1])
            keep = np.zeros_like(keep)
            keep[rows[first]] = True
        rows = np.flatnonzero(keep).astype(np.int64)
        return rows, layer[rows]

    def candidate_edges(
        self, r: FloatArray, phi: FloatArray, z: FloatArray, layer: IntArray
    ) -> IntArray:
        """Edges (node indices, inner → outer) passing the cuts, shape ``(2, E)``.

        ``r`` [mm], ``phi`` [rad], ``z`` [mm] and ``layer`` (layer numbers) are per node.
        """
        cfg = self.config
        by_layer = np.argsort(layer, kind="stable")
        bounds = np.searchsorted(layer[by_layer], np.arange(layer.max() + 2 if len(layer) else 1))
        chunks: list[IntArray] = []
        for a, b in self._pairs:
            if b + 1 >= len(bounds) or a + 1 >= len(bounds):
                continue
            ia = by_layer[bounds[a] : bounds[a + 1]]
            ib = by_layer[bounds[b] : bounds[b + 1]]
            if len(ia) == 0 or len(ib) == 0:
                continue
            rb_lo, rb_hi = r[ib].min(), r[ib].max()
            max_dr = np.maximum(np.abs(rb_hi - r[ia]), np.abs(rb_lo - r[ia]))
            ka, kb = window_pairs(phi[ia], phi[ib], cfg.phi_slope_max * max_dr)
            src, dst = ia[ka], ib[kb]
            dr = r[dst] - r[src]
            dphi = wrap_phi(phi[dst] - phi[src])
            dz = z[dst] - z[src]
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = np.where(dr != 0, dphi / np.where(dr != 0, dr, 1.0), np.inf)
                z0 = z[src] - r[src] * np.where(dr != 0, dz / np.where(dr != 0, dr, 1.0), np.inf)
            ok = (np.abs(slope) < cfg.phi_slope_max) & (np.abs(z0) < cfg.z0_max)
            chunks.append(np.stack([src[ok], dst[ok]]))
        if not chunks:
            return np.zeros((2, 0), dtype=np.int64)
        return np.concatenate(chunks, axis=1).astype(np.int64)

    def __call__(self, event: Event) -> Graph:
        rows, layer = self.select_hits(event)
        h = event.hits
        r, phi, z = h.r[rows], h.phi[rows], h.z[rows]
        edges = self.candidate_edges(r, phi, z, layer)
        x = node_features_from(r, phi, z)
        y = edge_labels(event, rows[edges]) if event.truth is not None else None
        return Graph(
            hit_index=rows,
            x=x,
            edge_index=edges,
            edge_attr=edge_features(x, edges),
            y=y,
            event_id=event.event_id,
        )
