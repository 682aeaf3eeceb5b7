"""Generate events to disk (the ``tracklearn simulate`` command)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tracklearn.config import validate
from tracklearn.edm import Event
from tracklearn.errors import ConfigError
from tracklearn.io import write_event, write_store
from tracklearn.io.atomic import write_text_atomic
from tracklearn.provenance import provenance
from tracklearn.simulation.quick import QuickConfig, generate_events

log = logging.getLogger(__name__)

# toy detectors (HEP.TrkX pixel toys, g-2 straw station, muon strip chamber): written as
# .npz, see _simulate_toy
TOY_DETECTORS = ("toy2d", "toy3d", "toy_cylinder", "g2", "muon-chamber")
DETECTORS = ("quick", "trackml", *TOY_DETECTORS)
FORMATS = ("csv", "csv.gz", "parquet")


def _check(detector: str, fmt: str) -> None:
    if detector not in DETECTORS:
        raise ConfigError(f"unknown detector {detector!r}; valid: {', '.join(DETECTORS)}")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")


def _nested(overrides: dict[str, Any]) -> dict[str, Any]:
    """``{"generator.pileup": 20}`` → ``{"generator": {"pileup": 20}}``."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in extra.items():
        merged[k] = (
            _merge(merged[k], v) if isinstance(v, dict) and isinstance(merged.get(k), dict) else v
        )
    return merged


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
    geometry: str | Path | None = None,
    verbose: bool = False,
    on_done: Callable[[int], None] | None = None,
) -> int:
    """Generate ``n_events`` with ``detector``'s generator and write them to ``out``.

    ``overrides`` use dotted keys for nested configs (``"generator.pileup"``).
    Every event depends only on ``(seed, event id)``, so the output does not
    depend on ``workers``.
    """
    _check(detector, fmt)
    out = Path(out)
    if detector in TOY_DETECTORS:
        return _simulate_toy(detector, n_events, seed, out, _merge(config or {}, overrides or {}))
    if detector == "quick":
        cfg = validate(QuickConfig, {**(config or {}), **(overrides or {})}, "simulation config")
        events = generate_events(n_events, seed, cfg, first_event_id=first_event_id)
        if fmt == "parquet":
            write_store(events, out)
        else:
            for ev in events:
                write_event(ev, out, compress=fmt == "csv.gz")
                if on_done:
                    on_done(ev.event_id)
        _write_manifest(out, detector, seed, cfg.model_dump(mode="json"), None)
        return n_events

    from tracklearn.simulation.realistic import RealisticConfig, default_detector_path

    raw = _merge(config or {}, _nested(overrides or {}))
    rcfg = validate(RealisticConfig, raw, "simulation config")
    geometry_path = Path(geometry) if geometry is not None else default_detector_path()
    if not geometry_path.exists():  # say it here, not from inside a worker process
        raise ConfigError(
            f"{geometry_path}: detector geometry not found; pass --geometry "
            "PATH/detectors.csv(.gz) (the TrackML detectors.csv is not shipped with tracklearn)"
        )
    ids = list(range(first_event_id, first_event_id + n_events))
    out.mkdir(parents=True, exist_ok=True)
    task = (rcfg.model_dump_json(), str(geometry_path), verbose, seed, str(out), fmt)
    collected: list[Event] = []
    timings: list[float] = []
    if workers <= 1:
        _init_worker(*task[:3])
        for eid in ids:
            made, dt = _run_one(eid, seed, str(out), fmt)
            timings.append(dt)
            if made is not None:
                collected.append(made)
            if on_done:
                on_done(eid)
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=task[:3]) as pool:
            futures = [pool.submit(_run_one, eid, seed, str(out), fmt) for eid in ids]
            for eid, fut in zip(ids, futures, strict=True):
                made, dt = fut.result()
                timings.append(dt)
                if made is not None:
                    collected.append(made)
                if on_done:
                    on_done(eid)
    if fmt == "parquet":
        write_store(sorted(collected, key=lambda e: e.event_id), out)
    _write_manifest(
        out, detector, seed, json.loads(rcfg.model_dump_json()), str(geometry_path), timings
    )
    return n_events


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
        g2.save_islands(g2.generate_islands(n_events, seed, cfg), out / "g2.npz")
    else:
        base = {"toy2d": toy.TOY2D, "toy3d": toy.TOY3D, "toy_cylinder": toy.TOY_CYLINDER}[detector]
        cfg = validate(toy.ToyConfig, {**base.model_dump(), **raw}, "simulation config")
        toy.save_toy(toy.generate_toy(n_events, seed, cfg), out / "toy.npz")
    _write_manifest(out, detector, seed, cfg.model_dump(mode="json"), None)
    return n_events


def _write_manifest(
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


# one simulator per worker process (Pythia initialises once per process)
_SIMULATOR: Any = None


def _init_worker(config_json: str, geometry: str, verbose: bool) -> None:
    global _SIMULATOR
    from tracklearn.simulation.realistic import RealisticConfig, RealisticSimulator, load_detector

    cfg = RealisticConfig.model_validate_json(config_json)
    _SIMULATOR = RealisticSimulator(cfg, load_detector(geometry), verbose=verbose)


def _run_one(event_id: int, seed: int, out: str, fmt: str) -> tuple[Event | None, float]:
    start = time.perf_counter()
    ev = _SIMULATOR.event(seed, event_id)
    dt = time.perf_counter() - start
    if fmt == "parquet":
        return ev, dt
    write_event(ev, out, compress=fmt == "csv.gz")
    return None, dt
