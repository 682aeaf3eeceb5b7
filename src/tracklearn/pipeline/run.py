"""Reconstruct one event and write its outputs: the per-event work of ``reconstruct``.

Each event is read, reconstructed and written on its own: tracks, fitted track
parameters when there are any (in ``event<id>-track-params.parquet``, or with
``fmt="root"`` as a tree of ``event<id>-tracks.root``), and last a timing file
(wall time, peak RSS, hits and tracks, a fingerprint of the hits); all
atomically, so a crash loses nothing already done and the timing file marks a
finished event.

:class:`ReconstructJob` is that work as a picklable job: ``setup`` builds the
method once per worker process, ``run`` does one event.  Running it over many
events (processes, Dask, resume) is :mod:`tracklearn.parallel.reconstruct`.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracklearn.io import (
    read_event,
    read_timing,
    track_params_path,
    write_timing,
    write_track_params,
    write_tracks,
)
from tracklearn.io.scores import edge_scores_path, track_scores_path
from tracklearn.io.trackml import event_id_from_prefix
from tracklearn.io.tracks import TRACK_FORMATS, hits_digest, timing_path, tracks_path
from tracklearn.pipeline.registry import Reconstructor, get_method

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventRun:
    """Outcome of one event: wall time of the method call [s], peak RSS [MB].

    ``attempts`` > 1 when a worker died under the event and it was retried;
    ``resumed`` when the event was done by an earlier run of the same command
    (its numbers are read back from its timing file).
    """

    event_id: int
    prefix: str
    n_hits: int
    n_tracks: int
    time_s: float
    peak_rss_mb: float
    error: str | None = None
    attempts: int = 1
    resumed: bool = False


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far [MB].

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process's
    own memory; ``ru_maxrss`` (the fallback elsewhere, in KiB) also counts the parent's
    memory a process was forked from, across exec, so a worker spawned by a large
    process would report the parent's size.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _fitter() -> Any:
    from tracklearn.classical.track_fit import TrackFitter

    return TrackFitter()


@dataclass(frozen=True)
class Worker:
    """What a worker process holds: the method and the optional fitter, built once."""

    reco: Reconstructor
    fitter: Any = None


@dataclass(frozen=True)
class ReconstructJob:
    """Reconstruct one event with ``method`` and write its outputs into ``out_dir``.

    ``fmt`` is the tracks format (:data:`tracklearn.io.tracks.TRACK_FORMATS`).
    """

    method: str
    config: dict[str, Any] | None
    out_dir: str
    fit: bool = False
    fmt: str = "csv"

    @property
    def cache_key(self) -> str:
        return json.dumps([self.method, self.config, self.fit], sort_keys=True, default=str)

    def setup(self) -> Worker:
        return Worker(get_method(self.method, self.config), _fitter() if self.fit else None)

    def run(self, state: Worker, item: str) -> EventRun:
        return reconstruct_one(item, self.out_dir, state.reco, state.fitter, self.fmt)


def event_outputs(out_dir: str | Path, prefix: str | Path) -> list[Path]:
    """Every file ``reconstruct`` may write for the event, in any format (timing last)."""
    eid = event_id_from_prefix(prefix)
    return [
        *(tracks_path(out_dir, eid, fmt) for fmt in TRACK_FORMATS),
        track_params_path(out_dir, eid),
        edge_scores_path(out_dir, eid),
        track_scores_path(out_dir, eid),
        timing_path(out_dir, eid),
    ]


def event_done(out_dir: str | Path, prefix: str | Path) -> bool:
    """The event's outputs are complete (its timing file, written last, exists)."""
    eid = event_id_from_prefix(prefix)
    return timing_path(out_dir, eid).exists() and any(
        tracks_path(out_dir, eid, fmt).exists() for fmt in TRACK_FORMATS
    )


def resumed_run(out_dir: str | Path, prefix: str | Path) -> EventRun:
    """The :class:`EventRun` of an event finished by an earlier run (from its timing file)."""
    eid = event_id_from_prefix(prefix)
    t = read_timing(out_dir, eid) or {}
    return EventRun(
        eid,
        str(prefix),
        int(t.get("n_hits", 0)),
        int(t.get("n_tracks", 0)),
        float(t.get("time_s", 0.0)),
        float(t.get("peak_rss_mb", 0.0)),
        resumed=True,
    )


def reconstruct_one(
    prefix: str, out_dir: str | Path, reco: Reconstructor, fitter: Any = None, fmt: str = "csv"
) -> EventRun:
    """Read, reconstruct and write one event; raises :class:`TracklearnError` on bad input.

    ``fmt`` is the tracks format: ``csv`` (parameters in a Parquet file beside
    them) or ``root`` (parameters in the tracks file).  A failed event leaves none
    of its outputs (also none of an earlier run).
    """
    eid = event_id_from_prefix(prefix)
    try:
        event = read_event(prefix, parts=("hits", "cells"))
        t0 = time.perf_counter()
        tracks = reco(event)
        if fitter is not None and tracks.parameters is None:
            tracks = fitter(event, tracks)
        elapsed = time.perf_counter() - t0
        rss = peak_rss_mb()
        write_tracks(out_dir, event, tracks, fmt)
        params_file = track_params_path(out_dir, eid)
        if tracks.parameters is not None and fmt == "csv":
            write_track_params(out_dir, eid, tracks.parameters)
        else:  # none, or inside the ROOT tracks file: never leave those of an earlier run
            params_file.unlink(missing_ok=True)
        info = {
            "time_s": elapsed,
            "peak_rss_mb": rss,
            "n_hits": event.n_hits,
            "n_tracks": tracks.n_tracks,
            "hits_digest": hits_digest(event),
        }
        write_timing(out_dir, eid, info)  # last: marks the event done
        return EventRun(eid, prefix, event.n_hits, tracks.n_tracks, elapsed, rss)
    except BaseException:
        for path in event_outputs(out_dir, prefix):
            path.unlink(missing_ok=True)
        raise


def resolved_config(method: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """The full config ``method`` runs with (defaults filled in), for provenance."""
    reco = get_method(method, config)
    cfg = getattr(reco, "config", None)
    if cfg is not None and hasattr(cfg, "model_dump"):
        return dict(cfg.model_dump(mode="json"))
    return dict(config or {})
