"""Generate events to disk: the quick and toy generators, and the per-event job of the
realistic simulation (run over events by :mod:`tracklearn.parallel.simulate`)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracklearn.config import validate
from tracklearn.edm import Event
from tracklearn.errors import ConfigError
from tracklearn.io import event_prefix_name, write_event, write_store
from tracklearn.io.atomic import write_text_atomic
from tracklearn.io.event_parts import PARTS
from tracklearn.io.outdir import prepare_out_dir
from tracklearn.provenance import provenance
from tracklearn.simulation.quick import QuickConfig, generate_events

log = logging.getLogger(__name__)

# toy detectors (HEP.TrkX pixel toys, g-2 straw station, muon strip chamber): written as
# .npz, see _simulate_toy
TOY_DETECTORS = ("toy2d", "toy3d", "toy_cylinder", "g2", "muon-chamber")
DETECTORS = ("quick", "trackml", *TOY_DETECTORS)


def _write_root(event: Event, out: Path) -> Path:
    from tracklearn.io.root import write_event_root  # uproot: imported for ROOT output only

    return write_event_root(event, out)


#: formats written event by event, each event atomically (so a run resumes):
#: ``--format`` name → writer(event, folder)
EVENT_WRITERS: dict[str, Callable[[Event, Path], Path]] = {
    "csv": lambda ev, out: write_event(ev, out, compress=False),
    "csv.gz": lambda ev, out: write_event(ev, out, compress=True),
    "root": _write_root,
}
#: formats that hold every event in one store, written whole at the end
STORE_FORMATS = ("parquet",)
FORMATS = (*EVENT_WRITERS, *STORE_FORMATS)


def check_options(detector: str, fmt: str) -> None:
    if detector not in DETECTORS:
        raise ConfigError(f"unknown detector {detector!r}; valid: {', '.join(DETECTORS)}")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")


def nested_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """``{"generator.pileup": 20}`` → ``{"generator": {"pileup": 20}}``."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def merge_config(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in extra.items():
        merged[k] = (
            merge_config(merged[k], v)
            if isinstance(v, dict) and isinstance(merged.get(k), dict)
            else v
        )
    return merged


def simulate_generated(
    *,
    detector: str,
    n_events: int,
    seed: int,
    out: str | Path,
    fmt: str = "csv.gz",
    config: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    first_event_id: int = 1000,
    on_done: Callable[[int], None] | None = None,
) -> int:
    """Generate ``n_events`` with the quick or a toy generator and write them to ``out``.

    These generators take milliseconds per event and run in this process; the
    realistic ``trackml`` simulation runs event by event in workers:
    :func:`tracklearn.parallel.simulate.simulate_to_disk` (the entry point of
    ``tracklearn simulate`` for every detector).
    """
    check_options(detector, fmt)
    out = Path(out)
    if detector in TOY_DETECTORS:
        raw = merge_config(config or {}, overrides or {})
        return _simulate_toy(detector, n_events, seed, out, raw)
    if detector == "quick":
        cfg = validate(QuickConfig, {**(config or {}), **(overrides or {})}, "simulation config")
        prepare_out_dir(out)  # after the config is known good: no empty folder for a typo
        events = generate_events(n_events, seed, cfg, first_event_id=first_event_id)
        if fmt in STORE_FORMATS:
            write_store(events, out)
        else:
            for ev in events:
                EVENT_WRITERS[fmt](ev, out)
                if on_done:
                    on_done(ev.event_id)
        write_manifest(out, detector, seed, cfg.model_dump(mode="json"), None)
        return n_events

    raise ConfigError(f"detector {detector!r}: use tracklearn.parallel.simulate.simulate_to_disk")


def _simulate_toy(detector: str, n_events: int, seed: int, out: Path, raw: dict[str, Any]) -> int:
    """Toy detectors: ``toy.npz`` (events), ``g2.npz`` (time islands of ``n_events`` fills)
    or ``muon-chamber.npz`` (``n_events`` chamber images)."""
    from tracklearn.simulation import g2, muon_chamber, toy

    cfg: g2.G2Config | toy.ToyConfig | muon_chamber.MuonChamberConfig
    if detector == "muon-chamber":
        cfg = validate(muon_chamber.MuonChamberConfig, raw, "simulation config")
        muon_chamber.save_muon_images(
            muon_chamber.iter_muon_images(n_events, seed, cfg), out / muon_chamber.FILE_NAME
        )
    elif detector == "g2":
        cfg = validate(g2.G2Config, raw, "simulation config")
        prepare_out_dir(out)
        g2.save_islands(g2.generate_islands(n_events, seed, cfg), out / "g2.npz")
    else:
        base = {"toy2d": toy.TOY2D, "toy3d": toy.TOY3D, "toy_cylinder": toy.TOY_CYLINDER}[detector]
        cfg = validate(toy.ToyConfig, {**base.model_dump(), **raw}, "simulation config")
        prepare_out_dir(out)
        toy.save_toy(toy.generate_toy(n_events, seed, cfg), out / "toy.npz")
    write_manifest(out, detector, seed, cfg.model_dump(mode="json"), None)
    return n_events


def write_manifest(
    out: Path,
    detector: str,
    seed: int,
    config: dict[str, Any],
    geometry: str | None,
    timings: list[float] | None = None,
) -> None:
    info = {
        "detector": detector,
        "seed": seed,
        "geometry": geometry,
        "config": config,
        "seconds_per_event": timings,
        "provenance": provenance(),
    }
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "simulation.json", json.dumps(info, indent=2) + "\n")


@dataclass(frozen=True)
class RealisticJob:
    """Simulate one TrackML event (item: its id) and write it; picklable for worker processes.

    ``setup`` builds the simulator once per worker (Pythia initialises once per process).
    Every event depends only on ``(seed, event id)``.
    """

    config_json: str
    geometry: str
    seed: int
    out: str
    fmt: str = "csv.gz"
    verbose: bool = False

    @property
    def cache_key(self) -> str:
        return json.dumps([self.config_json, self.geometry, self.verbose])

    def setup(self) -> Any:
        from tracklearn.io.trackml import load_detector
        from tracklearn.simulation.realistic import RealisticConfig, RealisticSimulator

        cfg = RealisticConfig.model_validate_json(self.config_json)
        return RealisticSimulator(cfg, load_detector(self.geometry), verbose=self.verbose)

    def run(self, state: Any, item: str) -> tuple[Event | None, float]:
        """Returns (the event for a store format, else None; seconds it took)."""
        start = time.perf_counter()
        ev = state.event(self.seed, int(item))
        dt = time.perf_counter() - start
        if self.fmt in STORE_FORMATS:
            return ev, dt
        EVENT_WRITERS[self.fmt](ev, Path(self.out))
        return None, dt


def event_files(out: str | Path, event_id: int, fmt: str) -> list[Path]:
    """The files ``simulate`` writes for one event, in writing order (the last one marks
    the event done: truth for CSV; ROOT writes one file per event)."""
    if fmt == "root":
        return [Path(out) / f"{event_prefix_name(event_id)}.root"]
    ext = ".csv.gz" if fmt == "csv.gz" else ".csv"
    return [Path(out) / f"{event_prefix_name(event_id)}-{part}{ext}" for part in PARTS]
