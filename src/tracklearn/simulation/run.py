"""Generate events to disk (the ``tracklearn simulate`` command)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracklearn.config import validate
from tracklearn.errors import ConfigError
from tracklearn.io import write_event, write_store
from tracklearn.simulation.quick import QuickConfig, generate_events

DETECTORS = ("quick",)
FORMATS = ("csv", "csv.gz", "parquet")


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
) -> int:
    """Generate ``n_events`` with ``detector``'s generator and write them to ``out``."""
    if detector not in DETECTORS:
        raise ConfigError(f"unknown detector {detector!r}; valid: {', '.join(DETECTORS)}")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    cfg = validate(QuickConfig, {**(config or {}), **(overrides or {})}, "simulation config")
    events = generate_events(n_events, seed, cfg, first_event_id=first_event_id)
    out = Path(out)
    if fmt == "parquet":
        write_store(events, out)
    else:
        for ev in events:
            write_event(ev, out, compress=fmt == "csv.gz")
    return n_events
