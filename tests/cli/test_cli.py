"""The tracklearn command, run as a subprocess the way users run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli._run import run

from tracklearn.edm import Event
from tracklearn.io import write_event
from tracklearn.metrics import DESIGN_KEYS


def test_help_lists_commands() -> None:
    out = run("--help").stdout
    for cmd in ("info", "simulate", "reconstruct", "evaluate", "display", "bench"):
        assert cmd in out


def test_methods_says_when_to_use_each_with_measured_numbers() -> None:
    """`tracklearn methods` lists every method, its use and the side-by-side numbers."""
    from tracklearn.bench.readme import measured_methods
    from tracklearn.pipeline import available_methods

    out = run("methods").stdout
    for name in available_methods():
        assert name in out
    assert "fullspectrum (default)" in out and "use it for" in out
    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    rows = json.loads((results / "fullspectrum.json").read_text())["side_by_side"]
    fs = next(r for r in rows if r["events"] == "mu200" and r["method"] == "fullspectrum")
    assert f"{fs['TrackML score']:.3g}" in out  # the measured score, as the results file has it
    measured, _ = measured_methods(Path("no-such-folder"))
    assert measured == {}  # no results: "–", not an error


def test_unknown_method_lists_valid_ones(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    proc = run("reconstruct", prefix, "--method", "nope", "--out", tmp_path / "t", check=False)
    assert proc.returncode == 1
    assert "unknown reconstruction method 'nope'; valid:" in proc.stderr
    assert "dbscan" in proc.stderr


def test_usage_error_exits_2() -> None:
    assert run("reconstruct", check=False).returncode == 2


def test_end_to_end_simulate_reconstruct_evaluate_display(tmp_path: Path) -> None:
    ev_dir, tr_dir, rep = tmp_path / "events", tmp_path / "tracks", tmp_path / "report"
    run("simulate", "--events", "2", "--particles", "150", "--seed", "3", "--out", ev_dir)
    assert len(list(ev_dir.glob("event*-hits.csv.gz"))) == 2
    info = run("info", ev_dir).stdout
    assert "1000" in info and "1001" in info
    out = run("reconstruct", ev_dir, "--out", tr_dir, "--workers", "2").stdout
    assert "2 events reconstructed with fullspectrum" in out  # the default method
    assert (tr_dir / "event000001000-tracks.csv").exists()
    assert (tr_dir / "run.json").exists()
    run("evaluate", "--truth", ev_dir, "--tracks", tr_dir, "--out", rep)
    metrics = json.loads((rep / "metrics.json").read_text())
    # DESIGN_KEYS itself is pinned to DESIGN.md in tests/metrics/test_aggregate.py
    for key in (*DESIGN_KEYS, "time_s", "peak_rss_mb"):
        assert key in metrics["all"], key
        assert key in metrics["1000"], key
    # a sparse event of exact helices is easy: the baseline must do well on it
    assert metrics["all"]["efficiency"] > 0.8
    assert metrics["all"]["trackml_score"] > 0.6
    for png in ("efficiency_pt.png", "efficiency_eta.png", "track_length.png"):
        assert (rep / png).stat().st_size > 1000
    run("display", ev_dir / "event000001000", "--tracks", tr_dir, "--out", rep / "d.png")
    assert (rep / "d.png").stat().st_size > 1000
    # simulate is reproducible bit for bit
    run(
        "simulate",
        "--events",
        "2",
        "--particles",
        "150",
        "--seed",
        "3",
        "--out",
        tmp_path / "again",
    )
    for name in ("event000001001-hits.csv.gz", "event000001001-truth.csv.gz"):
        import gzip

        a = gzip.decompress((ev_dir / name).read_bytes())
        b = gzip.decompress((tmp_path / "again" / name).read_bytes())
        assert a == b


def _break(prefix: Path, part: str, how: str) -> None:
    path = Path(f"{prefix}-{part}.csv")
    text = path.read_text()
    lines = text.splitlines()
    if how == "missing_column":
        lines = [",".join(line.split(",")[:-1]) for line in lines]
    elif how == "nan":
        cells = lines[3].split(",")
        cells[2] = "NaN"
        lines[3] = ",".join(cells)
    elif how == "dtype":
        cells = lines[3].split(",")
        cells[4] = "pixel"
        lines[3] = ",".join(cells)
    elif how == "duplicate":
        lines.append(lines[1])
    elif how == "empty":
        path.write_text("")
        return
    elif how == "truncate":
        path.write_text(text[: len(text) // 3])
        return
    elif how == "truth_mismatch":
        cells = lines[1].split(",")
        cells[0] = "987654"
        lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("part", "how", "needle"),
    [
        ("hits", "missing_column", "missing column(s) module_id"),
        ("hits", "nan", "column 'y' has 1 NaN"),
        ("hits", "dtype", "column 'volume_id' must hold integers"),
        ("hits", "duplicate", "duplicate hit_id"),
        ("hits", "empty", "file is empty"),
        ("hits", "truncate", "hits.csv"),
        ("truth", "truth_mismatch", "truth hit_ids do not match"),
    ],
)
def test_bad_input_exit_1_one_line_no_output(
    tmp_path: Path, small_event: Event, part: str, how: str, needle: str
) -> None:
    prefix = write_event(small_event, tmp_path / "ev", compress=False)
    _break(prefix, part, how)
    out = tmp_path / "tracks"
    command = ("reconstruct", prefix, "--out", out) if part == "hits" else ("info", prefix)
    proc = run(*command, check=False)
    assert proc.returncode == 1, proc.stderr
    err_lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(err_lines) == 1, proc.stderr
    assert err_lines[0].startswith("error: ") and needle in err_lines[0]
    assert f"event000000007-{part}.csv" in err_lines[0]
    assert not list(out.glob("*-tracks.csv")) if out.exists() else True


def test_truncated_gzip_through_cli(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev", compress=True)
    path = Path(f"{prefix}-hits.csv.gz")
    path.write_bytes(path.read_bytes()[:300])
    proc = run("reconstruct", prefix, "--out", tmp_path / "t", check=False)
    assert proc.returncode == 1
    assert "truncated or corrupt gzip" in proc.stderr and "hits.csv.gz" in proc.stderr
    assert not list((tmp_path / "t").glob("*-tracks.csv"))


def test_evaluate_missing_tracks_is_clear(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    proc = run(
        "evaluate",
        "--truth",
        prefix,
        "--tracks",
        tmp_path / "none",
        "--out",
        tmp_path / "rep",
        check=False,
    )
    assert proc.returncode == 1
    assert "event000000007-tracks.csv: file does not exist" in proc.stderr
    assert not (tmp_path / "rep" / "metrics.json").exists()


def test_evaluate_without_truth_is_clear(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    Path(f"{prefix}-truth.csv.gz").unlink()
    proc = run(
        "evaluate", "--truth", prefix, "--tracks", tmp_path, "--out", tmp_path / "rep", check=False
    )
    assert proc.returncode == 1 and "truth.csv(.gz): file does not exist" in proc.stderr


def test_bad_config_key_fails_at_start(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("not_a_key: 3\n")
    proc = run("reconstruct", prefix, "--config", cfg, "--out", tmp_path / "t", check=False)
    assert proc.returncode == 1 and "not_a_key" in proc.stderr
    proc = run("simulate", "--config", cfg, "--out", tmp_path / "s", check=False)
    assert proc.returncode == 1 and "not_a_key" in proc.stderr
    assert not (tmp_path / "s").exists()


def test_display_truth_colouring(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev")
    run("display", prefix, "--out", tmp_path / "d.png")
    assert (tmp_path / "d.png").stat().st_size > 1000
    assert not list(tmp_path.glob(".d.png*"))


def test_unknown_detector_module_through_cli(shared_data: Path, tmp_path: Path) -> None:
    import gzip

    src = shared_data / "trackml" / "event000000001-hits.csv.gz"
    lines = gzip.decompress(src.read_bytes()).decode().splitlines()
    cells = lines[5].split(",")
    cells[6] = "99999"  # module 99999 does not exist in its layer
    lines[5] = ",".join(cells)
    (tmp_path / "event000000001-hits.csv").write_text("\n".join(lines) + "\n")
    det = shared_data / "trackml" / "detectors.csv.gz"
    proc = run("info", tmp_path / "event000000001", "--detector", det, check=False)
    assert proc.returncode == 1
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "event000000001-hits.csv" in err[0]
    assert "1 hits on unknown detector modules" in err[0] and "module 99999" in err[0]
    ok = run("info", shared_data / "trackml" / "event000000001", "--detector", det)
    assert "5527" in ok.stdout


def test_evaluate_truth_mismatch_leaves_no_report(tmp_path: Path, small_event: Event) -> None:
    prefix = write_event(small_event, tmp_path / "ev", compress=False)
    run("reconstruct", prefix, "--out", tmp_path / "t")
    _break(prefix, "truth", "truth_mismatch")
    proc = run(
        "evaluate",
        "--truth",
        prefix,
        "--tracks",
        tmp_path / "t",
        "--out",
        tmp_path / "rep",
        check=False,
    )
    assert proc.returncode == 1
    assert "event000000007-truth.csv: truth hit_ids do not match" in proc.stderr
    assert not (tmp_path / "rep" / "metrics.json").exists()


def test_markdown_table_formats_floats_and_missing_cells() -> None:
    from tracklearn.report import markdown_table

    lines = markdown_table([{"a": 1, "b": 0.123456}, {"a": "x"}], ["a", "b"])
    assert lines == ["| a | b |", "|---|---|", "| 1 | 0.123 |", "| x | – |"]
