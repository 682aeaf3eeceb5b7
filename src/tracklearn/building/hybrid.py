"""Track building that trusts clean high-score components and resolves the rest by layer.

Connected components (:class:`~tracklearn.building.ComponentsBuilder`) keep the
overlap hits of a particle (two or three hits on one layer from overlapping
modules) together, which a one-hit-per-layer path would split; but one wrong
edge merges two particles.  This builder combines both:

1. **Layer clusters.**  Hits of one layer joined by same-layer edges scoring
   ≥ ``threshold`` form one cluster (the overlap hits of one particle).
2. **Clean components.**  Components of the edges scoring ≥ ``threshold`` in
   which every layer holds a single cluster are accepted as they are.  A
   component with two clusters on one layer holds two particles (or a branch).
3. **Units.**  Every clean component is one unit; every cluster of the other
   hits (those of unclean components and hits without a kept edge) is a unit.
4. **Greedy joining.**  Edges between two units scoring ≥ ``extend_threshold``
   are taken in decreasing score.  An edge ``a → b`` joins the chain ending with
   the unit of ``a`` to the chain starting with the unit of ``b`` when ``a`` is a
   tail of its unit (no cross-layer edge ≥ ``threshold`` from ``a`` to another hit
   of its unit), ``b`` is a head of its unit (likewise, no such edge into ``b``),
   and the two chains share no layer.  So a chain grows only at its two ends:
   two particles crossing are told apart by the score, a split track is joined
   again, and a layer is never taken twice.  An edge scoring below ``threshold``
   joins only when one of the two chains already spans ``extend_min_layers``
   layers: the low cut completes tracks, it does not make new ones out of scraps
   (on the validation events, pieces of particles just below 1 GeV made that way
   were most of the fakes).

Each final chain of units is a track.  The joining is union-find over units
with one Python step per candidate edge (those between different units only:
a few ten thousand in a mu = 200 event).

Shapes: ``layer`` (n_hits,), one code per detector layer of each hit of the event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.building.base import labels_to_tracks
from tracklearn.building.components import connected_component_labels
from tracklearn.building.registry import register_track_builder
from tracklearn.edm import Graph, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.typing import IntArray


def _dense(labels: IntArray) -> tuple[IntArray, int]:
    """Relabel to 0..K-1 in increasing label order; returns the labels and K."""
    uniq, inv = np.unique(labels, return_inverse=True)
    return inv.astype(np.int64), len(uniq)


def clean_component_mask(
    component: IntArray, cluster: IntArray, node_layer: IntArray
) -> npt.NDArray[np.bool_]:
    """Per node: does its component hold exactly one cluster on every layer it touches?

    Shapes: all (N,) → (N,).  A component is clean when its number of distinct
    (component, layer) pairs equals its number of distinct (component, cluster)
    pairs (clusters never span layers).

    >>> comp = np.array([0, 0, 0, 1, 1, 1])
    >>> clus = np.array([0, 1, 1, 2, 3, 4])  # component 1 has two clusters on layer 5
    >>> lay = np.array([4, 5, 5, 4, 5, 5])
    >>> clean_component_mask(comp, clus, lay).tolist()
    [True, True, True, False, False, False]
    """
    if len(component) == 0:
        return np.zeros(0, dtype=bool)
    _, layer_id = np.unique(node_layer, return_inverse=True)
    n_comp = int(component.max()) + 1
    pair_layer = np.unique(component * (int(layer_id.max()) + 1) + layer_id)
    pair_cluster = np.unique(component * (int(cluster.max()) + 1) + cluster)
    n_layers = np.bincount(pair_layer // (int(layer_id.max()) + 1), minlength=n_comp)
    n_clusters = np.bincount(pair_cluster // (int(cluster.max()) + 1), minlength=n_comp)
    clean: npt.NDArray[np.bool_] = (n_layers == n_clusters)[component]
    return clean


def join_units(
    unit: IntArray,
    edge_index: IntArray,
    scores: npt.NDArray[np.floating],
    node_layer: IntArray,
    threshold: float,
    inner_threshold: float,
    extend_min_layers: int = 0,
) -> IntArray:
    """Greedy joining of units into chains (step 4 of the module doc); chain label per node.

    Parameters
    ----------
    unit
        (N,) unit of each node, 0..U-1.
    edge_index
        (2, E) inner → outer.
    scores
        (E,) edge scores; only edges ≥ ``threshold`` between different units compete.
    node_layer
        (N,) layer code of each node.
    threshold
        Score an edge needs to join two chains.
    inner_threshold
        Score of the edges inside a unit that decide its heads and tails; an edge
        below it joins only when one side spans ``extend_min_layers`` layers.
    extend_min_layers
        See ``inner_threshold``.

    Returns
    -------
    numpy.ndarray
        int64 (N,): the root unit of each node's chain.
    """
    n_units = int(unit.max()) + 1 if len(unit) else 0
    parent = np.arange(n_units)
    # first and last unit of the chain each root stands for
    head_unit = np.arange(n_units)
    tail_unit = np.arange(n_units)
    layers: list[set[int]] = [set() for _ in range(n_units)]
    for u, lay in zip(unit.tolist(), node_layer.tolist(), strict=True):
        layers[u].add(lay)
    ua, ub = unit[edge_index[0]], unit[edge_index[1]]
    # a chain grows only at its ends: an edge must leave a tail hit (no cross-layer
    # edge ≥ inner_threshold to a later hit of its own unit) and enter a head hit
    inner = (ua == ub) & (scores >= inner_threshold)
    inner &= node_layer[edge_index[0]] != node_layer[edge_index[1]]
    is_tail = np.ones(len(unit), dtype=bool)
    is_head = np.ones(len(unit), dtype=bool)
    is_tail[edge_index[0][inner]] = False
    is_head[edge_index[1][inner]] = False
    cand = np.flatnonzero(
        (scores >= threshold) & (ua != ub) & is_tail[edge_index[0]] & is_head[edge_index[1]]
    )
    # decreasing score; ties by edge index (deterministic)
    cand = cand[np.lexsort((cand, -scores[cand]))]

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:  # path compression
            parent[x], x = root, int(parent[x])
        return root

    weak = (scores[cand] < inner_threshold).tolist()
    for a, b, w in zip(ua[cand].tolist(), ub[cand].tolist(), weak, strict=True):
        ra, rb = find(a), find(b)
        if w and max(len(layers[ra]), len(layers[rb])) < extend_min_layers:
            continue
        if ra == rb or tail_unit[ra] != a or head_unit[rb] != b:
            continue  # joins only the last unit of one chain to the first of another
        if not layers[ra].isdisjoint(layers[rb]):
            continue
        # the joined chain starts where ra's started and ends where rb's ended
        small, big = (ra, rb) if len(layers[ra]) < len(layers[rb]) else (rb, ra)
        parent[small] = big
        layers[big] |= layers[small]
        layers[small] = set()
        head_unit[big], tail_unit[big] = head_unit[ra], tail_unit[rb]
    roots = np.array([find(u) for u in range(n_units)], dtype=np.int64)
    out: IntArray = roots[unit] if n_units else np.zeros(0, dtype=np.int64)
    return out


@register_track_builder("hybrid")
@dataclass(frozen=True)
class HybridBuilder:
    """Clean components at ``threshold``; the rest joined by layer-aware greedy chains.

    See the module docstring.  Needs the layer of every hit (``layer``).
    """

    threshold: float = 0.95
    min_hits: int = 3
    extend_threshold: float | None = None  # None: the same as ``threshold``
    extend_min_layers: int = 0  # joining below ``threshold`` needs a chain this long

    def __call__(
        self,
        graph: Graph,
        scores: npt.NDArray[np.floating],
        n_hits: int,
        layer: npt.NDArray[np.int64] | None = None,
    ) -> TrackCandidates:
        source = f"graph of event {graph.event_id}"
        if layer is None or np.shape(layer) != (n_hits,):
            raise DataError(source, f"hybrid building needs the layers of the {n_hits} hits")
        if graph.n_nodes and graph.hit_index.min() < 0:
            raise DataError(source, "hybrid building needs hit rows (hit_index >= 0)")
        node_layer = np.asarray(layer, dtype=np.int64)[graph.hit_index]
        ei = graph.edge_index
        keep = scores >= self.threshold
        same_layer = node_layer[ei[0]] == node_layer[ei[1]]
        cluster = connected_component_labels(graph.n_nodes, ei, keep & same_layer)
        component = connected_component_labels(graph.n_nodes, ei, keep)
        clean = clean_component_mask(component, cluster, node_layer)
        # a clean component is one unit; elsewhere each cluster is one
        unit, _ = _dense(np.where(clean, component, graph.n_nodes + cluster))
        extend = self.threshold if self.extend_threshold is None else self.extend_threshold
        labels = join_units(
            unit, ei, scores, node_layer, extend, self.threshold, self.extend_min_layers
        )
        return labels_to_tracks(graph, labels, n_hits, self.min_hits)
