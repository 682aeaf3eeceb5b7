"""One Ctrl-C on ``reconstruct --workers 2`` and ``--scheduler local:2``: the run stops within
seconds, keeps the finished events, leaves no half-written file and no process behind, and
says how to resume; the same command then does only the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from tests.cli._run import run

from tracklearn.io import find_events, write_event
from tracklearn.simulation.quick import QuickConfig, generate_events

#: seconds one Ctrl-C may take to stop the run
STOP_WITHIN_S = 8.0


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def slow_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three events that take dbscan a few seconds each."""
    folder = tmp_path_factory.mktemp("slow_events")
    for ev in generate_events(3, 5, QuickConfig(n_particles=250)):
        write_event(ev, folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [("--workers", "2"), ("--scheduler", "local:2")])
def test_one_ctrl_c_stops_keeps_finished_events_and_resumes(
    slow_events: Path, tmp_path: Path, parallel: tuple[str, str]
) -> None:
    out = tmp_path / "t"
    cmd = [sys.executable, "-m", "tracklearn.cli", "reconstruct", str(slow_events),
           "--method", "dbscan", "--out", str(out), *parallel]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    # its own process group, as a terminal runs a command: Ctrl-C goes to the whole group;
    # and Ctrl-C's default action, as a terminal gives it (a suite started in the
    # background, `make test &`, would pass SIGINT on ignored, and Python then never
    # raises KeyboardInterrupt)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True, preexec_fn=_default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not list(out.glob("*-timing.json")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 2  # the workers are busy with the next events
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - t0
    assert proc.returncode == 130, stderr
    assert took < STOP_WITHIN_S, f"took {took:.1f} s to stop"
    assert "Traceback" not in stderr
    assert "run the same command again to do the rest" in stderr
    done = sorted(p.name for p in out.glob("*-timing.json"))
    assert 1 <= len(done) < 3
    assert not list(out.glob(".event*")) and not (out / "run.json").exists()
    # every finished event is complete; no unfinished event left partial outputs
    assert sorted(p.name.replace("-tracks.csv", "") for p in out.glob("*-tracks.csv")) == [
        n.replace("-timing.json", "") for n in done
    ]
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"orphans: {alive}"
    if parallel[0] == "--scheduler":
        return  # resuming is the same code for both (tests/parallel/test_engine.py)
    # the same command resumes: only the rest is done
    again = run(*cmd[3:])
    assert f"{len(done)} events were already done" in again.stdout
    assert f"{3 - len(done)} events reconstructed" in again.stdout
    assert len(find_events([slow_events])) == len(list(out.glob("*-tracks.csv")))
    assert (out / "run.json").exists()
