"""The ``gnn`` reconstruction method: graph builder → (filter) → edge classifier → track building.

With ``mc_samples > 0`` the edge classifier runs that many times with MC
dropout (:mod:`tracklearn.models.mc_dropout`): tracks are built from the mean
score, edges whose spread exceeds ``max_score_std`` are dropped first, and the
tracks carry the scored edges (written by ``reconstruct`` as
``event<id>-edge-scores.parquet`` with ``score_std`` and
``event<id>-track-scores.csv``; :mod:`tracklearn.io.scores`).  MC dropout needs
the torch backend (an ONNX export has no dropout to sample).

Track building is any registered builder (``building``: ``components``,
``walkthrough``, ``hybrid``; :mod:`tracklearn.building`).  Candidates can then be
selected by the number of detector layers they cross (``min_layers``) or by a
circle-fit pT (``pt_min``; :mod:`tracklearn.building.selection`): pieces of slow
particles that the classifier joined would otherwise count as fakes.

A model folder (``--model``; default: the weights shipped in
``tracklearn/models/default``) holds ``pipeline.json`` (graph builder and its
config, the filter folder or null, track building), the classifier
(``model.json`` + ``weights.pt``) and ``provenance.json``.  Torch is imported
only when the method is built, so listing methods stays light; with
``backend: onnxruntime`` the folder is an export (``tracklearn export``) and its
ONNX networks run in onnxruntime, with no torch import at all.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.building import TrackBuilder, make_track_builder
from tracklearn.building.selection import estimate_pt, n_layers_per_track, select_tracks
from tracklearn.building.spec import GNNPipelineSpec
from tracklearn.datapaths import DEFAULT_MODEL
from tracklearn.edm import Event, ScoredEdges, TrackCandidates, layer_key
from tracklearn.errors import ConfigError
from tracklearn.graph.builders import make_builder
from tracklearn.graph.subgraph import filter_edges
from tracklearn.methods import register_method

log = logging.getLogger(__name__)


class GNNConfig(BaseModel):
    """Settings of the ``gnn`` method; None keeps what the model folder says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None  # model folder; None = the shipped default
    threshold: float | None = Field(None, ge=0, le=1)  # classifier edge-score cut
    building: str | None = None  # a registered track builder (tracklearn.building)
    extend_threshold: float | None = Field(None, ge=0, le=1)  # hybrid: joining cut
    extend_min_layers: int | None = Field(None, ge=0)  # hybrid: chains that may grow
    min_hits: int | None = Field(None, ge=1)
    min_layers: int | None = Field(None, ge=0)  # track selection: distinct layers
    pt_min: float | None = Field(None, ge=0)  # GeV: track selection by circle-fit pT
    threads: int = Field(2, ge=1)  # torch threads (2 cores; use 1 per worker with --workers)
    mc_samples: int = Field(0, ge=0)  # MC-dropout samples of the edge classifier (0: off)
    mc_dropout: float | None = Field(None, ge=0, lt=1)  # rate; None: the model's own dropout
    mc_seed: int = 0  # seed of the dropout masks
    max_score_std: float | None = Field(None, gt=0)  # drop edges with a larger MC spread
    save_edge_scores: bool = False  # attach the scored edges even without MC dropout
    # onnxruntime: run the networks of an exported folder (tracklearn export) without torch
    backend: Literal["torch", "onnxruntime"] = "torch"
    precision: Literal["fp32", "int8"] = "fp32"  # onnxruntime: the exported network to run


class GNNReconstructor:
    """Event → track candidates with a trained model folder (see the module docstring)."""

    def __init__(self, config: GNNConfig) -> None:
        if config.mc_samples and config.backend == "onnxruntime":
            raise ConfigError(
                "mc_samples (MC dropout) needs backend torch: an ONNX export runs the network "
                "in eval mode, without dropout; drop --mc-samples or use --backend torch"
            )
        if config.max_score_std is not None and not config.mc_samples:
            raise ConfigError("max_score_std needs mc_samples > 0 (MC-dropout spreads)")
        load: Any
        if config.backend == "onnxruntime":  # no torch import on this path
            from tracklearn.export.runtime import OrtEdgeModel

            def load(f: Path) -> OrtEdgeModel:
                return OrtEdgeModel.load(f, config.precision, config.threads)
        else:
            import torch

            from tracklearn.models.edge_model import EdgeModel

            torch.set_num_threads(config.threads)
            load = EdgeModel.load
        self.config = config
        folder = Path(config.model) if config.model else DEFAULT_MODEL
        spec_path = folder / "pipeline.json"
        spec = GNNPipelineSpec.load(folder)
        self.folder = folder
        self.graph_builder = make_builder(spec.builder, spec.builder_config_in(folder))
        self.filter = load(folder / spec.filter) if spec.filter else None
        self.classifier = load(folder / spec.classifier)
        build = spec.building
        threshold = next(
            t
            for t in (config.threshold, build.threshold, self.classifier.threshold)
            if t is not None
        )
        min_hits = config.min_hits or build.min_hits
        method = config.building or build.method
        settings: dict[str, Any] = {"threshold": threshold, "min_hits": min_hits}
        same_method = method == build.method
        for key in ("extend_threshold", "extend_min_layers"):  # hybrid only
            value = getattr(config, key)
            if value is None and same_method:  # the spec's settings go with its method
                value = getattr(build, key)
            if value is not None:
                settings[key] = value
        try:
            self.track_builder: TrackBuilder = make_track_builder(method, **settings)
        except TypeError as exc:
            raise ConfigError(f"{spec_path}: building {method!r}: {exc}") from None
        self.min_layers = config.min_layers if config.min_layers is not None else build.min_layers
        self.pt_min = config.pt_min if config.pt_min is not None else build.pt_min
        self.bz = build.bz
        if config.backend == "onnxruntime":  # the export keeps the classifier's model.json
            classifier_json = folder / spec.classifier / "model.json"
            meta = json.loads(classifier_json.read_text()) if classifier_json.exists() else {}
            self.label_pt_min = meta.get("data", {}).get("label_pt_min")
        else:
            self.label_pt_min = self.classifier.info.get("data", {}).get("label_pt_min")
        if config.mc_samples and config.mc_dropout is None:
            from tracklearn.models.mc_dropout import has_dropout

            if not has_dropout(self.classifier.module):
                raise ConfigError(
                    f"{folder}: the edge classifier was trained without dropout; give "
                    "mc_dropout (a rate) to sample it anyway, or train it with dropout > 0"
                )

    def __call__(self, event: Event) -> TrackCandidates:
        graph = self.graph_builder(event)
        if self.filter is not None:
            graph = filter_edges(graph, self.filter)
        cfg = self.config
        std: np.ndarray | None = None
        if cfg.mc_samples:
            scores, std = self.classifier.scores_mc(
                graph, cfg.mc_samples, rate=cfg.mc_dropout, seed=cfg.mc_seed + event.event_id
            )
        else:
            scores = self.classifier.scores(graph) if graph.n_edges else np.zeros(0, np.float32)
        log.debug("event %d: %d nodes, %d edges", event.event_id, graph.n_nodes, graph.n_edges)
        layer = layer_key(event.hits.volume_id, event.hits.layer_id)
        build_scores = scores
        if std is not None and cfg.max_score_std is not None:  # uncertain edges are not used
            build_scores = np.where(std > cfg.max_score_std, 0.0, scores).astype(np.float32)
        tracks = self.track_builder(graph, build_scores, event.n_hits, layer=layer)
        if self.min_layers:
            tracks = select_tracks(tracks, n_layers_per_track(tracks, layer) >= self.min_layers)
        if self.pt_min:
            pt = estimate_pt(event.hits.x, event.hits.y, tracks, self.bz)
            tracks = select_tracks(tracks, pt >= self.pt_min)
        if cfg.mc_samples or cfg.save_edge_scores:
            hits = graph.hit_index[graph.edge_index]  # (2, E) hit rows
            edges = ScoredEdges(hits[0], hits[1], scores, std, self.label_pt_min)
            tracks = tracks.with_edges(edges)
        return tracks


@register_method(
    "gnn",
    "Graph neural network: graph → filter → Interaction Network → tracks",
    use_for="studying or retraining the Exa.TrkX chain; pT ≥ 1 GeV, short luminous region",
    trackml_geometry=True,  # the shipped model's module map knows only the TrackML modules
)
def make_gnn(config: dict[str, Any] | None) -> GNNReconstructor:
    """Build the gnn method from a config mapping (``model``: folder of a trained model)."""
    return GNNReconstructor(GNNConfig.model_validate(config or {}))
