"""Bad inputs, options and output folders a new user tries: each gives one line and exit 1
(usage errors 2), or is rightly accepted; never a traceback, never a silent wrong result."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.cli._run import run

from tracklearn.edm import Event
from tracklearn.io import write_event


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and "WARNING" not in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture()
def reconstructed(tmp_path: Path, small_event: Event) -> tuple[Path, Path]:
    """(event prefix, tracks folder) of the small event, reconstructed with hough."""
    from tracklearn.parallel.reconstruct import reconstruct_events

    prefix = write_event(small_event, tmp_path / "ev", compress=False)
    reconstruct_events([prefix], "hough", tmp_path / "t")
    return prefix, tmp_path / "t"


def _evaluate(prefix: Path, tracks: Path, out: Path, *extra: str) -> tuple[int, str]:
    proc = run("evaluate", "--truth", prefix, "--tracks", tracks, "--out", out, *extra, check=False)
    return proc.returncode, proc.stderr


def _evaluate_here(prefix: Path, tracks: Path, out: Path) -> tuple[int, str]:
    """The library side of ``evaluate`` (what the CLI prints: ``error: <message>``)."""
    from tracklearn.errors import TracklearnError
    from tracklearn.evaluation import evaluate_folder

    try:
        evaluate_folder([prefix], tracks, out)
    except TracklearnError as exc:
        return 1, f"error: {exc}"
    return 0, ""


# ----------------------------------------------------- silent wrong results, worst first


def test_evaluate_refuses_a_tracks_file_missing_half_the_hits(
    reconstructed: tuple[Path, Path], tmp_path: Path
) -> None:
    prefix, tracks = reconstructed
    path = tracks / "event000000007-tracks.csv"
    df = pd.read_csv(path)
    df.iloc[: len(df) // 2].to_csv(path, index=False)
    code, err = _evaluate(prefix, tracks, tmp_path / "rep")
    line = _one_error_line(err)
    assert code == 1 and "event000000007-tracks.csv" in line
    assert f"covers {len(df) // 2} of the event's {len(df)} hits" in line
    assert not (tmp_path / "rep" / "metrics.json").exists()


def test_evaluate_refuses_tracks_of_another_event_with_the_same_hit_ids(
    reconstructed: tuple[Path, Path], tmp_path: Path, small_event: Event
) -> None:
    prefix, tracks = reconstructed
    # another event with exactly the same hit ids (1..N) but other positions
    hits = pd.read_csv(f"{prefix}-hits.csv")
    hits["x"] = hits["x"] + 1.0
    hits.to_csv(f"{prefix}-hits.csv", index=False)
    code, err = _evaluate_here(prefix, tracks, tmp_path / "rep")
    line = _one_error_line(err)
    assert code == 1 and "was reconstructed from other hits" in line


def test_evaluate_refuses_negative_track_ids(
    reconstructed: tuple[Path, Path], tmp_path: Path
) -> None:
    prefix, tracks = reconstructed
    path = tracks / "event000000007-tracks.csv"
    df = pd.read_csv(path)
    df.loc[:4, "track_id"] = -3
    df.to_csv(path, index=False)
    code, err = _evaluate_here(prefix, tracks, tmp_path / "rep")
    assert code == 1 and "5 rows with a negative track_id" in _one_error_line(err)


@pytest.mark.parametrize(
    ("part", "column", "value", "needle"),
    [
        ("hits", "layer_id", -2, "column 'layer_id' has 1 negative values"),
        ("hits", "volume_id", -8, "column 'volume_id' has 1 negative values"),
        ("truth", "weight", -1e-5, "column 'weight' has 1 negative values"),
        ("truth", "weight", np.inf, "column 'weight' has 1 NaN or infinite values"),
    ],
)
def test_negative_ids_and_weights_are_refused(
    reconstructed: tuple[Path, Path],
    tmp_path: Path,
    part: str,
    column: str,
    value: float,
    needle: str,
) -> None:
    prefix, tracks = reconstructed
    path = Path(f"{prefix}-{part}.csv")
    df = pd.read_csv(path)
    df.loc[3, column] = value
    df.to_csv(path, index=False)
    code, err = _evaluate_here(prefix, tracks, tmp_path / "rep")
    line = _one_error_line(err)
    assert code == 1 and needle in line and f"event000000007-{part}.csv" in line


def test_negative_layer_id_cannot_merge_layers_in_memory_either() -> None:
    # the layer key masks layer_id to 32 bits: (8, -2) and (7, 0xFFFFFFFE) sign-extended
    # to the same key before the fix
    volume = np.array([8], dtype=np.int64)
    layer = np.array([-2], dtype=np.int64)
    key = (volume << 32) | (layer & 0xFFFFFFFF)
    assert key[0] >> 32 == 8


# ----------------------------------------------------- options and output folders


def test_out_that_is_a_file_or_under_a_file(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for cmd, needle in (
        (("reconstruct", prefix, "--method", "hough", "--out", a_file), "exists and is a file"),
        (("evaluate", "--truth", prefix, "--tracks", tmp_path, "--out", a_file / "s"), "a parent"),
        (("simulate", "--events", "1", "--particles", "5", "--out", a_file), "is a file"),
    ):
        proc = run(*cmd, check=False)
        assert proc.returncode == 1, (cmd, proc.stderr)
        assert needle in _one_error_line(proc.stderr), cmd


def test_out_that_is_not_writable(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    ro = Path("/sys/kernel")  # a read-only folder even for root
    if not ro.is_dir():
        pytest.skip("no read-only folder to try")
    proc = run("reconstruct", prefix, "--method", "hough", "--out", ro, check=False)
    assert proc.returncode == 1
    assert "output folder is not writable" in _one_error_line(proc.stderr)


def test_negative_pt_min_is_a_usage_error(reconstructed: tuple[Path, Path], tmp_path: Path) -> None:
    prefix, tracks = reconstructed
    code, err = _evaluate(prefix, tracks, tmp_path / "rep", "--pt-min", "-1")
    assert code == 2 and "--pt-min" in err and "Traceback" not in err


def test_workers_are_capped_at_the_cores(reconstructed: tuple[Path, Path], tmp_path: Path) -> None:
    prefix, _ = reconstructed
    proc = run("reconstruct", prefix, "--method", "hough", "--out", tmp_path / "w",
               "--workers", "1000")  # fmt: skip
    assert "--workers 1000 capped at" in proc.stderr
    assert json.loads((tmp_path / "w" / "run.json").read_text())["workers"] <= 2


def test_workers_and_scheduler_together_is_a_usage_error(
    reconstructed: tuple[Path, Path], tmp_path: Path
) -> None:
    prefix, _ = reconstructed
    proc = run("reconstruct", prefix, "--out", tmp_path / "w", "--workers", "2",
               "--scheduler", "local:2", check=False)  # fmt: skip
    assert proc.returncode == 2 and "not both" in proc.stderr


def test_a_reused_report_folder_keeps_no_stale_files(
    reconstructed: tuple[Path, Path], tmp_path: Path
) -> None:
    prefix, tracks = reconstructed
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "resolution.json").write_text("{}")  # of an earlier evaluation with parameters
    (rep / "pulls.png").write_bytes(b"png")
    code, _ = _evaluate_here(prefix, tracks, rep)
    assert code == 0
    assert not (rep / "resolution.json").exists() and not (rep / "pulls.png").exists()
    # a failed evaluation leaves no metrics of the earlier one either
    Path(f"{prefix}-truth.csv").write_text("hit_id\n")
    code, _ = _evaluate_here(prefix, tracks, rep)
    assert code == 1 and not (rep / "metrics.json").exists()


# ----------------------------------------------------- files


def test_a_folder_named_like_a_hits_file(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    Path(f"{prefix}-hits.csv.gz").unlink()
    Path(f"{prefix}-hits.csv").mkdir()
    proc = run("reconstruct", tmp_path / "ev", "--out", tmp_path / "t", check=False)
    assert proc.returncode == 1
    assert "event000000007-hits.csv: is a folder, not a file" in _one_error_line(proc.stderr)


def test_an_unreadable_hits_file(
    tmp_path: Path, small_event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from tracklearn.errors import DataError
    from tracklearn.io import read_event

    prefix = write_event(small_event, tmp_path / "ev")
    path = Path(f"{prefix}-hits.csv.gz")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: make the read fail as it would
        real_read_csv = pd.read_csv

        def denied(p: object, *a: object, **k: object) -> object:
            if Path(str(p)) == path:
                raise PermissionError(13, "Permission denied", str(p))
            return real_read_csv(p, *a, **k)

        monkeypatch.setattr(pd, "read_csv", denied)
    with pytest.raises(DataError, match=r"hits.csv.gz: permission denied \(file not readable\)"):
        read_event(prefix)


def test_both_csv_and_csv_gz_is_ambiguous(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    with gzip.open(f"{prefix}-hits.csv.gz") as f:
        Path(f"{prefix}-hits.csv").write_bytes(f.read())
    proc = run("reconstruct", tmp_path / "ev", "--out", tmp_path / "t", check=False)
    line = _one_error_line(proc.stderr)
    assert proc.returncode == 1
    assert "event000000007-hits.csv and event000000007-hits.csv.gz exist" in line


@pytest.mark.parametrize(
    ("timing", "code", "needle"),
    [
        ({"time_s": "fast", "peak_rss_mb": 10}, 1, "time_s must be a finite number >= 0"),
        ({"time_s": -1.0}, 1, "time_s must be a finite number >= 0"),
        ([1, 2], 1, "must hold a JSON object"),
        ({"peak_rss_mb": 10.0}, 0, None),  # another tool: scored, time left out
    ],
)
def test_timing_files_of_other_tools(
    reconstructed: tuple[Path, Path],
    tmp_path: Path,
    timing: object,
    code: int,
    needle: str | None,
) -> None:
    prefix, tracks = reconstructed
    (tracks / "event000000007-timing.json").write_text(json.dumps(timing))
    got, err = _evaluate_here(prefix, tracks, tmp_path / "rep")
    assert got == code, err
    if needle:
        assert needle in _one_error_line(err) and "event000000007-timing.json" in err
    else:
        doc = json.loads((tmp_path / "rep" / "metrics.json").read_text())
        assert "time_s" not in doc["all"] and doc["all"]["efficiency"] > 0.5


@pytest.mark.parametrize(
    ("scale", "code", "needle"),
    [
        (1e-3, 0, "every hit lies within"),  # metres: a warning, no geometry to be sure
        (1e3, 1, "larger than any tracker"),  # µm
        (1e300, 1, "larger than any tracker"),
    ],
)
def test_coordinates_in_another_unit(
    tmp_path: Path, small_event: Event, scale: float, code: int, needle: str
) -> None:
    prefix = write_event(small_event, tmp_path / "ev", compress=False)
    path = Path(f"{prefix}-hits.csv")
    df = pd.read_csv(path)
    df[["x", "y", "z"]] *= scale
    df.to_csv(path, index=False)
    proc = run("reconstruct", prefix, "--method", "hough", "--out", tmp_path / "t", check=False)
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    if code:
        assert not list((tmp_path / "t").glob("*-tracks.csv"))


def test_coordinates_in_metres_against_the_geometry(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "trackml" / "event000000001-hits.csv.gz"
    df = pd.read_csv(src)
    df[["x", "y", "z"]] /= 1000.0
    df.to_csv(tmp_path / "event000000001-hits.csv", index=False)
    det = shared_data / "trackml" / "detectors.csv.gz"
    proc = run("info", tmp_path / "event000000001", "--detector", det, check=False)
    line = _one_error_line(proc.stderr)
    assert proc.returncode == 1 and "hits lie outside their detector module" in line
    assert "coordinates must be in mm" in line
    shutil.rmtree(tmp_path)
