"""Benchmark of the toy models: ``benchmarks/results/toy-models.md`` and its plots.

Measured, each on freshly generated seeded data:

1. seeded hit-classification accuracy on the HEP.TrkX reference settings
   (:data:`REFERENCE_SETTINGS`: their 2D toy, 50 layers × 50 pixels, 5 clean
   seed layers; 1 track + 20 % noise per pixel; 1 + 5 background tracks) for
   the models they published (LSTM, conv autoencoder) and our track follower,
   with the straight-line Hough oracle as the information ceiling;
2. the same accuracy for every architecture on our compact toy
   (:data:`SETTINGS`: 10 layers × 50 pixels, 3 seed layers), training time and
   inference throughput;
3. accuracy vs track multiplicity for every architecture (the compact
   5-background models, evaluated at 0 ... 15 background tracks);
4. Conv + LSTM track-parameter regression: residuals and pulls (raw and
   calibrated on a validation set) vs the number of tracks per image;
5. g-2 candidate efficiency and purity vs island occupancy, trained with and
   without overlay augmentation.

The HEP.TrkX notebooks trained on 1–4 M events on a GPU; the budgets here
(``n_train`` fresh events per epoch × the epochs of :data:`REF_EPOCHS` and
:data:`EPOCHS`) are what one CPU thread does in minutes.
"""

from __future__ import annotations

import datetime as _dt
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.metrics.toy import island_candidate_counts, seeded_accuracy
from tracklearn.models.toy import SEEDED_MODELS, build_toy_model
from tracklearn.provenance import provenance
from tracklearn.simulation.g2 import G2Config, G2Islands, generate_islands
from tracklearn.simulation.toy import ToyConfig, ToySample, generate_toy
from tracklearn.training.loop import TrainConfig
from tracklearn.training.toy import (
    G2StageConfig,
    augment_with_overlay,
    calibrate_regression,
    predict_g2,
    predict_regression,
    predict_seeded,
    seeded_model,
    train_g2,
    train_regression,
    train_seeded,
)

log = logging.getLogger(__name__)

#: the HEP.TrkX published accuracies (toy2d) we compare with
REFERENCE = {
    "noise20": {"lstm": 0.925},
    "bg5": {"lstm": 0.897, "conv_autoencoder": 0.906},
}
#: The HEP.TrkX 2D toy as their notebooks set it up (HEP.TrkX ``discrete_extraps``:
#: ``toy/LSTM_Toy2D.ipynb`` and ``toy/Torch_LSTM_Toy2D.ipynb``: ``det_depth = det_width
#: = 50``, ``seed_size = 5``, ``noise_prob = 0.2`` or ``num_bkg_tracks = 5``;
#: ``data.py``: ``generate_uniform_noise(..., prob, skip_layers=5)`` and
#: ``generate_track_bkg(..., skip_layers=seed_size)`` leave the seed layers to the
#: signal track; ``toy/Conv2D_Toy2D.ipynb`` ran the conv models on 48 × 48).  Their
#: hit-classification accuracy (``calc_hit_accuracy(preds * events, targets)``,
#: ``num_seed_layers=0``) counts every layer, the 5 seed layers included; we show it
#: next to ours (layers after the seed only).  Their tracks hit ``round(m·l + b)``
#: with entry/exit uniform in ``[0, 49)``; ours ``floor`` of a position uniform in
#: ``[0, 50)`` (the same pixel statistics up to the half-weight edge pixels).
REFERENCE_SETTINGS = {
    "noise20": (
        "1 track + 20 % noise",
        ToyConfig(n_layers=50, n_seed_layers=5, noise_prob=0.2, clean_seed_layers=True),
    ),
    "bg5": (
        "1 + 5 background tracks",
        ToyConfig(n_layers=50, n_seed_layers=5, n_background=5, clean_seed_layers=True),
    ),
}
#: models run on the reference settings (the published ones and our track follower),
#: their epochs of fresh events per setting (cosine learning-rate decay), and options
#: The conv autoencoder is HEP.TrkX's (``Conv2D_Toy2D.ipynb``, ``build_convae_model``:
#: 3×3 convs with 8/16/32/64 filters and 2×2 max-pooling down, mirrored convs and
#: up-sampling back, a per-layer softmax) plus our U-Net ``skips``: their exact
#: model (``skips=False``) plateaus at 0.884 after seeds / 0.895 all layers here:
#: ``reference_row("conv_autoencoder", epochs=25, options={"skips": False})`` (675 s)
#: and the same with ``epochs=30, batch_size=128`` (1004 s; both wall-clock on a
#: loaded machine); their 0.906 took 50 epochs × 102400 fresh events (10× our 25 × 20000).
REF_EPOCHS = {
    "noise20": {"lstm": 16, "track_follower": 3},
    "bg5": {"lstm": 20, "conv_autoencoder": 20, "track_follower": 3},
}
REF_OPTIONS: dict[str, dict[str, Any]] = {
    "lstm": {"hidden": 100},
    "conv_autoencoder": {"channels": (8, 16, 32, 64), "decoder": "conv", "skips": True},
}
REF_LR = {"lstm": 1e-2, "conv_autoencoder": 2e-3, "track_follower": 3e-3}
#: the track follower decodes the 45 layers one by one (~10× the LSTM's cost per event
#: on a CPU) and learns from far fewer events: a quarter of ``n_train`` per epoch
REF_TRAIN_FRACTION = {"track_follower": 0.25}
#: our compact toy (10 layers × 50 pixels, 3 seed layers) for the architecture zoo:
#: per-pixel noise and, as in the HEP.TrkX generators, clean seed layers
SETTINGS = {
    "noise20": ("1 track + 20 % noise", ToyConfig(noise_prob=0.2, clean_seed_layers=True)),
    "bg5": ("1 + 5 background tracks", ToyConfig(n_background=5, clean_seed_layers=True)),
}
#: per-architecture options.  Every model scores only hit cells (``mask_hits``): the
#: published HEP.TrkX "hit classification accuracy" multiplies the scores by the hit
#: image before the arg-max, so this is their metric, not an advantage of ours.
#: The LSTM has HEP.TrkX's 100 hidden units.
MODEL_OPTIONS: dict[str, dict[str, Any]] = {
    "lstm": {"hidden": 100},
    "convnn": {"channels": (8, 8, 8, 8, 8, 8)},
}
LR = {"lstm": 1e-2, "deep_lstm": 5e-3, "bilstm": 5e-3, "next_layer_lstm": 5e-3}
#: epochs per architecture, each on ``n_train`` freshly generated events (the conv
#: models cost ~10× more per event on 2 cores); keeps the whole bench near 10 minutes
EPOCHS = {
    "lstm": 20, "deep_lstm": 15, "bilstm": 15, "next_layer_lstm": 12,
    "convnn": 3, "conv_autoencoder": 10, "conv_lstm": 2, "track_follower": 3,
}  # fmt: skip
MULTIPLICITIES = (0, 1, 2, 5, 10, 15)


@dataclass
class _Run:
    name: str
    setting: str
    accuracy: float
    train_s: float
    events_per_s: float
    n_params: int
    accuracy_all: float = float("nan")  # every layer, seed layers included (HEP.TrkX)


def hough_oracle_accuracy(sample: ToySample, n_events: int = 200) -> float:
    """Accuracy of the best straight line through the seed pixels (the information ceiling).

    Scans lines that reproduce every seed pixel (intercept within the first
    seed pixel, slope within the range the first and last seed pixels allow,
    1001 × 41 lines), keeps those with the most hits on the later layers and
    averages the accuracy over ties.  Toy2d only.
    """
    n_layers, n_cells = sample.hits.shape[1:]
    ns = sample.n_seed_layers
    acc = []
    for i in range(min(n_events, len(sample))):
        t = sample.target[i]
        span = max(ns - 1, 1)
        lo, hi = (t[ns - 1] - t[0] - 1) / span, (t[ns - 1] - t[0] + 1) / span
        s, b = np.meshgrid(np.linspace(lo, hi, 1001), t[0] + np.linspace(0, 1, 41, endpoint=False))
        pix = np.floor(b.ravel()[:, None] + s.ravel()[:, None] * np.arange(n_layers))
        ok = np.all(pix[:, :ns] == t[:ns], 1) & np.all((pix >= 0) & (pix < n_cells), 1)
        pix = pix[ok].astype(np.int64)
        n_hit = sample.hits[i][np.arange(n_layers), pix].sum(1)
        best = pix[n_hit == n_hit.max()]
        acc.append(float(np.mean(best[:, ns:] == t[ns:])))
    return float(np.mean(acc))


def _throughput(model: torch.nn.Module, sample: ToySample) -> float:
    t0 = time.perf_counter()
    predict_seeded(model, sample)
    return len(sample) / (time.perf_counter() - t0)


def _train_cfg(name: str, epochs: int, seed: int, lr: float | None = None) -> TrainConfig:
    return TrainConfig(
        epochs=epochs, lr=LR.get(name, 3e-3) if lr is None else lr, threads=1, seed=seed,
        patience=epochs, monitor="val_accuracy", mode="max",
        schedule="cosine" if lr is not None else "constant",
    )  # fmt: skip


def _fresh(first: ToySample, n_train: int, seed: int, cfg: ToyConfig) -> Callable[[int], ToySample]:
    """New training events every epoch (epoch 0: ``first``); the generator is cheap."""
    return lambda e: first if e == 0 else generate_toy(n_train, seed + 1 + 1000 * e, cfg)


def _train_and_score(
    name: str,
    key: str,
    cfg: ToyConfig,
    opts: dict[str, Any],
    tcfg: TrainConfig,
    n_train: int,
    seed: int,
    work: Path,
    sets: tuple[ToySample, ToySample, ToySample],
    batch_size: int = 64,
) -> tuple[_Run, torch.nn.Module]:
    """Train ``name`` on fresh events of ``cfg``; score its best epoch on the test set."""
    train_set, val_set, test_set = sets
    torch.manual_seed(seed)
    model = seeded_model(name, train_set, **{"mask_hits": True, **opts})
    t0 = time.perf_counter()
    out = work / f"{key}-{name}-{train_set.hits.shape[1]}"
    train_seeded(
        model, train_set, val_set, tcfg, out, batch_size=batch_size,
        fresh=_fresh(train_set, n_train, seed, cfg),
    )  # fmt: skip
    train_s = time.perf_counter() - t0
    model.load_state_dict(torch.load(out / "best.pt", weights_only=False)["model"])
    pred = predict_seeded(model, test_set)
    acc = seeded_accuracy(pred, test_set.target, test_set.n_seed_layers)
    acc_all = seeded_accuracy(pred, test_set.target, 0)
    n_par = sum(p.numel() for p in model.parameters())
    run = _Run(name, key, acc, train_s, _throughput(model, test_set), n_par, acc_all)
    log.info("%s %s: accuracy %.3f (%.0f s)", key, name, acc, train_s)
    return run, model


def _reference_sets(key: str, n_train: int, seed: int) -> tuple[ToySample, ToySample, ToySample]:
    cfg = REFERENCE_SETTINGS[key][1]
    return (
        generate_toy(n_train, seed + 101, cfg),
        generate_toy(1000, seed + 102, cfg),
        generate_toy(1000, seed + 103, cfg),
    )


def _reference_row(
    name: str,
    key: str,
    n_train: int,
    seed: int,
    work: Path,
    epochs: int,
    sets: tuple[ToySample, ToySample, ToySample],
    options: dict[str, Any] | None = None,
    batch_size: int = 64,
) -> _Run:
    cfg = REFERENCE_SETTINGS[key][1]
    n_epochs = REF_EPOCHS[key][name] if epochs <= 0 else epochs
    tcfg = _train_cfg(name, n_epochs, seed, lr=REF_LR[name])
    n_ev = max(1, round(n_train * REF_TRAIN_FRACTION.get(name, 1.0)))
    sets_n = (sets[0].subset(slice(0, n_ev)), sets[1], sets[2])
    run, _ = _train_and_score(
        name, key, cfg, {**REF_OPTIONS.get(name, {}), **(options or {})}, tcfg, n_ev, seed,
        work, sets_n, batch_size,
    )  # fmt: skip
    return run


def reference_row(
    name: str,
    key: str = "bg5",
    *,
    seed: int = 0,
    n_train: int = 20000,
    epochs: int = 0,
    options: dict[str, Any] | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Train and score one model of the reference table alone (same data and settings).

    Reproduces one row of the *HEP.TrkX reference settings* table of
    :func:`run_toy_bench` (``name`` from :data:`REF_EPOCHS`, ``key`` from
    :data:`REFERENCE_SETTINGS`) without running the rest of the bench, e.g. ::

        python -c "from tracklearn.bench.toys import reference_row as r; \\
            print(r('conv_autoencoder', 'bg5'))"

    ``epochs`` (``0``: :data:`REF_EPOCHS`), ``options`` (merged over
    :data:`REF_OPTIONS`) and ``batch_size`` try a variant on the same data, e.g.
    ``options={"skips": False}``.  Returns the row's numbers: ``accuracy``
    (after the seed layers), ``accuracy_all`` (every layer, HEP.TrkX's),
    ``n_params``, ``train_s`` (wall-clock) and ``events_per_s`` (inference).
    """
    if key not in REFERENCE_SETTINGS or name not in REF_EPOCHS[key]:
        choices = [f"{n} {k}" for k, models in REF_EPOCHS.items() for n in models]
        raise ValueError(f"no reference row {name!r} {key!r}; choose one of {choices}")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        sets = _reference_sets(key, n_train, seed)
        run = _reference_row(name, key, n_train, seed, Path(tmp), epochs, sets, options, batch_size)
    return {
        "model": run.name, "setting": REFERENCE_SETTINGS[key][0], "accuracy": run.accuracy,
        "accuracy_all": run.accuracy_all, "n_params": run.n_params, "train_s": run.train_s,
        "events_per_s": run.events_per_s,
        "options": {**REF_OPTIONS.get(name, {}), **(options or {})},
    }  # fmt: skip


def _reference_runs(
    n_train: int, seed: int, work: Path, epochs: int, n_oracle: int = 200
) -> tuple[list[_Run], dict[str, float]]:
    """The published models and our track follower on the HEP.TrkX 50 × 50 toy."""
    runs: list[_Run] = []
    oracle: dict[str, float] = {}
    for key in REFERENCE_SETTINGS:
        sets = _reference_sets(key, n_train, seed)
        oracle[key] = hough_oracle_accuracy(sets[2], n_oracle)
        for name in REF_EPOCHS[key]:
            runs.append(_reference_row(name, key, n_train, seed, work, epochs, sets))
    return runs, oracle


def _seeded_runs(
    n_train: int, epochs: int, seed: int, work: Path
) -> tuple[list[_Run], dict[str, torch.nn.Module], dict[str, float]]:
    runs: list[_Run] = []
    bg5_models: dict[str, torch.nn.Module] = {}
    oracle: dict[str, float] = {}
    for key, (_label, cfg) in SETTINGS.items():
        train_set = generate_toy(n_train, seed + 1, cfg)
        val_set = generate_toy(min(2000, max(200, n_train // 5)), seed + 2, cfg)
        test_set = generate_toy(1000, seed + 3, cfg)
        oracle[key] = hough_oracle_accuracy(test_set)
        for name in SEEDED_MODELS:
            n_epochs = EPOCHS.get(name, 1) if epochs <= 0 else epochs
            run, model = _train_and_score(
                name, key, cfg, MODEL_OPTIONS.get(name, {}), _train_cfg(name, n_epochs, seed),
                n_train, seed, work, (train_set, val_set, test_set),
            )  # fmt: skip
            runs.append(run)
            if key == "bg5":
                bg5_models[name] = model
    return runs, bg5_models, oracle


def _multiplicity(models: dict[str, torch.nn.Module], seed: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in models}
    for n_bg in MULTIPLICITIES:
        cfg = SETTINGS["bg5"][1].model_copy(update={"n_background": n_bg})
        test = generate_toy(500, seed + 10 + n_bg, cfg)
        for name, model in models.items():
            pred = predict_seeded(model, test)
            out[name].append(seeded_accuracy(pred, test.target, test.n_seed_layers))
    return out


#: tracks per image of the regression study (pull width vs multiplicity)
REG_COUNTS = (1, 2, 4, 8)
#: regression: MSE warm-up epochs before the NLL, then cosine decay
REG_WARMUP = 2


def _regression(
    n_train: int, epochs: int, seed: int, work: Path, counts: tuple[int, ...]
) -> dict[int, dict[str, npt.NDArray[np.float64]]]:
    """Train one regressor per multiplicity; raw and validation-calibrated pulls on a test set."""
    res: dict[int, dict[str, npt.NDArray[np.float64]]] = {}
    for k in counts:
        cfg = ToyConfig(n_background=k - 1)
        train_set, val_set = (
            generate_toy(n_train, seed + 20 + k, cfg),
            generate_toy(1000, seed + 40 + k, cfg),
        )
        test_set = generate_toy(1000, seed + 60 + k, cfg)
        torch.manual_seed(seed)
        model = build_toy_model("conv_lstm_regression", n_layers=10, pixels=(50,), max_tracks=k)
        t0 = time.perf_counter()
        train_regression(
            model, train_set, val_set,
            TrainConfig(epochs=epochs, lr=2e-3, threads=1, seed=seed, patience=epochs,
                        schedule="cosine"),
            work / f"reg-{k}", batch_size=32, warmup_epochs=min(REG_WARMUP, epochs - 1),
            fresh=_fresh(train_set, n_train, seed + 19 + k, cfg),
        )  # fmt: skip
        train_s = time.perf_counter() - t0
        best = torch.load(work / f"reg-{k}" / "best.pt", weights_only=False)
        model.load_state_dict(best["model"])
        _, _, raw_pull, raw_mask = predict_regression(model, test_set)
        scale = calibrate_regression(model, val_set)
        resid, sigma, pull, mask = predict_regression(model, test_set)
        res[k] = {
            "resid": resid[mask], "sigma": sigma[mask], "pull": pull[mask],
            "raw_pull": raw_pull[raw_mask], "scale": scale, "train_s": np.array([train_s]),
        }  # fmt: skip
        log.info("regression k=%d: raw pull std %s, scale %s", k, raw_pull[raw_mask].std(0), scale)
    return res


def _g2(
    n_fills: int, epochs: int, seed: int, work: Path
) -> tuple[dict[str, dict[int, tuple[float, float]]], dict[str, float]]:
    cfg = G2Config()
    train_set = generate_islands(n_fills, seed + 100, cfg)
    val_set = generate_islands(max(5, n_fills // 5), seed + 200, cfg)
    test_set = G2Islands.concat(
        [
            generate_islands(max(10, n_fills // 3), seed + 300, cfg),
            generate_islands(max(10, n_fills // 3), seed + 400, G2Config(tracks_per_fill=90)),
        ]
    )
    curves: dict[str, dict[int, tuple[float, float]]] = {}
    times: dict[str, float] = {}
    for label, overlay in (("without overlay", False), ("with overlay", True)):
        stage = G2StageConfig(overlay=overlay)
        data = augment_with_overlay(train_set, stage, seed) if overlay else train_set
        torch.manual_seed(seed)
        model = build_toy_model("g2_finder", n_straws=cfg.n_straws, max_tracks=stage.max_tracks)
        t0 = time.perf_counter()
        out = work / f"g2-{overlay}"
        train_g2(
            model, data, val_set, TrainConfig(epochs=epochs, lr=2e-3, threads=1, seed=seed,
                                              patience=epochs), out,
            max_tracks=stage.max_tracks, batch_size=32,
        )  # fmt: skip
        times[label] = time.perf_counter() - t0
        model.load_state_dict(torch.load(out / "best.pt", weights_only=False)["model"])
        counts = island_candidate_counts(predict_g2(model, test_set), test_set.owner)
        occ = np.minimum(test_set.n_tracks, 8)
        curves[label] = {
            int(o): (counts.efficiency(occ == o), counts.purity(occ == o))
            for o in np.unique(occ)
            if o > 0
        }
        curves[label][0] = (counts.efficiency(), counts.purity())  # 0: all islands
        log.info("g2 %s: efficiency %.3f purity %.3f", label, *curves[label][0])
    return curves, times


def _plots(
    out_dir: Path,
    mult: dict[str, list[float]],
    reg: dict[int, dict[str, npt.NDArray[np.float64]]],
    g2: dict[str, dict[int, tuple[float, float]]],
) -> list[Path]:
    from matplotlib.figure import Figure

    paths = []
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    tracks = np.asarray(MULTIPLICITIES) + 1
    for name, acc in mult.items():
        ax.plot(tracks, acc, "o-", label=name)
    ax.set_xlabel("tracks per event (signal + background)")
    ax.set_ylabel("hit classification accuracy")
    ax.set_title("toy2d: accuracy vs track multiplicity (trained at 6 tracks)")
    ax.legend(fontsize=8)
    paths.append(out_dir / "accuracy_vs_multiplicity.png")

    fig2 = Figure(figsize=(15, 7), layout="constrained")
    axes = fig2.subplots(2, 3)
    labels = ("slope × (L−1)/P", "intercept / P")
    ks = sorted(reg)
    for j in range(2):
        for k in ks:
            r = reg[k]
            width = 0.6 if j == 0 else 0.15
            axes[0, j].hist(r["resid"][:, j], bins=60, range=(-width, width), histtype="step",
                            label=f"{k} tracks")  # fmt: skip
            axes[1, j].hist(r["pull"][:, j], bins=60, range=(-5, 5), histtype="step",
                            density=True, label=f"{k} tracks")  # fmt: skip
        xs = np.linspace(-5, 5, 200)
        axes[1, j].plot(xs, np.exp(-(xs**2) / 2) / np.sqrt(2 * np.pi), "k--", label="N(0, 1)")
        axes[0, j].set_xlabel(f"residual {labels[j]}")
        axes[1, j].set_xlabel(f"calibrated pull {labels[j]}")
        axes[0, j].legend(fontsize=8)
        axes[1, j].legend(fontsize=8)
        for what, style in (("raw_pull", "o--"), ("pull", "o-")):
            kind = "raw" if what == "raw_pull" else "calibrated"
            axes[0, 2].plot(ks, [reg[k][what][:, j].std() for k in ks], style,
                            label=f"{labels[j]}, {kind}")  # fmt: skip
        axes[1, 2].plot(ks, [np.sqrt(np.mean(reg[k]["resid"][:, j] ** 2)) for k in ks], "o-",
                        label=labels[j])  # fmt: skip
    axes[0, 2].axhspan(0.9, 1.1, color="0.9")
    axes[0, 2].set_xlabel("tracks per image")
    axes[0, 2].set_ylabel("pull standard deviation (test set)")
    axes[0, 2].legend(fontsize=8)
    axes[1, 2].set_xlabel("tracks per image")
    axes[1, 2].set_ylabel("RMS residual")
    axes[1, 2].set_yscale("log")
    axes[1, 2].legend(fontsize=8)
    paths.append(out_dir / "regression_residuals_pulls.png")

    fig3 = Figure(figsize=(10, 4), layout="constrained")
    a_eff, a_pur = fig3.subplots(1, 2)
    for label, curve in g2.items():
        occ = sorted(o for o in curve if o > 0)
        a_eff.plot(occ, [curve[o][0] for o in occ], "o-", label=label)
        a_pur.plot(occ, [curve[o][1] for o in occ], "o-", label=label)
    for a, what in ((a_eff, "candidate efficiency"), (a_pur, "candidate purity")):
        a.set_xlabel("tracks in the time island (8 = 8 or more)")
        a.set_ylabel(what)
        a.legend()
    paths.append(out_dir / "g2_efficiency_purity.png")
    for f, p in zip((fig, fig2, fig3), paths, strict=True):
        save_figure(f, p, dpi=110)
    return paths


def run_toy_bench(
    out: str | Path = "benchmarks/results",
    *,
    quick: bool = False,
    seed: int = 0,
    n_train: int = 20000,
    epochs: int = 0,
    n_train_other: int = 3000,
    epochs_other: int = 4,
    g2_fills: int = 60,
) -> Path:
    """Run the toy benchmark; write ``out/toy-models.md`` and ``out/toy-models/*.png``.

    The seeded classifiers train on ``n_train`` fresh events per epoch for
    ``epochs`` epochs (``0``: the per-architecture :data:`REF_EPOCHS` and
    :data:`EPOCHS`); the regression uses ``n_train_other`` fresh events per
    epoch for ``3 × epochs_other`` epochs, the g-2 finder ``g2_fills`` fills
    for ``3 × epochs_other``.  ``quick`` shrinks everything to seconds (for
    tests).  Returns the table's path.
    """
    out = Path(out)
    if quick:
        n_train, epochs, n_train_other, epochs_other, g2_fills = 200, 1, 200, 1, 6
    torch.set_num_threads(1)
    plot_dir = out / "toy-models"
    plot_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ref_runs, ref_oracle = _reference_runs(n_train, seed, work, epochs, 20 if quick else 200)
        t_ref = time.perf_counter() - t_start
        runs, bg5_models, oracle = _seeded_runs(n_train, epochs, seed, work)
        mult = _multiplicity(bg5_models, seed)
        reg = _regression(
            n_train_other, 3 * epochs_other, seed, work, REG_COUNTS if not quick else (1, 2)
        )
        g2, g2_times = _g2(g2_fills, 3 * epochs_other, seed, work)
    plots = _plots(plot_dir, mult, reg, g2)
    total = time.perf_counter() - t_start

    n_ref = REFERENCE_SETTINGS["noise20"][1]
    lines = [
        "# Toy models: HEP.TrkX zoo, track-parameter regression, g-2 track finder",
        "",
        f"Generated by `run_toy_bench` (`make bench-toys`) on {_dt.date.today()} "
        f"(git {provenance().get('git_revision', '?')}), seed {seed}, 1 torch thread on a "
        f"shared 2-core machine (times are wall-clock under load), {n_train} fresh training "
        "events per epoch × "
        + (f"{epochs} epochs" if epochs > 0 else "the epochs of `REF_EPOCHS` / `EPOCHS`")
        + f"; total {total:.0f} s ({t_ref:.0f} s for the reference settings).",
        "Accuracy = fraction of (event, layer) after the seed layers where the model's top "
        "cell is the signal's (`tracklearn.metrics.toy.seeded_accuracy`), on 1000 fresh "
        "test events; every model scores only hit cells (`mask_hits`), as the HEP.TrkX "
        "hit-classification accuracy does (scores × hit image before the arg-max).",
        "",
        "## Hit classification on the HEP.TrkX reference settings",
        "",
        f"Their 2D toy as their notebooks set it up: {n_ref.n_layers} layers × "
        f"{n_ref.pixels[0]} pixels, straight tracks, the first {n_ref.n_seed_layers} layers "
        "hold only the signal track (noise and background start after them), noise is a "
        "per-pixel probability (source: HEP.TrkX `discrete_extraps`, "
        "`toy/LSTM_Toy2D.ipynb`, `toy/Torch_LSTM_Toy2D.ipynb`, `data.py`; their conv "
        "notebook used 48 × 48, we run it on the same 50 × 50). HEP.TrkX counted every "
        "layer, the 5 trivially right seed layers included (`calc_hit_accuracy(preds * "
        "events, targets)` with `num_seed_layers=0`): column *all layers*; the stricter "
        "*after seeds* is ours. Learning rate with cosine decay; models: `bench.REF_OPTIONS` "
        "(the conv autoencoder is their `build_convae_model` plus our U-Net skip "
        "connections, `skips=True`). One row alone: `reference_row(model, setting)`.",
        "",
        "| model | setting | accuracy after seeds | accuracy all layers | HEP.TrkX "
        "(all layers) | params | train [s] | inference [events/s] |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in ref_runs:
        ref = REFERENCE[r.setting].get(r.name)
        lines.append(
            f"| {r.name} | {REFERENCE_SETTINGS[r.setting][0]} | {r.accuracy:.3f} | "
            f"{r.accuracy_all:.3f} | {'' if ref is None else f'{ref:.3f}'} | {r.n_params} | "
            f"{r.train_s:.1f} | {r.events_per_s:.0f} |"
        )
    ns, nl = n_ref.n_seed_layers, n_ref.n_layers
    for key, val in ref_oracle.items():
        lines.append(
            f"| straight-line Hough oracle (ceiling) | {REFERENCE_SETTINGS[key][0]} | "
            f"{val:.3f} | {(ns + (nl - ns) * val) / nl:.3f} | | | | |"
        )
    c = SETTINGS["noise20"][1]
    lines += [
        "",
        "## Every architecture on the compact toy",
        "",
        f"{c.n_layers} layers × {c.pixels[0]} pixels, {c.n_seed_layers} clean seed layers "
        "(`bench.SETTINGS`): fewer layers to see the line, steeper tracks, so harder than "
        "the reference toy. Constant learning rate (`bench.LR`), epochs `bench.EPOCHS`.",
        "",
        "| model | setting | accuracy | params | train [s] | inference [events/s] |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in runs:
        lines.append(
            f"| {r.name} | {SETTINGS[r.setting][0]} | {r.accuracy:.3f} | {r.n_params} | "
            f"{r.train_s:.1f} | {r.events_per_s:.0f} |"
        )
    for key, val in oracle.items():
        lines.append(
            f"| straight-line Hough oracle (ceiling) | {SETTINGS[key][0]} | {val:.3f} | | | |"
        )
    lines += [
        "",
        "## Accuracy vs track multiplicity (models trained at 1 + 5 tracks)",
        "",
        "| model | " + " | ".join(f"{n + 1} tracks" for n in MULTIPLICITIES) + " |",
        "| --- | " + " | ".join("---" for _ in MULTIPLICITIES) + " |",
    ]
    for name, acc in mult.items():
        lines.append(f"| {name} | " + " | ".join(f"{a:.3f}" for a in acc) + " |")
    lines += [
        "",
        f"![accuracy vs multiplicity](toy-models/{plots[0].name})",
        "",
        "## Conv + LSTM track-parameter regression (Gaussian NLL covariance head)",
        "",
        "Parameters scaled to the detector width: slope × (L−1)/P, intercept/P (compact "
        "toy, tracks sorted by intercept). Training: "
        f"{REG_WARMUP} epochs of mean-squared error on the means, then the Gaussian NLL "
        "with Σ = Lc Lcᵀ (Cholesky factor, softplus diagonal), cosine learning-rate decay, "
        "fresh events every epoch. *Raw*: the pulls of the trained covariance head; "
        "*calibrated*: each parameter's σ scaled by the pull width on a separate validation "
        "set of 1000 events (`training.toy.calibrate_regression`), then measured on the "
        "1000-event test set. Pulls should have mean 0 and width 1.",
        "",
        "| tracks per image | RMS resid. slope | RMS resid. intercept | raw pull std slope | "
        "raw pull std intercept | σ scale slope / intercept | pull mean slope | "
        "pull std slope | pull mean intercept | pull std intercept | train [s] |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k, rr in reg.items():
        rms = np.sqrt(np.mean(rr["resid"] ** 2, axis=0))
        pm, ps = rr["pull"].mean(0), rr["pull"].std(0)
        raw = rr["raw_pull"].std(0)
        lines.append(
            f"| {k} | {rms[0]:.4f} | {rms[1]:.4f} | {raw[0]:.2f} | {raw[1]:.2f} | "
            f"{rr['scale'][0]:.2f} / {rr['scale'][1]:.2f} | {pm[0]:+.2f} | {ps[0]:.2f} | "
            f"{pm[1]:+.2f} | {ps[1]:.2f} | {float(rr['train_s'][0]):.1f} |"
        )
    lines += [
        "",
        f"![residuals and pulls](toy-models/{plots[1].name})",
        "",
        "## g-2 track finder: candidates in 100 ns time islands",
        "",
        "Efficiency = matched tracks / tracks, purity = matched candidates / candidates "
        "(double majority, ≥ 5 cells; `tracklearn.metrics.toy`). Test islands from fills "
        "of 30 and 90 tracks per 2 µs.",
        "",
        "| training | all: efficiency | all: purity | "
        + " | ".join(f"{o} tr: eff / pur" for o in range(1, 9))
        + " | train [s] |",
        "| --- | --- | --- | " + " | ".join("---" for _ in range(8)) + " | --- |",
    ]
    for label, curve in g2.items():
        cells = [
            f"{curve[o][0]:.2f} / {curve[o][1]:.2f}" if o in curve else "–" for o in range(1, 9)
        ]
        lines.append(
            f"| {label} | {curve[0][0]:.3f} | {curve[0][1]:.3f} | "
            + " | ".join(cells)
            + f" | {g2_times[label]:.0f} |"
        )
    lines += ["", f"![g-2 efficiency and purity](toy-models/{plots[2].name})", ""]
    path = out / "toy-models.md"
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path
