"""``tracklearn bench``: speed and memory of the realistic simulator, and its validation
against the real data (suite ``simulation-validation``).

Each configuration runs ``tracklearn simulate --detector trackml`` in a fresh
process, so the peak RSS is that run's (``os.wait4`` of the child).  Per-event
times come from the run's ``simulation.json`` (event generation only, after
Pythia's initialisation); the wall time includes initialisation.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.io.atomic import write_text_atomic
from tracklearn.provenance import provenance
from tracklearn.report import markdown_table

log = logging.getLogger(__name__)


def _run(args: list[str]) -> tuple[float, float]:
    """Run a tracklearn command; (wall seconds, peak RSS MB of the process tree)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracklearn.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"tracklearn {' '.join(args)} failed: {err.strip()}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024.0


def run_simulation_bench(out: Path, *, quick: bool = False, geometry: Path | None = None) -> Path:
    """Time μ = 20 and μ = 200 events on 1 and 2 workers; write ``out/simulation.md``."""
    cases = [(20, 1, 2), (200, 1, 2), (200, 2, 4)] if not quick else [(20, 1, 1)]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tracklearn-simbench-") as tmp:
        for mu, workers, n_events in cases:
            folder = Path(tmp) / f"mu{mu}_w{workers}"
            args = ["simulate", "--detector", "trackml", "--pileup", str(mu)]
            args += ["--events", str(n_events), "--seed", "77", "--workers", str(workers)]
            args += ["--out", str(folder)]
            if geometry is not None:
                args += ["--geometry", str(geometry)]
            wall, rss = _run(args)
            info = json.loads((folder / "simulation.json").read_text())
            per_event = np.array(info["seconds_per_event"])
            rows.append(
                {
                    "μ (pile-up)": mu,
                    "workers": workers,
                    "events": n_events,
                    "s/event, one core (median)": float(np.median(per_event)),
                    "events/s (wall, incl. init)": n_events / wall,
                    "wall s (incl. Pythia init)": wall,
                    "peak RSS MB (largest process)": rss,
                }
            )
    prov = provenance()
    text = "\n".join(
        [
            "# Realistic simulator: speed and memory",
            "",
            f"Measured {prov['created_utc']} by `tracklearn bench` (or `make bench`), "
            f"tracklearn {prov['tracklearn_version']} at git {prov['git_revision']}, "
            f"{os.cpu_count()} CPU cores.",
            "",
            "Each row is one `tracklearn simulate --detector trackml` run in a fresh process "
            "(tt̄ + Poisson pile-up through the real TrackML geometry and field map, "
            "digitised, written as TrackML csv.gz). `s/event` is the generation time of one "
            "event in one process after Pythia's initialisation (median); the wall time and "
            "events/s include initialisation and writing.",
            "",
            *markdown_table(rows),
            "",
        ]
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / ("simulation-quick.md" if quick else "simulation.md")
    write_text_atomic(path, text)
    return path


#: the validation sample: events, seed and the simulation config (``make validate-simulation``)
VALIDATION_EVENTS, VALIDATION_SEED = 20, 2026


def run_validation_bench(out: Path, work: Path, *, quick: bool, data: Path, geometry: Path) -> Path:
    """``tracklearn bench --suite simulation-validation``: simulate the validation sample and
    compare it with the real data; writes ``out/simulation-validation.md`` and the folder
    ``out/simulation-validation/`` (PNGs, ``validation.json``). The known limitations listed
    under the table come from ``configs/simulation/validation-notes.yaml``."""
    from tracklearn.config import load_yaml
    from tracklearn.datapaths import CHECKOUT
    from tracklearn.parallel.simulate import simulate_to_disk
    from tracklearn.validate_simulation import find_inputs, run_validation

    configs = CHECKOUT / "configs" / "simulation"
    n = 2 if quick else VALIDATION_EVENTS
    events = work / "simulation-validation"
    if not events.exists():
        log.info("bench: simulating %d validation events (seed %d)", n, VALIDATION_SEED)
        simulate_to_disk(detector="trackml", n_events=n, seed=VALIDATION_SEED, out=events,
                         fmt="csv", config=load_yaml(configs / "trackml.yaml"),
                         geometry=geometry, workers=2)  # fmt: skip
    notes = load_yaml(configs / "validation-notes.yaml").get("notes", [])
    label = (
        f"`tracklearn simulate --detector trackml --config configs/simulation/trackml.yaml "
        f"--events {n} --seed {VALIDATION_SEED}`"
    )
    table = out / "simulation-validation.md"
    run_validation(find_inputs(events, data / "trackml"), out / "simulation-validation",
                   table=table, notes=[str(x) for x in notes],
                   command="tracklearn bench --suite simulation-validation",
                   sim_label=label)  # fmt: skip
    return table
