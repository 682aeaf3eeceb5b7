"""Metric-learning graph construction: embed hits, connect neighbours in the embedding.

An :class:`~tracklearn.models.embedding_mlp.EmbeddingMLP` maps each hit's
features (:func:`hit_features`) to a point in a low-dimensional space, trained
with a hinge loss so that consecutive hits of one particle are close and other
pairs are at least ``margin`` apart (:func:`hinge_loss`).  The graph joins every
pair of hits closer than ``radius`` in the embedding (at most ``k_max``
neighbours per hit; :func:`radius_pairs`, scipy cKDTree or faiss), and each edge
is oriented inner → outer by the distance of the hits from the origin,
``sqrt(r² + z²)`` (the radius in the barrel and, in effect, |z| in the endcaps).

Training (stage ``embedding``, :mod:`tracklearn.training.embedding`): for every
training event, the positive pairs are true segments of particles with pT ≥ ``pt_min``;
the negatives are random hit pairs plus *hard* pairs mined from the current
embedding (nearest neighbours of a sample of hits, labelled by truth).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, Graph
from tracklearn.errors import DataError
from tracklearn.graph.assemble import event_graph
from tracklearn.graph.features import R_SCALE, Z_SCALE
from tracklearn.models.embedding_mlp import EmbeddingMLP
from tracklearn.typing import IntArray

__all__ = [
    "EmbeddingModelConfig",
    "MetricLearningConfig",
    "MetricLearningGraphBuilder",
    "hinge_loss",
    "hit_features",
    "n_features",
    "orient_pairs",
    "radius_pairs",
]

log = logging.getLogger(__name__)

#: cells per hit are divided by this (typical pixel clusters have a few cells)
CELL_COUNT_SCALE: float = 10.0
#: cluster extent in channels is divided by this
CELL_SPAN_SCALE: float = 10.0
N_POSITION_FEATURES = 4  # r/m, cos(phi), sin(phi), z/m
N_CELL_FEATURES = 4  # cells, ch0 span, ch1 span, total value


def hit_features(event: Event, use_cells: bool = True) -> npt.NDArray[np.float32]:
    """Embedding inputs of every hit.

    Columns: ``r / 1 m``, ``cos φ``, ``sin φ`` (continuous across φ = ±π),
    ``z / 1 m``; with ``use_cells`` also the cluster's cell count / 10, its extent
    in ch0 and ch1 channels / 10 and its total value (as in TrackML, arbitrary units).

    Shapes
    ------
    output ``(N, 4)`` or ``(N, 8)`` float32, row ``i`` for hit row ``i``.
    """
    h = event.hits
    phi = h.phi
    cols = [h.r / R_SCALE, np.cos(phi), np.sin(phi), h.z / Z_SCALE]
    if use_cells:
        if event.cells is None:
            raise DataError(event.source, "the embedding model uses cells but the event has none")
        c = event.cells
        n = event.n_hits
        rows = event.hit_rows(c.hit_id)
        count = np.bincount(rows, minlength=n).astype(np.float64)
        value = np.bincount(rows, weights=c.value.astype(np.float64), minlength=n)
        spans = []
        for ch in (c.ch0, c.ch1):
            hi = np.full(n, -np.inf)
            lo = np.full(n, np.inf)
            np.maximum.at(hi, rows, ch.astype(np.float64))
            np.minimum.at(lo, rows, ch.astype(np.float64))
            spans.append(np.where(count > 0, hi - lo + 1, 0.0) / CELL_SPAN_SCALE)
        cols += [count / CELL_COUNT_SCALE, spans[0], spans[1], value]
    return np.stack(cols, axis=1).astype(np.float32)


def radius_pairs(
    points: npt.NDArray[np.floating],
    radius: float,
    k_max: int = 64,
    backend: Literal["kdtree", "faiss"] = "kdtree",
) -> IntArray:
    """All pairs of points closer than ``radius``, each once as ``(i, j)`` with ``i < j``.

    Each point contributes its at most ``k_max`` nearest neighbours within the
    radius; the union over both ends makes the result symmetric (a pair is kept
    if either point lists the other), and complete whenever no point has more
    than ``k_max`` neighbours in the radius.

    Parameters
    ----------
    points
        Points (embedding units).
    radius
        Largest distance (exclusive), same units.
    k_max
        Neighbours searched per point.
    backend
        ``"kdtree"`` (scipy cKDTree) or ``"faiss"`` (exact IndexFlatL2).

    Shapes
    ------
    ``points`` ``(N, D)``; output ``(2, E)`` int64, sorted by ``(i, j)``.
    """
    pts = np.ascontiguousarray(points, dtype=np.float32)
    n = len(pts)
    k = min(k_max + 1, n)  # +1: each point finds itself
    if n < 2 or k < 2:
        return np.zeros((2, 0), dtype=np.int64)
    if backend == "faiss":
        import faiss

        index = faiss.IndexFlatL2(pts.shape[1])
        index.add(pts)
        d2, nn = index.search(pts, k)
        ok = (nn >= 0) & (d2 < radius**2)
    elif backend == "kdtree":
        from scipy.spatial import cKDTree

        d, nn = cKDTree(pts).query(pts, k=k, distance_upper_bound=radius)
        ok = (nn < n) & (d < radius)
    else:
        raise ValueError(f"unknown backend {backend!r}; valid: faiss, kdtree")
    i = np.repeat(np.arange(n, dtype=np.int64), k).reshape(n, k)[ok]
    j = nn[ok].astype(np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keys = np.unique(lo[lo != hi] * n + hi[lo != hi])
    return np.stack([keys // n, keys % n]).astype(np.int64)


def orient_pairs(
    pairs: IntArray, r: npt.NDArray[np.float64], z: npt.NDArray[np.float64]
) -> IntArray:
    """Orient pairs inner → outer by ``sqrt(r² + z²)`` [mm] of each hit.

    Shapes
    ------
    ``pairs`` ``(2, E)``, ``r, z`` ``(N,)``; output ``(2, E)``.
    """
    dist = np.hypot(r, z)
    swap = dist[pairs[0]] > dist[pairs[1]]
    return np.where(swap, pairs[::-1], pairs).astype(np.int64)


def hinge_loss(
    emb: torch.Tensor, pairs: torch.Tensor, y: torch.Tensor, margin: float
) -> torch.Tensor:
    """Contrastive hinge loss: ``d²`` for true pairs, ``relu(margin − d)²`` for false ones.

    Shapes
    ------
    ``emb`` ``(N, D)``, ``pairs`` ``(2, K)`` int64, ``y`` ``(K,)`` (1 = same particle).
    """
    d = torch.linalg.vector_norm(emb[pairs[0]] - emb[pairs[1]], dim=1)
    pos = y * d**2
    neg = (1 - y) * torch.relu(margin - d) ** 2
    return (pos + neg).mean()


class EmbeddingModelConfig(BaseModel):
    """Shape of the :class:`~tracklearn.models.embedding_mlp.EmbeddingMLP`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: int = Field(64, ge=1)
    n_layers: int = Field(3, ge=1)
    out_dim: int = Field(8, ge=1)


class MetricLearningConfig(BaseModel):
    """How the graph is built from the embedding.

    Attributes
    ----------
    radius
        Largest embedding distance of an edge (embedding units).
    k_max
        Neighbours searched per hit.
    backend
        ``"kdtree"`` or ``"faiss"``.
    use_cells
        Cell-shape features as model inputs (must match training).
    model
        Model shape.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    radius: float = Field(0.1, gt=0)
    k_max: int = Field(32, ge=1)
    backend: Literal["kdtree", "faiss"] = "kdtree"
    use_cells: bool = True
    model: EmbeddingModelConfig = EmbeddingModelConfig()


def n_features(use_cells: bool) -> int:
    return N_POSITION_FEATURES + (N_CELL_FEATURES if use_cells else 0)


class MetricLearningGraphBuilder:
    """``builder(event) -> Graph`` with edges between hits close in the embedding.

    Every hit is a node; node features :func:`~tracklearn.graph.features.node_features`,
    edge features :func:`~tracklearn.graph.features.edge_features`, ``y`` the
    same-particle label when the event has truth.

    Shapes
    ------
    ``Graph.x`` ``(N, 3)``, ``edge_index`` ``(2, E)`` inner → outer, ``edge_attr`` ``(E, 4)``.
    """

    def __init__(self, model: EmbeddingMLP, config: MetricLearningConfig) -> None:
        self.model = model.eval()
        self.config = config

    @classmethod
    def from_checkpoint(cls, path: str | Path, **overrides: Any) -> MetricLearningGraphBuilder:
        """Load ``best.pt`` of the ``embedding`` stage; ``overrides`` change builder fields."""
        ckpt = torch.load(Path(path), map_location="cpu", weights_only=False)
        stored = MetricLearningConfig(**ckpt["config"]["embedding"].get("builder", {}))
        cfg = stored.model_copy(update=overrides)
        model = EmbeddingMLP(n_features(cfg.use_cells), **cfg.model.model_dump())
        model.load_state_dict(ckpt["model"])
        return cls(model, cfg)

    def embed(self, event: Event) -> npt.NDArray[np.float32]:
        """Embedding of every hit, shape ``(N, out_dim)``."""
        feats = torch.from_numpy(hit_features(event, self.config.use_cells))
        with torch.no_grad():
            out: npt.NDArray[np.float32] = self.model(feats).numpy()
        return out

    def candidate_edges(self, event: Event) -> IntArray:
        """Edges (hit rows, inner → outer), shape ``(2, E)``."""
        cfg = self.config
        pairs = radius_pairs(self.embed(event), cfg.radius, cfg.k_max, cfg.backend)
        return orient_pairs(pairs, event.hits.r, event.hits.z)

    def __call__(self, event: Event) -> Graph:
        return event_graph(event, self.candidate_edges(event))
