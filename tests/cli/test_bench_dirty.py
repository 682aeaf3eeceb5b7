"""`tracklearn bench` writes the committed results tables only from a committed tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import tracklearn.provenance
from tracklearn.cli import app


def test_bench_refuses_a_dirty_tree_for_the_results_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracklearn.provenance, "git_revision", lambda: "0123abc-dirty")
    out = tmp_path / "benchmarks" / "results"
    res = CliRunner().invoke(app, ["bench", "--out", str(out), "--suite", "simulation"])
    assert res.exit_code != 0
    assert "uncommitted changes" in str(res.exception)  # the CLI's main prints it in one line
    assert not out.exists()  # nothing written


def test_bench_unknown_suite_still_names_the_valid_ones_on_a_clean_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracklearn.provenance, "git_revision", lambda: "0123abc")
    out = tmp_path / "benchmarks" / "results"
    res = CliRunner().invoke(app, ["bench", "--out", str(out), "--suite", "nonsense"])
    assert res.exit_code != 0
    msg = str(res.exception)
    assert "uncommitted" not in msg and "fullspectrum" in msg
