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

``resume=True`` refuses a config that differs from the checkpoint's (except
``train.epochs`` and ``train.threads``), naming the first setting that differs:
a resumed run never silently mixes two configs.

In a ``torch.distributed`` process group (``tracklearn train --nproc N``,
:mod:`tracklearn.training.distributed`) the model is wrapped in
DistributedDataParallel, each process takes every N-th batch, rank 0
evaluates and writes; ``train.batches_per_step`` (a multiple of N) fixes the
global batch, so the result does not depend on N beyond float rounding.
Torch is imported here, never by the classical path.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.config import first_difference
from tracklearn.errors import ConfigError
from tracklearn.io.atomic import atomic_path, save_figure, write_text_atomic
from tracklearn.provenance import provenance
from tracklearn.training import distributed as ddp

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
    # batches whose mean gradient makes one optimiser step (the global batch); with
    # --nproc N it must be a multiple of N, each process taking batches_per_step / N.
    # > 1: an epoch's last incomplete group of batches is dropped
    batches_per_step: int = Field(1, ge=1)


#: settings that may change when resuming (train longer; use other cores)
RESUMABLE_CHANGES = ("epochs", "threads")


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


def _steps(batches: Iterable[Any], per_step: int, rank: int, world: int) -> Iterator[list[Any]]:
    """This process's batches of every optimiser step: batch ``j`` of the epoch belongs to
    step ``j // per_step`` and to rank ``j % world``; with ``per_step > 1`` an incomplete
    last step is dropped (every process must take part in every step)."""
    group: list[Any] = []
    for j, batch in enumerate(batches):
        if j % world == rank:
            group.append(batch)
        if (j + 1) % per_step == 0:
            yield group
            group = []
    if group and per_step == 1:
        yield group


def _check_resumable(path: Path, stored: Any, job: dict[str, Any]) -> None:
    """Refuse to resume ``path`` with a config other than the one it was trained with."""
    if not isinstance(stored, dict):
        return  # a checkpoint of an older version: nothing to compare
    old = json.loads(json.dumps(stored, default=str))
    new = json.loads(json.dumps(job, default=str))
    for cfg in (old, new):
        for key in RESUMABLE_CHANGES:
            cfg.get("train", {}).pop(key, None)
    diff = first_difference(old, new)
    if diff:
        raise ConfigError(
            f"{path}: was trained with another config ({diff}); resume with the same config "
            "(only train.epochs and train.threads may change) or train into a new --out"
        )


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
    save_figure(fig, out / "curves.png", dpi=110)


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
    from tracklearn.io.outdir import prepare_out_dir

    out = Path(out)
    rank, world = ddp.world()
    main = rank == 0
    if main:
        prepare_out_dir(out)
    if config.batches_per_step % world:
        raise ConfigError(
            f"train.batches_per_step ({config.batches_per_step}) must be a multiple of the "
            f"number of processes ({world}): each takes batches_per_step / {world} per step"
        )
    torch.set_num_threads(max(1, config.threads // world))
    gen = seed_everything(config.seed)
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = History()
    start_epoch = 0
    since_best = 0
    ckpt_path = out / "checkpoint.pt"
    job = {"train": config.model_dump(), **(stored_config or {})}
    if resume and ckpt_path.exists():
        ckpt = load_checkpoint(ckpt_path)
        _check_resumable(ckpt_path, ckpt.get("config"), job)
        try:
            model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            raise ConfigError(
                f"{ckpt_path}: does not fit the model of this config "
                f"({first[-1].strip() if first else exc})"
            ) from None
        opt.load_state_dict(ckpt["optimizer"])
        history = History(**ckpt["history"])
        start_epoch = int(ckpt["epoch"]) + 1
        since_best = int(ckpt["since_best"])
        gen.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        log.info("resumed from %s at epoch %d", ckpt_path, start_epoch)
    if main:
        write_text_atomic(
            out / "config.json", json.dumps({"config": job, "provenance": provenance()}, indent=2)
        )
    per_step = config.batches_per_step
    for epoch in range(start_epoch, config.epochs):
        if since_best >= config.patience:
            history.stopped_early = True
            break
        t0 = time.perf_counter()
        if config.schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
        net.train()
        loss_sum, n_losses = 0.0, 0.0
        for step_batches in _steps(epoch_batches(epoch, gen), per_step, rank, world):
            opt.zero_grad()
            for i, batch in enumerate(step_batches):
                # gradients are averaged over the processes when the last one is done
                sync = i == len(step_batches) - 1 or world == 1
                with contextlib.nullcontext() if sync else net.no_sync():  # type: ignore[operator]
                    loss = step(net, batch)
                    (loss / len(step_batches)).backward()
                loss_sum += float(loss.detach())
                n_losses += 1.0
            if config.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
        loss_sum, n_losses = ddp.all_mean([loss_sum, n_losses])
        net.eval()
        metrics: dict[str, float] | None = None
        if main:
            with torch.no_grad():
                metrics = evaluate(model)
            if config.monitor not in metrics:
                raise KeyError(
                    f"evaluate() returned {sorted(metrics)}, not the monitor {config.monitor!r}"
                )
        metrics = ddp.broadcast(metrics)
        assert metrics is not None
        row = {
            "epoch": float(epoch),
            "train_loss": loss_sum / n_losses if n_losses else float("nan"),
            **{k: float(v) for k, v in metrics.items()},
            "time_s": time.perf_counter() - t0,
        }
        history.rows.append(row)
        value = row[config.monitor]
        if _better(value, history.best_value, config.mode):
            history.best_value, history.best_epoch, since_best = value, epoch, 0
            if main:
                _save_torch(
                    {"model": model.state_dict(), "config": job, "epoch": epoch}, out / "best.pt"
                )
        else:
            since_best += 1
        if main:
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
    ddp.barrier()  # every file of rank 0 is written before anyone reads it
    return history
