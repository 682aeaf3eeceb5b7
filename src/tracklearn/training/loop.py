"""The training loop every trainable model in tracklearn uses.

``train`` runs epochs of ``step(model, batch) -> loss`` over the batches an
``epoch_batches(epoch, rng)`` callable yields, evaluates ``evaluate(model) ->
{metric: value}`` after every epoch, and keeps in ``out``:

* ``checkpoint.pt``: model, optimiser, epoch, best value, history, RNG states
  and the resolved config (written atomically every epoch; ``resume=True``
  continues from it);
* ``best.pt``: the model state of the best epoch by ``monitor`` (and the config);
* ``history.csv`` and ``curves.png``: loss and metrics per epoch;
* ``config.json``: the resolved config and provenance.

Training stops early when ``monitor`` has not improved for ``patience`` epochs.
Torch is imported here, never by the classical path.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.provenance import provenance

log = logging.getLogger(__name__)


class TrainConfig(BaseModel):
    """Optimiser and loop settings shared by every stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(20, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    grad_clip: float | None = Field(1.0, gt=0)  # max gradient norm, None = off
    seed: int = 0
    patience: int = Field(5, ge=1)  # epochs without improvement before stopping
    monitor: str = "val_loss"
    mode: Literal["min", "max"] = "min"
    threads: int = Field(2, ge=1)  # torch intra-op threads
    # "cosine": lr × ½(1 + cos(π·epoch/epochs)) set at the start of every epoch
    schedule: Literal["constant", "cosine"] = "constant"


@dataclass
class History:
    """Per-epoch rows: ``epoch``, ``train_loss``, ``time_s`` and the evaluated metrics."""

    rows: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_value: float = float("nan")
    stopped_early: bool = False

    def column(self, key: str) -> list[float]:
        return [r[key] for r in self.rows if key in r]


def seed_everything(seed: int) -> torch.Generator:
    """Seed python and torch (numpy code takes explicit Generators); return a torch generator."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _save_torch(obj: Any, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a ``checkpoint.pt`` or ``best.pt`` written by :func:`train` (CPU)."""
    out: dict[str, Any] = torch.load(Path(path), map_location="cpu", weights_only=False)
    return out


def _better(value: float, best: float, mode: str) -> bool:
    if not np.isfinite(best):
        return bool(np.isfinite(value))
    return value < best if mode == "min" else value > best


def _write_history(out: Path, history: History) -> None:
    keys: list[str] = []
    for r in history.rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(history.rows)
    write_text_atomic(out / "history.csv", buf.getvalue())
    from matplotlib.figure import Figure

    metrics = [k for k in keys if k not in ("epoch", "time_s", "train_loss", "val_loss")]
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_metric = fig.subplots(1, 2)
    epochs = history.column("epoch")
    for key in ("train_loss", "val_loss"):
        if history.column(key):
            ax_loss.plot(epochs[: len(history.column(key))], history.column(key), "o-", label=key)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    for key in metrics:
        ax_metric.plot(epochs[: len(history.column(key))], history.column(key), "o-", label=key)
    ax_metric.set_xlabel("epoch")
    if metrics:
        ax_metric.legend()
    with atomic_path(out / "curves.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def train(
    model: torch.nn.Module,
    step: Callable[[torch.nn.Module, Any], torch.Tensor],
    epoch_batches: Callable[[int, torch.Generator], Iterable[Any]],
    evaluate: Callable[[torch.nn.Module], dict[str, float]],
    config: TrainConfig,
    out: str | Path,
    *,
    resume: bool = False,
    stored_config: dict[str, Any] | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> History:
    """Train ``model`` in place; return the history (see the module docstring).

    Parameters
    ----------
    step
        Loss of one batch (the loop calls ``backward`` and the optimiser).
    epoch_batches
        Batches of one epoch, shuffled with the given generator.
    evaluate
        Validation metrics after an epoch; must contain ``config.monitor``.
    stored_config
        The resolved config of the whole job, saved with every checkpoint.
    progress
        Called after every epoch with ``(epoch, row)``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    gen = seed_everything(config.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = History()
    start_epoch = 0
    since_best = 0
    ckpt_path = out / "checkpoint.pt"
    if resume and ckpt_path.exists():
        ckpt = load_checkpoint(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        history = History(**ckpt["history"])
        start_epoch = int(ckpt["epoch"]) + 1
        since_best = int(ckpt["since_best"])
        gen.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        log.info("resumed from %s at epoch %d", ckpt_path, start_epoch)
    job = {"train": config.model_dump(), **(stored_config or {})}
    write_text_atomic(
        out / "config.json", json.dumps({"config": job, "provenance": provenance()}, indent=2)
    )
    for epoch in range(start_epoch, config.epochs):
        if since_best >= config.patience:
            history.stopped_early = True
            break
        t0 = time.perf_counter()
        if config.schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
        model.train()
        losses = []
        for batch in epoch_batches(epoch, gen):
            opt.zero_grad()
            loss = step(model, batch)
            loss.backward()
            if config.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
            losses.append(float(loss.detach()))
        model.eval()
        with torch.no_grad():
            metrics = evaluate(model)
        if config.monitor not in metrics:
            raise KeyError(
                f"evaluate() returned {sorted(metrics)}, not the monitor {config.monitor!r}"
            )
        row = {
            "epoch": float(epoch),
            "train_loss": float(np.mean(losses)) if losses else float("nan"),
            **{k: float(v) for k, v in metrics.items()},
            "time_s": time.perf_counter() - t0,
        }
        history.rows.append(row)
        value = row[config.monitor]
        if _better(value, history.best_value, config.mode):
            history.best_value, history.best_epoch, since_best = value, epoch, 0
            _save_torch(
                {"model": model.state_dict(), "config": job, "epoch": epoch}, out / "best.pt"
            )
        else:
            since_best += 1
        _save_torch(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "epoch": epoch,
                "since_best": since_best,
                "history": history.__dict__,
                "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "config": job,
            },
            ckpt_path,
        )
        _write_history(out, history)
        if progress is not None:
            progress(epoch, row)
    return history
