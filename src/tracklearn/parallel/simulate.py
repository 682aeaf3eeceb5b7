"""``tracklearn simulate``: the realistic simulation event by event in workers, with resume.

The quick and toy generators run in this process
(:func:`tracklearn.simulation.run.simulate_generated`).  The realistic ``trackml``
simulation runs :class:`tracklearn.simulation.run.RealisticJob` over the event
ids (:func:`tracklearn.parallel.run_tasks`: this process, ``workers`` local
processes or a Dask cluster); CSV and ROOT output resume (events whose files are
all written are skipped; ``force`` redoes them) and ``simulation.json`` is written
last, only when every event succeeded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracklearn.config import validate
from tracklearn.edm import Event
from tracklearn.errors import ConfigError, RunInterrupted, TracklearnError
from tracklearn.io import write_store
from tracklearn.parallel.engine import Outcome, run_tasks
from tracklearn.parallel.outputs import OutputLayout, claim_folder, remove_temporaries
from tracklearn.parallel.scheduler import SchedulerSpec, cap_workers
from tracklearn.simulation.run import (
    STORE_FORMATS,
    RealisticJob,
    check_options,
    event_files,
    merge_config,
    nested_overrides,
    simulate_generated,
    write_manifest,
)

log = logging.getLogger(__name__)

PATTERNS = (
    *(f"event*-{part}.csv*" for part in ("hits", "cells", "particles", "truth")),
    "event*.root",
)


def simulate_to_disk(
    *,
    detector: str,
    n_events: int,
    seed: int,
    out: str | Path,
    fmt: str = "csv.gz",
    config: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    first_event_id: int = 1000,
    workers: int = 1,
    scheduler: SchedulerSpec | None = None,
    force: bool = False,
    geometry: str | Path | None = None,
    verbose: bool = False,
    on_done: Callable[[int], None] | None = None,
) -> int:
    """Generate ``n_events`` with ``detector``'s generator and write them to ``out``.

    ``overrides`` use dotted keys for nested configs (``"generator.pileup"``).
    Every event depends only on ``(seed, event id)``, so the output does not
    depend on ``workers`` or ``scheduler``.  Returns the number of events.
    """
    check_options(detector, fmt)
    if detector != "trackml":
        return simulate_generated(
            detector=detector,
            n_events=n_events,
            seed=seed,
            out=out,
            fmt=fmt,
            config=config,
            overrides=overrides,
            first_event_id=first_event_id,
            on_done=on_done,
        )
    from tracklearn.io.trackml import default_detector_path
    from tracklearn.simulation.realistic import RealisticConfig

    raw = merge_config(config or {}, nested_overrides(overrides or {}))
    rcfg = validate(RealisticConfig, raw, "simulation config")
    geometry_path = Path(geometry) if geometry is not None else default_detector_path()
    if not geometry_path.exists():  # say it here, not from inside a worker process
        raise ConfigError(
            f"{geometry_path}: detector geometry not found; pass --geometry "
            "PATH/detectors.csv(.gz) (the TrackML detectors.csv is not shipped with tracklearn)"
        )
    out = Path(out)
    ids = [str(i) for i in range(first_event_id, first_event_id + n_events)]
    settings = {
        "detector": detector,
        "seed": seed,
        "format": fmt,
        "geometry": str(geometry_path),
        "config": json.loads(rcfg.model_dump_json()),
    }
    layout = OutputLayout(
        PATTERNS,
        lambda i: event_files(out, int(i), fmt),
        lambda i: event_files(out, int(i), fmt)[-1].exists(),  # truth is written last
        "simulation.json",
    )
    # a Parquet store is written whole at the end: nothing to resume from
    todo = claim_folder(
        out, "simulate", settings, ids, layout, force=force, resume=fmt not in STORE_FORMATS
    )
    job = RealisticJob(rcfg.model_dump_json(), str(geometry_path), seed, str(out), fmt, verbose)
    collected: list[Event] = []
    timings: dict[str, float] = {}
    errors: list[str] = []

    def finish(o: Outcome) -> None:
        if o.error is not None:
            errors.append(o.error)
        else:
            made, dt = o.value
            timings[o.item] = dt
            if made is not None:
                collected.append(made)
        if on_done:
            on_done(int(o.item))

    todo_set = set(todo)
    for i in ids:
        if i not in todo_set and on_done:
            on_done(int(i))
    n = workers if scheduler is not None else cap_workers(workers, len(todo))

    def cleanup() -> None:
        remove_temporaries(out)
        for i in todo:  # an event without its last file is incomplete: no partial events
            files = event_files(out, int(i), fmt)
            if not files[-1].exists():
                for f in files:
                    f.unlink(missing_ok=True)

    try:
        run_tasks(job, todo, workers=n, scheduler=scheduler, on_done=finish, cleanup=cleanup)
    except RunInterrupted:
        done = sum(layout.done(i) for i in ids)  # on disk: also events not yet reported
        raise RunInterrupted(
            done,
            len(ids),
            f"interrupted: {done} of {len(ids)} events finished, their files are kept in "
            f"{out}; run the same command again to do the rest",
        ) from None
    if errors:
        raise TracklearnError(errors[0] + (f" (and {len(errors) - 1} more)" if errors[1:] else ""))
    if fmt in STORE_FORMATS:
        write_store(sorted(collected, key=lambda e: e.event_id), out)
    write_manifest(
        out,
        detector,
        seed,
        settings["config"],
        str(geometry_path),
        [timings[i] for i in ids if i in timings],
    )
    return n_events
