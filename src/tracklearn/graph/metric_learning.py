"""Metric-learning graph construction: embed hits, connect neighbours in the embedding.

An :class:`~tracklearn.models.embedding_mlp.EmbeddingMLP` maps each hit's
features (:func:`hit_features`) to a point in a low-dimensional space, trained
with a hinge loss so that consecutive hits of one particle are close and other
pairs are at least ``margin`` apart (:func:`hinge_loss`).  The graph joins every
pair of hits closer than ``radius`` in the embedding (at most ``k_max``
neighbours per hit; :func:`radius_pairs`, scipy cKDTree or faiss), and each edge
is oriented inner → outer by the distance of the hits from the origin,
``sqrt(r² + z²)`` (the radius in the barrel and, in effect, |z| in the endcaps).

Training (stage ``embedding``, :func:`run_embedding_stage`): for every training
event, the positive pairs are true segments of particles with pT ≥ ``pt_min``;
the negatives are random hit pairs plus *hard* pairs mined from the current
embedding (nearest neighbours of a sample of hits, labelled by truth).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn import units as u
from tracklearn.edm import Event, Graph
from tracklearn.errors import DataError
from tracklearn.graph.assemble import event_graph
from tracklearn.graph.features import R_SCALE, Z_SCALE
from tracklearn.metrics.truth import true_segments
from tracklearn.models.embedding_mlp import EmbeddingMLP
from tracklearn.training.loop import TrainConfig, load_checkpoint, train
from tracklearn.typing import IntArray

__all__ = [
    "EmbeddingModelConfig",
    "EmbeddingStageConfig",
    "MetricLearningConfig",
    "MetricLearningGraphBuilder",
    "hinge_loss",
    "hit_features",
    "orient_pairs",
    "radius_pairs",
    "run_embedding_stage",
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


def _n_features(use_cells: bool) -> int:
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
        ckpt = load_checkpoint(path)
        stage = EmbeddingStageConfig(**ckpt["config"]["embedding"])
        cfg = stage.builder.model_copy(update=overrides)
        model = EmbeddingMLP(_n_features(cfg.use_cells), **cfg.model.model_dump())
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


class EmbeddingStageConfig(BaseModel):
    """Config of ``tracklearn train embedding`` (``configs/gnn/embedding.yaml``).

    Attributes
    ----------
    builder
        Graph-building settings stored with the model.
    train
        Loop settings (epochs, lr, seed, ...).
    pt_min
        Positive pairs: true segments of particles with pT ≥ this [GeV].
    margin
        Hinge margin (embedding units).
    max_positives
        Positive pairs sampled per event and epoch.
    batch_pairs
        Pairs per optimiser step (the pairs of an event are split into mini-batches).
    random_negatives
        Random negative pairs per positive.
    hard_hits
        Hits whose ``hard_k`` nearest embedded neighbours are added as mined pairs.
    val_events
        Last events (sorted by name) held out for validation.
    max_events
        Use at most this many training events (None: all).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    builder: MetricLearningConfig = MetricLearningConfig()
    train: TrainConfig = TrainConfig(epochs=8, lr=3e-3, patience=3, threads=1)
    pt_min: float = Field(0.5, ge=0)  # GeV
    margin: float = Field(0.1, gt=0)
    max_positives: int = Field(20000, ge=1)
    batch_pairs: int = Field(4096, ge=1)
    random_negatives: float = Field(2.0, ge=0)
    hard_hits: int = Field(2000, ge=0)
    hard_k: int = Field(8, ge=1)
    val_events: int = Field(1, ge=1)
    max_events: int | None = Field(None, ge=1)


@dataclass(frozen=True)
class _EventData:
    feats: torch.Tensor
    positives: IntArray
    pid: npt.NDArray[np.int64]
    event: Event


def _prepare(event: Event, cfg: EmbeddingStageConfig) -> _EventData:
    if event.truth is None:
        raise DataError(event.source, "training the embedding needs truth")
    seg = true_segments(event, pt_min=cfg.pt_min * u.GeV)
    feats = torch.from_numpy(hit_features(event, cfg.builder.use_cells))
    return _EventData(feats, seg, event.truth.particle_id, event)


def _sample_pairs(
    model: torch.nn.Module, data: _EventData, cfg: EmbeddingStageConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Positives, random negatives and mined pairs of one event, labelled by truth."""
    n = len(data.pid)
    pos = data.positives
    if pos.shape[1] > cfg.max_positives:
        pos = pos[:, rng.choice(pos.shape[1], cfg.max_positives, replace=False)]
    n_rand = int(cfg.random_negatives * pos.shape[1])
    rand = rng.integers(0, n, size=(2, n_rand))
    parts = [pos, rand]
    if cfg.hard_hits:
        with torch.no_grad():
            emb = model(data.feats).numpy()
        from scipy.spatial import cKDTree

        query = rng.choice(n, min(cfg.hard_hits, n), replace=False)
        k = min(cfg.hard_k + 1, n)
        _, nn = cKDTree(emb).query(emb[query], k=k)
        parts.append(np.stack([np.repeat(query, k), np.asarray(nn).reshape(-1)]))
    pairs = np.concatenate(parts, axis=1).astype(np.int64)
    pairs = pairs[:, pairs[0] != pairs[1]]
    a, b = data.pid[pairs[0]], data.pid[pairs[1]]
    y = ((a == b) & (a != 0)).astype(np.float32)
    return torch.from_numpy(pairs), torch.from_numpy(y)


def _read(prefixes: Sequence[Path]) -> Iterator[Event]:
    from tracklearn.io.trackml import read_event

    for p in prefixes:
        yield read_event(p)


def run_embedding_stage(
    config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    """``tracklearn train embedding``: train the hit embedding on the events in ``data``.

    Writes the :func:`~tracklearn.training.loop.train` outputs to ``out``
    (``best.pt`` is what :meth:`MetricLearningGraphBuilder.from_checkpoint` loads)
    and returns the last validation metrics: ``val_loss``,
    ``val_edge_efficiency``, ``val_edge_purity``, ``val_edges``.
    """
    from tracklearn.io.trackml import find_events
    from tracklearn.metrics.edges import edge_metrics

    cfg = EmbeddingStageConfig(**config)
    prefixes = sorted(find_events([data]))
    if len(prefixes) <= cfg.val_events:
        raise DataError(data, f"need more than {cfg.val_events} events to train and validate")
    train_p = prefixes[: len(prefixes) - cfg.val_events]
    if cfg.max_events is not None:
        train_p = train_p[: cfg.max_events]
    val_p = prefixes[len(prefixes) - cfg.val_events :]
    train_data = [_prepare(ev, cfg) for ev in _read(train_p)]
    val_data = [_prepare(ev, cfg) for ev in _read(val_p)]
    bcfg = cfg.builder
    model = EmbeddingMLP(_n_features(bcfg.use_cells), **bcfg.model.model_dump())

    def epoch_batches(epoch: int, gen: torch.Generator) -> Iterator[tuple[_EventData, Any]]:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
        rng = np.random.default_rng(seed)
        for i in rng.permutation(len(train_data)):
            d = train_data[i]
            model.eval()  # mining reads the current embedding
            pairs, y = _sample_pairs(model, d, cfg, rng)
            model.train()
            order = torch.from_numpy(rng.permutation(pairs.shape[1]))
            for chunk in torch.split(order, cfg.batch_pairs):
                yield d, (pairs[:, chunk], y[chunk])

    def step(m: torch.nn.Module, batch: tuple[_EventData, Any]) -> torch.Tensor:
        d, (pairs, y) = batch
        # embed only the hits of this mini-batch
        hits, local = torch.unique(pairs, return_inverse=True)
        return hinge_loss(m(d.feats[hits]), local, y, cfg.margin)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        rng = np.random.default_rng(cfg.train.seed)
        losses, kept, segs, edges, true = [], 0, 0, 0, 0
        builder = MetricLearningGraphBuilder(m, bcfg)  # type: ignore[arg-type]
        for d in val_data:
            pairs, y = _sample_pairs(m, d, cfg, rng)
            losses.append(float(hinge_loss(m(d.feats), pairs, y, cfg.margin)))
            em = edge_metrics(d.event, builder.candidate_edges(d.event))
            kept += em.n_target_segments_kept
            segs += em.n_target_segments
            edges += em.n_edges
            true += em.n_true_edges
        return {
            "val_loss": float(np.mean(losses)),
            "val_edge_efficiency": kept / segs if segs else float("nan"),
            "val_edge_purity": true / edges if edges else float("nan"),
            "val_edges": edges / len(val_data),
        }

    history = train(
        model,
        step,
        epoch_batches,
        evaluate,
        cfg.train,
        out,
        resume=resume,
        stored_config={"embedding": json.loads(cfg.model_dump_json())},
    )
    last = history.rows[-1] if history.rows else {}
    return {k: float(v) for k, v in last.items() if k.startswith("val_")}
