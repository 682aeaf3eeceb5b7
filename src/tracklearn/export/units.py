"""Model folders → export units: the networks to export, with their data and metric.

A *unit* is one network of a model folder: its torch module, the spec of its
kind (:mod:`tracklearn.export.spec`), metadata for the runtime, and — when the
kind has them — calibration inputs from its training data and an accuracy
metric, so int8 and pruning are measured, not assumed.  Folders understood:

* a ``gnn`` model (``pipeline.json``): the filter (unit ``filter``) and the edge
  classifier (unit ``.``); data: a folder of events (``--data``), turned into
  graphs with the pipeline's builder and labelled as at training (the
  classifier sees graphs thinned by the torch filter, as in reconstruction);
  metric: edge efficiency and purity at the model's threshold, ROC AUC (on the
  first 3 events, or ``n_eval``);
* an edge model (``model.json`` of ``filter_mlp``, ``interaction_network``,
  ``edge_network``); data: a folder of IN-paper ``.npz`` graphs or of events
  (built with the builder recorded in ``model.json``);
* a muon-trigger CNN (``model.json`` of ``muon_cnn``): calibrated on its
  training images (regenerated from the recorded simulation config and seed:
  the first training epoch's chunks; or ``--calibration-data``), measured on
  the images of ``--data`` or else on 20,000 (``n_eval``) fresh test images
  (seed ``TEST_SEED``): efficiency (pT ≥ 10 GeV) and fake rate;
* a toy-model training folder (``best.pt`` of a ``toy_*`` or ``g2_lstm``
  stage); data: the ``toy.npz`` / ``g2.npz`` it was trained on (its training
  split calibrates, its validation split measures, as the stage split them);
* any other ``model.json`` whose ``model`` has an export spec: exported with
  parity checks; int8 calibrated on the spec's example inputs; no metric.

To give a new kind of model calibration data and a metric, register a
function with :func:`register_unit_data` under its registry name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from tracklearn.edm import Graph
from tracklearn.errors import ConfigError, DataError
from tracklearn.export.edge_features import model_inputs_np
from tracklearn.export.spec import Arrays, get_export_spec

log = logging.getLogger(__name__)

#: network inputs (after the front-end) → outputs; torch or onnxruntime behind it
Runner = Callable[[Arrays], list[npt.NDArray[Any]]]
#: edges per calibration input of an edge network (bounded memory in the calibrator)
CALIBRATION_EDGES = 50_000
#: edges scored at once by a per-edge network in the metric
CHUNK_EDGES = 65_536


@dataclass
class ExportUnit:
    """One network of a model folder to export.

    Attributes
    ----------
    name
        Folder of the unit inside the export (``"."`` the top).
    model_name
        Export-spec key (the registry name, ``toy_<name>`` for toys).
    module
        The trained torch model.
    meta
        What the runtime and the spec need besides the weights (threshold,
        features, shapes); written to ``export.json``.
    source
        The model folder it came from (its small files are copied).
    calibration
        Network inputs (after any front-end) from training data, or None.
    evaluate
        ``runner → {metric: value}`` on held-out data, or None.
    """

    name: str
    model_name: str
    module: nn.Module
    meta: dict[str, Any]
    source: Path
    calibration: Callable[[], list[Arrays]] | None = None
    evaluate: Callable[[Runner], dict[str, float]] | None = None
    copy_files: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class DataOptions:
    """How much data the hooks use: calibration inputs, items to measure on (0: default),
    and separate calibration data (training data, when ``data`` is held out)."""

    n_calibration: int = 32
    n_eval: int = 0
    calibration: Path | None = None  # data to calibrate on when not ``data`` (edge models, muon)


DataHook = Callable[[ExportUnit, Path | None, DataOptions], None]
_DATA_HOOKS: dict[str, DataHook] = {}


def register_unit_data(*names: str) -> Callable[[DataHook], DataHook]:
    """Decorator: ``hook(unit, data, options)`` sets the unit's calibration and evaluate."""

    def deco(fn: DataHook) -> DataHook:
        for n in names:
            _DATA_HOOKS[n] = fn
        return fn

    return deco


def _read_json(path: Path) -> dict[str, Any]:
    try:
        out: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not readable JSON ({exc})") from None
    return out


def load_units(model_dir: str | Path, data: str | Path | None = None,
               options: DataOptions | None = None) -> list[ExportUnit]:  # fmt: skip
    """The units of ``model_dir`` (see the module docstring) with their data hooks applied."""
    folder = Path(model_dir)
    data_path = None if data is None else Path(data)
    opts = options or DataOptions()
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a model folder")
    if (folder / "pipeline.json").exists():
        return _gnn_units(folder, data_path, opts)
    if (folder / "model.json").exists() and "tracklearn.fullspectrum" in (
        folder / "model.json"
    ).read_text():
        return _fullspectrum_units(folder)
    if (folder / "model.json").exists():
        unit = _model_json_unit(folder, ".")
        hook = _DATA_HOOKS.get(unit.model_name)
        if hook is not None:
            hook(unit, data_path, opts)
        return [unit]
    if (folder / "best.pt").exists():
        return [_toy_unit(folder, data_path, opts.n_calibration)]
    raise ConfigError(
        f"{folder}: not an exportable model folder (no pipeline.json, model.json or best.pt)"
    )


def _model_json_unit(folder: Path, name: str) -> ExportUnit:
    from tracklearn.models.registry import get_model

    meta = _read_json(folder / "model.json")
    model_name = str(meta.get("model"))
    get_export_spec(model_name)  # an unknown kind fails listing the exportable ones
    module = get_model(model_name, **meta.get("kwargs", {}))
    weights = folder / "weights.pt"
    if not weights.exists():
        raise ConfigError(f"{folder}: weights.pt is missing")
    module.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    module.eval()
    info: dict[str, Any] = {
        "model": model_name,
        "kwargs": meta.get("kwargs", {}),
        "threshold": meta.get("threshold"),
    }
    if hasattr(module, "features"):  # edge models: the runtime's numpy front-end
        info["features"] = str(module.features)
        info["per_edge"] = bool(getattr(module, "per_edge", False))
    return ExportUnit(
        name, model_name, module, info, folder, copy_files=("model.json", "weights.pt")
    )


def _fullspectrum_units(folder: Path) -> list[ExportUnit]:
    """Seed and candidate classifiers of a ``fullspectrum`` model folder, one unit each."""
    from tracklearn.fullspectrum.mlp import NumpyMLP
    from tracklearn.models.candidate_mlp import CandidateMLP

    units = []
    for path in sorted(folder.glob("seed_*.npz")) + sorted(folder.glob("track_*.npz")):
        net = NumpyMLP.load(path)
        module = CandidateMLP.from_numpy(net)
        meta = {"model": "candidate_mlp", "features": list(net.feature_names),
                "mean": net.mean.tolist(), "scale": net.scale.tolist()}  # fmt: skip
        units.append(ExportUnit(path.stem, "candidate_mlp", module, meta, folder))
    if not units:
        raise ConfigError(f"{folder}: a fullspectrum model folder without networks")
    return units


# ---------------------------------------------------------------- edge models


def _graph_files(data: Path, limit: int) -> list[Graph]:
    from tracklearn.io.in_npz import read_in_npz

    files = sorted(data.rglob("*.npz"))[:limit]
    return [read_in_npz(f) for f in files]


def event_graphs(data: Path, builder: str, builder_config: dict[str, Any],
                 label_pt_min: float | None, limit: int) -> list[Graph]:  # fmt: skip
    """Labelled graphs of the first ``limit`` events of ``data`` built with ``builder``."""
    from tracklearn.graph.builders import make_builder
    from tracklearn.io import find_events, read_event
    from tracklearn.training.graph_data import graph_labels

    build = make_builder(builder, builder_config)
    graphs = []
    for prefix in find_events([data])[:limit]:
        event = read_event(prefix, parts=("hits", "truth", "particles"))
        if not event.has_truth:
            raise DataError(prefix, "measuring an edge model needs truth")
        g = build(event)
        y = graph_labels(event, g.hit_index[g.edge_index], label_pt_min)
        graphs.append(Graph(g.hit_index, g.x, g.edge_index, g.edge_attr, y, g.event_id))
    if not graphs:
        raise DataError(data, "no events found")
    return graphs


def _edge_arrays(features: str, g: Graph) -> Arrays:
    assert g.edge_attr is not None
    x, ea = model_inputs_np(features, g.x, g.edge_index, g.edge_attr)
    return {"x": x, "edge_index": np.ascontiguousarray(g.edge_index, np.int64), "edge_attr": ea}


def _edge_scores(run: Runner, features: str, per_edge: bool, g: Graph) -> npt.NDArray[np.float64]:
    if g.n_edges == 0:
        return np.zeros(0)
    inputs = _edge_arrays(features, g)  # the front-end once on the whole graph
    step = CHUNK_EDGES if per_edge else g.n_edges
    out = []
    for i in range(0, g.n_edges, step):
        part = {
            "x": inputs["x"],
            "edge_index": inputs["edge_index"][:, i : i + step],
            "edge_attr": inputs["edge_attr"][i : i + step],
        }
        out.append(np.asarray(run(part)[0], np.float64))
    z = np.concatenate(out)
    return 1.0 / (1.0 + np.exp(-z))


def _phi_sector(g: Graph, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """Edges with both hits in a random φ sector holding about CALIBRATION_EDGES edges.

    A φ sector keeps every edge of the hits inside it, so node degrees and the
    sums a message-passing network aggregates are those of whole graphs (the
    edge classifiers also train on φ sectors).  Node feature 1 is φ/π.
    """
    n_sectors = int(np.ceil(g.n_edges / CALIBRATION_EDGES))
    width = 2.0 / n_sectors  # in units of π
    phi = np.asarray(g.x[:, 1], np.float64)
    inside = np.mod(phi - rng.uniform(-1.0, 1.0), 2.0) < width
    keep: npt.NDArray[np.bool_] = inside[g.edge_index[0]] & inside[g.edge_index[1]]
    return keep


def attach_edge_data(unit: ExportUnit, graphs: Sequence[Graph], n_calibration: int,
                     calibration_graphs: Sequence[Graph] | None = None,
                     seed: int = 0) -> None:  # fmt: skip
    """Calibrate ``unit`` on φ sectors of ``calibration_graphs`` (default ``graphs``);
    measure it on ``graphs`` whole."""
    from tracklearn.graph.subgraph import edge_subgraph
    from tracklearn.metrics.edges import label_metrics

    features, per_edge = unit.meta["features"], unit.meta["per_edge"]
    threshold = float(unit.meta["threshold"])
    cal_graphs = graphs if calibration_graphs is None else calibration_graphs

    def calibration() -> list[Arrays]:
        rng = np.random.default_rng(seed)
        items = []
        for g in cal_graphs:
            for _ in range(max(1, n_calibration // max(len(cal_graphs), 1))):
                if g.n_edges <= CALIBRATION_EDGES:
                    items.append(_edge_arrays(features, g))
                    break
                items.append(_edge_arrays(features, edge_subgraph(g, _phi_sector(g, rng))))
        return items[:n_calibration]

    def evaluate(run: Runner) -> dict[str, float]:
        ys = [np.asarray(g.y) for g in graphs]
        ss = [_edge_scores(run, features, per_edge, g) for g in graphs]
        m = label_metrics(np.concatenate(ys), np.concatenate(ss), threshold)
        return {k: m[k] for k in ("edge_efficiency", "edge_purity", "roc_auc")}

    unit.calibration, unit.evaluate = calibration, evaluate


@register_unit_data("filter_mlp", "interaction_network", "edge_network")
def _edge_data(unit: ExportUnit, data: Path | None, options: DataOptions) -> None:
    def graphs_of(folder: Path) -> list[Graph]:
        if any(folder.glob("*.npz")) or any(folder.glob("*/*.npz")):
            return _graph_files(folder, limit=options.n_eval or 20)
        spec = _read_json(unit.source / "model.json").get("data", {})
        if "builder" not in spec:
            raise ConfigError(f"{unit.source}/model.json: no graph builder recorded (data.builder)")
        return event_graphs(folder, spec["builder"], spec.get("builder_config", {}),
                            spec.get("label_pt_min"), limit=options.n_eval or 3)  # fmt: skip

    if data is None:
        return
    cal = None if options.calibration is None else graphs_of(options.calibration)
    attach_edge_data(unit, graphs_of(data), options.n_calibration, cal)


def _gnn_units(folder: Path, data: Path | None, options: DataOptions) -> list[ExportUnit]:
    from tracklearn.building.spec import GNNPipelineSpec

    spec = GNNPipelineSpec.load(folder)
    units = []
    if spec.filter:
        units.append(_model_json_unit(folder / spec.filter, spec.filter))
    classifier = _model_json_unit(folder / spec.classifier, spec.classifier)
    classifier.copy_files = ("model.json", "weights.pt", "pipeline.json", "provenance.json",
                             "module_map.npz", "module_map.json")  # fmt: skip
    units.append(classifier)
    if data is None:
        return units
    builder_config = spec.builder_config_in(folder)
    label_pt_min = _read_json(folder / "model.json").get("data", {}).get("label_pt_min")

    def graphs_of(events: Path) -> list[Graph]:
        return event_graphs(events, spec.builder, builder_config, label_pt_min,
                            limit=options.n_eval or 3)  # fmt: skip

    graphs = graphs_of(data)
    cal = None if options.calibration is None else graphs_of(options.calibration)
    n_calibration = options.n_calibration
    if spec.filter:
        from tracklearn.graph.subgraph import filter_edges
        from tracklearn.models.edge_model import EdgeModel

        attach_edge_data(units[0], graphs, n_calibration, cal)
        filt = EdgeModel.load(folder / spec.filter)
        graphs = [filter_edges(g, filt) for g in graphs]
        if cal is not None:
            cal = [filter_edges(g, filt) for g in cal]
    attach_edge_data(units[-1], graphs, n_calibration, cal)
    return units


# ---------------------------------------------------------------- muon trigger


@register_unit_data("muon_cnn")
def _muon_data(unit: ExportUnit, data: Path | None, options: DataOptions) -> None:
    from tracklearn.metrics.muon_trigger import fake, matched, voxel_counts
    from tracklearn.simulation.muon_chamber import (
        TEST_SEED,
        MuonChamberConfig,
        generate_muon_images,
        iter_muon_images,
        load_muon_images,
    )

    meta = _read_json(unit.source / "model.json")
    sim = MuonChamberConfig.model_validate(meta.get("simulation", {}))
    unit.meta["image_shape"] = list(sim.geometry.shape)
    train_seed = int(meta.get("data", {}).get("seed", 0))
    threshold = float(unit.meta["threshold"])
    n_eval = options.n_eval or 20_000
    n_calibration = options.n_calibration

    def calibration() -> list[Arrays]:
        if options.calibration is not None:
            imgs = load_muon_images(options.calibration).hits[: 16 * n_calibration]
        else:  # the first training epoch's images (training/muon.py: chunks 10⁶ + k)
            imgs = generate_muon_images(16 * n_calibration, train_seed, sim,
                                        first_chunk=1_000_000).hits  # fmt: skip
        return [{"hits": imgs[i : i + 16].astype(np.float32)} for i in range(0, len(imgs), 16)]

    def evaluate(run: Runner) -> dict[str, float]:
        hit_m, fake_m = [], []
        source = [load_muon_images(data)] if data is not None else None
        for batch in source or iter_muon_images(n_eval, TEST_SEED, sim):
            for i in range(0, len(batch), 250):
                hits = batch.hits[i : i + 250]
                z = np.asarray(run({"hits": hits.astype(np.float32)})[0])
                pred = (1.0 / (1.0 + np.exp(-z)) >= threshold) & hits
                tp, p, m = voxel_counts(pred, batch.truth[i : i + 250])
                sel = (batch.pt_gev[i : i + 250] >= 10.0) & (p > 0)
                hit_m.append(matched(tp, p)[sel])
                fake_m.append(fake(tp, m)[m > 0])
        return {
            "efficiency_pt10": float(np.concatenate(hit_m).mean()),
            "fake_rate": float(np.concatenate(fake_m).mean()),
        }

    unit.calibration, unit.evaluate = calibration, evaluate


# ---------------------------------------------------------------- toy models


def _toy_unit(folder: Path, data: Path | None, n_calibration: int) -> ExportUnit:
    from tracklearn.models.toy import build_toy_model
    from tracklearn.training.loop import load_checkpoint
    from tracklearn.training.toy import _split

    ckpt = load_checkpoint(folder / "best.pt")
    cfg = ckpt.get("config", {})
    stage = str(cfg.get("stage", ""))
    if not (stage.startswith("toy_") or stage == "g2_lstm"):
        raise ConfigError(f"{folder}/best.pt: stage {stage!r} is not a toy-model stage")
    if data is None:
        raise ConfigError(
            f"{folder}: a toy model needs --data (the toy.npz or g2.npz it was trained on: "
            "it fixes the image shape and calibrates int8)"
        )
    kwargs = dict(cfg.get("model", {}))
    split_seed, val_fraction = int(cfg["train"]["seed"]), float(cfg.get("val_fraction", 0.2))
    if stage == "g2_lstm":
        return _g2_unit(folder, data, ckpt, kwargs, split_seed, val_fraction, n_calibration)
    from tracklearn.metrics.toy import seeded_accuracy
    from tracklearn.simulation.toy import load_toy

    sample = load_toy(data / "toy.npz" if data.is_dir() else data)
    name = stage.removeprefix("toy_")
    n_layers = sample.hits.shape[1]
    module = build_toy_model(name, n_layers=n_layers, pixels=sample.pixels, **kwargs)
    module.load_state_dict(ckpt["model"])
    module.eval()
    meta = {"model": stage, "kwargs": kwargs, "n_layers": n_layers,
            "pixels": list(sample.pixels), "n_seed_layers": sample.n_seed_layers}  # fmt: skip
    unit = ExportUnit(".", stage, module, meta, folder, copy_files=("config.json",))
    tr, va = _split(len(sample), val_fraction, split_seed)
    train_set, val_set = sample.subset(tr), sample.subset(va)

    if name == "conv_lstm_regression":
        from tracklearn.training.toy import regression_targets

        def calibration_r() -> list[Arrays]:
            h = train_set.hits[: 32 * n_calibration]
            return [{"hits": h[i : i + 32]} for i in range(0, len(h), 32)]

        def evaluate_r(run: Runner) -> dict[str, float]:
            mean = np.asarray(run({"hits": val_set.hits})[0])
            y, mask = regression_targets(val_set, mean.shape[1])
            return {"rms_residual": float(np.sqrt(np.mean((mean - y)[mask] ** 2)))}

        unit.calibration, unit.evaluate = calibration_r, evaluate_r
        return unit

    def calibration() -> list[Arrays]:
        h, s = train_set.hits[: 32 * n_calibration], train_set.seed[: 32 * n_calibration]
        return [{"hits": h[i : i + 32], "seed": s[i : i + 32]} for i in range(0, len(h), 32)]

    def evaluate(run: Runner) -> dict[str, float]:
        logits = np.concatenate([
            np.asarray(run({"hits": val_set.hits[i : i + 256],
                            "seed": val_set.seed[i : i + 256]})[0])
            for i in range(0, len(val_set), 256)
        ])  # fmt: skip
        pred = logits.argmax(-1).astype(np.int64)
        return {"accuracy": seeded_accuracy(pred, val_set.target, val_set.n_seed_layers)}

    unit.calibration, unit.evaluate = calibration, evaluate
    return unit


def _g2_unit(folder: Path, data: Path, ckpt: dict[str, Any], kwargs: dict[str, Any],
             split_seed: int, val_fraction: float, n_calibration: int) -> ExportUnit:  # fmt: skip
    from tracklearn.metrics.toy import island_candidate_counts
    from tracklearn.models.toy import build_toy_model
    from tracklearn.simulation.g2 import load_islands
    from tracklearn.training.toy import _split

    islands = load_islands(data / "g2.npz" if data.is_dir() else data)
    _, n_layers, n_straws = islands.occupancy.shape
    max_tracks = int(ckpt["config"].get("max_tracks", 6))
    module = build_toy_model("g2_finder", n_straws=n_straws, max_tracks=max_tracks, **kwargs)
    module.load_state_dict(ckpt["model"])
    module.eval()
    meta = {"model": "g2_finder", "kwargs": kwargs, "n_layers": n_layers, "n_straws": n_straws,
            "max_tracks": max_tracks}  # fmt: skip
    unit = ExportUnit(".", "g2_finder", module, meta, folder, copy_files=("config.json",))
    tr, va = _split(len(islands), val_fraction, split_seed)
    train_set, val_set = islands.subset(tr), islands.subset(va)

    def calibration() -> list[Arrays]:
        occ = train_set.occupancy[: 32 * n_calibration]
        return [{"occupancy": occ[i : i + 32]} for i in range(0, len(occ), 32)]

    def evaluate(run: Runner) -> dict[str, float]:
        pred = np.asarray(run({"occupancy": val_set.occupancy})[0]).argmax(-1).astype(np.int64)
        counts = island_candidate_counts(pred, val_set.owner)
        return {"efficiency": counts.efficiency(), "purity": counts.purity()}

    unit.calibration, unit.evaluate = calibration, evaluate
    return unit
