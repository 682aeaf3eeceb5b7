"""reconstruct writes track parameters, evaluate reports resolutions: through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli._run import run

from tracklearn.io import read_event, read_track_params, read_tracks_labelled
from tracklearn.io.root import read_track_params_root


@pytest.mark.realdata
def test_ckf_parameters_through_reconstruct_and_evaluate(real_prefix: Path, tmp_path: Path) -> None:
    out = tmp_path / "tracks"
    run("reconstruct", real_prefix, "--method", "ckf", "--out", out)
    params_file = out / "event000000001-track-params.parquet"
    tid, params = read_track_params(params_file)
    _, labels = read_tracks_labelled(out / "event000000001-tracks.csv", read_event(real_prefix))
    assert len(params) > 50
    # every parameter row belongs to a track of the tracks file
    assert set(tid.tolist()) <= set(labels.tolist())
    report = tmp_path / "report"
    proc = run("evaluate", "--truth", real_prefix, "--tracks", out, "--out", report)
    assert "sigma(pT)/pT, barrel" in proc.stdout and "pull widths" in proc.stdout
    doc = json.loads((report / "resolution.json").read_text())
    assert doc["n_tracks"] > 20
    assert set(doc["pulls"]) == {"d0", "z0", "phi", "theta", "qop"}
    for name in ("resolution_pt.png", "pulls.png"):
        assert (report / name).stat().st_size > 1000
    assert "Track parameters" in (report / "summary.md").read_text()
    # another method into the same folder is refused without --force (outputs would mix)
    proc = run("reconstruct", real_prefix, "--method", "hough", "--out", out, check=False)
    assert proc.returncode == 1 and "method: 'ckf' -> 'hough'" in proc.stderr
    assert params_file.exists()
    # with --force, a method without a fit removes the stale parameters
    run("reconstruct", real_prefix, "--method", "hough", "--out", out, "--force")
    assert not params_file.exists()
    # and evaluating into the same report folder leaves no resolution of the earlier one
    run("evaluate", "--truth", real_prefix, "--tracks", out, "--out", report)
    for name in ("resolution.json", "resolution_pt.png", "pulls.png"):
        assert not (report / name).exists(), name
    assert (report / "metrics.json").exists()


@pytest.mark.realdata
def test_ckf_parameters_in_a_root_tracks_file(real_prefix: Path, tmp_path: Path) -> None:
    out = tmp_path / "tracks"
    run("reconstruct", real_prefix, "--method", "ckf", "--format", "root", "--out", out)
    path = out / "event000000001-tracks.root"
    assert sorted(p.name for p in out.glob("event*")) == [
        "event000000001-timing.json",
        path.name,  # the parameters are inside it: no Parquet file
    ]
    found = read_track_params_root(path)
    assert found is not None and len(found[1]) > 50
    report = tmp_path / "report"
    proc = run("evaluate", "--truth", real_prefix, "--tracks", out, "--out", report)
    assert "pull widths" in proc.stdout
    assert json.loads((report / "resolution.json").read_text())["n_tracks"] > 20


def test_help_mentions_the_new_outputs() -> None:
    assert "track-params.parquet" in run("reconstruct", "--help").stdout
    text = run("evaluate", "--help").stdout
    assert "resolution.json" in text and "pulls.png" in text
