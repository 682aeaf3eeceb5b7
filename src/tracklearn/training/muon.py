"""Training the muon-trigger CNN (``tracklearn train muon_cnn``) with the generic loop.

Data: a folder from ``tracklearn simulate --detector muon-chamber`` (its
``muon-chamber.npz`` and ``simulation.json``).  A ``val_fraction`` of its
images is held out for validation; the rest trains, or, with
``fresh_images > 0``, every epoch trains on that many *new* images generated
chunk by chunk with the folder's simulation config (chunks ``10⁶ · (epoch + 1)
+ k`` of the folder's seed, never those of the folder itself; shuffled within
a chunk of 1000), so the training set never sits in memory; ``noise_scale``
varies the noise level from chunk to chunk (augmentation).  The loss is the weighted
binary cross-entropy of :func:`~tracklearn.models.muon_cnn.weighted_bce` over
the fired voxels.  Validation metrics per epoch: ``val_loss``,
``val_efficiency`` (matched images with pT ≥ 10 GeV) and ``val_fake_rate``
(:mod:`tracklearn.metrics.muon_trigger`).  The output folder is a model folder
(:class:`~tracklearn.models.muon_model.MuonCNNModel`) with the loop's
checkpoints and curves beside it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.config import validate
from tracklearn.errors import DataError
from tracklearn.metrics.muon_trigger import fake, matched, voxel_counts
from tracklearn.models.muon_cnn import weighted_bce
from tracklearn.models.muon_model import MuonCNNModel
from tracklearn.models.registry import get_model
from tracklearn.provenance import provenance
from tracklearn.simulation.muon_chamber import (
    CHUNK_IMAGES,
    MuonChamberConfig,
    MuonImages,
    iter_muon_images,
    load_muon_images,
)
from tracklearn.training.loop import TrainConfig, load_checkpoint, train
from tracklearn.training.stages import register_stage

log = logging.getLogger(__name__)

#: images below this pT [GeV] are left out of ``val_efficiency`` (the floor's range)
EFFICIENCY_PT_MIN = 10.0


class MuonStageConfig(BaseModel):
    """Config of the ``muon_cnn`` stage (YAML for ``tracklearn train muon_cnn``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: dict[str, Any] = Field(default_factory=dict)  # MuonCNN keyword arguments
    beta: float = Field(5.0, gt=0)  # weight of the muon's voxels in the BCE
    threshold: float = Field(0.5, gt=0, lt=1)  # probability cut of the trigger
    batch_size: int = Field(64, ge=1)
    val_fraction: float = Field(0.1, gt=0, lt=1)
    fresh_images: int = Field(0, ge=0)  # new training images per epoch (0: the data's)
    # fresh images: every chunk of 1000 scales the noise (noise_strips, background_clusters)
    # by a factor uniform in this range, so the network learns more than one noise level
    noise_scale: tuple[float, float] = (1.0, 1.0)
    train: TrainConfig = TrainConfig()


def _tensors(images: MuonImages) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(images.hits), torch.from_numpy(images.truth)


def trigger_metrics(
    model: torch.nn.Module, images: MuonImages, threshold: float
) -> dict[str, float]:
    """``efficiency`` (pT ≥ 10 GeV) and ``fake_rate`` of ``model`` on ``images``."""
    probs = []
    with torch.no_grad():
        for i in range(0, len(images), 256):
            probs.append(torch.sigmoid(model(torch.from_numpy(images.hits[i : i + 256]).float())))
    pred = (torch.cat(probs).numpy() >= threshold) & images.hits
    tp, p, m = voxel_counts(pred, images.truth)
    sel = (images.pt_gev >= EFFICIENCY_PT_MIN) & (p > 0)
    fired = m > 0
    return {
        "efficiency": float(matched(tp, p)[sel].mean()) if sel.any() else float("nan"),
        "fake_rate": float(fake(tp, m)[fired].mean()) if fired.any() else float("nan"),
    }


def _simulation(data: Path) -> tuple[MuonChamberConfig, int]:
    path = data / "simulation.json"
    if not path.exists():
        raise DataError(path, "missing (the folder must come from tracklearn simulate)")
    info = json.loads(path.read_text())
    if info.get("detector") != "muon-chamber":
        raise DataError(path, f"detector {info.get('detector')!r} is not muon-chamber")
    return MuonChamberConfig.model_validate(info["config"]), int(info["seed"])


@register_stage(
    "muon_cnn",
    summary="muon-chamber trigger CNN (configs/train/muon_cnn.yaml)",
)
def run_muon_stage(config: dict[str, Any], data: Path, out: Path, resume: bool) -> dict[str, float]:
    """Train the muon CNN on ``data``; write a model folder to ``out``; return val metrics."""
    cfg = validate(MuonStageConfig, config, "muon_cnn config")
    data, out = Path(data), Path(out)
    images = load_muon_images(data)
    sim_cfg, sim_seed = _simulation(data)
    perm = np.random.default_rng(cfg.train.seed).permutation(len(images))
    n_val = max(1, round(len(images) * cfg.val_fraction))
    val_set, train_set = images.subset(perm[:n_val]), images.subset(perm[n_val:])
    model = get_model("muon_cnn", n_layers=images.hits.shape[1], **cfg.model)
    tx, ty = _tensors(train_set)
    vx, vy = _tensors(val_set)

    def step(m: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return weighted_bce(m(x.float()), y.float(), cfg.beta, mask=x)

    def epoch_batches(
        epoch: int, gen: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if not cfg.fresh_images:
            for idx in torch.randperm(len(tx), generator=gen).split(cfg.batch_size):
                yield tx[idx], ty[idx]
            return
        # fresh images chunk by chunk (never all in memory), shuffled within a chunk
        rng = np.random.default_rng([sim_seed, epoch])
        first = 1_000_000 * (epoch + 1)
        for k in range(-(-cfg.fresh_images // CHUNK_IMAGES)):
            scale = rng.uniform(*cfg.noise_scale)
            noisy = sim_cfg.model_copy(update={
                "noise_strips": sim_cfg.noise_strips * scale,
                "background_clusters": sim_cfg.background_clusters * scale,
            })  # fmt: skip
            n = min(CHUNK_IMAGES, cfg.fresh_images - k * CHUNK_IMAGES)
            (chunk,) = iter_muon_images(n, sim_seed, noisy, first_chunk=first + k)
            x, y = _tensors(chunk)
            for idx in torch.randperm(len(x), generator=gen).split(cfg.batch_size):
                yield x[idx], y[idx]

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        losses = [
            float(weighted_bce(m(vx[i : i + 256].float()), vy[i : i + 256].float(), cfg.beta,
                               mask=vx[i : i + 256])) * len(vx[i : i + 256])
            for i in range(0, len(vx), 256)
        ]  # fmt: skip
        rates = trigger_metrics(m, val_set, cfg.threshold)
        return {
            "val_loss": sum(losses) / len(vx),
            "val_efficiency": rates["efficiency"],
            "val_fake_rate": rates["fake_rate"],
        }

    stored = {"stage": "muon_cnn", **cfg.model_dump(mode="json", exclude={"train"})}
    history = train(
        model, step, epoch_batches, evaluate, cfg.train, out, resume=resume, stored_config=stored
    )
    best = load_checkpoint(out / "best.pt")
    model.load_state_dict(best["model"])
    model.eval()
    final = {k: v for k, v in history.rows[history.best_epoch].items() if k.startswith("val_")}
    MuonCNNModel(
        model,
        "muon_cnn",
        {"n_layers": images.hits.shape[1], **cfg.model},
        cfg.threshold,
        {
            "stage": "muon_cnn",
            "beta": cfg.beta,
            "simulation": sim_cfg.model_dump(mode="json"),
            "data": {"path": str(data), "seed": sim_seed, "n_images": len(images),
                     "n_val": n_val, "fresh_images_per_epoch": cfg.fresh_images,
                     "noise_scale": list(cfg.noise_scale)},
            "train": cfg.train.model_dump(mode="json"),
            "best_epoch": history.best_epoch,
            "val_metrics": final,
            "provenance": provenance(),
        },
    ).save(out)  # fmt: skip
    log.info("muon_cnn: best epoch %d: %s", history.best_epoch, final)
    return final
