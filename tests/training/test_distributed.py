"""Data-parallel training on 2 processes (gloo, CPU) follows 1 process at equal global batch,
and a run whose process is killed resumes to the same end."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.training._ddp_problem import fit

from tracklearn.errors import ConfigError, TracklearnError
from tracklearn.training.distributed import launch

#: relative tolerance of N = 2 against N = 1 (float rounding of the gradient all-reduce)
TOLERANCE = 1e-5


def _losses(rows: list[dict[str, float]], key: str = "train_loss") -> list[float]:
    return [r[key] for r in rows]


@pytest.mark.slow
def test_two_processes_match_one_at_equal_global_batch_and_resume_after_a_kill(
    tmp_path: Path,
) -> None:
    one = launch(fit, (str(tmp_path / "one"), 4, 2), 1)
    assert _losses(one)[-1] < 0.6 * _losses(one)[0]  # it learns
    assert one[-1]["accuracy"] > 0.9
    # 2 processes; one is killed in epoch 2: one line, and the checkpoint of epoch 1 stays
    out = tmp_path / "two"
    with pytest.raises(TracklearnError, match="a training process died.*rerun with --resume"):
        launch(fit, (str(out), 4, 2, False, 2), 2)
    assert (out / "checkpoint.pt").exists()
    two = launch(fit, (str(out), 4, 2, True), 2)
    assert [r["epoch"] for r in two] == [0, 1, 2, 3]
    # epochs 0-1 before the kill and 2-3 after the resume follow the single process
    assert _losses(two) == pytest.approx(_losses(one), rel=TOLERANCE)
    assert _losses(two, "val_loss") == pytest.approx(_losses(one, "val_loss"), rel=TOLERANCE)


def test_global_batch_must_split_over_the_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracklearn.training import distributed

    monkeypatch.setattr(distributed, "world", lambda: (0, 2))  # as rank 0 of 2 would see it
    with pytest.raises(ConfigError, match="batches_per_step .3. must be a multiple of .* .2."):
        fit(str(tmp_path), 1, 3)


@pytest.mark.parametrize(
    ("per_step", "rank", "world", "expected"),
    [
        (1, 0, 1, [[0], [1], [2], [3], [4]]),  # the default: every batch a step, none dropped
        (2, 0, 1, [[0, 1], [2, 3]]),  # the incomplete last step is dropped
        (2, 0, 2, [[0], [2]]),
        (2, 1, 2, [[1], [3]]),
        (4, 1, 2, [[1, 3]]),
    ],
)
def test_each_process_takes_its_share_of_every_step(
    per_step: int, rank: int, world: int, expected: list[list[int]]
) -> None:
    from tracklearn.training.loop import _steps

    assert list(_steps(range(5), per_step, rank, world)) == expected


def test_resume_refuses_another_config_naming_the_setting(tmp_path: Path) -> None:
    import torch

    from tracklearn.training import TrainConfig, train

    fit(str(tmp_path), 1, 1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    cfg = TrainConfig(epochs=3, lr=0.5, threads=1)  # another learning rate
    with pytest.raises(ConfigError, match=r"another config \(train.lr: 0.02 -> 0.5\)"):
        train(model, lambda m, b: m(b), lambda e, g: [], lambda m: {}, cfg, tmp_path, resume=True)
