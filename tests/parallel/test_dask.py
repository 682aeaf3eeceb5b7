"""Events on Dask: a LocalCluster that loses a worker mid-event, and a cluster started with
the standard ``dask scheduler`` / ``dask worker`` commands.  Every cluster is closed and every
process it started is checked gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli._run import run
from tests.parallel._jobs import kill_once_reconstruct

from tracklearn.parallel import SchedulerSpec
from tracklearn.parallel.reconstruct import reconstruct_events


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _tracks(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("*-tracks.csv"))}


@pytest.mark.slow
def test_local_cluster_loses_a_worker_mid_event_and_finishes_every_event(
    tiny_events: list[Path], tmp_path: Path
) -> None:
    reconstruct_events(tiny_events, "hough", tmp_path / "serial")
    victim = str(tiny_events[3])
    out = tmp_path / "dask"
    job = kill_once_reconstruct(out, victim, tmp_path / "marker")
    result = reconstruct_events(
        tiny_events, "hough", out, scheduler=SchedulerSpec(n_workers=2), job=job
    )
    assert (tmp_path / "marker").exists()  # a worker really died mid-event
    assert not result.failed
    # only the event of the dead worker is retried: the other worker goes on
    assert [(r.prefix, r.attempts) for r in result.retried] == [(victim, 2)]
    assert _tracks(out) == _tracks(tmp_path / "serial")
    summary = json.loads((out / "run.json").read_text())
    assert summary["retried"] == [victim] and summary["executor"].startswith("dask (local:2)")
    assert not list(out.glob(".event*"))
    # the cluster is closed: no worker process is left (the dead one was replaced)
    assert len(result.worker_pids) >= 2
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in result.worker_pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in result.worker_pids)


@pytest.fixture()
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """``dask scheduler`` + one ``dask worker`` on loopback, stopped by pid afterwards."""
    bin_dir = Path(sys.executable).parent
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = (tmp_path / "dask.log").open("w")
    scheduler = [
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-dashboard",
        "--scheduler-file",
    ]
    procs = [subprocess.Popen([bin_dir / "dask", *scheduler, sched_file], stdout=log, stderr=log)]
    try:
        deadline = time.monotonic() + 30
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        worker = ["--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"]
        cmd = [bin_dir / "dask", "worker", address, *worker]
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=log, env=env, cwd=Path.cwd()))
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


@pytest.mark.slow
def test_reconstruct_on_a_cluster_started_with_the_dask_commands(
    dask_cluster: str, tiny_events: list[Path], tmp_path: Path
) -> None:
    assert dask_cluster.startswith("tcp://127.0.0.1:")
    out = tmp_path / "t"
    proc = run("reconstruct", *tiny_events[:3], "--method", "hough", "--out", out,
               "--scheduler", dask_cluster)  # fmt: skip
    assert "3 events reconstructed with hough" in proc.stdout
    reconstruct_events(tiny_events[:3], "hough", tmp_path / "serial")
    assert _tracks(out) == _tracks(tmp_path / "serial")
    assert json.loads((out / "run.json").read_text())["executor"] == f"dask ({dask_cluster})"


@pytest.mark.slow
def test_dask_builds_the_job_once_per_worker_and_reports_event_errors() -> None:
    from tests.parallel._jobs import Square

    from tracklearn.parallel import run_tasks

    items = [str(i) for i in range(12)] + ["bad"]
    report = run_tasks(Square(), items, scheduler=SchedulerSpec(n_workers=2))
    assert [o.value for o in report.outcomes[:12]] == [i * i for i in range(12)]
    assert report.failed[0].error == "bad: bad input"
    pids = {o.pid for o in report.outcomes}
    assert sum(o.set_up for o in report.outcomes) == len(pids) <= 2


def _first_try_never_runs(resubmits: int) -> dict[str, object]:
    # a resource no worker has: the scheduler keeps the task waiting with every thread free
    return {"resources": {"tracklearn-test-never": 1}} if resubmits == 0 else {}


def test_watchdog_resubmits_events_stalled_with_free_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.parallel._jobs import Square

    from tracklearn.parallel import dask_executor, run_tasks

    monkeypatch.setattr(dask_executor, "STALL_S", 1.0)
    monkeypatch.setattr(dask_executor, "_submit_options", _first_try_never_runs)
    items = [str(i) for i in range(6)]
    report = run_tasks(Square(), items, scheduler=SchedulerSpec(n_workers=2, processes=False))
    assert [o.value for o in report.outcomes] == [i * i for i in range(6)]
    assert all(o.attempts == 2 for o in report.outcomes)  # stalled once, then ran


def test_watchdog_gives_up_on_events_that_never_start_and_the_run_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.parallel._jobs import Square

    from tracklearn.parallel import dask_executor, run_tasks

    monkeypatch.setattr(dask_executor, "STALL_S", 0.5)
    monkeypatch.setattr(
        dask_executor, "_submit_options", lambda n: {"resources": {"tracklearn-test-never": 1}}
    )
    t0 = time.perf_counter()
    report = run_tasks(
        Square(), ["1", "2", "3"], scheduler=SchedulerSpec(n_workers=1, processes=False)
    )
    assert time.perf_counter() - t0 < 60
    assert [o.error for o in report.failed] == [
        f"{i}: never started on the Dask cluster ({dask_executor.MAX_RESUBMITS} resubmissions, "
        "each after 0.5 s waiting with a worker free)"
        for i in "123"
    ]


def test_thread_workers_set_a_job_up_once() -> None:
    from tests.parallel._jobs import SlowSetupSquare as Square

    from tracklearn.parallel import run_tasks

    items = [str(i) for i in range(40)]
    report = run_tasks(Square(), items, scheduler=SchedulerSpec(n_workers=8, processes=False))
    assert [o.value for o in report.outcomes] == [i * i for i in range(40)]
    assert sum(o.set_up for o in report.outcomes) == 1  # one process, one shared state


def test_thread_workers_run_in_a_process_larger_than_a_workers_share_of_memory() -> None:
    """The hang of make bench: Dask gave each of 16 thread workers 1/16 of the machine's
    memory and paused them all once this (shared) process was bigger than that."""
    import numpy as np
    from distributed.system import MEMORY_LIMIT

    from tracklearn.bench.scale_out import SleepJob
    from tracklearn.parallel import run_tasks

    ballast = np.ones(int(MEMORY_LIMIT / 16), dtype=np.uint8)  # pages touched: real RSS
    t0 = time.perf_counter()
    report = run_tasks(
        SleepJob(0.01), [str(i) for i in range(64)],
        scheduler=SchedulerSpec(n_workers=16, processes=False),
    )  # fmt: skip
    assert not report.failed and time.perf_counter() - t0 < 25  # the watchdog waits 30 s
    del ballast


def test_a_pause_of_every_worker_is_logged_once_not_at_every_check(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tracklearn.parallel.dask_executor import _PauseLog

    pause_log = _PauseLog()
    with caplog.at_level("WARNING", logger="tracklearn.parallel.dask_executor"):
        # checks every few seconds: a pause of three checks, progress, a second pause
        for paused in (False, True, True, True, False, True, True):
            pause_log.update(paused)
    assert [r.getMessage() for r in caplog.records] == [
        "dask: every worker is paused (memory above distributed.worker.memory.pause)"
    ] * 2
