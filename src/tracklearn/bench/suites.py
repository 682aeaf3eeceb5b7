"""``tracklearn bench --suite NAME``: every benchmark of the project from one command.

Suites (each writes its own table under ``benchmarks/results/``):

* ``simulation``: speed and memory of the realistic simulator (``simulation.md``);
* ``simulation-validation``: simulated vs real TrackML data, with floors
  (``simulation-validation.md``; the notes come from ``configs/simulation/validation-notes.yaml``);
* ``baselines``: every registered method on generated and real events (``baselines.md``);
* ``graphs``: graph builders on held-out simulated μ=200 events (``graph-construction.md``);
* ``gnn``: the shipped ``gnn`` model next to ``dbscan``, the real event and the
  real Interaction-Network graphs (``gnn.md``);
* ``classical``: triplet seeding + CKF next to ``dbscan`` (``classical.md``);
* ``toys``: the HEP.TrkX toy models and the g-2 track finder (``toy-models.md``);
* ``hashing``: hashing / ANN buckets of hits and the learned metric (``hashing.md``);
* ``fullspectrum``: the default method next to ``gnn``, ``ckf`` and ``dbscan`` on the same
  held-out μ=200 events, the long luminous region, the real events, efficiency curves,
  where the score weight is lost, time vs μ and per stage, ablation (``fullspectrum.md``);
* ``scale-out``: events/s vs workers (local pool and Dask), Dask overhead, a worker
  killed mid-run, Ctrl-C, DDP on 1 vs 2 processes, a 100-event soak (``scale-out.md``);
* ``muon-trigger``: the muon-chamber CNN trigger (fp32, int8) next to the road
  look-up on 300,000 test images (``muon-trigger.md``);
* ``export``: every network exported to ONNX (parity, int8, pruning), throughput
  vs batch size, reconstruct time per backend (``export.md``);
* ``uncertainty``: calibration, MC dropout and pulls of every model that gives an
  uncertainty, the g-2 finder and the toy LSTM (``uncertainty.md``).

Simulated datasets are generated once per run into a scratch folder with fixed
seeds (training events seed 1, held-out events seed 2) so suites compare the
same events.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tracklearn.bench.events import simulated_events, training_events
from tracklearn.bench.manifest import current_result, record_suite
from tracklearn.datapaths import CHECKOUT, shared_data_dir
from tracklearn.io import find_events
from tracklearn.provenance import source_tree_id

log = logging.getLogger(__name__)

SUITES: tuple[str, ...] = (
    "simulation",
    "simulation-validation",
    "baselines",
    "graphs",
    "gnn",
    "classical",
    "toys",
    "hashing",
    "scale-out",
    "muon-trigger",
    "export",
    "uncertainty",
    "fullspectrum",
)


def run_suites(
    out: Path,
    suites: Sequence[str],
    *,
    quick: bool = False,
    data: Path | None = None,
    resume: bool = False,
) -> list[Path]:
    """Run the named suites; return the files written.

    Every finished suite is recorded in ``out/manifest.json`` (revision, source tree,
    wall time, file).  With ``resume``, a suite recorded from the same source tree as this
    checkout's, committed, is kept and not run again: ``make bench`` can span an
    interruption and every file still comes from one source tree."""
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        from tracklearn.errors import UnknownNameError

        raise UnknownNameError("bench suite", unknown[0], list(SUITES))
    root = data or shared_data_dir()
    tree = source_tree_id()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="tracklearn-bench-") as tmp:
        work = Path(tmp)
        for suite in suites:
            kept = current_result(out, suite, tree) if resume else None
            if kept is not None:
                log.info("bench: %s kept (%s, written from this source tree)", suite, kept)
                written.append(kept)
                continue
            t0 = time.perf_counter()
            path = _run_suite(suite, out, work, root, data, quick)
            if path is not None:
                record_suite(out, suite, path, tree, time.perf_counter() - t0)
                written.append(path)
    return written


def _run_suite(
    suite: str, out: Path, work: Path, root: Path, data: Path | None, quick: bool
) -> Path | None:
    """Run one suite; return its results file (None: skipped for lack of real data)."""
    geometry = root / "trackml" / "detectors.csv.gz"
    n_test = 1 if quick else 3
    if suite == "simulation" and geometry.exists():
        from tracklearn.bench.simulation import run_simulation_bench

        return run_simulation_bench(out, quick=quick, geometry=geometry)
    elif suite == "simulation-validation" and geometry.exists():
        from tracklearn.bench.simulation import run_validation_bench

        return run_validation_bench(out, work, quick=quick, data=root, geometry=geometry)
    elif suite == "baselines":
        from tracklearn.bench.baselines import run_baselines_bench

        return run_baselines_bench(out, quick=quick, data=data)
    elif suite == "graphs" and geometry.exists():
        from tracklearn.bench.graphs import run_graph_suite

        n_train = 2 if quick else 10
        train = simulated_events(work, "mu200_train", 200, n_train, 1, geometry)
        test = simulated_events(work, "mu200_test", 200, n_test, 2, geometry)
        note = (
            "Events: `tracklearn simulate --detector trackml --pileup 200 "
            f"--events {n_train} --seed 1` (training) and `--events {n_test} --seed 2` "
            "(held out, never used for building or training)."
        )
        return (
            run_graph_suite(
                train, test, out / "graph-construction.md", work / "graphs",
                detector=geometry, embedding_config=CHECKOUT / "configs" / "gnn"
                / "embedding.yaml", events_note=note,
            )
        )  # fmt: skip
    elif suite == "gnn" and geometry.exists():
        from tracklearn.bench.gnn import run_gnn_bench

        test = simulated_events(work, "mu200_test", 200, n_test, 2, geometry)
        scaling = {float(mu): simulated_events(work, f"mu{mu}_scaling", mu, 1, 7, geometry)
                   for mu in (20, 50, 100)}  # fmt: skip
        scaling[200.0] = test
        return run_gnn_bench(
            out,
            test,
            work / "gnn",
            real_prefix=root / "trackml" / "event000000001",
            in_graphs=root / "trackml_graphs" / "interaction_network_paper",
            scaling=scaling,
        )
    elif suite == "classical" and geometry.exists():
        from tracklearn.bench.classical import run_classical_bench

        sets: list[tuple[str, list[Path]]] = [
            ("real event000000001 (5 %)", [root / "trackml" / "event000000001"]),
            (
                "sim tt̄ μ=20",
                find_events([simulated_events(work, "mu20_test", 20, 2, 2, geometry)]),
            ),
            (
                "sim tt̄ μ=200",
                find_events([simulated_events(work, "mu200_test", 200, n_test, 2, geometry)]),
            ),
        ]
        return run_classical_bench(
            sets,
            out,
            methods=("dbscan", "ckf", "hough"),
            skip=[("sim tt̄ μ=200", "dbscan")],
            pruning=sets[2],
        )
    elif suite == "hashing" and geometry.exists():
        from tracklearn.bench.hashing import run_hashing_bench

        train = simulated_events(work, "mu200_train", 200, 2 if quick else 10, 1, geometry)
        test = simulated_events(work, "mu200_test", 200, n_test, 2, geometry)
        return run_hashing_bench(out, train, test, quick=quick)
    elif suite == "fullspectrum" and geometry.exists():
        from tracklearn.bench.fullspectrum import run_fullspectrum_bench

        test = simulated_events(work, "mu200_test", 200, n_test, 2, geometry)
        long = simulated_events(work, "mu200_long_test", 200, 1 if quick else 2, 3,
                                geometry, sigma_z=55.0)  # fmt: skip
        scaling = {float(mu): simulated_events(work, f"mu{mu}_scaling", mu, 1, 7, geometry)
                   for mu in ((20,) if quick else (20, 50, 100))}  # fmt: skip
        scaling[200.0] = test
        hits_only = find_events([root / "trackml" / "hits_only"])
        methods = ("fullspectrum", "gnn", "ckf", "dbscan")
        return run_fullspectrum_bench(
            out,
            test,
            test_long=long,
            real_prefix=root / "trackml" / "event000000001",
            hits_only=hits_only[:1] if quick else hits_only,
            scaling=scaling,
            methods=methods[:1] if quick else methods,
            quick=quick,
        )
    elif suite == "scale-out":
        from tracklearn.bench.scale_out import run_scale_out_bench

        return run_scale_out_bench(out, quick=quick)
    elif suite == "uncertainty":
        from tracklearn.bench.uncertainty import run_uncertainty_bench

        real = root / "trackml" / "event000000001"
        kwargs: dict[str, object] = {}
        if geometry.exists():
            train = simulated_events(work, "mu200_train", 200, 2 if quick else 10, 1, geometry)
            test = simulated_events(work, "mu200_test", 200, n_test, 2, geometry)
            fit = simulated_events(work, "mu20_test", 20, 2, 2, geometry)
            kwargs = {
                "val_events": find_events([train])[: 1 if quick else 2],
                "test_events": find_events([test])[: 1 if quick else 2],
                "fit_events": find_events([fit]),
            }
        return run_uncertainty_bench(
            out,
            real_prefix=real if real.with_name(real.name + "-hits.csv.gz").exists() else None,
            quick=quick,
            **kwargs,  # type: ignore[arg-type]
        )
    elif suite == "toys":
        from tracklearn.bench.toys import run_toy_bench

        return run_toy_bench(out, quick=quick)
    elif suite == "muon-trigger":
        from tracklearn.bench.muon_trigger import run_muon_trigger_bench

        return run_muon_trigger_bench(out, quick=quick)
    elif suite == "export":
        from tracklearn.bench.export import run_export_bench

        held_out: Path | None = None
        calib: Path | None = None
        if geometry.exists():
            held_out = simulated_events(work, "mu200_test", 200, n_test, 2, geometry)
            calib = training_events(work, geometry, 1 if quick else 2)
        in_graphs = root / "trackml_graphs" / "interaction_network_paper"
        return (
            run_export_bench(out, quick=quick, test_events=held_out, train_events=calib,
                             in_graphs=in_graphs if in_graphs.exists() else None)
        )  # fmt: skip
    log.warning("bench: suite %s skipped (no real TrackML data at %s)", suite, root)
    return None
