"""``tracklearn reconstruct`` over many events: processes or Dask, retries, resume, run.json.

The per-event work is :class:`tracklearn.pipeline.run.ReconstructJob`; this
module runs it over the events (:func:`tracklearn.parallel.run_tasks`), skips
the events an earlier run of the same command finished (``resume``; ``force``
redoes them), and writes ``run.json`` last, only when every event succeeded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tracklearn.errors import ConfigError, RunInterrupted
from tracklearn.io.atomic import write_text_atomic
from tracklearn.io.tracks import TRACK_FORMATS
from tracklearn.parallel.engine import Job, Outcome, run_tasks
from tracklearn.parallel.outputs import OutputLayout, claim_folder, remove_temporaries
from tracklearn.parallel.scheduler import SchedulerSpec, cap_workers
from tracklearn.pipeline.run import (
    EventRun,
    ReconstructJob,
    event_done,
    event_outputs,
    resolved_config,
    resumed_run,
)
from tracklearn.provenance import provenance

log = logging.getLogger(__name__)

#: per-event files of ``reconstruct`` (for cleaning a folder of an earlier run)
PATTERNS = (
    "event*-tracks.csv",
    "event*-tracks.root",
    "event*-track-params.parquet",
    "event*-edge-scores.parquet",
    "event*-track-scores.csv",
    "event*-timing.json",
)


@dataclass
class ReconstructionRun:
    """Every event's :class:`EventRun` in input order, and how the run went."""

    runs: list[EventRun]
    executor: str = "this process"
    n_workers: int = 1
    wall_s: float = 0.0
    worker_pids: list[int] = field(default_factory=list)

    def __iter__(self) -> Iterator[EventRun]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, i: int) -> EventRun:
        return self.runs[i]

    @property
    def failed(self) -> list[EventRun]:
        return [r for r in self.runs if r.error]

    @property
    def retried(self) -> list[EventRun]:
        return [r for r in self.runs if r.attempts > 1]

    @property
    def resumed(self) -> list[EventRun]:
        return [r for r in self.runs if r.resumed]


def layout(out: Path) -> OutputLayout:
    """The output files of ``reconstruct`` in ``out``."""
    return OutputLayout(
        PATTERNS, lambda p: event_outputs(out, p), lambda p: event_done(out, p), "run.json"
    )


def interrupted(done: int, total: int, out: Path) -> RunInterrupted:
    """Ctrl-C: the message says what was kept and how to resume."""
    return RunInterrupted(
        done,
        total,
        f"interrupted: {done} of {total} events finished, their outputs are kept in {out}; "
        "run the same command again to do the rest",
    )


def reconstruct_events(
    prefixes: Sequence[str | Path],
    method: str,
    out_dir: str | Path,
    *,
    config: dict[str, Any] | None = None,
    workers: int = 1,
    scheduler: SchedulerSpec | None = None,
    fresh_process_per_event: bool = False,
    fit: bool = False,
    fmt: str = "csv",
    resume: bool = True,
    force: bool = False,
    on_done: Callable[[EventRun], None] | None = None,
    job: Job | None = None,
) -> ReconstructionRun:
    """Reconstruct every event with ``method`` and write its outputs into ``out_dir``.

    Parameters
    ----------
    prefixes
        Event prefixes (see :func:`tracklearn.io.find_events`).
    method, config
        Registered method name and its config mapping.
    workers
        Local processes (capped at the cores and the events, with a warning); 1
        runs in this process.
    scheduler
        Run on a Dask cluster instead (``workers`` is then ignored).
    fresh_process_per_event
        Run each event in a new process (for per-event peak memory in benchmarks).
    fit
        Fit the tracks of methods that do not (Kalman fitter of ``ckf``, TrackML
        geometry) so that ``event<id>-track-params.parquet`` is written for them
        too; the fit counts in ``time_s``.  Methods that fit (``ckf``) always
        write their parameters.
    fmt
        Tracks format: ``csv`` (``event<id>-tracks.csv``, parameters in
        ``event<id>-track-params.parquet``) or ``root`` (``event<id>-tracks.root``
        with the trees ``tracks`` and ``track_params``; :mod:`tracklearn.io.root`).
    resume, force
        Skip the events an earlier run of the same settings finished (default);
        ``force`` redoes every event, and is needed to replace the outputs of a
        run with other settings (see :func:`tracklearn.parallel.claim_folder`).
    on_done
        Called after each event (progress bars), resumed ones included.
    job
        Per-event work (tests inject faults); default :class:`ReconstructJob`.

    Failed events carry ``error`` and leave no outputs; ``run.json`` (settings,
    every event, retries, provenance) is written last, only when none failed.
    """
    if fmt not in TRACK_FORMATS:
        raise ConfigError(f"unknown tracks format {fmt!r}; valid: {', '.join(TRACK_FORMATS)}")
    out = Path(out_dir)
    items = [str(p) for p in prefixes]
    settings: dict[str, Any] = {
        "method": method,
        "config": resolved_config(method, config),
        "fit": fit,
    }
    if fmt != "csv":  # the default adds no key: folders of earlier runs still resume
        settings["format"] = fmt
    lay = layout(out)
    todo = claim_folder(out, "reconstruct", settings, items, lay, force=force, resume=resume)
    todo_set = set(todo)
    runs: dict[str, EventRun] = {}
    for item in items:
        if item not in todo_set:
            runs[item] = resumed_run(out, item)
            if on_done:
                on_done(runs[item])
    if len(todo) < len(items):
        log.info(
            "%s: %d of %d events already done (resumed)", out, len(items) - len(todo), len(items)
        )

    def finish(o: Outcome) -> None:
        runs[o.item] = _event_run(o)
        if on_done:
            on_done(runs[o.item])

    n = workers if scheduler is not None else cap_workers(workers, len(todo))
    try:
        report = run_tasks(
            job or ReconstructJob(method, config, str(out), fit, fmt),
            todo,
            workers=n,
            scheduler=scheduler,
            fresh_process_per_event=fresh_process_per_event,
            on_done=finish,
            cleanup=lambda: _clean_interrupted(out, todo, runs),
        )
    except RunInterrupted:
        # count what is on disk: a worker may have finished an event it had not reported yet
        done = sum(event_done(out, i) for i in items)
        raise interrupted(done, len(items), out) from None
    result = ReconstructionRun(
        [runs[i] for i in items], report.executor, report.n_workers, report.wall_s
    )
    result.worker_pids = report.worker_pids
    for r in result.retried:
        log.warning("%s: retried (%d tries) after a worker died", r.prefix, r.attempts)
    if result.retried:
        # a dead worker (or one a broken local pool stopped with it) may have been
        # writing: every event is done now, so no temporary in ``out`` is still in use
        remove_temporaries(out)
    if not result.failed:
        summary = {
            "method": method,
            "config": settings["config"],
            "fit": fit,
            "format": fmt,
            "executor": result.executor,
            "workers": result.n_workers,
            "wall_s": result.wall_s,
            "retried": [r.prefix for r in result.retried],
            "resumed": [r.prefix for r in result.resumed],
            "events": [asdict(r) for r in result.runs],
            **provenance(),
        }
        write_text_atomic(out / "run.json", json.dumps(summary, indent=1))
    return result


def _event_run(o: Outcome) -> EventRun:
    if o.error is not None or o.value is None:
        from tracklearn.io.trackml import event_id_from_prefix

        try:
            eid = event_id_from_prefix(o.item)
        except Exception:
            eid = -1
        return EventRun(eid, o.item, 0, 0, 0.0, 0.0, error=o.error, attempts=o.attempts)
    run: EventRun = o.value
    return EventRun(**{**asdict(run), "attempts": o.attempts})


def _clean_interrupted(out: Path, todo: Sequence[str], runs: dict[str, EventRun]) -> None:
    """After Ctrl-C: no half-written files, and no partial outputs of unfinished events."""
    remove_temporaries(out)
    for item in todo:
        # an event whose timing file exists finished (its outputs are complete): keep it
        if item not in runs and not event_done(out, item):
            for p in event_outputs(out, item):
                p.unlink(missing_ok=True)
