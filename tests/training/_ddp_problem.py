"""A tiny classification problem trained through the generic loop, importable by the
processes ``launch`` spawns (test functions are not)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from tracklearn.training import TrainConfig, train


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 3, generator=g)
    y = (x @ torch.tensor([1.0, -2.0, 0.5]) > 0).float()
    return x, y


def _loss(m: torch.nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy_with_logits(m(xb).squeeze(1), yb)


def fit(
    out: str, epochs: int, batches_per_step: int, resume: bool = False, die_at: int = -1
) -> list[dict[str, float]]:
    """Train from a seeded init; ``die_at`` >= 0: the process kills itself in that epoch
    the first time (a marker file in ``out`` remembers it)."""
    x, y = _data()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))

    def batches(epoch: int, gen: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        marker = Path(out) / "died"
        if epoch == die_at and not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 16):
            yield x[perm[i : i + 16]], y[perm[i : i + 16]]

    def step(m: torch.nn.Module, batch: Any) -> torch.Tensor:
        return _loss(m, *batch)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        logits = m(x).squeeze(1)
        return {
            "val_loss": float(_loss(m, x, y)),
            "accuracy": float(((logits > 0).float() == y).float().mean()),
        }

    cfg = TrainConfig(epochs=epochs, lr=0.02, batches_per_step=batches_per_step, threads=1)
    return train(model, step, batches, evaluate, cfg, out, resume=resume).rows
