"""Classical-chain benchmark: ``ckf`` next to ``dbscan`` on the same events.

:func:`run_classical_bench` reconstructs every event with each method in a
fresh process per event (so peak RSS is per event), scores the tracks with
:func:`~tracklearn.evaluation.evaluate_folder` and, for ``ckf``, refits the
tracks of the simulated events to measure the pT resolution of matched tracks
against the true particle pT in the barrel (|η| < 1), in pT bins.  The result
is written to ``<out>/classical.md``.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackCandidates
from tracklearn.evaluation import evaluate_folder
from tracklearn.io.atomic import write_text_atomic
from tracklearn.io.trackml import read_event
from tracklearn.pipeline.run import reconstruct_events
from tracklearn.provenance import provenance
from tracklearn.report import markdown_table

log = logging.getLogger(__name__)

#: pT bin edges of the resolution table [GeV].
PT_EDGES: tuple[float, ...] = (1.0, 2.0, 5.0, 8.0, 12.0, 20.0, 50.0)


def _majority_particle(event: Event, tracks: TrackCandidates) -> npt.NDArray[np.int64]:
    """Particle holding > 50 % of each track's hits (0 if none), shape (T,)."""
    assert event.truth is not None
    pid = event.truth.particle_id[tracks.hit_index]
    out = np.zeros(tracks.n_tracks, dtype=np.int64)
    for t in range(tracks.n_tracks):  # T ≲ 10⁴, each a handful of hits
        p = pid[tracks.offsets[t] : tracks.offsets[t + 1]]
        vals, counts = np.unique(p, return_counts=True)
        if counts.max() * 2 > len(p) and vals[counts.argmax()] != 0:
            out[t] = vals[counts.argmax()]
    return out


def pt_residuals(event: Event, tracks: TrackCandidates) -> tuple[npt.NDArray[np.float64], ...]:
    """Fitted vs true pT of the majority-matched ``ckf`` tracks of ``event``.

    Returns ``(true pT [GeV], true η, (pT_fit - pT_true) / pT_true, pull of q/p)``.
    """
    from tracklearn.classical.ckf import CKFReconstructor
    from tracklearn.classical.kalman import QOP

    assert event.particles is not None
    fit = CKFReconstructor().fit_tracks(event, tracks)
    pid = _majority_particle(event, tracks)
    parts = event.particles
    row = np.searchsorted(parts.particle_id, pid, sorter=np.argsort(parts.particle_id))
    row = np.argsort(parts.particle_id)[np.clip(row, 0, len(parts.particle_id) - 1)]
    ok = (pid != 0) & fit.ok & (parts.particle_id[row] == pid)
    row = row[ok]
    pt_true = np.hypot(parts.px[row], parts.py[row])
    p_true = np.sqrt(pt_true**2 + parts.pz[row] ** 2)
    eta = np.arcsinh(parts.pz[row] / pt_true)
    qop_true = parts.q[row] / p_true
    qop = fit.perigee[ok, QOP]
    pull = (qop - qop_true) / np.sqrt(fit.perigee_cov[ok, QOP, QOP])
    return pt_true, eta, fit.pt[ok] / pt_true - 1.0, pull


def _robust_sigma(x: npt.NDArray[np.float64]) -> float:
    """Half the central 68 % interval (a Gaussian σ that ignores tails)."""
    if len(x) < 5:
        return float("nan")
    lo, hi = np.quantile(x, [0.16, 0.84])
    return float(0.5 * (hi - lo))


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
    with tempfile.TemporaryDirectory(prefix="tracklearn-classical-") as tmp:
        rows, res_rows = _run_all(datasets, Path(tmp), methods, skip)
    prune_rows = pruning_rows(*pruning) if pruning else []
    text = _markdown(rows, res_rows, prune_rows)
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
            if method == "ckf":
                res_rows += _resolution_rows(name, prefixes, tracks_dir)
    return rows, res_rows


def _resolution_rows(name: str, prefixes: Sequence[Path], tracks_dir: Path) -> list[str]:
    from tracklearn.io.tracks import read_tracks, tracks_path

    pts, etas, res, pulls = [], [], [], []
    for prefix in prefixes:
        event = read_event(prefix)
        if event.particles is None:
            continue
        tracks = read_tracks(tracks_path(tracks_dir, event.event_id), event)
        a, b, c, d = pt_residuals(event, tracks)
        pts.append(a)
        etas.append(b)
        res.append(c)
        pulls.append(d)
    if not pts:
        return []
    pt, eta, r, pull = (np.concatenate(v) for v in (pts, etas, res, pulls))
    barrel = np.abs(eta) < 1.0
    out = []
    for lo, hi in itertools.pairwise(PT_EDGES):
        m = barrel & (pt >= lo) & (pt < hi)
        out.append(
            f"| {name} | {lo:g}–{hi:g} | {int(m.sum())} | {_robust_sigma(r[m]):.4f} | "
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


def _markdown(rows: list[dict[str, Any]], res_rows: list[str], prune_rows: list[str]) -> str:
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
        f"{os.cpu_count()} CPU cores shared with other jobs, one process per event.",
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
            "## ckf pT resolution (barrel, |η| < 1, majority-matched tracks)",
            "",
            "σ(pT)/pT is half the central 68 % interval of (pT_fit − pT_true)/pT_true; "
            "pull = std of (q/p_fit − q/p_true)/σ(q/p).",
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
            "rates, wall seconds per event of the reconstruction call (mean, one process, "
            "CPU shared with other jobs) and speed-up against no pruning.  Classifier: "
            "`tracklearn/data/seed_classifier.npz` (provenance in `seed_classifier.json`).",
            "",
            "| dataset | setting | seeds/event | efficiency | fake_rate | duplicate_rate "
            "| s/event | speed-up |",
            "|---|---|---|---|---|---|---|---|",
            *prune_rows,
        ]
    lines.append(f"\nWritten {_dt.date.today().isoformat()}.")
    return "\n".join(lines) + "\n"
