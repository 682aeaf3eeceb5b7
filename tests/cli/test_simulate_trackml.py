"""tracklearn simulate --detector trackml, end to end through reconstruct and evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tests.cli.test_cli import run

from tracklearn.io import read_event

TINY = ["--pileup", "2", "--process", "minbias"]


def test_simulate_trackml_then_reconstruct_and_evaluate(shared_data: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "sim.yaml"
    cfg.write_text("digitisation:\n  noise_hits: 50\n")
    out = tmp_path / "events"
    args = ["simulate", "--detector", "trackml", "--events", "2", "--seed", "5", *TINY]
    run(*args, "--config", cfg, "--out", out, "--workers", "2")
    prefixes = sorted(p.name for p in out.glob("*-hits.csv.gz"))
    assert prefixes == ["event000001000-hits.csv.gz", "event000001001-hits.csv.gz"]
    manifest = json.loads((out / "simulation.json").read_text())
    assert manifest["seed"] == 5
    assert manifest["config"]["generator"]["pileup"] == 2
    assert manifest["config"]["digitisation"]["noise_hits"] == 50
    # a run that died before writing event 1001's last file: the same command redoes only it
    import gzip

    truth = out / "event000001001-truth.csv.gz"
    before = gzip.decompress(truth.read_bytes())
    truth.unlink()
    (out / "simulation.json").unlink()
    kept = (out / "event000001000-hits.csv.gz").stat().st_mtime_ns
    run(*args, "--config", cfg, "--out", out, "--workers", "2")
    assert (out / "event000001000-hits.csv.gz").stat().st_mtime_ns == kept
    assert gzip.decompress(truth.read_bytes()) == before
    assert (out / "simulation.json").exists()
    # same seed, one worker, parquet: the same events bit for bit
    store = tmp_path / "store"
    run(*args, "--config", cfg, "--out", store, "--format", "parquet")
    hits_csv = pd.read_csv(out / "event000001001-hits.csv.gz")
    hits_pq = pd.read_parquet(store / "hits.parquet")
    hits_pq = hits_pq[hits_pq.event_id == 1001].drop(columns="event_id").reset_index(drop=True)
    assert len(hits_csv) == len(hits_pq)
    np.testing.assert_allclose(hits_csv.x.to_numpy(), hits_pq.x.to_numpy(), rtol=1e-6)
    # ROOT in two workers: one file per event, the same events; a lost file is redone alone
    in_root = tmp_path / "root"
    root_args = [*args, "--config", cfg, "--out", in_root, "--format", "root", "--workers", "2"]
    run(*root_args)
    assert sorted(p.name for p in in_root.glob("event*")) == [
        "event000001000.root",
        "event000001001.root",
    ]
    hits_root = read_event(in_root / "event000001001").hits
    np.testing.assert_allclose(hits_root.x, hits_csv.x.to_numpy(), rtol=1e-6)
    (in_root / "event000001001.root").unlink()
    kept = (in_root / "event000001000.root").stat().st_mtime_ns
    run(*root_args)
    assert (in_root / "event000001000.root").stat().st_mtime_ns == kept
    np.testing.assert_array_equal(read_event(in_root / "event000001001").hits.x, hits_root.x)
    # the DBSCAN baseline and the evaluation run on these events unchanged
    run("reconstruct", out, "--method", "dbscan", "--out", tmp_path / "tracks")
    run("evaluate", "--truth", out, "--tracks", tmp_path / "tracks", "--out", tmp_path / "rep")
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert 0 < metrics["all"]["trackml_score"] <= 1


def test_simulate_rejects_bad_options(tmp_path: Path) -> None:
    out = tmp_path / "x"
    proc = run("simulate", "--detector", "trackml", "--pileup", "-1", "--out", out, check=False)
    assert proc.returncode == 2  # usage error from the option's range
    proc = run("simulate", "--detector", "quick", "--pileup", "5", "--out", out, check=False)
    assert proc.returncode == 1
    assert "do not apply to --detector quick" in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("generator:\n  pilup: 20\n")
    proc = run("simulate", "--detector", "trackml", "--config", bad, "--out", out, check=False)
    assert proc.returncode == 1
    assert "pilup" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = run(
        "simulate",
        "--detector",
        "trackml",
        "--geometry",
        tmp_path / "none.csv",
        "--out",
        out,
        check=False,
    )
    assert proc.returncode == 1
    assert "detector geometry not found" in proc.stderr
    assert not out.exists() or not any(out.glob("*.csv*"))
    # with worker processes too: one line from the parent, not a worker traceback
    proc = run(
        "simulate", "--detector", "trackml", "--geometry", tmp_path / "none.csv",
        "--workers", "2", "--out", out, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "detector geometry not found" in proc.stderr
