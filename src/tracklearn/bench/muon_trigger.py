"""Muon-trigger benchmark: ``benchmarks/results/muon-trigger.md`` and ``muon-trigger/*.png``.

The shipped CNN (``tracklearn/models/muon_trigger``), run in fp32 and in int8
(its ONNX export, statically quantised on its training images), and the road
look-up baseline, on the same 300,000 fresh test images (the talk's count;
seed :data:`~tracklearn.simulation.muon_chamber.TEST_SEED`, generated chunk by
chunk, never stored), with the definitions of
:mod:`tracklearn.metrics.muon_trigger`.  Two stress settings (three times the
noise; one extra muon per image on average) show how each method degrades
outside the training conditions.  The fp32 CNN runs in onnxruntime (the same
voxels as torch: checked on the first chunk and recorded).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.classical.muon_roads import RoadTrigger
from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.metrics.muon_trigger import TriggerCounts, fake, matched, voxel_counts
from tracklearn.provenance import provenance
from tracklearn.report import markdown_table
from tracklearn.simulation.muon_chamber import (
    TEST_SEED,
    MuonChamberConfig,
    MuonImages,
    iter_muon_images,
)

log = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
#: the floors of issue 13
FLOOR_EFFICIENCY, FLOOR_FAKE, FLOOR_INT8_LOSS = 0.95, 0.05, 0.01
#: stress settings: (name, changes to the default chamber config)
STRESS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("3 × noise (180 strips + 24 clusters)", {"noise_strips": 180.0, "background_clusters": 24.0}),
    ("extra muons (Poisson mean 1; trigger = highest pT)", {"extra_muons": 1.0}),
)


@dataclass
class MethodRun:
    """Counts and time of one trigger method over a set of images."""

    name: str
    counts: TriggerCounts = field(default_factory=TriggerCounts)
    n10: int = 0  # images with pT ≥ 10 GeV (and a muon voxel)
    matched10: int = 0
    n_fired: int = 0
    n_fake: int = 0
    seconds: float = 0.0
    n_images: int = 0

    def add(self, images: MuonImages, pred: BoolArray, seconds: float) -> None:
        tp, p, m = voxel_counts(pred, images.truth)
        self.counts.add(images.pt_gev, tp, p, m)
        sel = (images.pt_gev >= 10.0) & (p > 0)
        self.n10 += int(sel.sum())
        self.matched10 += int(matched(tp, p)[sel].sum())
        self.n_fired += int((m > 0).sum())
        self.n_fake += int(fake(tp, m).sum())
        self.seconds += seconds
        self.n_images += len(images)

    @property
    def efficiency10(self) -> float:
        return self.matched10 / self.n10 if self.n10 else float("nan")

    @property
    def fake_rate(self) -> float:
        return self.n_fake / self.n_fired if self.n_fired else float("nan")

    @property
    def us_per_image(self) -> float:
        return 1e6 * self.seconds / max(self.n_images, 1)


def _timed(fn: Callable[[BoolArray], BoolArray], hits: BoolArray) -> tuple[BoolArray, float]:
    t0 = time.perf_counter()
    out = fn(hits)
    return out, time.perf_counter() - t0


def _run(methods: dict[str, Callable[[BoolArray], BoolArray]], n: int, seed: int,
         cfg: MuonChamberConfig) -> dict[str, MethodRun]:  # fmt: skip
    runs = {name: MethodRun(name) for name in methods}
    done = 0
    for images in iter_muon_images(n, seed, cfg):
        for name, fn in methods.items():
            pred, dt = _timed(fn, images.hits)
            runs[name].add(images, pred, dt)
        done += len(images)
        if done % 50_000 == 0:
            log.info("muon-trigger bench: %d / %d images", done, n)
    return runs


def run_muon_trigger_bench(
    out: str | Path = "benchmarks/results",
    *,
    quick: bool = False,
    n_images: int = 300_000,
    n_stress: int = 20_000,
    model: str | Path | None = None,
) -> Path:
    """Run the benchmark (one thread); write ``out/muon-trigger.md`` and its plots."""
    import torch

    from tracklearn.export.run import ExportConfig, export_model
    from tracklearn.export.runtime import OrtMuonTrigger
    from tracklearn.models.muon_model import MuonCNNModel
    from tracklearn.pipeline.trigger import DEFAULT_MUON_MODEL

    if quick:
        n_images, n_stress = 1000, 200
    torch.set_num_threads(1)
    folder = Path(model) if model is not None else DEFAULT_MUON_MODEL
    cnn = MuonCNNModel.load(folder)
    sim = MuonChamberConfig.model_validate(cnn.info["simulation"])
    load_start = os.getloadavg()
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tracklearn-muon-bench-") as tmp:
        onnx = Path(tmp) / "onnx"
        (report,) = export_model(folder, onnx, config=ExportConfig(int8=True, measure=False))
        fp32 = OrtMuonTrigger.load(onnx, "fp32", threads=1)
        int8 = OrtMuonTrigger.load(onnx, "int8", threads=1)
        first = next(iter_muon_images(1000, TEST_SEED, sim))
        same_voxels = bool(np.array_equal(cnn(first.hits), fp32(first.hits)))
        occupancy = (float(first.hits.sum()) / len(first), float(first.truth.sum()) / len(first))
        methods: dict[str, Callable[[BoolArray], BoolArray]] = {
            "roads": RoadTrigger(),
            "cnn fp32": fp32,
            "cnn int8": int8,
        }
        main = _run(methods, n_images, TEST_SEED, sim)
        stress = []
        for name, change in STRESS:
            cfg = MuonChamberConfig.model_validate({**sim.model_dump(), **change})
            stress.append((name, _run(methods, n_stress, TEST_SEED + 1, cfg)))
        display = next(iter_muon_images(8, TEST_SEED, sim))
        display_pred = {"roads": methods["roads"](display.hits), "cnn": fp32(display.hits)}
    total = time.perf_counter() - t_start
    plot_dir = Path(out) / "muon-trigger"
    plots = _plots(plot_dir, main, display, display_pred)
    text = _markdown(main, stress, report, sim, cnn.info, same_voxels, occupancy, n_images,
                     n_stress, total, load_start, os.getloadavg(), plots)  # fmt: skip
    path = Path(out) / "muon-trigger.md"
    write_text_atomic(path, text)
    summary = {k: {"efficiency_pt10": r.efficiency10, "fake_rate": r.fake_rate,
                   "us_per_image": r.us_per_image, "bins": r.counts.rates()}
               for k, r in main.items()}  # fmt: skip
    write_text_atomic(
        Path(out) / "muon-trigger.json",
        json.dumps({"main": summary, "provenance": provenance()}, indent=1) + "\n",
    )
    return path


def _f(x: float, digits: int = 4) -> str:
    return "–" if x != x else f"{x:.{digits}f}"


def _markdown(main: dict[str, MethodRun], stress: list[tuple[str, dict[str, MethodRun]]],
              report: Any, sim: MuonChamberConfig, info: dict[str, Any], same_voxels: bool,
              occupancy: tuple[float, float], n_images: int, n_stress: int, total: float,
              load_start: tuple[float, ...], load_end: tuple[float, ...],
              plots: list[Path]) -> str:  # fmt: skip
    prov = provenance()
    fp32, int8, roads = main["cnn fp32"], main["cnn int8"], main["roads"]
    loss = fp32.efficiency10 - int8.efficiency10
    same = (
        "the same voxels as torch on the first 1000 images"
        if same_voxels
        else "**not the same voxels as torch on the first 1000 images**"
    )
    gain_eff = 100 * (fp32.efficiency10 - roads.efficiency10)
    gain_fake = 100 * (fp32.fake_rate - roads.fake_rate)
    lines = [
        "# Muon-chamber trigger: CNN segmentation vs road look-up",
        "",
        f"`run_muon_trigger_bench` (`tracklearn bench --suite muon-trigger`) on "
        f"{_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}, tracklearn "
        f"{prov['tracklearn_version']} at git {prov['git_revision']}; one thread per method, "
        f"{total:.0f} s in all; load average (1 min) {load_start[0]:.1f} at the start, "
        f"{load_end[0]:.1f} at the end, on {os.cpu_count()} cores (a load above 1 means other "
        "work shared them: the times are then upper bounds).",
        "",
        f"**Data**: {n_images:,} fresh test images (seed {TEST_SEED}, generated in chunks of "
        "1000 and never stored) of the default chamber (`configs/simulation/muon-chamber.yaml`: "
        f"6 layers × 8 partitions × 384 strips of {sim.geometry.strip_pitch:g} mm, pT uniform in "
        f"{sim.pt_min:g}–{sim.pt_max:g} GeV, ∫B dl = {sim.field_integral:g} T m, "
        f"{sim.x0_before:g} X0 before the chamber, cluster sizes 1–3, layer efficiency "
        f"{sim.layer_efficiency:g}, default noise: {sim.noise_strips:g} random strips + "
        f"{sim.background_clusters:g} clusters of 1–{sim.background_cluster_max} strips per "
        f"image: {occupancy[0]:.0f} fired voxels per image of which {occupancy[1]:.1f} are the "
        "muon's).",
        "",
        "**Definitions** (`tracklearn.metrics.muon_trigger`): an image is *matched* when the "
        "trigger marks more than 60 % of the muon's voxels (TP/P > 0.6); *fake* when it marks "
        "something and at most 60 % of what it marks is the muon's (TP/M ≤ 0.6). Efficiency = "
        "matched / images; fake rate = fake / images where the trigger marked voxels. pT bins "
        "of 5 GeV centred on multiples of 5 GeV (the first, 2.5–7.5, is half filled).",
        "",
        "**Methods**: *cnn* — the shipped `muon_cnn` (`tracklearn/models/muon_trigger`, "
        f"{report.n_parameters:,} parameters, {report.size_bytes['fp32'] / 1024:.0f} KB ONNX "
        f"fp32, {report.size_bytes['int8'] / 1024:.0f} KB int8; trained by `make "
        f"train-muon-cnn`: validation efficiency {info['val_metrics']['val_efficiency']:.4f}), "
        f"fp32 in onnxruntime ({same}, export parity max |Δ| {report.parity_max_abs:.1g}) "
        "and int8 (static quantisation "
        "calibrated on its training images); *roads* — the pattern look-up baseline "
        "(`tracklearn.classical.muon_roads`: 25 straight patterns of ±3 strips/layer, roads "
        "±1 strip, ≥ 4 layers, single partitions and neighbouring pairs).",
        "",
        "## Summary",
        "",
        "| method | efficiency (pT ≥ 10 GeV) | efficiency (all) | fake rate "
        "| µs/image (1 thread) |",
        "|---|---|---|---|---|",
    ]
    for r in (roads, fp32, int8):
        lines.append(
            f"| {r.name} | {_f(r.efficiency10)} | {_f(r.counts.efficiency())} | "
            f"{_f(r.fake_rate)} | {r.us_per_image:.0f} |"
        )
    floors = [
        ("CNN efficiency pT ≥ 10 GeV ≥ 95 %", fp32.efficiency10,
         fp32.efficiency10 >= FLOOR_EFFICIENCY),
        ("CNN fake rate ≤ 5 %", fp32.fake_rate, fp32.fake_rate <= FLOOR_FAKE),
        ("int8 loses ≤ 1 point of efficiency (pT ≥ 10 GeV)", loss, loss <= FLOOR_INT8_LOSS),
    ]  # fmt: skip
    lines += ["", "## Floors (issue 13)", "", "| floor | value | |", "|---|---|---|"]
    lines += [f"| {n} | {_f(v)} | {'PASS' if ok else 'FAIL'} |" for n, v, ok in floors]
    lines += [
        "",
        f"The CNN's gain over the road look-up: {gain_eff:+.2f} points of efficiency "
        f"(pT ≥ 10 GeV), {gain_fake:+.2f} points of fake rate.",
        "",
        "## Efficiency and fake rate vs pT",
        "",
    ]
    rows = []
    bins = {name: {b["pt_lo"]: b for b in r.counts.rates()} for name, r in main.items()}
    for lo in sorted(bins["roads"]):
        row: dict[str, Any] = {"pT [GeV]": f"{lo:g}–{bins['roads'][lo]['pt_hi']:g}",
                               "images": bins["roads"][lo]["n_images"]}  # fmt: skip
        for name in ("roads", "cnn fp32", "cnn int8"):
            b = bins[name].get(lo, {})
            row[f"{name} eff"] = _f(b.get("efficiency", float("nan")))
            row[f"{name} fake"] = _f(b.get("fake_rate", float("nan")))
        rows.append(row)
    lines += markdown_table(rows)
    lines += [
        "",
        "## Outside the training conditions",
        "",
        f"{n_stress:,} images per setting (seed {TEST_SEED + 1}); the CNN was trained on the "
        "default chamber with its noise scaled by a random factor in "
        f"{info.get('data', {}).get('noise_scale', [1, 1])} per 1000 images, never with extra "
        "muons.",
        "",
        "| setting | method | efficiency (pT ≥ 10 GeV) | fake rate |",
        "|---|---|---|---|",
    ]
    for name, runs in stress:
        for r in runs.values():
            lines.append(f"| {name} | {r.name} | {_f(r.efficiency10)} | {_f(r.fake_rate)} |")
    lines += ["", "## Plots", ""]
    lines += [f"![{p.stem}](muon-trigger/{p.name})" for p in plots]
    return "\n".join(lines) + "\n"


def _plots(folder: Path, main: dict[str, MethodRun], display: MuonImages,
           pred: dict[str, BoolArray]) -> list[Path]:  # fmt: skip
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, label, fname in (
        ("efficiency", "efficiency (TP/P > 0.6)", "efficiency_pt.png"),
        ("fake_rate", "fake rate (TP/M ≤ 0.6)", "fake_rate_pt.png"),
    ):
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        ax = fig.subplots()
        for (name, r), marker in zip(main.items(), "so^", strict=True):
            rows = [b for b in r.counts.rates() if b[key] == b[key]]
            lo = np.array([b["pt_lo"] for b in rows])
            hi = np.array([b["pt_hi"] for b in rows])
            v = np.array([b[key] for b in rows])
            err = np.array([[b[f"{key}_lo"] for b in rows], [b[f"{key}_hi"] for b in rows]])
            ax.errorbar(0.5 * (lo + hi), v, yerr=np.abs(err - v), xerr=0.5 * (hi - lo),
                        fmt=marker, ms=4, label=name)  # fmt: skip
        ax.set_xlabel("muon pT [GeV]")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        paths.append(_save(fig, folder / fname))
    # one image: fired strips, the muon's, and what each method marked (layers stacked)
    i = int(np.argmax(display.truth.sum(axis=(1, 2, 3))))
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    hit = np.argwhere(display.hits[i])
    y = hit[:, 1] * 8 + hit[:, 0]  # partition × 8 + layer
    ax.scatter(hit[:, 2], y, s=6, c="0.7", label="fired strips")
    layers: list[tuple[BoolArray, dict[str, Any], str]] = [
        (display.truth[i], {"s": 40, "facecolors": "none", "edgecolors": "k"}, "muon (truth)"),
        (pred["roads"][i], {"s": 10, "c": "tab:orange"}, "roads"),
        (pred["cnn"][i], {"s": 10, "c": "tab:blue", "marker": "x"}, "cnn"),
    ]
    for mask, style, name in layers:
        pts = np.argwhere(mask)
        ax.scatter(pts[:, 2], pts[:, 1] * 8 + pts[:, 0], label=name, **style)
    ax.set_xlabel("strip")
    ax.set_ylabel("partition × 8 + layer")
    ax.set_title(f"one test image, muon pT {display.pt_gev[i]:.1f} GeV")
    ax.legend(loc="upper right", fontsize=8)
    paths.append(_save(fig, folder / "example_image.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    save_figure(fig, path, dpi=110)
    return path
