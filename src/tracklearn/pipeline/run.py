"""Run a reconstruction method over many events: timing, memory, workers, outputs.

Each event is read, reconstructed and written on its own (tracks, fitted track
parameters when there are any, and a timing file, all atomically), so a crash
loses nothing already done.  With
``workers > 1`` events run in a process pool; each worker builds the method once.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tracklearn.errors import TracklearnError
from tracklearn.io import (
    read_event,
    track_params_path,
    write_text_atomic,
    write_timing,
    write_track_params,
    write_tracks,
)
from tracklearn.pipeline.registry import Reconstructor, get_method
from tracklearn.provenance import provenance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventRun:
    """Outcome of one event: wall time of the method call [s], peak RSS [MB]."""

    event_id: int
    prefix: str
    n_hits: int
    n_tracks: int
    time_s: float
    peak_rss_mb: float
    error: str | None = None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far [MB] (Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_WORKER: dict[str, Any] = {}


def _init_worker(method: str, config: dict[str, Any] | None, fit: bool = False) -> None:
    _WORKER["reco"] = get_method(method, config)
    _WORKER["fitter"] = _fitter() if fit else None


def _fitter() -> Any:
    from tracklearn.classical.track_fit import TrackFitter

    return TrackFitter()


def _run_one(
    prefix: str, out_dir: str, reco: Reconstructor | None = None, fitter: Any = None
) -> EventRun:
    if reco is None:
        reco, fitter = _WORKER["reco"], _WORKER.get("fitter")
    try:
        event = read_event(prefix, parts=("hits", "cells"))
        t0 = time.perf_counter()
        tracks = reco(event)
        if fitter is not None and tracks.parameters is None:
            tracks = fitter(event, tracks)
        elapsed = time.perf_counter() - t0
        rss = peak_rss_mb()
        write_tracks(out_dir, event, tracks)
        params_file = track_params_path(out_dir, event.event_id)
        if tracks.parameters is not None:
            write_track_params(out_dir, event.event_id, tracks.parameters)
        else:  # never leave parameters of an earlier run beside these tracks
            params_file.unlink(missing_ok=True)
        write_timing(out_dir, event.event_id, {"time_s": elapsed, "peak_rss_mb": rss})
        return EventRun(event.event_id, prefix, event.n_hits, tracks.n_tracks, elapsed, rss)
    except TracklearnError as exc:
        return EventRun(-1, prefix, 0, 0, 0.0, peak_rss_mb(), error=str(exc))


def resolved_config(method: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """The full config ``method`` runs with (defaults filled in), for provenance."""
    reco = get_method(method, config)
    cfg = getattr(reco, "config", None)
    if cfg is not None and hasattr(cfg, "model_dump"):
        return dict(cfg.model_dump(mode="json"))
    return dict(config or {})


def reconstruct_events(
    prefixes: Sequence[str | Path],
    method: str,
    out_dir: str | Path,
    *,
    config: dict[str, Any] | None = None,
    workers: int = 1,
    fresh_process_per_event: bool = False,
    fit: bool = False,
    on_done: Callable[[EventRun], None] | None = None,
) -> list[EventRun]:
    """Reconstruct every event with ``method`` and write tracks into ``out_dir``.

    Parameters
    ----------
    prefixes
        Event prefixes (see :func:`tracklearn.io.find_events`).
    method, config
        Registered method name and its config mapping.
    workers
        Number of processes; 1 runs in this process.
    fresh_process_per_event
        Run each event in a new process (for per-event peak memory in benchmarks).
    fit
        Fit the tracks of methods that do not (Kalman fitter of ``ckf``, TrackML
        geometry) so that ``event<id>-track-params.parquet`` is written for them
        too; the fit counts in ``time_s``.  Methods that fit (``ckf``) always
        write their parameters.
    on_done
        Called after each event (progress bars).

    Returns the runs in input order.  Failed events carry ``error`` and write nothing.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [str(p) for p in prefixes]
    runs: dict[str, EventRun] = {}
    if workers <= 1 and not fresh_process_per_event:
        reco = get_method(method, config)
        fitter = _fitter() if fit else None
        for name in names:
            run = _run_one(name, str(out), reco, fitter)
            runs[name] = run
            if on_done:
                on_done(run)
    else:
        with ProcessPoolExecutor(
            max_workers=max(1, workers),
            initializer=_init_worker,
            initargs=(method, config, fit),
            max_tasks_per_child=1 if fresh_process_per_event else None,
        ) as pool:
            futures = {pool.submit(_run_one, name, str(out)): name for name in names}
            for fut in as_completed(futures):
                run = fut.result()
                runs[futures[fut]] = run
                if on_done:
                    on_done(run)
    ordered = [runs[n] for n in names]
    summary = {
        "method": method,
        "config": resolved_config(method, config),
        "workers": workers,
        "fit": fit,
        "events": [asdict(r) for r in ordered],
        **provenance(),
    }
    write_text_atomic(out / "run.json", json.dumps(summary, indent=1))
    return ordered
