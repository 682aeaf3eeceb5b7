"""The event engine: this process and the local pool, worker deaths, per-event failures, resume."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from tests.parallel._jobs import KillAlways, Square, kill_once_reconstruct

from tracklearn.errors import ConfigError, RunInterrupted
from tracklearn.parallel import (
    MAX_RETRIES,
    cap_workers,
    parse_scheduler,
    run_tasks,
)
from tracklearn.parallel.reconstruct import reconstruct_events
from tracklearn.pipeline.run import ReconstructJob

ITEMS = ["1", "2", "bad", "bug", "3"]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_in_order_and_per_event_errors_in_one_line(workers: int) -> None:
    report = run_tasks(Square(), ITEMS, workers=workers)
    assert [o.item for o in report.outcomes] == ITEMS
    assert [o.value for o in report.outcomes] == [1, 4, None, None, 9]
    errors = {o.item: o.error for o in report.failed}
    assert errors == {"bad": "bad: bad input", "bug": "bug: ValueError: a bug"}
    assert all(o.attempts == 1 for o in report.outcomes)
    # the state (the model) is built once per worker process, not once per task
    pids = {o.pid for o in report.outcomes}
    assert sum(o.set_up for o in report.outcomes) == len(pids) <= workers


def _tracks(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("*-tracks.csv"))}


def test_a_worker_killed_mid_event_is_retried_and_nothing_is_lost(
    tiny_events: list[Path], tmp_path: Path
) -> None:
    serial = reconstruct_events(tiny_events, "hough", tmp_path / "serial")
    victim = str(tiny_events[2])
    out = tmp_path / "pool"
    job = kill_once_reconstruct(out, victim, tmp_path / "marker")
    result = reconstruct_events(tiny_events, "hough", out, workers=2, job=job)
    assert (tmp_path / "marker").exists()  # a worker really died
    assert not result.failed
    # a broken local pool stops its other worker too: the event in flight there is retried
    retried = {r.prefix: r.attempts for r in result.retried}
    assert retried[victim] == 2 and len(retried) <= 2
    assert _tracks(out) == _tracks(tmp_path / "serial") and len(_tracks(out)) == len(serial)
    summary = json.loads((out / "run.json").read_text())
    assert victim in summary["retried"]
    assert not list(out.glob(".event*"))  # no half-written file of the dead worker


def test_a_poison_event_fails_after_bounded_retries_and_the_others_finish(
    tiny_events: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "t"
    victim = str(tiny_events[1])
    job = KillAlways(ReconstructJob("hough", None, str(out)), victim)
    result = reconstruct_events(tiny_events[:4], "hough", out, workers=2, job=job)
    (bad,) = result.failed
    assert bad.prefix == victim and bad.attempts == MAX_RETRIES + 1
    assert "worker process died on each of 4 tries" in str(bad.error)
    assert len(_tracks(out)) == 3
    assert not (out / "run.json").exists()  # written only when every event succeeded


def test_a_bad_file_is_reported_and_leaves_no_outputs(
    tiny_events: list[Path], tmp_path: Path
) -> None:
    import shutil

    data = tmp_path / "data"
    data.mkdir()
    for p in tiny_events[:3]:
        shutil.copy(f"{p}-hits.csv.gz", data / f"{p.name}-hits.csv.gz")
    out = tmp_path / "t"
    prefixes = sorted(data / p.name for p in tiny_events[:3])
    assert not reconstruct_events(prefixes, "hough", out).failed
    # the rerun with --force meets a broken file: its old outputs must not survive
    (data / f"{prefixes[1].name}-hits.csv.gz").write_bytes(b"\x1f\x8b broken")
    result = reconstruct_events(prefixes, "hough", out, workers=2, force=True)
    (bad,) = result.failed
    assert "truncated or corrupt gzip" in str(bad.error) and "\n" not in str(bad.error)
    assert sorted(_tracks(out)) == [
        f"{prefixes[0].name}-tracks.csv",
        f"{prefixes[2].name}-tracks.csv",
    ]
    assert not list(out.glob(f"{prefixes[1].name}-*"))
    assert not (out / "run.json").exists()


def test_resume_after_an_interrupt_recomputes_only_the_missing_events(
    tiny_events: list[Path], tmp_path: Path
) -> None:
    full = tmp_path / "full"
    reconstruct_events(tiny_events, "hough", full)
    out = tmp_path / "resumed"
    k = 2

    def stop_after_k(run: object) -> None:
        if len(list(out.glob("*-timing.json"))) >= k:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main process

    with pytest.raises(RunInterrupted, match="2 of 6 events finished.*run the same command"):
        reconstruct_events(tiny_events, "hough", out, on_done=stop_after_k)
    assert len(_tracks(out)) == k and not (out / "run.json").exists()
    assert not list(out.glob(".event*"))
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*-tracks.csv")}
    result = reconstruct_events(tiny_events, "hough", out)
    assert [r.resumed for r in result.runs] == [True] * k + [False] * (len(tiny_events) - k)
    assert {n: (out / n).stat().st_mtime_ns for n in before} == before  # not rewritten
    assert _tracks(out) == _tracks(full)
    assert json.loads((out / "run.json").read_text())["resumed"] == [
        str(p) for p in tiny_events[:k]
    ]
    # --force redoes every event
    forced = reconstruct_events(tiny_events, "hough", out, force=True)
    assert not any(r.resumed for r in forced.runs) and _tracks(out) == _tracks(full)


def test_another_method_on_the_same_folder_is_refused_unless_forced(
    tiny_events: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "t"
    reconstruct_events(tiny_events[:2], "hough", out)
    with pytest.raises(
        ConfigError, match="holds outputs of another run .method: 'hough' -> 'dbscan'"
    ):
        reconstruct_events(tiny_events[2:3], "dbscan", out)
    # --force clears the earlier run's outputs, also of events not in this run
    reconstruct_events(tiny_events[2:3], "hough", out, force=True, config={"min_layers": 6})
    assert sorted(_tracks(out)) == [f"{tiny_events[2].name}-tracks.csv"]


def test_workers_are_capped_at_the_cores(caplog: pytest.LogCaptureFixture) -> None:
    from tracklearn.parallel import available_cores

    with caplog.at_level(logging.WARNING):
        assert cap_workers(1000, 50) == available_cores()
    assert f"--workers 1000 capped at {available_cores()}" in caplog.text
    assert cap_workers(1000, 1) == 1  # never more workers than events


@pytest.mark.parametrize(
    ("text", "address", "n"),
    [
        ("local", None, None),
        ("local:3", None, 3),
        ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786", None),
    ],
)
def test_parse_scheduler(text: str, address: str | None, n: int | None) -> None:
    spec = parse_scheduler(text)
    assert (spec.address, spec.n_workers) == (address, n)


@pytest.mark.parametrize("text", ["local:0", "lokal", "10.0.0.5", "tcp://host", "local:x"])
def test_parse_scheduler_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="--scheduler"):
        parse_scheduler(text)
