"""The generic training loop: loss falls, checkpoints resume, early stopping."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tracklearn.training import TrainConfig, load_checkpoint, train


def _problem() -> tuple[torch.nn.Module, object, object, object]:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 3, generator=g)
    y = (x @ torch.tensor([1.0, -2.0, 0.5]) > 0).float()
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))

    def step(m: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        xb, yb = batch
        return torch.nn.functional.binary_cross_entropy_with_logits(m(xb).squeeze(1), yb)

    def batches(epoch: int, gen: torch.Generator):  # type: ignore[no-untyped-def]
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 32):
            yield x[perm[i : i + 32]], y[perm[i : i + 32]]

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        logits = m(x).squeeze(1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        return {
            "val_loss": float(loss),
            "accuracy": float(((logits > 0).float() == y).float().mean()),
        }

    return model, step, batches, evaluate


def test_loss_falls_and_outputs_are_written(tmp_path: Path) -> None:
    model, step, batches, evaluate = _problem()
    hist = train(model, step, batches, evaluate, TrainConfig(epochs=8, lr=0.05), tmp_path)
    losses = hist.column("train_loss")
    assert losses[-1] < 0.5 * losses[0]
    assert hist.column("accuracy")[-1] > 0.9
    for name in ("checkpoint.pt", "best.pt", "history.csv", "curves.png", "config.json"):
        assert (tmp_path / name).exists(), name
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == hist.best_epoch
    assert best["config"]["train"]["epochs"] == 8


def test_resume_continues_where_it_stopped(tmp_path: Path) -> None:
    model, step, batches, evaluate = _problem()
    full = train(model, step, batches, evaluate, TrainConfig(epochs=6, lr=0.05), tmp_path / "a")
    model2, *_ = _problem()
    train(model2, step, batches, evaluate, TrainConfig(epochs=3, lr=0.05), tmp_path / "b")
    model3, *_ = _problem()
    resumed = train(
        model3, step, batches, evaluate, TrainConfig(epochs=6, lr=0.05), tmp_path / "b", resume=True
    )
    assert [r["epoch"] for r in resumed.rows] == list(range(6))
    assert resumed.column("train_loss") == pytest.approx(full.column("train_loss"), rel=1e-5)


def test_early_stopping(tmp_path: Path) -> None:
    model, step, batches, _ = _problem()
    hist = train(
        model, step, batches, lambda m: {"val_loss": 1.0},
        TrainConfig(epochs=20, patience=2), tmp_path,
    )  # fmt: skip
    assert len(hist.rows) == 3 and hist.stopped_early


def test_cosine_schedule_sets_the_learning_rate_of_each_epoch(tmp_path: Path) -> None:
    # loss = w with one step per epoch: Adam moves w by exactly the epoch's lr each step
    # (constant gradient: m̂/√v̂ = 1), so w after 3 epochs is -(lr_0 + lr_1 + lr_2)
    w = torch.nn.Parameter(torch.zeros(()))
    model = torch.nn.Module()
    model.w = w

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        return {"val_loss": 0.0}

    cfg = TrainConfig(epochs=3, lr=0.1, schedule="cosine", grad_clip=None, threads=1)
    train(model, lambda m, _b: m.w * 1.0, lambda _e, _g: [None], evaluate, cfg, tmp_path)
    expected = 0.1 * (1.0 + 0.75 + 0.25)  # ½(1 + cos(π e / 3)) for e = 0, 1, 2
    assert float(w.detach()) == pytest.approx(-expected, rel=1e-4)
