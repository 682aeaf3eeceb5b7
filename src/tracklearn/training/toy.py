"""Training the toy-detector models and the g-2 track finder with the generic loop.

Adapters from the numpy samples (:mod:`tracklearn.simulation.toy`,
:mod:`tracklearn.simulation.g2`) to tensors live here, with the losses:

* seeded classifiers: cross-entropy over the cells of each layer after the
  seed layers;
* track-parameter regression: Gaussian NLL of (slope, intercept), both scaled
  to the detector width (``slope · (L − 1) / P``, ``intercept / P``), tracks
  sorted by intercept;
* g-2 finder: cross-entropy over the ``K + 1`` classes of every hit cell
  (empty cells and tracks beyond ``K`` are ignored).

Stages registered for ``tracklearn train``: ``toy_<model>`` for every seeded
classifier (data: ``toy.npz`` from ``tracklearn simulate --detector
toy2d|toy3d|toy_cylinder``), ``toy_conv_lstm_regression`` and ``g2_lstm`` (data:
``g2.npz`` from ``--detector g2``; ``overlay: true`` adds overlay augmentation).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.config import validate
from tracklearn.io.atomic import atomic_path
from tracklearn.metrics.toy import island_candidate_counts, seeded_accuracy
from tracklearn.models.toy import SEEDED_MODELS, build_toy_model
from tracklearn.models.toy.conv_lstm_regression import gaussian_nll, pulls
from tracklearn.simulation.g2 import (
    G2Config,
    G2Islands,
    isolated_tracks,
    load_islands,
    overlay_islands,
)
from tracklearn.simulation.toy import ToySample, load_toy
from tracklearn.training.loop import History, TrainConfig, train
from tracklearn.training.stages import register_stage
from tracklearn.typing import FloatArray, IntArray


class ToyStageConfig(BaseModel):
    """Config of a toy training stage (YAML for ``tracklearn train``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: dict[str, Any] = Field(default_factory=dict)  # keyword arguments of the model
    batch_size: int = Field(64, ge=1)
    val_fraction: float = Field(0.2, gt=0, lt=1)
    train: TrainConfig = TrainConfig()


class RegressionStageConfig(ToyStageConfig):
    """The Conv+LSTM regression stage: MSE warm-up, then the NLL, then calibration."""

    warmup_epochs: int = Field(2, ge=0)  # epochs of MSE on the means before the NLL
    calibrate: bool = True  # scale σ so that the validation pulls have unit width


class G2StageConfig(ToyStageConfig):
    """The g-2 stage: the finder plus optional overlay augmentation."""

    max_tracks: int = Field(6, ge=1)
    overlay: bool = False  # add synthetic overlay islands to the training set
    overlay_ratio: float = Field(1.0, gt=0)  # synthetic islands per real training island
    overlay_tracks: tuple[int, int] = (2, 8)  # tracks per synthetic island (min, max)
    overlay_noise_hits: float = Field(4.0, ge=0)  # Poisson mean of added noise hits
    overlay_min_layers: int = Field(24, ge=1)  # "well measured": hits on this many layers


def _batches(n: int, batch_size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, batch_size):
        yield perm[i : i + batch_size]


def _split(n: int, val_fraction: float, seed: int) -> tuple[IntArray, IntArray]:
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(n * val_fraction))
    return perm[n_val:], perm[:n_val]


# ---------------------------------------------------------------- seeded classifiers


def _seeded_tensors(s: ToySample) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.from_numpy(s.hits), torch.from_numpy(s.seed), torch.from_numpy(s.target)


def seeded_model(name: str, sample: ToySample, **kwargs: Any) -> torch.nn.Module:
    """Build seeded classifier ``name`` for the geometry of ``sample``."""
    n_layers = sample.hits.shape[1]
    return build_toy_model(name, n_layers=n_layers, pixels=sample.pixels, **kwargs)


def _seeded_loss(
    model: torch.nn.Module, h: torch.Tensor, s: torch.Tensor, t: torch.Tensor, n_seed: int
) -> torch.Tensor:
    if getattr(model, "teacher_forced", False):  # feed the true track back in training
        one_hot = torch.nn.functional.one_hot(t, h.shape[-1]).to(h.dtype)
        logits = model(h, s, one_hot if model.training else None)[:, n_seed:]
    else:
        logits = model(h, s)[:, n_seed:]
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), t[:, n_seed:].reshape(-1)
    )


def predict_seeded(model: torch.nn.Module, sample: ToySample, batch_size: int = 512) -> IntArray:
    """Arg-max cell per layer. Shapes: returns (N, L) int64."""
    h, s, _ = _seeded_tensors(sample)
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(h), batch_size):
            out.append(model(h[i : i + batch_size], s[i : i + batch_size]).argmax(-1))
    return torch.cat(out).numpy().astype(np.int64)


def train_seeded(
    model: torch.nn.Module,
    train_set: ToySample,
    val_set: ToySample,
    config: TrainConfig,
    out: str | Path,
    *,
    batch_size: int = 64,
    resume: bool = False,
    stored_config: dict[str, Any] | None = None,
    fresh: Callable[[int], ToySample] | None = None,
) -> History:
    """Train a seeded classifier; the history has ``val_loss`` and ``val_accuracy``.

    ``fresh(epoch)``, if given, returns the training sample of each epoch
    (online generation: the toy generator is cheap, and a fixed sample of a
    few thousand events is memorised long before the models learn to
    extrapolate); ``train_set`` is then used only for the event count.
    """
    data = dict(zip("hst", _seeded_tensors(train_set), strict=True))
    n_seed = train_set.n_seed_layers
    vh, vs, vt = _seeded_tensors(val_set)

    def step(m: torch.nn.Module, idx: torch.Tensor) -> torch.Tensor:
        return _seeded_loss(m, data["h"][idx], data["s"][idx], data["t"][idx], n_seed)

    def epoch_batches(epoch: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
        if fresh is not None:
            data.update(zip("hst", _seeded_tensors(fresh(epoch)), strict=True))
        return _batches(len(data["h"]), batch_size, gen)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        logits = m(vh, vs)
        loss = _seeded_loss(m, vh, vs, vt, n_seed)
        acc = seeded_accuracy(logits.argmax(-1).numpy(), val_set.target, n_seed)
        return {"val_loss": float(loss), "val_accuracy": acc}

    return train(
        model,
        step,
        epoch_batches,
        evaluate,
        config,
        out,
        resume=resume,
        stored_config=stored_config,
    )


# ---------------------------------------------------------------- regression


def regression_targets(
    sample: ToySample, max_tracks: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Scaled (slope, intercept) sorted by intercept, and the real-track mask.

    Shapes: returns (N, K, 2) (NaN-free; padded slots 0) and (N, K) bool.
    """
    n_layers, width = sample.hits.shape[1], float(sample.pixels[0])
    p = sample.params[:, :max_tracks]
    scaled = np.stack([p[..., 0] * (n_layers - 1) / width, p[..., 1] / width], axis=-1)
    key = np.where(np.isnan(scaled[..., 1]), np.inf, scaled[..., 1])
    order = np.argsort(key, axis=1)
    scaled = np.take_along_axis(scaled, order[..., None], axis=1)
    mask = ~np.isnan(scaled[..., 0])
    y = np.zeros((len(sample), max_tracks, 2))
    y[:, : scaled.shape[1]] = np.nan_to_num(scaled)
    m = np.zeros((len(sample), max_tracks), bool)
    m[:, : mask.shape[1]] = mask
    return y, m


def train_regression(
    model: torch.nn.Module,
    train_set: ToySample,
    val_set: ToySample,
    config: TrainConfig,
    out: str | Path,
    *,
    batch_size: int = 64,
    resume: bool = False,
    stored_config: dict[str, Any] | None = None,
    warmup_epochs: int = 0,
    fresh: Callable[[int], ToySample] | None = None,
) -> History:
    """Train the Conv+LSTM regressor; history has ``val_loss`` (the NLL) and ``val_pull_std``.

    The first ``warmup_epochs`` epochs minimise the mean squared error of the
    means only (the covariance head is untouched), the rest the Gaussian NLL:
    an NLL started from random means first inflates Σ to cover the large early
    residuals and then shrinks it slowly.  ``fresh(epoch)`` as in
    :func:`train_seeded` (new training events every epoch).
    """
    k = int(getattr(model, "max_tracks", 1))

    def tensors(s: ToySample) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y_np, m_np = regression_targets(s, k)
        return torch.from_numpy(s.hits), torch.from_numpy(y_np).float(), torch.from_numpy(m_np)

    data = dict(zip("xym", tensors(train_set), strict=True))
    vx, vy, vm = tensors(val_set)
    state = {"mse": warmup_epochs > 0}

    def step(mod: torch.nn.Module, idx: torch.Tensor) -> torch.Tensor:
        mean, chol = mod(data["x"][idx])
        y, m = data["y"][idx], data["m"][idx]
        if state["mse"]:
            w = m.to(mean.dtype)[..., None]
            return ((mean - y) ** 2 * w).sum() / w.sum().clamp(min=1)
        return gaussian_nll(mean, chol, y, m)

    def epoch_batches(epoch: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
        state["mse"] = epoch < warmup_epochs
        if fresh is not None:
            data.update(zip("xym", tensors(fresh(epoch)), strict=True))
        return _batches(len(data["x"]), batch_size, gen)

    def evaluate(mod: torch.nn.Module) -> dict[str, float]:
        mean, chol = mod(vx)
        pull = pulls(mean, chol, vy)[vm]
        return {
            "val_loss": float(gaussian_nll(mean, chol, vy, vm)),
            "val_pull_std": float(pull.std()) if len(pull) > 1 else float("nan"),
        }

    return train(
        model, step, epoch_batches, evaluate, config, out,
        resume=resume, stored_config=stored_config,
    )  # fmt: skip


def calibrate_regression(model: torch.nn.Module, val_set: ToySample) -> FloatArray:
    """Set the model's ``sigma_scale`` so that its pulls on ``val_set`` have unit width.

    The scale of parameter ``i`` is the standard deviation of its pulls on
    ``val_set`` (real tracks only) computed with the uncalibrated Σ; returns
    the scales (slope, intercept).  Use a validation set, never the test set.
    """
    model.sigma_scale.fill_(1.0)  # type: ignore[operator]
    _resid, _sigma, pull, mask = predict_regression(model, val_set)
    scale = np.std(pull[mask], axis=0)
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"cannot calibrate on {int(mask.sum())} validation tracks: {scale}")
    model.sigma_scale.copy_(torch.from_numpy(scale).float())  # type: ignore[operator]
    return scale.astype(np.float64)


def predict_regression(
    model: torch.nn.Module, sample: ToySample
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Residuals ``y − f``, sigmas and pulls (scaled units), and the real-track mask.

    Shapes: (N, K, 2), (N, K, 2), (N, K, 2), (N, K).
    """
    k = int(getattr(model, "max_tracks", 1))
    y_np, m_np = regression_targets(sample, k)
    model.eval()
    with torch.no_grad():
        mean, chol = model(torch.from_numpy(sample.hits))
        y = torch.from_numpy(y_np).float()
        sigma = torch.sqrt((chol**2).sum(-1))
        return (
            (y - mean).numpy().astype(np.float64),
            sigma.numpy().astype(np.float64),
            pulls(mean, chol, y).numpy().astype(np.float64),
            m_np,
        )


# ---------------------------------------------------------------- g-2 finder


def augment_with_overlay(islands: G2Islands, cfg: G2StageConfig, seed: int) -> G2Islands:
    """``islands`` plus synthetic overlay islands built from their isolated tracks."""
    tracks = isolated_tracks(islands, cfg.overlay_min_layers)
    n_new = round(len(islands) * cfg.overlay_ratio)
    if not tracks or n_new == 0:
        return islands
    n_straws = islands.occupancy.shape[2]
    n_layers = islands.occupancy.shape[1]
    g2cfg = G2Config(n_straws=n_straws, n_modules=n_layers, layers_per_module=1)
    extra = overlay_islands(tracks, n_new, seed, g2cfg, cfg.overlay_tracks, cfg.overlay_noise_hits)
    return G2Islands.concat([islands, extra])


def train_g2(
    model: torch.nn.Module,
    train_set: G2Islands,
    val_set: G2Islands,
    config: TrainConfig,
    out: str | Path,
    *,
    max_tracks: int,
    batch_size: int = 64,
    resume: bool = False,
    stored_config: dict[str, Any] | None = None,
) -> History:
    """Train the g-2 finder; history has ``val_loss``, ``val_efficiency``, ``val_purity``."""
    x = torch.from_numpy(train_set.occupancy)
    y = torch.from_numpy(train_set.labels(max_tracks))
    vx = torch.from_numpy(val_set.occupancy)
    vy = torch.from_numpy(val_set.labels(max_tracks))

    def loss_of(mod: torch.nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        logits = mod(xb)
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), yb.reshape(-1), ignore_index=-1
        )

    def evaluate(mod: torch.nn.Module) -> dict[str, float]:
        counts = island_candidate_counts(mod(vx).argmax(-1).numpy(), val_set.owner)
        return {
            "val_loss": float(loss_of(mod, vx, vy)),
            "val_efficiency": counts.efficiency(),
            "val_purity": counts.purity(),
        }

    return train(
        model,
        lambda mod, idx: loss_of(mod, x[idx], y[idx]),
        lambda _e, gen: _batches(len(x), batch_size, gen),
        evaluate,
        config,
        out,
        resume=resume,
        stored_config=stored_config,
    )


def predict_g2(model: torch.nn.Module, islands: G2Islands, batch_size: int = 512) -> IntArray:
    """Predicted class (0 noise, k ≥ 1 candidate) of every cell. Shapes: (N, L, S)."""
    x = torch.from_numpy(islands.occupancy)
    model.eval()
    with torch.no_grad():
        out = [model(x[i : i + batch_size]).argmax(-1) for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy().astype(np.int64)


# ---------------------------------------------------------------- stages


def _final(history: History) -> dict[str, float]:
    row = history.rows[history.best_epoch] if history.best_epoch >= 0 else {}
    return {k: v for k, v in row.items() if k.startswith("val_")}


def _seeded_stage(name: str) -> None:
    @register_stage(f"toy_{name}", distributed=True)
    def run(config: dict[str, Any], data: Path, out: Path, resume: bool) -> dict[str, float]:
        cfg = validate(ToyStageConfig, config, f"toy_{name} config")
        sample = load_toy(Path(data) / "toy.npz")
        tr, va = _split(len(sample), cfg.val_fraction, cfg.train.seed)
        model = seeded_model(name, sample, **cfg.model)
        hist = train_seeded(
            model, sample.subset(tr), sample.subset(va), cfg.train, out,
            batch_size=cfg.batch_size, resume=resume,
            stored_config={"stage": f"toy_{name}", **cfg.model_dump(mode="json")},
        )  # fmt: skip
        return _final(hist)


for _name in SEEDED_MODELS:
    _seeded_stage(_name)


@register_stage("toy_conv_lstm_regression")
def _run_regression(
    config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    cfg = validate(RegressionStageConfig, config, "toy_conv_lstm_regression config")
    sample = load_toy(Path(data) / "toy.npz")
    tr, va = _split(len(sample), cfg.val_fraction, cfg.train.seed)
    model = build_toy_model(
        "conv_lstm_regression", n_layers=sample.hits.shape[1], pixels=sample.pixels, **cfg.model
    )
    hist = train_regression(
        model, sample.subset(tr), sample.subset(va), cfg.train, out,
        batch_size=cfg.batch_size, resume=resume, warmup_epochs=cfg.warmup_epochs,
        stored_config={"stage": "toy_conv_lstm_regression", **cfg.model_dump(mode="json")},
    )  # fmt: skip
    final = _final(hist)
    if cfg.calibrate:  # the best epoch's weights, σ rescaled on the validation split
        best_path = Path(out) / "best.pt"
        best = torch.load(best_path, map_location="cpu", weights_only=False)
        model.load_state_dict(best["model"])
        scale = calibrate_regression(model, sample.subset(va))
        best["model"] = model.state_dict()
        buf = io.BytesIO()
        torch.save(best, buf)
        with atomic_path(best_path) as tmp:
            tmp.write_bytes(buf.getvalue())
        final |= {
            "val_sigma_scale_slope": float(scale[0]),
            "val_sigma_scale_intercept": float(scale[1]),
        }
    return final


@register_stage("g2_lstm", distributed=True)
def _run_g2(config: dict[str, Any], data: Path, out: Path, resume: bool) -> dict[str, float]:
    cfg = validate(G2StageConfig, config, "g2_lstm config")
    islands = load_islands(Path(data) / "g2.npz")
    tr, va = _split(len(islands), cfg.val_fraction, cfg.train.seed)
    train_set = islands.subset(tr)
    if cfg.overlay:
        train_set = augment_with_overlay(train_set, cfg, cfg.train.seed)
    model = build_toy_model(
        "g2_finder", n_straws=islands.occupancy.shape[2], max_tracks=cfg.max_tracks, **cfg.model
    )
    hist = train_g2(
        model, train_set, islands.subset(va), cfg.train, out, max_tracks=cfg.max_tracks,
        batch_size=cfg.batch_size, resume=resume,
        stored_config={"stage": "g2_lstm", **cfg.model_dump(mode="json")},
    )  # fmt: skip
    return _final(hist)
