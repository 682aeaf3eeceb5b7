"""Classical-chain benchmark: ``ckf`` next to ``dbscan`` on the same events.

:func:`run_classical_bench` reconstructs every event with each method in a
fresh process per event (so peak RSS is per event), scores the tracks with
:func:`~tracklearn.evaluation.evaluate_folder` and, for ``ckf``, takes the
fitted parameters ``reconstruct`` wrote to measure the pT resolution of matched
tracks against the true particle pT in the barrel (|η| < 1), in pT bins.  The result
is written to ``<out>/classical.md``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.classical.kalman import QOP
from tracklearn.evaluation import evaluate_folder
from tracklearn.io.atomic import write_text_atomic
from tracklearn.metrics.resolution import BARREL_ETA_MAX, PT_EDGES, Residuals, pt_resolution
from tracklearn.parallel.reconstruct import reconstruct_events
from tracklearn.provenance import provenance
from tracklearn.report import markdown_table

log = logging.getLogger(__name__)


def run_classical_bench(
    datasets: Sequence[tuple[str, Sequence[Path]]],
    out: Path,
    *,
    methods: Sequence[str] = ("dbscan", "ckf"),
    skip: Sequence[tuple[str, str]] = (),
    pruning: tuple[str, Sequence[Path]] | None = None,
) -> Path:
    """Benchmark ``methods`` on named sets of event prefixes; write ``out/classical.md``.

    Parameters
    ----------
    datasets
        ``(name, prefixes)`` pairs; every event needs truth.
    out
        Folder of the markdown table (track files go to a temporary folder).
    skip
        ``(dataset name, method)`` pairs not run (e.g. dbscan at μ = 200, ~3 min/event).
    pruning
        ``(name, prefixes)`` for the seed-classifier pruning table (:func:`pruning_rows`).
    """
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tracklearn-classical-") as tmp:
        rows, res_rows = _run_all(datasets, Path(tmp), methods, skip)
    prune_rows = pruning_rows(*pruning) if pruning else []
    text = _markdown(rows, res_rows, prune_rows, (load_before, os.getloadavg()[0]))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "classical.md"
    write_text_atomic(path, text)
    return path


def _run_all(
    datasets: Sequence[tuple[str, Sequence[Path]]],
    work: Path,
    methods: Sequence[str],
    skip: Sequence[tuple[str, str]],
) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    res_rows: list[str] = []
    for name, prefixes in datasets:
        for method in methods:
            if (name, method) in skip:
                continue
            tracks_dir = work / method / name.replace(" ", "_").replace(",", "").replace("=", "")
            runs = reconstruct_events(
                list(prefixes), method, tracks_dir, workers=1, fresh_process_per_event=True
            )
            errors = [r.error for r in runs if r.error]
            if errors:
                raise RuntimeError(f"classical bench: {method} failed on {name}: {errors[0]}")
            res = evaluate_folder(list(prefixes), tracks_dir, tracks_dir / "report")
            rows.append(
                {
                    "dataset": name,
                    "method": method,
                    "events": len(runs),
                    "hits/event": int(np.median([r.n_hits for r in runs])),
                    "s/event": float(np.median([r.time_s for r in runs])),
                    "peak RSS MB": float(np.max([r.peak_rss_mb for r in runs])),
                    **{
                        k: float(res.overall[k])
                        for k in ("efficiency", "fake_rate", "duplicate_rate", "trackml_score")
                    },
                }
            )
            if method == "ckf" and res.residuals is not None:
                res_rows += _resolution_rows(name, res.residuals)
    return rows, res_rows


def _resolution_rows(name: str, res: Residuals) -> list[str]:
    """Barrel σ(pT)/pT and q/p pull width per pT bin (definitions: metrics.resolution)."""
    barrel = np.abs(res.eta_true) < BARREL_ETA_MAX
    pull = res.pull[:, QOP]
    out = []
    for b in pt_resolution(res, PT_EDGES, BARREL_ETA_MAX):
        m = barrel & (res.pt_true >= b["pt_lo"]) & (res.pt_true < b["pt_hi"])
        out.append(
            f"| {name} | {b['pt_lo']:g}–{b['pt_hi']:g} | {b['n']} | "
            f"{b['sigma_pt_over_pt']:.4f} | "
            f"{np.std(pull[m]) if m.sum() > 4 else float('nan'):.2f} |"
        )
    return out


#: CKF settings compared in the pruning table: (label, CKFConfig overrides).
PRUNING_SETTINGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("no pruning", {"seed_classifier": None}),
    ("classifier, keep good+medium", {"seed_classifier_drop_prob": None}),
    (
        "classifier, keep good",
        {"seed_classifier_keep": ["good"], "seed_classifier_drop_prob": None},
    ),
    ("classifier, drop if P(bad) ≥ 0.9 (default)", {}),
)


def pruning_rows(name: str, prefixes: Sequence[Path]) -> list[str]:
    """Markdown rows: ``ckf`` with and without seed-classifier pruning on the same
    events, in this process (wall seconds of the reconstruction call, mean)."""
    import time

    from tracklearn.classical.ckf import CKFConfig, CKFReconstructor
    from tracklearn.io.trackml import read_event
    from tracklearn.metrics import aggregate, evaluate_event

    events = [read_event(p) for p in prefixes]
    out = []
    base = float("nan")
    for label, overrides in PRUNING_SETTINGS:
        reco = CKFReconstructor(CKFConfig.model_validate(overrides))
        metrics, times, n_seeds = [], [], 0
        for event in events:
            t0 = time.perf_counter()
            tracks = reco(event)
            times.append(time.perf_counter() - t0)
            metrics.append(evaluate_event(event, tracks))
            n_seeds += len(reco.seeds(event))
        a = aggregate(metrics)
        sec = float(np.mean(times))
        base = sec if label == "no pruning" else base
        out.append(
            f"| {name} | {label} | {n_seeds // len(events)} | {a.efficiency:.4f} | "
            f"{a.fake_rate:.4f} | {a.duplicate_rate:.4f} | {sec:.1f} | {base / sec:.2f} |"
        )
    return out


def _markdown(
    rows: list[dict[str, Any]],
    res_rows: list[str],
    prune_rows: list[str],
    load: tuple[float, float] = (float("nan"), float("nan")),
) -> str:
    prov = provenance()
    keys = [
        "dataset",
        "method",
        "events",
        "hits/event",
        "s/event",
        "peak RSS MB",
        "efficiency",
        "fake_rate",
        "duplicate_rate",
        "trackml_score",
    ]
    lines = [
        "# Classical chain: triplet seeding + CKF next to DBSCAN",
        "",
        f"`run_classical_bench` on {prov['created_utc']}, tracklearn "
        f"{prov['tracklearn_version']} at git {prov['git_revision']}, "
        f"{os.cpu_count()} CPU cores (1-minute load average {load[0]:.1f} before and "
        f"{load[1]:.1f} after the run), one process per event.",
        "",
        "DM efficiency / fake / duplicate rates: double-majority matching, targets pT ≥ 1 GeV, "
        "|η| ≤ 4, ≥ 5 distinct layers (DESIGN.md). s/event: wall seconds of the "
        "reconstruction call, median; peak RSS: largest over events.",
        "",
        *markdown_table(rows, keys),
    ]
    if res_rows:
        lines += [
            "",
            "## ckf pT resolution (barrel, |η| < 1)",
            "",
            "Parameters of the ckf final fit (event<id>-track-params.parquet), tracks "
            "double-majority matched to target particles from r < 10 mm "
            "(tracklearn.metrics.resolution). σ(pT)/pT is half the central 68 % interval of "
            "(pT_fit − pT_true)/pT_true; pull = std of (q/p_fit − q/p_true)/σ(q/p).",
            "",
            "| dataset | pT bin [GeV] | tracks | σ(pT)/pT | q/p pull width |",
            "|---|---|---|---|---|",
            *res_rows,
        ]
    if prune_rows:
        lines += [
            "",
            "## ckf seed pruning with the MLP seed classifier",
            "",
            "First-pass seeds per event (after pruning), DM efficiency / fake / duplicate "
            "rates, wall seconds per event of the reconstruction call (mean, one process) "
            "and speed-up against no pruning.  Classifier: "
            "`tracklearn/data/seed_classifier.npz` (provenance in `seed_classifier.json`).",
            "",
            "| dataset | setting | seeds/event | efficiency | fake_rate | duplicate_rate "
            "| s/event | speed-up |",
            "|---|---|---|---|---|---|---|---|",
            *prune_rows,
        ]
    lines.append(f"\nWritten {_dt.date.today().isoformat()}.")
    return "\n".join(lines) + "\n"
