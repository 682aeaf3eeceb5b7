"""``tracklearn train --help`` lists the trainable stages from the registry, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli._run import run

from tracklearn.training.stages import available_stages, describe_stages


def test_every_stage_has_a_one_line_summary() -> None:
    summaries = describe_stages()
    assert list(summaries) == available_stages()
    assert {"module_map", "filter", "edge_classifier", "muon_cnn", "g2_lstm"} <= set(summaries)
    for name, summary in summaries.items():
        assert summary and "\n" not in summary and len(summary) < 120, name


@pytest.mark.slow  # 8-14 s on loaded cores: two CLI subprocesses that import torch
def test_train_help_lists_the_stages_and_an_unknown_stage_lists_the_valid_ones(
    tmp_path: Path,
) -> None:
    helps = run("train", "--help").stdout
    # rich wraps long lines: compare without the line breaks and box padding
    flat = " ".join(helps.split())
    for name, summary in describe_stages().items():
        assert f"{name}: {' '.join(summary.split())}" in flat, name
    # the stage name is checked before the config is read (this one does not exist)
    bad = run(
        "train", "nope", "--config", tmp_path / "missing.yaml", "--data", tmp_path,
        "--out", tmp_path / "o", check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown stage 'nope'" in lines[0]
    assert all(name in lines[0] for name in available_stages())
