"""Training of the metric-learning hit embedding (stage ``embedding``).

For every training event: positive pairs (true consecutive segments of particles above
``pt_min``), random negatives and pairs mined among each hit's nearest embedded
neighbours, labelled by truth, with the hinge loss of
:func:`tracklearn.graph.metric_learning.hinge_loss`; validation measures the edge
efficiency and purity of the graph the embedding builds
(:class:`~tracklearn.graph.metric_learning.MetricLearningGraphBuilder`, which loads the
``best.pt`` written here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn import units as u
from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.graph.metric_learning import (
    MetricLearningConfig,
    MetricLearningGraphBuilder,
    hinge_loss,
    hit_features,
    n_features,
)
from tracklearn.metrics.truth import true_segments
from tracklearn.models.embedding_mlp import EmbeddingMLP
from tracklearn.training.loop import TrainConfig, train
from tracklearn.typing import IntArray

__all__ = ["EmbeddingStageConfig", "run_embedding_stage"]


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
    model = EmbeddingMLP(n_features(bcfg.use_cells), **bcfg.model.model_dump())

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
