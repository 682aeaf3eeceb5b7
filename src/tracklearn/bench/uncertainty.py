"""Benchmark of uncertainties and calibration (``tracklearn bench --suite uncertainty``).

Writes ``benchmarks/results/uncertainty.md`` (+ ``uncertainty/*.png`` and
``uncertainty.json``).  Measured, each on data never used for training or tuning:

1. **Edge scores** of the shipped ``gnn`` model on held-out simulated tt̄ + μ=200
   events: reliability diagram and expected calibration error, before and after
   temperature scaling fitted on validation events (the training-seed events);
   MC-dropout spread against the error, and the track building with uncertain
   edges dropped (``max_score_std``).
2. **Track-parameter regression** (conv + LSTM, Gaussian-NLL full-covariance
   head) on the compact toy: pull widths, 68 / 95 % coverage per parameter and
   of the full covariance, raw and validation-calibrated, per track
   multiplicity; with MC dropout, the total (aleatoric + epistemic) covariance
   and the spread against the error.
3. **Kalman fit** (``ckf``): pulls and coverage of the five perigee parameters on
   simulated events and on the real 5 % event, and the truth-track fit of the
   real event with the previous field map and material next to the current.
4. **g-2 track finder** trained with overlay augmentation: efficiency and purity
   against occupancy for the network alone, the network guiding the parabola
   RANSAC (the finder) and RANSAC alone; what the network's losses are; the
   reliability and MC-dropout spread of its hit scores.
5. **Toy LSTM** on the HEP.TrkX reference setting (1 track + 20 % noise), with and
   without hit masking, counted both ways.

Times are wall-clock on a shared 2-core machine, one torch thread.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.provenance import provenance

__all__ = ["run_uncertainty_bench"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: MC dropout of the shipped edge classifier (trained without dropout: rate injected)
EDGE_MC_SAMPLES, EDGE_MC_RATE = 10, 0.05
#: spread cut of the track-building row
EDGE_MAX_STD = 0.15
#: regression: tracks per image; epochs (2 MSE warm-up, NLL, 3 covariance-only)
REG_COUNTS = (1, 2, 4, 8)
REG_EPOCHS, REG_WARMUP, REG_COV_EPOCHS, REG_TRAIN = 15, 2, 3, 3000
REG_DROPOUT, REG_MC_SAMPLES = 0.1, 20
#: g-2: training fills (plus as many overlay islands), epochs, network options
G2_FILLS, G2_EPOCHS, G2_HIDDEN, G2_DROPOUT, G2_MC_SAMPLES = 100, 16, 96, 0.1, 10
#: occupancies of the g-2 test fills [tracks per 2 µs fill]; 30 is the default
G2_OCCUPANCIES = (10, 20, 30, 45, 60, 90)
#: toy LSTM rows: (label, model, options, epochs, learning rate)
LSTM_ROWS: tuple[tuple[str, str, dict[str, Any], int, float], ...] = (
    ("LSTM, hit masking", "lstm", {"hidden": 100, "mask_hits": True}, 16, 1e-2),
    ("LSTM, no masking (HEP.TrkX's model)", "lstm", {"hidden": 100, "mask_hits": False}, 16, 1e-2),
    (
        "bidirectional LSTM (2 layers), hit masking",
        "bilstm",
        {"hidden": 100, "num_layers": 2, "mask_hits": True},
        40,
        5e-3,
    ),
)
PARAMS = ("d0", "z0", "phi", "theta", "qop")


def _w68(x: FloatArray) -> float:
    x = x[np.isfinite(x)]
    return float(0.5 * np.subtract(*np.quantile(x, [0.84, 0.16]))) if len(x) >= 5 else float("nan")


def _save(fig: Any, path: Path) -> Path:
    save_figure(fig, path, dpi=110)
    return path


# ------------------------------------------------------------------- 1. edge scores


def _gnn_edges(events: Sequence[Path], config: dict[str, Any]) -> tuple[Any, list[Any]]:
    """Edge samples (score, label, std) and per-event metrics of ``gnn`` with ``config``."""
    from tracklearn.evaluation import EdgeSample
    from tracklearn.io import read_event
    from tracklearn.metrics import evaluate_event
    from tracklearn.pipeline import get_method
    from tracklearn.training.graph_data import graph_labels

    reco = get_method("gnn", config)
    parts, metrics = [], []
    for prefix in events:
        event = read_event(prefix)
        tracks = reco(event)
        e = tracks.edges
        assert e is not None
        labels = graph_labels(event, np.stack([e.inner, e.outer]), e.label_pt_min)
        std = None if e.score_std is None else e.score_std.astype(np.float64)
        parts.append(EdgeSample(e.score.astype(np.float64), labels.astype(np.float64), std))
        metrics.append(evaluate_event(event, tracks))
    return EdgeSample.concatenate(parts), metrics


def _edge_section(val: Sequence[Path], test: Sequence[Path], plots: Path) -> dict[str, Any]:
    from matplotlib.figure import Figure

    from tracklearn.evaluation import edge_calibration
    from tracklearn.metrics import aggregate
    from tracklearn.metrics.calibration import apply_temperature, reliability_curve
    from tracklearn.plotting.calibration import plot_reliability, plot_spread_vs_error

    base = {"threads": 1, "save_edge_scores": True}
    mc = {"threads": 1, "mc_samples": EDGE_MC_SAMPLES, "mc_dropout": EDGE_MC_RATE}
    t0 = time.perf_counter()
    val_s, _ = _gnn_edges(val, base)
    test_s, test_m = _gnn_edges(test, base)
    doc, _curves = edge_calibration(test_s, val_s)
    mc_s, mc_m = _gnn_edges(test, mc)
    mc_doc, _ = edge_calibration(mc_s)
    _, cut_m = _gnn_edges(test, {**mc, "max_score_std": EDGE_MAX_STD})
    rows = {}
    for name, ms in (("plain", test_m), ("mc", mc_m), ("cut", cut_m)):
        a = aggregate(ms)
        rows[name] = {"efficiency": a.efficiency, "fake_rate": a.fake_rate}
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    plot_reliability(ax1, reliability_curve(test_s.score, test_s.label), label="edge scores")
    plot_reliability(
        ax1,
        reliability_curve(apply_temperature(test_s.score, doc["temperature"]), test_s.label),
        label=f"temperature T = {doc['temperature']:.2f}",
    )
    ax1.set_title(f"gnn edge scores, {len(test)} held-out μ=200 events")
    assert mc_s.std is not None
    plot_spread_vs_error(ax2, mc_s.std, mc_s.score - mc_s.label, ylabel="RMS of (score − label)")
    ax2.set_title(f"MC dropout ({EDGE_MC_SAMPLES} samples, rate {EDGE_MC_RATE} injected)")
    _save(fig, plots / "edge_reliability.png")
    return {
        "calibration": doc,
        "mc": mc_doc["mc_dropout"],
        "mc_ece": mc_doc["ece"],
        "tracks": rows,
        "n_val_events": len(val),
        "n_test_events": len(test),
        "time_s": time.perf_counter() - t0,
    }


# ------------------------------------------------------------------- 2. regression


def _regression_section(work: Path, plots: Path, seed: int, quick: bool) -> dict[str, Any]:
    import torch
    from matplotlib.figure import Figure

    from tracklearn.bench.toys import _fresh
    from tracklearn.metrics.calibration import chi2_coverage, pull_coverage_summary
    from tracklearn.models.toy import build_toy_model
    from tracklearn.plotting.calibration import plot_spread_vs_error
    from tracklearn.simulation.toy import ToyConfig, generate_toy
    from tracklearn.training.loop import TrainConfig
    from tracklearn.training.toy import (
        calibrate_regression,
        predict_regression_full,
        train_regression,
    )

    counts = (1, 2) if quick else REG_COUNTS
    n_train, epochs = (200, 4) if quick else (REG_TRAIN, REG_EPOCHS)
    cov_epochs, warmup = (1, 1) if quick else (REG_COV_EPOCHS, REG_WARMUP)
    out: dict[str, Any] = {}
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_sp = fig.subplots(1, 2)
    for k in counts:
        cfg = ToyConfig(n_background=k - 1)
        train_set = generate_toy(n_train, seed + 20 + k, cfg)
        val_set = generate_toy(200 if quick else 1000, seed + 40 + k, cfg)
        test_set = generate_toy(200 if quick else 1000, seed + 60 + k, cfg)
        row: dict[str, Any] = {}
        for variant, dropout in (("plain", 0.0), ("dropout", REG_DROPOUT)):
            torch.manual_seed(seed)
            model = build_toy_model(
                "conv_lstm_regression", n_layers=10, pixels=(50,), max_tracks=k, dropout=dropout
            )
            t0 = time.perf_counter()
            folder = work / f"reg-{k}-{variant}"
            train_regression(
                model, train_set, val_set,
                TrainConfig(epochs=epochs, lr=2e-3, threads=1, seed=seed, patience=epochs,
                            schedule="cosine"),
                folder, batch_size=32, warmup_epochs=warmup, cov_epochs=cov_epochs,
                fresh=_fresh(train_set, n_train, seed + 19 + k, cfg),
            )  # fmt: skip
            train_s = time.perf_counter() - t0
            model.load_state_dict(torch.load(folder / "best.pt", weights_only=False)["model"])
            if variant == "plain":
                for kind in ("raw", "calibrated"):
                    if kind == "calibrated":
                        row["sigma_scale"] = calibrate_regression(model, val_set).tolist()
                    p = predict_regression_full(model, test_set)
                    row[kind] = _regression_pulls(p, pull_coverage_summary, chi2_coverage)
                row["train_s"] = train_s
            else:
                p = predict_regression_full(
                    model, test_set, mc_samples=2 if quick else REG_MC_SAMPLES, seed=seed
                )
                row["mc"] = _regression_pulls(p, pull_coverage_summary, chi2_coverage)
                m = np.asarray(p["mask"], bool)
                spread = np.asarray(p["spread"])[m]
                err = (np.asarray(p["y"]) - np.asarray(p["mean"]))[m]
                alea = np.sqrt(np.diagonal(np.asarray(p["cov_aleatoric"]), axis1=-2, axis2=-1))[m]
                row["mc"]["epistemic_fraction"] = [
                    float(np.mean(spread[:, j] ** 2 / (spread[:, j] ** 2 + alea[:, j] ** 2)))
                    for j in range(2)
                ]
                row["mc"]["train_s"] = train_s
                for j, name in enumerate(("slope", "intercept")):
                    plot_spread_vs_error(
                        ax_sp[j], spread[:, j], err[:, j], label=f"{k} tracks",
                        xlabel=f"MC-dropout spread of the {name} (bin)",
                        ylabel=f"RMS error of the {name}",
                    )  # fmt: skip
        out[str(k)] = row
        log.info("regression k=%d: %s", k, row["raw"]["pulls"])
    _save(fig, plots / "regression_mc_spread.png")
    return out


def _regression_pulls(p: dict[str, Any], summary: Any, chi2_cov: Any) -> dict[str, Any]:
    m = np.asarray(p["mask"], bool)
    resid = (np.asarray(p["y"]) - np.asarray(p["mean"]))[m]
    sigma = np.sqrt(np.diagonal(np.asarray(p["cov"]), axis1=-2, axis2=-1))[m]
    pulls = resid / sigma
    return {
        "pulls": {name: summary(pulls[:, j]) for j, name in enumerate(("slope", "intercept"))},
        "chi2_coverage": chi2_cov(np.asarray(p["chi2"])[m], 2),
        "rms": np.sqrt(np.mean(resid**2, axis=0)).tolist(),
        "n": int(m.sum()),
    }


# ------------------------------------------------------------------- 3. Kalman fit


def _kalman_section(
    real_prefix: Path | None, sim_events: Sequence[Path], work: Path
) -> dict[str, Any]:
    from tracklearn.classical.ckf import CKFConfig, CKFReconstructor
    from tracklearn.classical.kalman import KalmanConfig
    from tracklearn.edm import TrackCandidates
    from tracklearn.geometry.field import TRACKML_SOLENOID_FIELD
    from tracklearn.geometry.material import MaterialConfig
    from tracklearn.io import read_event
    from tracklearn.metrics.calibration import chi2_coverage, pull_coverage_summary
    from tracklearn.metrics.resolution import Residuals, track_residuals

    def summarise(res: Residuals) -> dict[str, Any]:
        pulls = res.pull
        return {
            "n": len(res),
            "pulls": {n: pull_coverage_summary(pulls[:, j]) for j, n in enumerate(PARAMS)},
            "chi2_coverage": chi2_coverage(res.chi2, 5),
            "rel_pt_w68": _w68(res.rel_pt),
        }

    def truth_tracks(event: Any) -> TrackCandidates:
        pid = event.truth.particle_id
        lab = np.where(pid == 0, 0, np.unique(pid, return_inverse=True)[1] + 1)
        return TrackCandidates.from_labels(lab)

    out: dict[str, Any] = {}
    ckf = CKFReconstructor()
    sets = ([("real event000000001 (5 %)", [real_prefix])] if real_prefix else []) + (
        [("simulated tt̄ μ=20", list(sim_events))] if sim_events else []
    )
    for label, prefixes in sets:
        found, truth_fit = [], []
        for prefix in prefixes:
            event = read_event(prefix)
            found.append(track_residuals(event, ckf(event)))
            truth_fit.append(track_residuals(event, ckf.track_fitter(event, truth_tracks(event))))
        out[label] = {
            "ckf": summarise(Residuals.concatenate(found)),
            "truth": summarise(Residuals.concatenate(truth_fit)),
        }
    if real_prefix is not None:  # the fix, on the real event: before and after
        old_mat = MaterialConfig(x0_mm={**MaterialConfig().x0_mm, 12: 12.5, 14: 12.5})
        old = CKFReconstructor(
            CKFConfig(kalman=KalmanConfig(material=old_mat)), field=TRACKML_SOLENOID_FIELD
        )
        event = read_event(real_prefix)
        res = track_residuals(
            event, old.track_fitter(event, truth_tracks(event)), field=TRACKML_SOLENOID_FIELD
        )
        out["before"] = summarise(res)
    return out


# ------------------------------------------------------------------- 4. g-2 finder


def _g2_section(work: Path, plots: Path, seed: int, quick: bool) -> dict[str, Any]:
    import torch
    from matplotlib.figure import Figure

    from tracklearn.evaluation import EdgeSample, edge_calibration
    from tracklearn.metrics.calibration import reliability_curve
    from tracklearn.metrics.toy import island_candidate_counts
    from tracklearn.models.toy import build_toy_model
    from tracklearn.plotting.calibration import plot_reliability, plot_spread_vs_error
    from tracklearn.simulation.g2 import G2Config, generate_islands
    from tracklearn.training.loop import TrainConfig
    from tracklearn.training.toy import (
        G2StageConfig,
        augment_with_overlay,
        g2_hit_scores,
        predict_g2,
        ransac_candidates,
        train_g2,
    )

    n_fills, epochs = (6, 2) if quick else (G2_FILLS, G2_EPOCHS)
    stage = G2StageConfig(overlay=True)
    cfg = G2Config()
    train_set = generate_islands(n_fills, seed + 100, cfg)
    val_set = generate_islands(max(5, n_fills // 5), seed + 200, cfg)
    data = augment_with_overlay(train_set, stage, seed)
    torch.manual_seed(seed)
    model = build_toy_model(
        "g2_finder", n_straws=cfg.n_straws, max_tracks=stage.max_tracks, hidden=G2_HIDDEN,
        dropout=G2_DROPOUT,
    )  # fmt: skip
    t0 = time.perf_counter()
    train_g2(
        model, data, val_set,
        TrainConfig(epochs=epochs, lr=2e-3, threads=1, seed=seed, patience=epochs,
                    schedule="cosine"),
        work / "g2", max_tracks=stage.max_tracks, batch_size=32,
    )  # fmt: skip
    train_s = time.perf_counter() - t0
    model.load_state_dict(torch.load(work / "g2" / "best.pt", weights_only=False)["model"])
    curves: dict[str, dict[int, tuple[float, float]]] = {"network": {}, "finder": {}, "ransac": {}}
    per_island: dict[str, dict[int, tuple[float, float]]] = {}
    n_test = 4 if quick else 40
    losses: dict[str, int] = {}
    for occ in G2_OCCUPANCIES:
        test = generate_islands(n_test, seed + 300 + occ, G2Config(tracks_per_fill=occ))
        net = predict_g2(model, test)
        preds = {
            "network": net,
            "finder": ransac_candidates(net, test.occupancy, seed=seed),
            "ransac": ransac_candidates(net, test.occupancy, guided=False, seed=seed),
        }
        for name, pred in preds.items():
            c = island_candidate_counts(pred, test.owner)
            curves[name][occ] = (c.efficiency(), c.purity())
            if occ == G2Config().tracks_per_fill:
                mult = np.minimum(test.n_tracks, 8)
                per_island[name] = {
                    int(o): (c.efficiency(mult == o), c.purity(mult == o))
                    for o in np.unique(mult)
                    if o > 0
                }
        if occ == G2Config().tracks_per_fill:
            losses = _g2_losses(net, test.owner)
            default_test = test
    # hit scores: track vs noise per occupied cell; temperature from the validation islands
    hit = default_test.occupancy > 0
    score, _ = g2_hit_scores(model, default_test)
    v_score, _ = g2_hit_scores(model, val_set)
    test_s = EdgeSample(
        score[hit].astype(np.float64), (default_test.owner[hit] > 0).astype(np.float64), None
    )
    v_hit = val_set.occupancy > 0
    val_s = EdgeSample(
        v_score[v_hit].astype(np.float64), (val_set.owner[v_hit] > 0).astype(np.float64), None
    )
    hit_doc, _ = edge_calibration(test_s, val_s)
    mc_mean, mc_std = g2_hit_scores(
        model, default_test, mc_samples=2 if quick else G2_MC_SAMPLES, seed=seed
    )
    mc_s = EdgeSample(mc_mean[hit].astype(np.float64), test_s.label, mc_std[hit].astype(np.float64))
    mc_doc, _ = edge_calibration(mc_s)
    # plots: efficiency and purity vs occupancy; hit-score reliability and MC spread
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    a_eff, a_pur, a_rel = fig.subplots(1, 3)
    styles = {"network": "s--", "finder": "o-", "ransac": "^:"}
    labels = {
        "network": "network alone (slots)",
        "finder": "finder: network-guided RANSAC",
        "ransac": "RANSAC without the network",
    }
    for name, curve in curves.items():
        occs = sorted(curve)
        a_eff.plot(occs, [curve[o][0] for o in occs], styles[name], label=labels[name])
        a_pur.plot(occs, [curve[o][1] for o in occs], styles[name], label=labels[name])
    for ax, what in ((a_eff, "efficiency"), (a_pur, "purity")):
        ax.axhline(0.9, color="0.7", linewidth=1)
        ax.axvline(G2Config().tracks_per_fill, color="0.85", linewidth=1)
        ax.set_xlabel("tracks per 2 µs fill (default 30)")
        ax.set_ylabel(f"candidate {what}")
        ax.legend(fontsize=8)
    plot_reliability(a_rel, reliability_curve(test_s.score, test_s.label), label="hit scores")
    a_rel.set_title("g-2 hit scores: on a track vs noise")
    _save(fig, plots / "g2_occupancy.png")
    fig2 = Figure(figsize=(5.5, 4.2), layout="constrained")
    plot_spread_vs_error(
        fig2.subplots(), mc_std[hit], mc_s.score - mc_s.label, ylabel="RMS of (score − label)"
    )
    _save(fig2, plots / "g2_mc_spread.png")
    return {
        "curves": {k: {str(o): v for o, v in c.items()} for k, c in curves.items()},
        "per_island": {k: {str(o): v for o, v in c.items()} for k, c in per_island.items()},
        "losses": losses,
        "hit_calibration": hit_doc,
        "hit_mc": mc_doc.get("mc_dropout", {}),
        "train_s": train_s,
        "n_train_islands": len(data),
    }


def _g2_losses(pred: npt.NDArray[np.int64], owner: npt.NDArray[np.int64]) -> dict[str, int]:
    """Why tracks of ≥ 5 cells are lost by the network alone: merged, split or called noise."""
    out = {"tracks": 0, "found": 0, "merged": 0, "split": 0, "noise": 0}
    for i in range(len(owner)):
        own, pr = owner[i], pred[i]
        hit = own >= 0
        for k in range(1, int(own.max(initial=0)) + 1):
            m = own == k
            if m.sum() < 5:
                continue
            out["tracks"] += 1
            labels, counts = np.unique(pr[m], return_counts=True)
            top = labels[np.argmax(counts)]
            if top == 0:
                out["noise"] += 1
                continue
            cand = (pr == top) & hit
            if counts.max() * 2 <= m.sum():
                out["split"] += 1
            elif np.count_nonzero(own[cand] == k) * 2 <= np.count_nonzero(cand):
                out["merged"] += 1
            else:
                out["found"] += 1
    return out


# ------------------------------------------------------------------- 5. toy LSTM


def causal_line_oracle(sample: Any, seed: int = 0) -> float:
    """Accuracy (after the seed layers) of the best *causal* reader, given the true past.

    At every layer ``l`` after the seeds: the least-squares line through the true
    cells of layers ``0 … l−1`` (pixel centres), extrapolated to ``l``; the hit
    cell nearest to it is the prediction (ties at random).  It knows the true
    past, which a model reading layer by layer does not, so it bounds from above
    what a uni-directional LSTM can reach; the straight-line Hough oracle
    (``bench.toys.hough_oracle_accuracy``), which sees every layer, bounds a
    bidirectional one.  Toy2d samples only.
    """
    rng = np.random.default_rng(seed)
    n_layers, ns = sample.hits.shape[1], sample.n_seed_layers
    right = total = 0
    for i in range(len(sample)):
        t = sample.target[i] + 0.5
        for lay in range(ns, n_layers):
            z = np.arange(lay, dtype=np.float64)
            slope, icpt = np.polyfit(z, t[:lay], 1)
            cells = np.flatnonzero(sample.hits[i, lay] > 0)
            d = np.abs(cells + 0.5 - (icpt + slope * lay))
            right += int(rng.choice(cells[d == d.min()]) == sample.target[i, lay])
            total += 1
    return right / max(total, 1)


def _lstm_section(work: Path, seed: int, quick: bool) -> list[dict[str, Any]]:
    import torch

    from tracklearn.bench.toys import (
        REFERENCE,
        REFERENCE_SETTINGS,
        _fresh,
        _reference_sets,
        _train_cfg,
    )
    from tracklearn.metrics.toy import seeded_accuracy
    from tracklearn.training.toy import _seeded_tensors, seeded_model, train_seeded

    key = "noise20"
    cfg = REFERENCE_SETTINGS[key][1]
    n_train = 64 if quick else 20000
    sets = _reference_sets(key, n_train, seed)
    from tracklearn.bench.toys import hough_oracle_accuracy

    rows: list[dict[str, Any]] = []
    n_oracle = 20 if quick else 500
    nl, ns = cfg.n_layers, cfg.n_seed_layers
    for label, acc in (
        ("causal line oracle (true past; ceiling of a one-way reader)",
         causal_line_oracle(sets[2].subset(slice(0, n_oracle)), seed)),
        ("straight-line Hough oracle (all layers; ceiling)",
         hough_oracle_accuracy(sets[2], n_oracle)),
    ):  # fmt: skip
        rows.append({"label": label, "oracle": True, "after_seeds": acc,
                     "all": (ns + (nl - ns) * acc) / nl})  # fmt: skip
    for label, name, opts, epochs, lr in LSTM_ROWS:
        n_ep = 1 if quick else epochs
        torch.manual_seed(seed)
        model = seeded_model(name, sets[0], **opts)
        t0 = time.perf_counter()
        folder = work / f"lstm-{name}-{opts['mask_hits']}"
        train_seeded(
            model, sets[0], sets[1], _train_cfg(name, n_ep, seed, lr=lr), folder,
            batch_size=64, fresh=_fresh(sets[0], n_train, seed, cfg),
        )  # fmt: skip
        train_s = time.perf_counter() - t0
        model.load_state_dict(torch.load(folder / "best.pt", weights_only=False)["model"])
        test = sets[2]
        h, s, _ = _seeded_tensors(test)
        model.eval()
        with torch.no_grad():
            logits = model(h, s)
        raw = logits.argmax(-1).numpy()
        masked = logits.masked_fill(h <= 0, -1e9).argmax(-1).numpy()  # HEP.TrkX: preds * hits
        ns = test.n_seed_layers
        rows.append(
            {
                "label": label,
                "model": name,
                "options": opts,
                "epochs": n_ep,
                "raw_after_seeds": seeded_accuracy(raw, test.target, ns),
                "raw_all": seeded_accuracy(raw, test.target, 0),
                "masked_after_seeds": seeded_accuracy(masked, test.target, ns),
                "masked_all": seeded_accuracy(masked, test.target, 0),
                "published_all": REFERENCE[key].get("lstm") if name == "lstm" else None,
                "n_params": sum(p.numel() for p in model.parameters()),
                "train_s": train_s,
            }
        )
        log.info("toy %s: %s", label, rows[-1])
    return rows


# ------------------------------------------------------------------- report


def run_uncertainty_bench(
    out: str | Path,
    *,
    val_events: Sequence[Path] = (),
    test_events: Sequence[Path] = (),
    fit_events: Sequence[Path] = (),
    real_prefix: Path | None = None,
    quick: bool = False,
    seed: int = 0,
) -> Path:
    """Run every section; write ``out/uncertainty.md`` (+ PNGs and JSON); return its path.

    Parameters
    ----------
    val_events, test_events
        Simulated μ=200 events (prefixes): temperature fitted on ``val_events``
        (the training-seed events), everything measured on ``test_events``.
        Empty: the edge-score section is skipped.
    fit_events
        Simulated events for the Kalman pulls (μ=20).
    real_prefix
        The real TrackML event with truth (Kalman pulls; None: skipped).
    quick
        Tiny settings (seconds) for tests.
    """
    import torch

    out = Path(out)
    plots = out / "uncertainty"
    plots.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    doc: dict[str, Any] = {}
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tracklearn-uncertainty-") as tmp:
        work = Path(tmp)
        for name, fn in (
            ("edges", lambda: _edge_section(val_events, test_events, plots)),
            ("regression", lambda: _regression_section(work, plots, seed, quick)),
            ("kalman", lambda: _kalman_section(real_prefix, fit_events, work)),
            ("g2", lambda: _g2_section(work, plots, seed, quick)),
            ("lstm", lambda: _lstm_section(work, seed, quick)),
        ):
            if name == "edges" and not (val_events and test_events):
                continue
            t0 = time.perf_counter()
            doc[name] = fn()
            times[name] = time.perf_counter() - t0
            log.info("uncertainty bench: %s done in %.0f s", name, times[name])
    total = time.perf_counter() - t_start
    write_text_atomic(
        out / "uncertainty.json",
        json.dumps({**doc, "times_s": times, "provenance": provenance()}, indent=1, default=float),
    )
    text = _markdown(doc, times, total, seed, quick)
    path = out / "uncertainty.md"
    write_text_atomic(path, text)
    return path


def _f(v: Any, fmt: str = ".3f") -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, fmt)


def _markdown(
    doc: dict[str, Any], times: dict[str, float], total: float, seed: int, quick: bool
) -> str:
    from tracklearn.simulation.g2 import G2Config

    prov = provenance()
    lines = [
        "# Uncertainties you can trust: calibration, MC dropout, pulls",
        "",
        f"Generated by `tracklearn bench --suite uncertainty` on {_dt.date.today()} "
        f"(git {prov.get('git_revision', '?')}), seed {seed}"
        + (" (QUICK settings: not results)" if quick else "")
        + f"; 1 torch thread on a 2-core machine shared with other jobs (wall-clock times "
        f"under load); total {total:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in times.items())
        + "). Definitions: `tracklearn.metrics.calibration` (reliability, ECE, temperature, "
        "coverage) and `tracklearn.metrics.resolution` (pulls). A pull is (estimate − truth) / σ; "
        "*std* is its standard deviation, *w68* half its central 68 % interval (both 1 when "
        "calibrated); *cov 68 / 95* the fraction inside the central 68 / 95 % interval "
        "(0.68 / 0.95 when calibrated), and *χ² cov* the same for the full covariance "
        "(χ² = rᵀΣ⁻¹r against the χ² quantiles).",
        "",
    ]
    if "edges" in doc:
        lines += _md_edges(doc["edges"])
    if "regression" in doc:
        lines += _md_regression(doc["regression"])
    if "kalman" in doc:
        lines += _md_kalman(doc["kalman"])
    if "g2" in doc:
        lines += _md_g2(doc["g2"], int(G2Config().tracks_per_fill))
    if "lstm" in doc:
        lines += _md_lstm(doc["lstm"])
    return "\n".join(lines) + "\n"


def _md_edges(e: dict[str, Any]) -> list[str]:
    c, mc, tr = e["calibration"], e["mc"], e["tracks"]
    return [
        "## 1. Edge scores of the shipped `gnn` model",
        "",
        f"Edges of the Interaction Network after the filter, on {e['n_test_events']} held-out "
        f"simulated tt̄ + μ=200 events (seed 2); labels: both hits on one particle of pT ≥ "
        "0.9 GeV (the classifier's training label). Temperature fitted on "
        f"{e['n_val_events']} validation events (seed 1).",
        "",
        "| scores | edges | ECE | NLL |",
        "| --- | --- | --- | --- |",
        f"| as trained | {c['n_edges']} | {_f(c['ece'], '.4f')} | {_f(c['nll'], '.4f')} |",
        f"| temperature scaled, T = {_f(c['temperature'])} | {c['n_edges']} | "
        f"{_f(c['ece_after'], '.4f')} | {_f(c['nll_after'], '.4f')} |",
        f"| MC-dropout mean ({EDGE_MC_SAMPLES} samples, rate {EDGE_MC_RATE}) | {c['n_edges']} | "
        f"{_f(e['mc_ece'], '.4f')} | |",
        "",
        "The classifier was trained with a positive-class weight (pos_weight ≈ 18.7): its scores "
        "over-state the probability of a true edge in the middle of the range (the reliability "
        "curve lies below the diagonal), a shift that a single temperature can only partly "
        "remove.",
        "",
        f"MC dropout: the shipped classifier was trained without dropout, so dropout of rate "
        f"{EDGE_MC_RATE} is injected after every ReLU at inference (a sensitivity, not a "
        "calibrated posterior; models trained with `dropout > 0` are sampled with their own). "
        f"Mean spread of right edges {_f(mc['mean_std_right'], '.4f')}, of wrong edges "
        f"{_f(mc['mean_std_wrong'], '.4f')} (decision at 0.5; {100 * mc['fraction_wrong']:.1f} % "
        f"wrong); the spread detects wrong edges with ROC AUC {_f(mc['auc_std_vs_error'])}.",
        "",
        "| track building | efficiency | fake rate |",
        "| --- | --- | --- |",
        f"| scores as trained | {_f(tr['plain']['efficiency'], '.4f')} | "
        f"{_f(tr['plain']['fake_rate'], '.4f')} |",
        f"| MC-dropout mean scores | {_f(tr['mc']['efficiency'], '.4f')} | "
        f"{_f(tr['mc']['fake_rate'], '.4f')} |",
        f"| MC mean, edges with spread > {EDGE_MAX_STD} dropped (`max_score_std`) | "
        f"{_f(tr['cut']['efficiency'], '.4f')} | {_f(tr['cut']['fake_rate'], '.4f')} |",
        "",
        "![edge reliability](uncertainty/edge_reliability.png)",
        "",
    ]


def _md_regression(reg: dict[str, Any]) -> list[str]:
    lines = [
        "## 2. Conv + LSTM track-parameter regression (full-covariance Gaussian-NLL head)",
        "",
        "Compact toy (10 layers × 50 pixels), parameters slope × (L−1)/P and intercept/P; "
        f"{REG_TRAIN} fresh events per epoch, {REG_EPOCHS} epochs: {REG_WARMUP} of MSE on the "
        f"means, then the NLL of Σ = Lc Lcᵀ (Cholesky head), the last {REG_COV_EPOCHS} with "
        "the covariance head alone on fixed means (`cov_epochs`); 1000 test events. *Raw*: "
        "the trained head; *calibrated*: σ per parameter scaled by the pull width on 1000 "
        "validation events. Floor: pull std 0.9–1.1 on every parameter.",
        "",
        "| tracks | pulls | std slope | std intercept | w68 slope / intercept | "
        "cov 68 slope / intercept | cov 95 slope / intercept | χ² cov 68 / 95 | "
        "RMS resid. slope / intercept | train [s] |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k, row in reg.items():
        for kind in ("raw", "calibrated", "mc"):
            r = row[kind]
            ps, pi = r["pulls"]["slope"], r["pulls"]["intercept"]
            name = {
                "raw": "raw",
                "calibrated": "calibrated (σ × "
                + " / ".join(f"{v:.2f}" for v in row["sigma_scale"])
                + ")",
                "mc": f"MC dropout {REG_DROPOUT}, {REG_MC_SAMPLES} samples (total Σ)",
            }[kind]
            tsec = row["train_s"] if kind == "raw" else r.get("train_s") if kind == "mc" else None
            lines.append(
                f"| {k} | {name} | {_f(ps['std'], '.2f')} | {_f(pi['std'], '.2f')} | "
                f"{_f(ps['width_68'], '.2f')} / {_f(pi['width_68'], '.2f')} | "
                f"{_f(ps['coverage_0.68'], '.2f')} / {_f(pi['coverage_0.68'], '.2f')} | "
                f"{_f(ps['coverage_0.95'], '.2f')} / {_f(pi['coverage_0.95'], '.2f')} | "
                f"{_f(r['chi2_coverage']['0.68'], '.2f')} / "
                f"{_f(r['chi2_coverage']['0.95'], '.2f')} | "
                f"{r['rms'][0]:.4f} / {r['rms'][1]:.4f} | {_f(tsec, '.0f')} |"
            )
    frac = {k: row["mc"]["epistemic_fraction"] for k, row in reg.items()}
    lines += [
        "",
        "MC dropout: the epistemic share of the variance, mean of spread² / (spread² + σ²), is "
        + "; ".join(f"{k} tracks {v[0]:.2f} / {v[1]:.2f}" for k, v in frac.items())
        + " (slope / intercept): the aleatoric head carries most of the uncertainty, and the "
        "MC spread tracks the error (below; points on the diagonal would mean the spread alone "
        "is a calibrated error).",
        "",
        "![MC spread vs error](uncertainty/regression_mc_spread.png)",
        "",
    ]
    return lines


def _md_kalman(k: dict[str, Any]) -> list[str]:
    lines = [
        "## 3. Kalman fit: pulls on simulation and on the real event",
        "",
        "Perigee pulls of the `ckf` chain's final fit (tracks it found) and of the same fitter on "
        "the true hits of every particle (*truth tracks*: no pattern-recognition errors), for "
        "fitted tracks double-majority matched to target particles (pT ≥ 1 GeV) from r < 10 mm "
        "(`tracklearn.metrics.resolution`). Entries: std / w68 / cov 68 / cov 95.",
        "",
        "| dataset | tracks | n | "
        + " | ".join(PARAMS)
        + " | χ² cov 68 / 95 (5 par.) | σ(pT)/pT w68 |",
        "| --- | --- | --- | " + " | ".join("---" for _ in PARAMS) + " | --- | --- |",
    ]

    def row(name: str, what: str, s: dict[str, Any]) -> str:
        cells = [
            f"{_f(p['std'], '.2f')} / {_f(p['width_68'], '.2f')} / "
            f"{_f(p['coverage_0.68'], '.2f')} / {_f(p['coverage_0.95'], '.2f')}"
            for p in (s["pulls"][n] for n in PARAMS)
        ]
        return (
            f"| {name} | {what} | {s['n']} | "
            + " | ".join(cells)
            + f" | {_f(s['chi2_coverage']['0.68'], '.2f')} / "
            f"{_f(s['chi2_coverage']['0.95'], '.2f')} | {_f(s['rel_pt_w68'], '.4f')} |"
        )

    for name, v in k.items():
        if name == "before":
            continue
        lines.append(row(name, "ckf", v["ckf"]))
        lines.append(row(name, "truth tracks", v["truth"]))
    if "before" in k:
        lines.append(
            row(
                "real event000000001 (5 %)",
                "truth tracks, previous field and material",
                k["before"],
            )
        )
    lines += [
        "",
        "**What widened the q/p pull on the real event, and the fix.** Measured on the real "
        "event's truth (`scripts/derive_field_map.py`, `scripts/check_material.py`): "
        "(1) *the field map*: the bending field of the real event is not symmetric in z (at "
        "z = −2.25 m 0.89 T, at +2.25 m 0.41 T), while the map was a symmetric solenoid "
        "(0.70 T at both), so forward tracks came out 10–30 % off in momentum with χ²/ndf up "
        "to 20. `TRACKML_FIELD` is now a measured axial map (a quintic-spline on-axis profile "
        "with the third-order off-axis series, exactly divergence-free; every 500 mm z band "
        "within 0.03 T of the data). (2) *material*: in the short-strip endcaps (volumes 12, "
        "14) the real polar-angle changes between hits are 1.7× those of 2 % X0 per module; "
        "their effective X0 is now 4.3 mm (simulation and fit alike). (3) *hit errors from "
        "cell sizes*: pitch/√12 per module is not the cause (it errs the other way): real "
        "cluster centroids are better than pitch/√12 (pixel barrel 0.40 / 0.83 of it in u / v, "
        "multi-pixel clusters 0.2–0.5), which makes the position pulls narrow (z0, θ ≈ 0.6–0.7 "
        "w68) and keeps q/p errors conservative; the fit keeps pitch/√12 (one table for real "
        "and simulated clusters does not exist: the simulated cells differ). What remains in "
        "the real q/p tails are single hard energy losses of a few per cent (brems-like) that a "
        "Gaussian pion fit cannot model, and 45 tracks are few (±0.15 on a width).",
        "",
    ]
    return lines


def _md_g2(g: dict[str, Any], default: int) -> list[str]:
    names = {
        "network": "network alone (slot per cell)",
        "finder": "**finder**: network-guided RANSAC",
        "ransac": "RANSAC without the network",
    }
    occs = sorted(int(o) for o in g["curves"]["finder"])
    lines = [
        "## 4. g-2 track finder: efficiency and purity against occupancy",
        "",
        f"LSTM slot finder (hidden {G2_HIDDEN}, dropout {G2_DROPOUT}) trained on "
        f"{g['n_train_islands']} islands ({G2_FILLS} fills of the default 30 tracks plus as "
        f"many overlay islands), {G2_EPOCHS} epochs, {g['train_s']:.0f} s. The finder "
        "(`training.toy.predict_g2_tracks`) builds parabola tracks by sequential RANSAC in "
        "which half of the trials start from three cells of one network candidate "
        "(`ransac_candidates`). Efficiency = matched tracks / tracks, purity = matched "
        "candidates / candidates (double majority, ≥ 5 cells), on 40 test fills per occupancy. "
        f"Floor at the default {default} tracks per fill: efficiency ≥ 0.90 and purity ≥ 0.90.",
        "",
    ]
    lines += _eff_purity_table(
        names, g["curves"], occs, [f"{o} tracks/fill" for o in occs], digits=3
    )
    mult = sorted(int(o) for o in g["per_island"]["finder"])
    lines += [
        "",
        f"At {default} tracks per fill, by tracks in the island (efficiency / purity):",
        "",
    ]
    lines += _eff_purity_table(
        names, g["per_island"], mult, [f"{o}{'+' if o == 8 else ''} tr" for o in mult], digits=2
    )
    lo = g["losses"]
    hc, hm = g["hit_calibration"], g["hit_mc"]
    lines += [
        "",
        "**What limits the network alone.** It names every track by its rank in the island "
        "(slot k = the k-th by mean straw), a global decision: of the "
        f"{lo['tracks']} tracks with ≥ 5 cells at the default occupancy it found "
        f"{lo['found']}; {lo['merged']} were *merged* (their cells got the slot of a candidate "
        f"that belongs mostly to another track), {lo['split']} *split* over slots and "
        f"{lo['noise']} called noise. Merges dominate and grow with the number of tracks "
        "(crossing tracks, close mean straws); no relabelling of the slots can undo them. A "
        "parabola RANSAC separates merged tracks, and the network's slots make its trials "
        "start on one track, which is what keeps the purity up in crowded islands "
        "(compare the rows at 60–90 tracks per fill). What still limits the finder: islands "
        "with ≥ 6 tracks, where parabolas through cells of different tracks pass the 0.75-"
        "straw tolerance, and track fragments cut by the 100 ns island boundary.",
        "",
        f"Hit scores (probability that an occupied cell is on a track, 1 − P(noise)): ECE "
        f"{_f(hc['ece'], '.4f')}, after a temperature fitted on the validation islands "
        f"(T = {_f(hc.get('temperature'), '.2f')}) {_f(hc.get('ece_after'), '.4f')}; MC dropout "
        f"({G2_MC_SAMPLES} samples): spread of right cells {_f(hm.get('mean_std_right'), '.4f')}, "
        f"of wrong ones {_f(hm.get('mean_std_wrong'), '.4f')}, ROC AUC of the spread as an "
        f"error detector {_f(hm.get('auc_std_vs_error'))}.",
        "",
        "![g-2 occupancy](uncertainty/g2_occupancy.png)",
        "",
        "![g-2 MC spread](uncertainty/g2_mc_spread.png)",
        "",
    ]
    return lines


def _md_lstm(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## 5. Toy LSTM on the HEP.TrkX reference setting (1 track + 20 % noise)",
        "",
        "Their 2D toy (50 layers × 50 pixels, 5 clean seed layers, per-pixel noise 0.2; "
        "`bench.toys.REFERENCE_SETTINGS`), 20000 fresh events per epoch, cosine learning rate, "
        "1000 test events. HEP.TrkX's model scores every cell and their metric multiplies the "
        "scores by the hit image before the arg-max (`calc_hit_accuracy(preds * events, "
        "targets)`) and counts all 50 layers: column *masked at evaluation, all layers* is "
        "their number. *Hit masking* in the model (`mask_hits`) gives empty cells −10⁴ "
        "before the softmax, in training too. Floor: ≥ 0.98.",
        "",
        "| model | epochs | raw arg-max: after seeds / all layers | masked at evaluation: "
        "after seeds / all layers | HEP.TrkX (all layers) | params | train [s] |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if r.get("oracle"):
            acc = f"{r['after_seeds']:.4f} / {r['all']:.4f}"
            lines.append(f"| {r['label']} | | {acc} | {acc} | | | |")
            continue
        lines.append(
            f"| {r['label']} | {r['epochs']} | {r['raw_after_seeds']:.4f} / {r['raw_all']:.4f} "
            f"| {r['masked_after_seeds']:.4f} / {r['masked_all']:.4f} | "
            f"{_f(r['published_all'])} | {r['n_params']} | {r['train_s']:.0f} |"
        )
    lines += [
        "",
        "A one-way LSTM decides layer l from layers 0 … l: even knowing the true cells of "
        "every earlier layer, the best line extrapolation is right only as often as the causal "
        "oracle row says, so 0.98 is out of reach for it; the bidirectional LSTM reads the "
        "whole event, as the Hough oracle does.",
        "",
    ]
    return lines


def _eff_purity_table(
    names: dict[str, str],
    table: dict[str, dict[str, list[float]]],
    columns: list[int],
    headers: list[str],
    *,
    digits: int,
) -> list[str]:
    """Markdown rows "efficiency / purity" of each finder (``names``: key → label)."""
    lines = [
        "| finder | " + " | ".join(headers) + " |",
        "| --- | " + " | ".join("---" for _ in headers) + " |",
    ]
    for name, label in names.items():
        c = table[name]
        cells = (f"{c[str(o)][0]:.{digits}f} / {c[str(o)][1]:.{digits}f}" for o in columns)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines
