"""The gnn method with MC dropout on the real event: spreads, and dropout off changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.cli._run import run

from tracklearn.errors import ConfigError
from tracklearn.io import read_event
from tracklearn.pipeline import get_method


@pytest.fixture(scope="module")
def event(real_prefix: Path):  # type: ignore[no-untyped-def]
    return read_event(real_prefix, parts=("hits", "cells"))


@pytest.mark.realdata
def test_mc_dropout_off_reproduces_the_plain_tracks_and_on_gives_spreads(event) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="trained without dropout"):
        get_method("gnn", {"mc_samples": 3, "threads": 1})
    with pytest.raises(ConfigError, match="needs mc_samples"):
        get_method("gnn", {"max_score_std": 0.1, "threads": 1})
    plain = get_method("gnn", {"threads": 1, "save_edge_scores": True})(event)
    off = get_method("gnn", {"threads": 1, "mc_samples": 2, "mc_dropout": 0.0})(event)
    assert plain.edges is not None and off.edges is not None
    assert plain.edges.score_std is None
    np.testing.assert_array_equal(off.edges.score, plain.edges.score)
    assert np.all(off.edges.score_std == 0)  # type: ignore[operator]
    np.testing.assert_array_equal(off.to_labels(), plain.to_labels())
    mc_cfg = {"threads": 1, "mc_samples": 4, "mc_dropout": 0.1}
    on = get_method("gnn", mc_cfg)(event)
    again = get_method("gnn", mc_cfg)(event)
    assert on.edges is not None and again.edges is not None
    assert float(np.mean(on.edges.score_std)) > 0.005  # type: ignore[arg-type]
    np.testing.assert_array_equal(on.edges.score, again.edges.score)  # seeded masks
    _, spread = on.track_scores()
    assert np.nanmean(spread) > 0
    # dropping uncertain edges before building leaves fewer hits on tracks
    strict = get_method("gnn", {**mc_cfg, "max_score_std": 0.02})(event)
    assert np.count_nonzero(strict.to_labels()) < np.count_nonzero(on.to_labels())


@pytest.mark.realdata
@pytest.mark.slow
def test_mc_samples_through_reconstruct_and_evaluate(real_prefix: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "gnn.yaml"
    cfg.write_text("mc_dropout: 0.1\nthreads: 1\n")
    out = tmp_path / "tracks"
    run("reconstruct", real_prefix, "--method", "gnn", "--config", cfg, "--mc-samples", "3",
        "--out", out)  # fmt: skip
    assert (out / "event000000001-edge-scores.parquet").exists()
    scores = (out / "event000000001-track-scores.csv").read_text().splitlines()
    assert scores[0] == "track_id,n_hits,score,score_std" and len(scores) > 20
    report = tmp_path / "report"
    proc = run("evaluate", "--truth", real_prefix, "--tracks", out, "--out", report,
               "--val-truth", real_prefix, "--val-tracks", out)  # fmt: skip
    assert "edge scores:" in proc.stdout and "temperature" in proc.stdout
    doc = json.loads((report / "calibration.json").read_text())
    assert 0 <= doc["ece"] <= 1 and doc["temperature"] > 0
    assert doc["nll_after"] <= doc["nll"] + 1e-9  # fitted on the same event: cannot be worse
    assert doc["mc_dropout"]["mean_std_wrong"] > doc["mc_dropout"]["mean_std_right"]
    assert (report / "reliability.png").stat().st_size > 1000
    # a method that cannot sample: a clean one-line error, nothing written
    bad = run("reconstruct", real_prefix, "--method", "dbscan", "--mc-samples", "2",
              "--out", tmp_path / "bad", check=False)  # fmt: skip
    assert bad.returncode in (1, 2) and "mc_samples" in bad.stderr
    assert not (tmp_path / "bad").exists()
    lonely = run("evaluate", "--truth", real_prefix, "--tracks", out, "--out", report,
                 "--val-truth", real_prefix, check=False)  # fmt: skip
    assert lonely.returncode == 2 and "go together" in lonely.stderr
