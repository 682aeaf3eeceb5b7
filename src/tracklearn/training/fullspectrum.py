"""Training the full-spectrum tracker (``make train-default``) on simulated events.

1. Learn the layer tables (seed triplets, successors, error models) from the
   truth of the training events (:func:`~tracklearn.fullspectrum.tables.learn_tables`).
2. For each pass in order, on the hits the earlier (already trained) passes
   leave free:
   a. find the pass's triplet seeds, label them (three hits of one particle) and
      train the seed classifier;
   b. choose the seed threshold that loses at most ``seed_loss`` of the score
      weight of the particles that have a true seed;
   c. follow the seeds above it, label the candidates (double-majority match)
      and train the candidate classifier;
   d. run the pass's selection with both networks, so the next pass sees the
      hits this one leaves.
3. Evaluate the whole model on the validation events and write the model
   folder with ``provenance.json`` (commit, config hash, data, metrics).

Validation events are never trained on; they choose nothing but the epoch of
each network (early stopping).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.fullspectrum.features import CANDIDATE_FEATURES, majority_labels
from tracklearn.fullspectrum.layers import LayerTable
from tracklearn.fullspectrum.mlp import NumpyMLP
from tracklearn.fullspectrum.model import (
    FullSpectrumModel,
    FullSpectrumSpec,
    PassConfig,
    SelectionConfig,
)
from tracklearn.fullspectrum.reconstructor import (
    FullSpectrumConfig,
    FullSpectrumReconstructor,
    RunState,
)
from tracklearn.fullspectrum.seeding import TRIPLET_FEATURES
from tracklearn.fullspectrum.tables import learn_tables
from tracklearn.io.atomic import write_text_atomic
from tracklearn.metrics import aggregate, evaluate_event, trackml_score
from tracklearn.models.candidate_mlp import CandidateMLP
from tracklearn.provenance import provenance
from tracklearn.training.loop import TrainConfig, train
from tracklearn.training.stages import register_stage
from tracklearn.typing import FloatArray, IntArray

log = logging.getLogger(__name__)


def default_passes() -> tuple[PassConfig, ...]:
    """The passes of the shipped model: primaries at every pT, then displaced particles."""
    return (
        PassConfig(name="primary", seeds="first", pt_min=0.1, d0_max=2.0, accept_min_score=0.3),
        PassConfig(
            name="displaced",
            seeds="first",
            pt_min=0.2,
            d0_max=50.0,
            z0_max=300.0,
            accept_min_score=0.3,
        ),
    )


class NetConfig(BaseModel):
    """Shape and optimisation of one classifier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: tuple[int, ...] = (64, 64)
    epochs: int = Field(8, ge=1)
    lr: float = Field(2e-3, gt=0)
    batch_size: int = Field(4096, ge=16)
    max_negatives_per_event: int = Field(80_000, ge=1)  # subsample of negative examples


class FullSpectrumTrainConfig(BaseModel):
    """``configs/fullspectrum/train.yaml``: everything ``make train-default`` chooses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    passes: tuple[PassConfig, ...] = Field(default_factory=default_passes)
    selection: SelectionConfig = SelectionConfig()
    seed_coverage: float = Field(0.998, gt=0, le=1)  # weight share of the seed triplets kept
    seed_loss: float = Field(0.002, ge=0, lt=1)  # weight share a seed threshold may lose
    seed_net: NetConfig = NetConfig()
    track_net: NetConfig = NetConfig()
    # candidate target: "dm" = 1 for a double-majority match; "quality" = DM × completeness ×
    # purity (soft), so the classifier also orders duplicates of one particle by quality
    track_label: Literal["dm", "quality"] = "quality"
    seed: int = 0
    threads: int = Field(2, ge=1)


@dataclass
class _Data:
    x: FloatArray
    y: FloatArray


def _stack(parts: Sequence[_Data]) -> _Data:
    return _Data(np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]))


def _subsample(x: FloatArray, y: FloatArray, max_neg: int, rng: np.random.Generator) -> _Data:
    neg = np.nonzero(y <= 0.0)[0]
    if len(neg) > max_neg:
        drop = np.setdiff1d(neg, rng.choice(neg, max_neg, replace=False))
        keep = np.setdiff1d(np.arange(len(y)), drop)
        x, y = x[keep], y[keep]
    return _Data(x, y)


def _roc_auc(y: FloatArray, p: FloatArray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, p))


def train_classifier(
    train_data: _Data,
    val_data: _Data,
    names: tuple[str, ...],
    cfg: NetConfig,
    out: Path,
    seed: int,
    threads: int,
) -> tuple[NumpyMLP, dict[str, float]]:
    """Train a :class:`CandidateMLP` with the project's loop; return it as numpy and metrics."""
    x = train_data.x.astype(np.float32)
    mean = x.mean(0)
    scale = np.maximum(x.std(0), 1e-6)
    torch.manual_seed(seed)  # the initial weights too
    model = CandidateMLP(x.shape[1], cfg.hidden, mean, scale)
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(train_data.y.astype(np.float32))
    xv = torch.from_numpy(val_data.x.astype(np.float32))
    yv = val_data.y
    lossf = torch.nn.BCEWithLogitsLoss()

    def batches(epoch: int, gen: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
        perm = torch.randperm(len(xt), generator=gen)
        return [
            (xt[perm[i : i + cfg.batch_size]], yt[perm[i : i + cfg.batch_size]])
            for i in range(0, len(xt), cfg.batch_size)
        ]

    def step(m: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        out_: torch.Tensor = lossf(m(batch[0]), batch[1])
        return out_

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        logit = m(xv)
        loss = float(lossf(logit, torch.from_numpy(yv.astype(np.float32))))
        prob = torch.sigmoid(logit).numpy().astype(np.float64)
        return {"val_loss": loss, "val_auc": _roc_auc((yv > 0.5).astype(np.float64), prob)}

    tc = TrainConfig(epochs=cfg.epochs, lr=cfg.lr, seed=seed, threads=threads, patience=4,
                     schedule="cosine")  # fmt: skip
    hist = train(model, step, batches, evaluate, tc, out)
    best = torch.load(out / "best.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(best["model"])
    model.eval()
    with torch.no_grad():
        metrics = evaluate(model)
    metrics["best_epoch"] = float(hist.best_epoch)
    metrics["n_train"] = float(len(x))
    metrics["train_positive_frac"] = float(train_data.y.mean())
    return model.to_numpy(names), metrics


def _particle_index(event: Event, row: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Dense particle index per sorted hit (-1 noise), hits and weight per dense particle."""
    assert event.truth is not None
    pid = event.truth.particle_id[row]
    uniq, dense = np.unique(pid, return_inverse=True)
    dense = dense.astype(np.int64)
    if len(uniq) and uniq[0] == 0:
        dense -= 1  # noise → -1, particles from 0
    n_p = int(dense.max()) + 1 if len(dense) else 0
    ok = dense >= 0
    n_hits = np.bincount(dense[ok], minlength=n_p).astype(np.int64)
    weight = np.bincount(dense[ok], weights=event.truth.weight[row][ok], minlength=n_p)
    return dense.astype(np.int64), n_hits, weight.astype(np.float64)


def _seed_labels(seeds: IntArray, particle: IntArray) -> FloatArray:
    p = particle[seeds]
    return ((p[:, 0] >= 0) & (p[:, 0] == p[:, 1]) & (p[:, 1] == p[:, 2])).astype(np.float64)


def choose_seed_threshold(
    scores: Sequence[FloatArray],
    labels: Sequence[FloatArray],
    seed_particle: Sequence[IntArray],
    particle_weight: Sequence[FloatArray],
    loss: float,
) -> float:
    """Largest threshold keeping ≥ 1 − ``loss`` of the weight of particles with a true seed.

    A particle keeps its seed when its best-scored true seed passes the threshold.
    """
    best_all, w_all = [], []
    for s, y, sp, pw in zip(scores, labels, seed_particle, particle_weight, strict=True):
        true = y > 0.5
        if not true.any():
            continue
        part = sp[true]
        best = np.full(len(pw), -1.0)
        np.maximum.at(best, part, s[true])
        has = best >= 0
        best_all.append(best[has])
        w_all.append(pw[has])
    if not best_all:
        return 0.0
    b = np.concatenate(best_all)
    w = np.concatenate(w_all)
    order = np.argsort(-b)
    cum = np.cumsum(w[order]) / w.sum()
    k = int(np.searchsorted(cum, 1.0 - loss))
    return float(b[order][min(k, len(b) - 1)])


def train_fullspectrum(
    train_events: Sequence[Event],
    val_events: Sequence[Event],
    layers: LayerTable,
    config: FullSpectrumTrainConfig,
    out: str | Path,
    *,
    data_note: str = "",
    data_sets: dict[str, list[dict[str, Any]]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> FullSpectrumModel:
    """Train a model folder in ``out`` (see the module docstring).

    ``data_sets`` (what :func:`describe_data_sets` gives) goes into the provenance so
    that the events can be made again; the validation metrics are recorded in all and
    per event (``validation_events``), so a test can reproduce one event's.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: log.info("%s", msg))
    t_start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    say("learning layer tables")
    tables = learn_tables(train_events, layers, seed_coverage=config.seed_coverage)
    passes = list(config.passes)
    seed_nets: dict[str, NumpyMLP] = {}
    track_nets: dict[str, NumpyMLP] = {}
    metrics: dict[str, dict[str, Any]] = {}

    def model_now() -> FullSpectrumModel:
        spec = FullSpectrumSpec(passes=tuple(passes), selection=config.selection)
        return FullSpectrumModel(spec, layers, tables, dict(seed_nets), dict(track_nets), out)

    for k, p in enumerate(config.passes):
        say(f"pass {p.name}: seeds")
        recon = FullSpectrumReconstructor(model_now(), FullSpectrumConfig())
        sets: dict[str, list[tuple[Event, RunState, IntArray, FloatArray]]] = {}
        for split, evs in (("train", train_events), ("val", val_events)):
            sets[split] = []
            for ev in evs:
                state = recon.run(ev, n_passes=k)
                seeds, sfeat = recon.seeds(p, state)
                sets[split].append((ev, state, seeds, sfeat))
        seed_data: dict[str, list[_Data]] = {"train": [], "val": []}
        particle_info: dict[str, list[tuple[IntArray, IntArray, FloatArray]]] = {}
        for split, items in sets.items():
            particle_info[split] = []
            for ev, state, seeds, sfeat in items:
                dense, n_hits, weight = _particle_index(ev, state.grid.row)
                particle_info[split].append((dense, n_hits, weight))
                y = _seed_labels(seeds, dense)
                d = _subsample(sfeat, y, config.seed_net.max_negatives_per_event, rng)
                seed_data[split].append(d if split == "train" else _Data(sfeat, y))
        say(f"pass {p.name}: training the seed classifier")
        snet, smet = train_classifier(
            _stack(seed_data["train"]), _stack(seed_data["val"]), TRIPLET_FEATURES,
            config.seed_net, out / "runs" / f"seed_{p.name}", config.seed, config.threads,
        )  # fmt: skip
        seed_nets[p.name] = snet
        # the threshold, on the training events (validation only watches)
        scores, labels, sparts, pweights = [], [], [], []
        for (_ev, _st, seeds, sfeat), (dense, _n, weight) in zip(
            sets["train"], particle_info["train"], strict=True
        ):
            scores.append(snet.predict(sfeat))
            labels.append(_seed_labels(seeds, dense))
            sparts.append(dense[seeds[:, 0]])
            pweights.append(weight)
        thr = choose_seed_threshold(scores, labels, sparts, pweights, config.seed_loss)
        passes[k] = p.model_copy(update={"seed_min_score": thr})
        smet["threshold"] = thr
        smet["followed_frac"] = float(np.mean(np.concatenate(scores) >= thr))
        say(f"pass {p.name}: seed threshold {thr:.4f}; following")
        recon = FullSpectrumReconstructor(model_now(), FullSpectrumConfig())
        cand_data: dict[str, list[_Data]] = {"train": [], "val": []}
        for split, items in sets.items():
            for (_ev, state, _seeds, _sfeat), (dense, n_hits, _w) in zip(
                items, particle_info[split], strict=True
            ):
                ps = recon.run_pass(passes[k], _copy_state(state), 0)
                pur, comp, _maj = majority_labels(ps.hits, dense, n_hits)
                y = ((pur > 0.5) & (comp > 0.5)).astype(np.float64)
                if config.track_label == "quality":
                    y *= np.minimum(comp, 1.0) * pur
                d = _Data(ps.features, y)
                if split == "train":
                    d = _subsample(d.x, d.y, config.track_net.max_negatives_per_event, rng)
                cand_data[split].append(d)
        say(f"pass {p.name}: training the candidate classifier")
        tnet, tmet = train_classifier(
            _stack(cand_data["train"]), _stack(cand_data["val"]), CANDIDATE_FEATURES,
            config.track_net, out / "runs" / f"track_{p.name}", config.seed, config.threads,
        )  # fmt: skip
        track_nets[p.name] = tnet
        metrics[f"seed_{p.name}"] = smet
        metrics[f"track_{p.name}"] = tmet
    model = model_now()
    say("evaluating on the validation events")
    final = FullSpectrumReconstructor(model, FullSpectrumConfig())
    results, per_event = [], {}
    for ev in val_events:
        tracks = final(ev)
        results.append(evaluate_event(ev, tracks))
        per_event[str(ev.event_id)] = {
            "trackml_score": float(trackml_score(ev, tracks)),
            "efficiency": float(results[-1].efficiency),
            "fake_rate": float(results[-1].fake_rate),
        }
    agg = aggregate(results).to_dict()
    metrics["validation"] = {k: float(v) for k, v in agg.items() if isinstance(v, (int, float))}
    metrics["validation_events"] = per_event
    model.save(out)
    cfg_json = config.model_dump_json()
    prov = {
        "command": "make train-default",
        "config": json.loads(cfg_json),
        "config_sha256": hashlib.sha256(cfg_json.encode()).hexdigest(),
        "data": {"note": data_note, "sets": data_sets or {}},
        "n_train_events": len(train_events),
        "n_val_events": len(val_events),
        "metrics": metrics,
        "train_seconds": time.perf_counter() - t_start,
        **provenance(),
    }
    write_text_atomic(out / "provenance.json", json.dumps(prov, indent=2) + "\n")
    return model


def _copy_state(state: RunState) -> RunState:
    return RunState(state.grid, state.owner.copy(), [], dict(state.times), state.z0_max)


class FullSpectrumStageConfig(FullSpectrumTrainConfig):
    """``tracklearn train fullspectrum``: the training settings plus where the events are.

    ``train`` and ``val`` name folders of events with truth, relative to ``--data``;
    ``geometry`` is the TrackML ``detectors.csv(.gz)`` (default: the shared data).
    """

    train: tuple[str, ...] = ("train",)
    val: tuple[str, ...] = ("val",)
    geometry: str | None = None
    data_note: str = ""


def describe_data_sets(data: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    """What each event folder holds, for the provenance: its event ids and, from the
    ``simulation.json`` that ``tracklearn simulate`` leaves, the detector, seed, the
    resolved simulation config and the simulator's git revision (every simulated event
    depends only on (seed, event id), so these make it again)."""
    from tracklearn.io import find_events
    from tracklearn.io.trackml import event_id_from_prefix

    out = []
    for name in names:
        folder = data / name
        entry: dict[str, Any] = {
            "folder": name,
            "event_ids": sorted(event_id_from_prefix(p) for p in find_events([folder])),
        }
        manifest = folder / "simulation.json"
        if manifest.is_file():
            info = json.loads(manifest.read_text())
            entry.update(
                detector=info.get("detector"),
                seed=info.get("seed"),
                config=info.get("config"),
                simulator_git_revision=(info.get("provenance") or {}).get("git_revision"),
            )
        out.append(entry)
    return out


@register_stage("fullspectrum")
def run_stage(config: dict[str, Any], data: Path, out: Path, resume: bool) -> dict[str, float]:
    """Train a fullspectrum model folder in ``out`` (``resume`` is not supported: it is fast)."""
    from tracklearn.config import validate
    from tracklearn.datapaths import shared_data_dir
    from tracklearn.io import find_events, read_detector, read_event

    cfg = validate(FullSpectrumStageConfig, config, "fullspectrum training config")
    geometry = (
        Path(cfg.geometry) if cfg.geometry else shared_data_dir() / "trackml" / "detectors.csv.gz"
    )
    detector = read_detector(geometry)

    def load(names: Sequence[str]) -> list[Event]:
        prefixes = find_events([data / n for n in names])
        if not prefixes:
            raise DataError(data, f"no events in {', '.join(names)}")
        return [read_event(p) for p in prefixes]

    train_events, val_events = load(cfg.train), load(cfg.val)
    base = FullSpectrumTrainConfig.model_validate(
        cfg.model_dump(exclude={"train", "val", "geometry", "data_note"})
    )
    layers = LayerTable.from_detector(detector)
    train_fullspectrum(
        train_events, val_events, layers, base, out, data_note=cfg.data_note,
        data_sets={"train": describe_data_sets(data, cfg.train),
                   "val": describe_data_sets(data, cfg.val)},
        progress=lambda msg: log.warning("%s", msg),
    )  # fmt: skip
    prov = json.loads((out / "provenance.json").read_text())
    return {k: float(v) for k, v in prov["metrics"]["validation"].items()
            if k in ("trackml_score", "efficiency", "fake_rate")}  # fmt: skip
