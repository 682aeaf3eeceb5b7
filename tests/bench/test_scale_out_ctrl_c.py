"""The scale-out bench's Ctrl-C rows: they measure a real interrupt even when the bench itself
has SIGINT ignored (started in the background, ``nohup make bench &``), and the bench refuses
to write a row whose run was not interrupted."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracklearn.bench.scale_out as scale_out
from tracklearn.io import write_event
from tracklearn.simulation.quick import QuickConfig, generate_events


def _events(folder: Path, n: int, particles: int) -> Path:
    for ev in generate_events(n, 7, QuickConfig(n_particles=particles)):
        write_event(ev, folder)
    return folder


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    """This process as a background command sees it: SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
def test_ctrl_c_rows_interrupt_even_from_a_bench_that_ignores_sigint(
    tmp_path: Path, sigint_ignored: None
) -> None:
    # three events that take dbscan a few seconds each: the run is busy when the signal comes
    events = _events(tmp_path / "events", 3, 250)
    rows = scale_out.ctrl_c(events, "dbscan", tmp_path)
    assert [r["command"] for r in rows] == [
        "reconstruct --workers 2",
        "reconstruct --scheduler local:2",
    ]
    for r in rows:
        assert r["exit code"] == 130, r
        assert 1 <= r["events kept"] < 3, r
        assert r["half-written files"] == 0 and r["processes left"] == 0, r


@pytest.mark.slow
def test_a_run_the_ctrl_c_did_not_stop_is_not_written_as_a_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the signal never reaches the run (as when the child inherited SIGINT ignored):
    # it does all its events and exits 0
    monkeypatch.setattr(scale_out.os, "killpg", lambda pid, sig: None)
    events = _events(tmp_path / "events", 2, 20)
    with pytest.raises(RuntimeError, match=r"did not interrupt reconstruct --workers 2 "
                       r"\(exit code 0, 2 of 2 events done\)"):  # fmt: skip
        scale_out.ctrl_c(events, "dbscan", tmp_path)
