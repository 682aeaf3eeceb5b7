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

import importlib
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
    """The Conv+LSTM regression stage: MSE warm-up, the NLL, covariance-only epochs."""

    warmup_epochs: int = Field(2, ge=0)  # epochs of MSE on the means before the NLL
    cov_epochs: int = Field(0, ge=0)  # last epochs: NLL of the covariance head alone
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
    cov_epochs: int = 0,
    fresh: Callable[[int], ToySample] | None = None,
) -> History:
    """Train the Conv+LSTM regressor; history has ``val_loss`` (the NLL) and ``val_pull_std``.

    The first ``warmup_epochs`` epochs minimise the mean squared error of the
    means only (the covariance head is untouched), then the Gaussian NLL:
    an NLL started from random means first inflates Σ to cover the large early
    residuals and then shrinks it slowly, and it still lags behind the
    residuals when the means stop improving (pulls narrower than 1).  The last
    ``cov_epochs`` epochs therefore train the covariance head alone on the
    NLL with the means held fixed (everything else frozen): Σ then follows the
    residuals of the final means, which is what unit pulls ask for.
    ``fresh(epoch)`` as in :func:`train_seeded` (new training events every epoch).
    """
    k = int(getattr(model, "max_tracks", 1))
    if cov_epochs and not hasattr(model, "cov_head"):
        raise ValueError("cov_epochs needs a model with a separate cov_head")
    first_cov = config.epochs - cov_epochs

    def tensors(s: ToySample) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y_np, m_np = regression_targets(s, k)
        return torch.from_numpy(s.hits), torch.from_numpy(y_np).float(), torch.from_numpy(m_np)

    data = dict(zip("xym", tensors(train_set), strict=True))
    vx, vy, vm = tensors(val_set)
    state = {"mse": warmup_epochs > 0, "cov": False}

    def step(mod: torch.nn.Module, idx: torch.Tensor) -> torch.Tensor:
        y, m = data["y"][idx], data["m"][idx]
        if state["cov"]:  # the covariance head alone, on fixed features and means
            with torch.no_grad():
                feats = mod.features(data["x"][idx])  # type: ignore[operator]
            mean, chol = mod.heads(feats)  # type: ignore[operator]
            return gaussian_nll(mean.detach(), chol, y, m)
        mean, chol = mod(data["x"][idx])
        if state["mse"]:
            w = m.to(mean.dtype)[..., None]
            return ((mean - y) ** 2 * w).sum() / w.sum().clamp(min=1)
        return gaussian_nll(mean, chol, y, m)

    def epoch_batches(epoch: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
        state["mse"] = epoch < warmup_epochs
        state["cov"] = cov_epochs > 0 and epoch >= first_cov
        if state["cov"]:  # frozen parameters get no gradient, so the optimiser skips them
            for name, p in model.named_parameters():
                p.requires_grad_(name.startswith("cov_head."))
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

    try:
        return train(
            model, step, epoch_batches, evaluate, config, out,
            resume=resume, stored_config=stored_config,
        )  # fmt: skip
    finally:
        for p in model.parameters():
            p.requires_grad_(True)


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


def predict_regression_full(
    model: torch.nn.Module, sample: ToySample, *, mc_samples: int = 0, seed: int = 0
) -> dict[str, npt.NDArray[np.float64] | npt.NDArray[np.bool_]]:
    """Predictions with their full covariance, optionally with MC dropout.

    Without MC dropout: ``mean`` (N, K, 2), ``cov`` = Σ = Lc Lcᵀ (N, K, 2, 2),
    ``y``, ``mask`` and ``chi2`` = (y − f)ᵀ Σ⁻¹ (y − f) (N, K).  With
    ``mc_samples > 1`` the model runs that many times with dropout active:
    ``mean`` is the mean of the sampled means, ``cov_aleatoric`` the mean of
    the sampled Σ, ``cov_epistemic`` the covariance of the sampled means and
    ``cov`` their sum (the total predictive covariance of Gal & Ghahramani),
    ``spread`` the square root of the diagonal of ``cov_epistemic``.
    """
    from tracklearn.models.mc_dropout import mc_dropout_mode

    k = int(getattr(model, "max_tracks", 1))
    y_np, m_np = regression_targets(sample, k)
    x = torch.from_numpy(sample.hits)
    model.eval()
    out: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.bool_]] = {"y": y_np, "mask": m_np}
    with torch.no_grad():
        if mc_samples > 1:
            means, covs = [], []
            with torch.random.fork_rng(devices=[]), mc_dropout_mode(model):
                torch.manual_seed(seed)
                for _ in range(mc_samples):
                    mu, ch = model(x)
                    means.append(mu.double())
                    covs.append((ch @ ch.transpose(-1, -2)).double())
            mu_s = torch.stack(means)  # (S, N, K, 2)
            mean = mu_s.mean(0)
            d = mu_s - mean
            epi = torch.einsum("snki,snkj->nkij", d, d) / mc_samples
            alea = torch.stack(covs).mean(0)
            cov = alea + epi
            out |= {
                "cov_aleatoric": alea.numpy(),
                "cov_epistemic": epi.numpy(),
                "spread": torch.sqrt(torch.diagonal(epi, dim1=-2, dim2=-1)).numpy(),
            }
        else:
            mu, ch = model(x)
            mean, cov = mu.double(), (ch @ ch.transpose(-1, -2)).double()
    r = torch.from_numpy(y_np) - mean
    chi2 = (r.unsqueeze(-2) @ torch.linalg.solve(cov, r.unsqueeze(-1))).squeeze(-1).squeeze(-1)
    out |= {"mean": mean.numpy(), "cov": cov.numpy(), "chi2": chi2.numpy()}
    return out


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


def predict_g2_tracks(model: torch.nn.Module, islands: G2Islands, seed: int = 0) -> IntArray:
    """The g-2 finder's track candidates: the network's slots guiding :func:`ransac_candidates`.

    Shapes: (N, L, S), 0 noise, ``k ≥ 1`` candidate.
    """
    return ransac_candidates(predict_g2(model, islands), islands.occupancy, seed=seed)


def g2_hit_scores(
    model: torch.nn.Module,
    islands: G2Islands,
    *,
    mc_samples: int = 0,
    rate: float | None = None,
    seed: int = 0,
    batch_size: int = 512,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per cell the probability of being on a track, ``1 − P(noise class)``, and its MC spread.

    With ``mc_samples > 0`` the mean and standard deviation over MC-dropout
    samples (:func:`tracklearn.models.mc_dropout.mc_dropout`); otherwise the
    evaluation-mode score and zeros.  Shapes: (N, L, S) both (empty cells too).
    """
    from tracklearn.models.mc_dropout import mc_dropout

    x = torch.from_numpy(islands.occupancy)
    means, stds = [], []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]

        def forward(xb: torch.Tensor = xb) -> torch.Tensor:
            return 1.0 - torch.softmax(model(xb), dim=-1)[..., 0]

        if mc_samples > 0:
            m, s = mc_dropout(model, forward, mc_samples, rate=rate, seed=seed + i)
        else:
            model.eval()
            with torch.no_grad():
                m = forward()
            s = torch.zeros_like(m)
        means.append(m)
        stds.append(s)
    return torch.cat(means).numpy(), torch.cat(stds).numpy()


#: g-2 track building (:func:`ransac_candidates`): a cell belongs to a parabola within
#: this many straws (a track's cells sit within ±0.5 of it, crosstalk 1 straw away)
RANSAC_TOLERANCE = 0.75
#: a candidate needs this many cells on this many distinct layers
RANSAC_MIN_CELLS = 5
RANSAC_MIN_LAYERS = 4
#: random three-cell parabolas tried per RANSAC fit
RANSAC_TRIALS = 64


def cell_positions(n_layers: int, n_straws: int) -> npt.NDArray[np.float32]:
    """x of every cell in straw units (straw centre plus the layer's stagger). Shapes: (L, S)."""
    geom = G2Config(n_straws=n_straws).geometry()
    if geom.n_layers != n_layers:
        geom = G2Config(n_modules=n_layers, layers_per_module=1, n_straws=n_straws).geometry()
    x = np.arange(n_straws)[None, :] + 0.5 + geom.layer_offset[:, None] / geom.pitch
    return x.astype(np.float32)


def _layer_u(n_layers: int, n_straws: int) -> npt.NDArray[np.float64]:
    """Normalised z of every layer, ``u = (z − z_mid) / z_half`` in [-1, 1]. Shapes: (L,)."""
    geom = G2Config(n_straws=n_straws).geometry()
    if geom.n_layers != n_layers:
        geom = G2Config(n_modules=n_layers, layers_per_module=1, n_straws=n_straws).geometry()
    z = geom.layer_z
    return np.asarray((z - 0.5 * (z.max() + z.min())) / max(0.5 * (z.max() - z.min()), 1e-9))


def _lsq_parabola(u: FloatArray, x: FloatArray) -> FloatArray:
    phi = np.stack([np.ones_like(u), u, u * u], axis=1)
    a = phi.T @ phi + np.diag([1e-6, 1e-6, 1e-2])  # a small ridge keeps few-layer fits straight
    return np.asarray(np.linalg.solve(a, phi.T @ x))


def ransac_parabola(
    u: FloatArray,
    x: FloatArray,
    rng: np.random.Generator,
    tolerance: float = RANSAC_TOLERANCE,
    trials: int = RANSAC_TRIALS,
    groups: IntArray | None = None,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """The parabola ``x = a + b u + c u²`` with the most cells within ``tolerance``.

    Tries ``trials`` parabolas through three cells on distinct layers (all
    solved at once), keeps the one with most inliers and refits it to them by
    least squares.  Without ``groups`` the three cells are drawn at random;
    with ``groups`` (a label per cell, e.g. the finder's candidates, ≤ 0 for
    none) half of the trials draw their three cells from one group, so that in
    a crowded island most trials start on one track.  Returns the coefficients
    (3,) and the inlier mask (M,).  Shapes: ``u``, ``x``, ``groups`` (M,), M ≥ 3.
    """
    m = len(u)
    idx = np.stack([rng.choice(m, 3, replace=False) for _ in range(trials)])  # (T, 3)
    if groups is not None:
        labels, counts = np.unique(groups[groups > 0], return_counts=True)
        labels = labels[counts >= 3]
        for t in range(trials // 2 if len(labels) else 0):
            members = np.flatnonzero(groups == labels[t % len(labels)])
            idx[t] = rng.choice(members, 3, replace=False)
    uu, xx = u[idx], x[idx]
    phi = np.stack([np.ones_like(uu), uu, uu * uu], axis=-1)  # (T, 3, 3)
    ok = np.abs(np.linalg.det(phi)) > 1e-9  # distinct layers
    coef = np.zeros((trials, 3))
    coef[ok] = np.linalg.solve(phi[ok], xx[ok][..., None])[..., 0]
    resid = np.abs(coef[:, :1] + coef[:, 1:2] * u + coef[:, 2:] * u * u - x)  # (T, M)
    counts_in = np.where(ok, (resid <= tolerance).sum(1), -1)
    inl = resid[int(np.argmax(counts_in))] <= tolerance
    best = _lsq_parabola(u[inl], x[inl]) if inl.sum() >= 3 else coef[int(np.argmax(counts_in))]
    inl = np.abs(best[0] + best[1] * u + best[2] * u * u - x) <= tolerance
    return best, inl


def ransac_candidates(
    pred: IntArray,
    occupancy: npt.NDArray[np.float32],
    *,
    tolerance: float = RANSAC_TOLERANCE,
    min_cells: int = RANSAC_MIN_CELLS,
    min_layers: int = RANSAC_MIN_LAYERS,
    guided: bool = True,
    seed: int = 0,
) -> IntArray:
    """Parabola track candidates by sequential RANSAC, guided by the finder's labels.

    Per island (x in straw units, :func:`cell_positions`; ``u`` the normalised z of the layer):

    1. sequential RANSAC over the occupied cells: the parabola with most cells
       within ``tolerance`` straws (:func:`ransac_parabola`; with ``guided``,
       half of its trials start from three cells of one finder candidate)
       becomes a track if it holds ≥ ``min_cells`` cells on ≥ ``min_layers``
       layers; its cells leave the pool; repeat until no parabola qualifies;
    2. every occupied cell goes to the parabola passing nearest to it at its
       layer if within ``tolerance``, else to noise; each parabola is refitted
       to its cells and this runs once more;
    3. candidates left below ``min_cells`` cells or ``min_layers`` layers dissolve.

    ``guided=False`` ignores ``pred``: a purely classical finder (the reference
    the learned one is measured against).  Shapes: ``pred``, ``occupancy``
    (N, L, S); returns (N, L, S) labels (0 noise).
    """
    n_layers, n_straws = occupancy.shape[1:]
    cell_x = cell_positions(n_layers, n_straws).astype(np.float64)
    u_layer = _layer_u(n_layers, n_straws)
    rng = np.random.default_rng(seed)
    out = np.zeros(np.shape(pred), dtype=np.int64)

    def enough(lay_sel: IntArray) -> bool:
        return len(lay_sel) >= min_cells and len(np.unique(lay_sel)) >= min_layers

    for n in range(len(out)):
        lay, st = np.nonzero(occupancy[n] > 0)
        if len(lay) == 0:
            continue
        u, xs = u_layer[lay], cell_x[lay, st]
        lab = np.asarray(pred)[n, lay, st] if guided else None
        curves: list[FloatArray] = []
        pool = np.arange(len(xs))
        while enough(lay[pool]):
            groups = None if lab is None else lab[pool]
            coef, inl = ransac_parabola(u[pool], xs[pool], rng, tolerance, groups=groups)
            if not enough(lay[pool[inl]]):
                break
            curves.append(coef)
            pool = pool[~inl]
        if not curves:
            continue
        assign = np.full(len(xs), -1)
        for _ in range(2):  # nearest parabola, refit, once more
            c_arr = np.stack(curves)
            dist = np.abs(c_arr[:, :1] + c_arr[:, 1:2] * u + c_arr[:, 2:] * u * u - xs)
            best = np.argmin(dist, axis=0)
            assign = np.where(dist[best, np.arange(len(xs))] <= tolerance, best, -1)
            curves = [
                _lsq_parabola(u[assign == k], xs[assign == k]) if np.sum(assign == k) >= 3 else c
                for k, c in enumerate(curves)
            ]
        keep = [k for k in range(len(curves)) if enough(lay[assign == k])]
        relabel = np.zeros(len(curves) + 1, np.int64)  # index -1 → last entry → 0
        relabel[keep] = np.arange(1, len(keep) + 1)
        out[n, lay, st] = relabel[assign]
    return out


# ---------------------------------------------------------------- stages


def _final(history: History) -> dict[str, float]:
    row = history.rows[history.best_epoch] if history.best_epoch >= 0 else {}
    return {k: v for k, v in row.items() if k.startswith("val_")}


def _seeded_stage(name: str) -> None:
    doc = importlib.import_module(f"tracklearn.models.toy.{name}").__doc__ or name
    summary = f"HEP.TrkX toy: {doc.strip().splitlines()[0].split(':')[0].rstrip('.')}"

    @register_stage(f"toy_{name}", distributed=True, summary=summary)
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


@register_stage(
    "toy_conv_lstm_regression",
    summary="HEP.TrkX toy: track-parameter regression with uncertainties (conv LSTM)",
)
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
        cov_epochs=cfg.cov_epochs,
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


@register_stage(
    "g2_lstm",
    distributed=True,
    summary="g-2 straw station: LSTM track finder (configs/train/g2_lstm_overlay.yaml)",
)
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
    # the finder's tracks (network-guided RANSAC) with the best epoch's weights
    model.load_state_dict(torch.load(Path(out) / "best.pt", weights_only=False)["model"])
    val = islands.subset(va)
    counts = island_candidate_counts(predict_g2_tracks(model, val), val.owner)
    return _final(hist) | {
        "val_finder_efficiency": counts.efficiency(),
        "val_finder_purity": counts.purity(),
    }
