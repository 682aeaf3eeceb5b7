"""Training stages ``filter`` and ``edge_classifier`` (``tracklearn train STAGE``).

Both train an edge model with class-weighted binary cross-entropy on graphs built
from a folder of simulated events, through :func:`tracklearn.training.loop.train`
(seeded, atomic resumable checkpoints, early stopping, curves), then choose the
decision threshold on the validation events and write a model folder
(:class:`~tracklearn.models.edge_model.EdgeModel`).

* ``filter``: an MLP that sees edges one by one; every batch is
  ``graphs_per_batch`` random samples of ``edges_per_step`` edges of one graph
  each, and the threshold is the highest one keeping ``target_efficiency`` of
  the true validation edges.
* ``edge_classifier``: a message-passing model on whole graphs (or φ sectors),
  ``graphs_per_batch`` of them per batch;
  optionally on graphs thinned by a trained filter first; the threshold
  maximises F1 (the balance of edge efficiency and purity) on validation.  Its
  output folder is a complete ``gnn`` model: ``pipeline.json`` names the graph
  builder, the filter (copied to ``filter/``) and the track building.

Every graph is converted to a :class:`torch_geometric.data.Data` and put through
the model's front-end (:class:`~tracklearn.models.feature_transform.FeatureTransform`)
once, before the epochs; batches are made by ``torch_geometric.loader.DataLoader``
(graphs side by side in one disconnected graph, the loss the mean over its edges).
With the default ``graphs_per_batch: 1`` a batch is one graph (or edge sample), as
before batching existed: the same losses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from tracklearn.building.spec import BuildingSpec, GNNPipelineSpec
from tracklearn.config import validate
from tracklearn.edm import Graph
from tracklearn.graph.subgraph import filter_edges
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.metrics.edges import label_metrics
from tracklearn.models.adapter import edge_subset, to_data, to_numpy
from tracklearn.models.edge_model import EdgeModel
from tracklearn.models.feature_transform import FeatureTransform
from tracklearn.models.registry import get_model
from tracklearn.provenance import provenance
from tracklearn.report import progress_bar
from tracklearn.training.distributed import is_main_process, main_process_first
from tracklearn.training.graph_data import (
    GraphDataConfig,
    build_graphs,
    sector_graphs,
    split_events,
)
from tracklearn.training.loop import TrainConfig, load_checkpoint, train
from tracklearn.training.stages import register_stage

log = logging.getLogger(__name__)


class ModelSpec(BaseModel):
    """A registered model name and its constructor arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kwargs: dict[str, Any] = Field(default_factory=dict)


class FilterStageConfig(BaseModel):
    """Config of ``tracklearn train filter``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: GraphDataConfig = Field(default_factory=GraphDataConfig)
    model: ModelSpec = ModelSpec(name="filter_mlp")
    train: TrainConfig = Field(default_factory=TrainConfig)
    pos_weight: float | None = Field(None, gt=0)  # None: negatives / positives in training
    target_efficiency: float = Field(0.99, gt=0, le=1)  # of true validation edges kept
    edges_per_step: int = Field(200_000, ge=1)  # edges of one graph per sample
    steps_per_epoch: int = Field(20, ge=1)  # batches per epoch
    graphs_per_batch: int = Field(1, ge=1)  # edge samples (of one graph each) per batch


class EdgeClassifierStageConfig(BaseModel):
    """Config of ``tracklearn train edge_classifier``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: GraphDataConfig = Field(default_factory=GraphDataConfig)
    model: ModelSpec = ModelSpec(name="interaction_network")
    train: TrainConfig = Field(default_factory=TrainConfig)
    pos_weight: float | None = Field(None, gt=0)
    filter_model: str | None = None  # folder of a trained filter applied before training
    graphs_per_batch: int = Field(1, ge=1)  # graphs (or φ sectors) per training batch
    building: BuildingSpec = Field(default_factory=BuildingSpec)


# --------------------------------------------------------------------------- helpers


def _pos_weight(graphs: list[Graph], given: float | None) -> float:
    if given is not None:
        return given
    pos = sum(float(g.y.sum()) for g in graphs if g.y is not None)
    total = sum(g.n_edges for g in graphs)
    return max(total - pos, 1.0) / max(pos, 1.0)


def _inputs(graphs: list[Graph], model: torch.nn.Module) -> list[Data]:
    """The model's inputs of every graph: converted and transformed once, before the epochs."""
    transform = FeatureTransform.of(model)
    return [transform(to_data(g)) for g in graphs]


class EdgeSamples(torch.utils.data.IterableDataset[Data]):
    """``n_samples`` random edge samples: each ``edges_per_sample`` edges of one random graph.

    Edges are independent for a filter, so a sample keeps every node of its graph
    and a random subset of its edges (their features were computed on the whole
    graph, as at inference).  Drawn lazily with ``gen``, in the order a
    ``DataLoader`` batches them.
    """

    def __init__(
        self, graphs: list[Data], n_samples: int, edges_per_sample: int, gen: torch.Generator
    ) -> None:
        self.graphs, self.n_samples, self.edges_per_sample = graphs, n_samples, edges_per_sample
        self.gen = gen

    def __iter__(self) -> Iterator[Data]:
        for _ in range(self.n_samples):
            t = self.graphs[int(torch.randint(len(self.graphs), (1,), generator=self.gen))]
            n = min(self.edges_per_sample, t.num_edges)
            idx = torch.randperm(t.num_edges, generator=self.gen)[:n]
            keep = torch.zeros(t.num_edges, dtype=torch.bool)
            keep[idx] = True
            yield edge_subset(t, keep)


def _loss(model: torch.nn.Module, t: Data, pos_weight: torch.Tensor) -> torch.Tensor:
    assert t.y is not None
    logits = model(t.x, t.edge_index, t.edge_attr)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, t.y, pos_weight=pos_weight)


def threshold_for_efficiency(
    y: npt.NDArray[np.floating], scores: npt.NDArray[np.floating], efficiency: float
) -> float:
    """Highest threshold that keeps at least ``efficiency`` of the true edges."""
    s = np.sort(scores[y > 0.5])
    if len(s) == 0:
        return 0.5
    k = int(np.floor((1.0 - efficiency) * len(s)))
    return float(s[min(k, len(s) - 1)])


def threshold_max_f1(y: npt.NDArray[np.floating], scores: npt.NDArray[np.floating]) -> float:
    """Threshold maximising F1 = 2·eff·purity / (eff + purity), scanned on a 0.01 grid."""
    grid = np.linspace(0.05, 0.95, 91)
    true = y > 0.5
    n_true = max(int(true.sum()), 1)
    best, best_t = -1.0, 0.5
    for t in grid:
        kept = scores >= t
        tp = np.count_nonzero(true & kept)
        f1 = 2 * tp / (n_true + max(int(kept.sum()), 1))
        if f1 > best:
            best, best_t = f1, float(t)
    return best_t


def _model_scores(model: torch.nn.Module, graphs: list[Data]) -> np.ndarray:
    out = [to_numpy(torch.sigmoid(model(t.x, t.edge_index, t.edge_attr))) for t in graphs]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _labels(graphs: list[Data]) -> np.ndarray:
    return np.concatenate([to_numpy(t.y) for t in graphs if t.y is not None])


def _load_graphs(cfg: GraphDataConfig, data: Path, out: Path) -> tuple[list[Graph], list[Graph]]:
    """Training and validation graphs, cut into sectors one event at a time (bounded memory)."""
    train_p, val_p = split_events(data, cfg)
    cache = out / "cache"
    rng = np.random.default_rng(cfg.seed)
    parts: tuple[list[Graph], list[Graph]] = ([], [])
    with progress_bar("build graphs", len(train_p) + len(val_p)) as advance:
        for prefixes, dest in ((train_p, parts[0]), (val_p, parts[1])):
            for prefix in prefixes:
                (g,) = build_graphs([prefix], cfg, cache, advance)
                dest.extend(sector_graphs(g, cfg.sectors, cfg.sectors_per_event, rng))
    return parts


def _fit(
    model: torch.nn.Module,
    batches: Any,
    val: list[Data],
    pos_weight: float,
    train_cfg: TrainConfig,
    out: Path,
    resume: bool,
    stored: dict[str, Any],
) -> torch.nn.Module:
    pw = torch.tensor(pos_weight)

    def step(m: torch.nn.Module, t: Data) -> torch.Tensor:
        return _loss(m, t, pw)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        loss = float(np.mean([float(_loss(m, t, pw)) for t in val]))
        met = label_metrics(_labels(val), _model_scores(m, val), 0.5)
        return {"val_loss": loss, "val_eff": met["edge_efficiency"], "val_pur": met["edge_purity"]}

    with progress_bar("train epochs", train_cfg.epochs) as advance:
        history = train(
            model,
            step,
            batches,
            evaluate,
            train_cfg,
            out,
            resume=resume,
            stored_config=stored,
            progress=lambda _e, _r: advance(),
        )
    log.info("best epoch %d (%s %.4g)", history.best_epoch, train_cfg.monitor, history.best_value)
    model.load_state_dict(load_checkpoint(out / "best.pt")["model"])
    model.eval()
    return model


# --------------------------------------------------------------------------- stages


@register_stage(
    "filter",
    distributed=True,
    summary="gnn: edge filter MLP (configs/gnn/filter.yaml; needs a module map)",
)
def train_filter(config: dict[str, Any], data: Path, out: Path, resume: bool) -> dict[str, float]:
    """Train the edge filter; write ``model.json`` + ``weights.pt`` into ``out``."""
    cfg = validate(FilterStageConfig, config, "filter config")
    with main_process_first():  # rank 0 fills the graph cache, the others read it
        tr_graphs, va_graphs = _load_graphs(cfg.data, data, out)
    pos_weight = _pos_weight(tr_graphs, cfg.pos_weight)
    model = get_model(cfg.model.name, **cfg.model.kwargs)
    train_t, val_t = _inputs(tr_graphs, model), _inputs(va_graphs, model)

    def batches(epoch: int, gen: torch.Generator) -> Iterable[Batch]:
        samples = EdgeSamples(
            train_t, cfg.steps_per_epoch * cfg.graphs_per_batch, cfg.edges_per_step, gen
        )
        return DataLoader(samples, batch_size=cfg.graphs_per_batch)

    stored = {"stage": "filter", **cfg.model_dump(mode="json")}
    model = _fit(model, batches, val_t, pos_weight, cfg.train, out, resume, stored)
    if not is_main_process():  # --nproc: rank 0 chooses the threshold and writes the model
        return {}
    with torch.no_grad():
        y, s = _labels(val_t), _model_scores(model, val_t)
    thr = threshold_for_efficiency(y, s, cfg.target_efficiency)
    metrics = label_metrics(y, s, thr)
    metrics["kept_fraction"] = float(np.mean(s >= thr)) if len(s) else float("nan")
    info = {
        "stage": "filter",
        "val_metrics": metrics,
        "pos_weight": pos_weight,
        "data": cfg.data.model_dump(mode="json"),
        "provenance": provenance(),
    }
    EdgeModel(model, cfg.model.name, cfg.model.kwargs, thr, info).save(out)
    return {"threshold": thr, **metrics}


#: builder settings that name a file the builder reads (module map, embedding checkpoint)
BUILDER_FILE_KEYS: tuple[str, ...] = ("path", "checkpoint")


def bundle_builder_files(builder_config: dict[str, Any], out: Path) -> dict[str, Any]:
    """Copy the files a graph builder reads into ``out``; return the config naming the copies.

    A module map travels with its ``.json`` sidecar.  The returned paths are
    relative to ``out``, so the model folder is self-contained and movable (the
    ``gnn`` method resolves them against the folder).
    """
    import shutil

    bundled = dict(builder_config)
    for key in BUILDER_FILE_KEYS:
        if key not in bundled:
            continue
        src = Path(bundled[key])
        if not src.is_absolute() and (out / src).exists():
            continue  # already inside the folder
        for f in (src, src.with_suffix(".json")):
            if f.exists():
                with atomic_path(out / f.name) as tmp:
                    shutil.copyfile(f, tmp)
        bundled[key] = src.name
    return bundled


def _apply_filter(graphs: list[Graph], flt: EdgeModel) -> list[Graph]:
    return [filter_edges(g, flt) for g in graphs]


@register_stage(
    "edge_classifier",
    distributed=True,
    summary="gnn: edge classifier, --out is a gnn model (configs/gnn/edge_classifier.yaml)",
)
def train_edge_classifier(
    config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    """Train the edge classifier; ``out`` becomes a complete ``gnn`` model folder."""
    cfg = validate(EdgeClassifierStageConfig, config, "edge_classifier config")
    with main_process_first():  # rank 0 fills the graph cache, the others read it
        tr_graphs, va_graphs = _load_graphs(cfg.data, data, out)
    flt = None
    if cfg.filter_model is not None:
        flt = EdgeModel.load(cfg.filter_model)
        torch.set_num_threads(cfg.train.threads)
        tr_graphs, va_graphs = _apply_filter(tr_graphs, flt), _apply_filter(va_graphs, flt)
    pos_weight = _pos_weight(tr_graphs, cfg.pos_weight)
    model = get_model(cfg.model.name, **cfg.model.kwargs)
    train_t, val_t = _inputs(tr_graphs, model), _inputs(va_graphs, model)

    def batches(epoch: int, gen: torch.Generator) -> Iterable[Batch]:
        order = torch.randperm(len(train_t), generator=gen).tolist()
        return DataLoader([train_t[i] for i in order], batch_size=cfg.graphs_per_batch)

    stored = {"stage": "edge_classifier", **cfg.model_dump(mode="json")}
    model = _fit(model, batches, val_t, pos_weight, cfg.train, out, resume, stored)
    if not is_main_process():  # --nproc: rank 0 chooses the threshold and writes the model
        return {}
    with torch.no_grad():
        y, s = _labels(val_t), _model_scores(model, val_t)
    thr = threshold_max_f1(y, s)
    metrics = label_metrics(y, s, thr)
    info = {
        "stage": "edge_classifier",
        "val_metrics": metrics,
        "pos_weight": pos_weight,
        "data": cfg.data.model_dump(mode="json"),
        "provenance": provenance(),
    }
    EdgeModel(model, cfg.model.name, cfg.model.kwargs, thr, info).save(out)
    if flt is not None:
        flt.save(out / "filter")  # the model folder is self-contained
    pipeline = GNNPipelineSpec(
        builder=cfg.data.builder,
        builder_config=bundle_builder_files(cfg.data.builder_config, out),
        filter="filter" if flt is not None else None,
        classifier=".",
        building=cfg.building,
    )
    write_text_atomic(out / "pipeline.json", pipeline.model_dump_json(indent=2) + "\n")
    return {"threshold": thr, **metrics}
