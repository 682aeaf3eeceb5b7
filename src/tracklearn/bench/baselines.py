"""``tracklearn bench``: every method on the same events, one table.

Datasets: quick-generator events at several multiplicities, the real
subsampled TrackML event (with truth) and the full real hits-only events
(time and memory only: they have no truth).  Each event runs in a fresh
process so that the peak RSS is that event's.  Medians are quoted.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.bench.events import simulated_events
from tracklearn.datapaths import shared_data_dir
from tracklearn.evaluation import evaluate_folder
from tracklearn.io import find_events, write_event
from tracklearn.io.atomic import write_text_atomic
from tracklearn.methods import needs_trackml_geometry
from tracklearn.parallel.reconstruct import reconstruct_events
from tracklearn.pipeline import available_methods
from tracklearn.provenance import provenance
from tracklearn.report import markdown_table
from tracklearn.simulation.quick import QuickConfig, generate_events

log = logging.getLogger(__name__)


#: full real events timed (each takes minutes with the DBSCAN baseline)
N_FULL_REAL = 3


@dataclass(frozen=True)
class Dataset:
    name: str
    prefixes: list[Path]
    has_truth: bool
    note: str
    trackml_geometry: bool = True


def _generated(work: Path, particles: int, n_events: int, seed: int) -> Dataset:
    folder = work / f"quick_{particles}"
    for ev in generate_events(n_events, seed, QuickConfig(n_particles=particles)):
        write_event(ev, folder, compress=False)
    return Dataset(
        f"quick, {particles} particles",
        find_events([folder]),
        True,
        f"quick generator, seed {seed} (its own toy layers, not the TrackML modules)",
        trackml_geometry=False,
    )


def _realistic(work: Path, detectors: Path, n_events: int, seed: int) -> Dataset:
    folder = simulated_events(work, "trackml_mu200", 200, n_events, seed, detectors)
    return Dataset(
        "simulated TrackML, tt̄ + μ=200",
        find_events([folder]),
        True,
        f"tracklearn simulate --detector trackml (defaults: Pythia 8 tt̄ + μ = 200 through the "
        f"real geometry), seed {seed}",
    )


def datasets(work: Path, *, quick: bool, data: Path | None) -> list[Dataset]:
    """The benchmark datasets (the real ones only when the shared data is present)."""
    sets = []
    mults = [200] if quick else [500, 2000, 5000]
    n_ev = 1 if quick else 3
    for i, m in enumerate(mults):
        sets.append(_generated(work, m, n_ev, seed=100 + i))
    root = data or shared_data_dir()
    real = root / "trackml" / "event000000001"
    if (real.parent / "event000000001-hits.csv.gz").exists():
        sets.append(
            Dataset(
                "real TrackML, 5 % subsample",
                [real],
                True,
                "event000000001 (~5 % of the particles, all noise kept)",
            )
        )
    detectors = root / "trackml" / "detectors.csv.gz"
    if detectors.exists() and not quick:
        sets.append(_realistic(work, detectors, n_events=2, seed=300))
    hits_only = root / "trackml" / "hits_only"
    if hits_only.is_dir() and not quick:
        full = find_events([hits_only])[:N_FULL_REAL]
        note = (
            f"the first {len(full)} full Kaggle train_sample events in hits_only/ "
            "(~100k hits; time and memory only: they have no truth)"
        )
        sets.append(Dataset("real TrackML, full, no truth", full, False, note))
    return sets


def run_baselines_bench(
    out: Path, *, quick: bool = False, data: Path | None = None, methods: list[str] | None = None
) -> Path:
    """Run every method on every dataset; write ``out/baselines.md``; return its path."""
    methods = methods or list(available_methods())
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tracklearn-bench-") as tmp:
        work = Path(tmp)
        sets = datasets(work, quick=quick, data=data)
        for ds in sets:
            for method in methods:
                if needs_trackml_geometry(method) and not ds.trackml_geometry:
                    rows.append({"dataset": ds.name, "method": f"{method} (needs the TrackML "
                                 "geometry: not run)"})  # fmt: skip
                    continue
                log.info("bench: %s on %s (%d events)", method, ds.name, len(ds.prefixes))
                tracks = work / "tracks" / method / ds.name.replace(" ", "_").replace(",", "")
                runs = reconstruct_events(
                    ds.prefixes, method, tracks, workers=1, fresh_process_per_event=True
                )
                errors = [r.error for r in runs if r.error]
                if errors:
                    raise RuntimeError(f"bench: {method} failed on {ds.name}: {errors[0]}")
                t = np.array([r.time_s for r in runs])
                row: dict[str, Any] = {
                    "dataset": ds.name,
                    "method": method,
                    "events": len(runs),
                    "hits/event": int(np.median([r.n_hits for r in runs])),
                    "s/event (median)": float(np.median(t)),
                    "events/s": float(1.0 / np.median(t)),
                    "peak RSS MB (median)": float(np.median([r.peak_rss_mb for r in runs])),
                }
                if ds.has_truth:
                    res = evaluate_folder(ds.prefixes, tracks, tracks / "report")
                    for k in ("trackml_score", "efficiency", "fake_rate", "duplicate_rate"):
                        row[k] = float(res.overall[k])
                rows.append(row)
        text = _markdown(rows, sets, quick)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ("baselines-quick.md" if quick else "baselines.md")
    write_text_atomic(path, text)
    return path


def _markdown(rows: list[dict[str, Any]], sets: list[Dataset], quick: bool) -> str:
    prov = provenance()
    cmd = "tracklearn " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    keys = [
        "dataset",
        "method",
        "events",
        "hits/event",
        "s/event (median)",
        "events/s",
        "peak RSS MB (median)",
        "trackml_score",
        "efficiency",
        "fake_rate",
        "duplicate_rate",
    ]
    lines = [
        "# Baselines benchmark" + (" (quick)" if quick else ""),
        "",
        f"Produced by `{cmd}` (or `make bench`) on {prov['created_utc']}, tracklearn "
        f"{prov['tracklearn_version']} at git {prov['git_revision']}, Python {prov['python']}, "
        f"{os.cpu_count()} CPU cores, one process per event (peak RSS is per event).",
        "",
        "Efficiency, fake and duplicate rates: double-majority matching, targets pT ≥ 1 GeV, "
        "|η| ≤ 4, ≥ 5 distinct layers. TrackML score normalised by the event's total weight. "
        "Times are wall seconds of the reconstruction call (reading and writing excluded).",
        "",
        *markdown_table(rows, keys),
    ]
    lines += ["", "Datasets:", ""]
    lines += [f"- **{d.name}**: {d.note}" for d in sets]
    lines.append(f"\nWritten {_dt.date.today().isoformat()}.")
    return "\n".join(lines) + "\n"
