"""Deployable-inference benchmark: ``benchmarks/results/export.md`` and ``export/*.png``.

1. **Every exported network** (``tracklearn export`` with ``--int8`` and 50 %
   magnitude pruning): the shipped ``gnn`` model's filter and Interaction
   Network (measured on held-out simulated tt̄ + μ=200 events, int8 calibrated
   on its training events), the IN-paper-style classifier (on the real
   IN-paper graphs), the muon-trigger CNN (20,000 test images) and every
   HEP.TrkX toy model and the g-2 finder (each trained briefly here on its toy,
   measured on its validation split): parameters, sizes, fp32 parity, and the
   metric with torch fp32, onnxruntime fp32, int8 and the pruned network.
2. **Throughput vs batch size** of the muon CNN (1, 2, 4, …, 2048 images per
   call) for torch fp32, onnxruntime fp32 and onnxruntime int8, each with two
   threads on the two cores, plus the latency of one call at batch 1; the
   machine load is recorded with every measurement.
3. **reconstruct time per event** of the ``gnn`` method with each backend on
   the held-out μ=200 events, with the efficiency each backend reaches.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.export.run import ExportConfig, UnitReport, export_model
from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.provenance import provenance

log = logging.getLogger(__name__)

#: batch sizes of the throughput scan
BATCHES = tuple(2**k for k in range(12))
#: floor of issue 13: onnxruntime int8 ≥ 2 × torch fp32 images/s at batch 1024
FLOOR_SPEEDUP, FLOOR_BATCH = 2.0, 1024
PRUNE_FRACTION = 0.5
#: the timings wait up to this long [s] for the 1-minute load average to fall to QUIET_LOAD
QUIET_WAIT_S, QUIET_LOAD = 1800.0, 1.0
#: toy models that cost ~10× more per event: one epoch in the export bench
SLOW_TOYS = ("track_follower", "conv_lstm")


@dataclass
class NetworkRow:
    """One exported network and what its export measured."""

    network: str
    data: str
    report: UnitReport


# ---------------------------------------------------------------- 1. networks


def _export(name: str, data_note: str, folder: Path, out: Path, *, data: Path | None = None,
            calibration: Path | None = None, n_eval: int = 0) -> list[NetworkRow]:  # fmt: skip
    cfg = ExportConfig(int8=True, prune_fraction=PRUNE_FRACTION, n_eval=n_eval, threads=1)
    reports = export_model(folder, out, config=cfg, data=data, calibration_data=calibration)
    return [
        NetworkRow(name if r.name == "." else f"{name}: {r.name}", data_note, r) for r in reports
    ]


def _toy_rows(work: Path, quick: bool) -> list[NetworkRow]:
    """Train every toy model briefly on its toy, export it, measure it on the validation split."""
    from tracklearn.bench.toys import LR, MODEL_OPTIONS
    from tracklearn.models.toy import SEEDED_MODELS
    from tracklearn.simulation.g2 import G2Config, generate_islands, save_islands
    from tracklearn.simulation.toy import ToyConfig, generate_toy, save_toy
    from tracklearn.training.stages import get_stage

    n_events, epochs = (200, 1) if quick else (6000, 4)
    toy = work / "toy"
    save_toy(generate_toy(n_events, 5, ToyConfig(noise_prob=0.2, clean_seed_layers=True)),
             toy / "toy.npz")  # fmt: skip
    rows = []
    models = SEEDED_MODELS[:1] if quick else (*SEEDED_MODELS, "conv_lstm_regression")
    for name in models:
        opts = {k: list(v) if isinstance(v, tuple) else v
                for k, v in MODEL_OPTIONS.get(name, {}).items()}  # fmt: skip
        n_ep = 1 if name in SLOW_TOYS else epochs
        lr = LR.get(name, 3e-3)
        train: dict[str, Any] = {"epochs": n_ep, "threads": 1, "lr": lr, "patience": n_ep}
        if name != "conv_lstm_regression":
            train |= {"monitor": "val_accuracy", "mode": "max"}
        t0 = time.perf_counter()
        get_stage(f"toy_{name}")({"model": opts, "train": train}, toy, work / name, False)
        log.info("export bench: trained toy %s in %.0f s", name, time.perf_counter() - t0)
        note = f"toy2d 10 × 50, 20 % noise, {n_events} events × {n_ep} epochs"
        rows += _export(f"toy {name}", note,
                        work / name, work / f"{name}-onnx", data=toy)  # fmt: skip
    if not quick:
        g2 = work / "g2"
        save_islands(generate_islands(40, 5, G2Config()), g2 / "g2.npz")
        get_stage("g2_lstm")({"train": {"epochs": 6, "threads": 1}}, g2, work / "g2run", False)
        rows += _export("g-2 finder", "g-2 straw station, 40 fills", work / "g2run",
                        work / "g2-onnx", data=g2)  # fmt: skip
    return rows


# ---------------------------------------------------------------- 2. throughput


def _ort_call(session: Any) -> Callable[[np.ndarray], object]:
    return lambda x: session.run(None, {"hits": x})


@dataclass
class Throughput:
    """Images per second of one backend per batch size, and the load while measuring."""

    backend: str
    images_per_s: dict[int, float]
    latency_ms_batch1: float
    load: tuple[float, float]  # 1-min load average before and after


def wait_for_quiet(max_load: float, max_wait_s: float, poll_s: float = 30.0) -> float:
    """Sleep until the 1-minute load average is ≤ ``max_load`` (at most ``max_wait_s``).

    Returns the load average when measuring starts (the cores are shared: the
    throughput scan waits for the quietest moment it can get, and says so).
    """
    start = time.perf_counter()
    while os.getloadavg()[0] > max_load and time.perf_counter() - start < max_wait_s:
        time.sleep(poll_s)
    return os.getloadavg()[0]


def throughput_scan(onnx: Path, torch_folder: Path, batches: Sequence[int] = BATCHES,
                    seconds: float = 1.5, threads: int = 2, rounds: int = 3,
                    max_load: float = QUIET_LOAD,
                    max_wait_s: float = 0.0) -> list[Throughput]:  # fmt: skip
    """Images/s of the muon CNN per batch size with torch fp32, onnxruntime fp32 and int8.

    Side by side: for every batch size the three backends take turns, ``rounds``
    times, each turn about ``seconds / rounds`` of calls; a backend's rate is its
    batch size over its fastest call (the call least disturbed by other jobs on
    the shared cores).  Before the scan the machine is given up to
    ``max_wait_s`` to become quiet (load ≤ ``max_load``).
    """
    import torch

    from tracklearn.export.runtime import make_session
    from tracklearn.models.muon_model import MuonCNNModel
    from tracklearn.simulation.muon_chamber import TEST_SEED, generate_muon_images

    images = generate_muon_images(max(batches), TEST_SEED).hits.astype(np.float32)
    torch.set_num_threads(threads)
    module = MuonCNNModel.load(torch_folder).module.eval()

    def torch_call(x: np.ndarray) -> object:
        with torch.inference_mode():
            return module(torch.from_numpy(x))

    backends: dict[str, Callable[[np.ndarray], object]] = {"torch fp32": torch_call}
    for label, name in (
        ("onnxruntime fp32", "model.onnx"),
        ("onnxruntime int8", "model.int8.onnx"),
    ):
        backends[label] = _ort_call(make_session(onnx / name, threads))
    before = wait_for_quiet(max_load, max_wait_s)
    best: dict[str, dict[int, float]] = {k: {} for k in backends}
    for b in batches:
        x = images[:b]
        for call in backends.values():
            call(x)  # warm-up
        for _ in range(rounds):
            for label, call in backends.items():
                t_end = time.perf_counter() + seconds / rounds
                while True:
                    t0 = time.perf_counter()
                    call(x)
                    dt = time.perf_counter() - t0
                    best[label][b] = min(best[label].get(b, float("inf")), dt)
                    if time.perf_counter() >= t_end:
                        break
    after = os.getloadavg()[0]
    out = []
    for label in backends:
        rates = {b: b / t for b, t in best[label].items()}
        lat = 1e3 * best[label][1] if 1 in best[label] else float("nan")
        out.append(Throughput(label, rates, lat, (before, after)))
        log.info("export bench: %s %s", label, {b: round(r) for b, r in rates.items()})
    return out


# ---------------------------------------------------------------- 3. reconstruct


def reconstruct_timing(
    export: Path, prefixes: Sequence[Path], threads: int = 2
) -> list[dict[str, Any]]:
    """s/event, efficiency and fake rate of the gnn method per backend on ``prefixes``.

    The backends take turns on every event (side by side, after one warm-up
    call each), so load on the shared cores hits them alike.
    """
    from tracklearn.io import read_event
    from tracklearn.metrics import aggregate, evaluate_event
    from tracklearn.pipeline import get_method

    events = [read_event(p) for p in prefixes]
    backends = {
        "torch fp32": {"backend": "torch"},
        "onnxruntime fp32": {"backend": "onnxruntime", "precision": "fp32"},
        "onnxruntime int8": {"backend": "onnxruntime", "precision": "int8"},
    }
    methods = {k: get_method("gnn", {"model": str(export), "threads": threads, **cfg})
               for k, cfg in backends.items()}  # fmt: skip
    for method in methods.values():
        method(events[0])  # warm-up (first calls allocate and initialise)
    times: dict[str, list[float]] = {k: [] for k in methods}
    metrics: dict[str, list[Any]] = {k: [] for k in methods}
    tracks: dict[str, list[Any]] = {k: [] for k in methods}
    load_before = os.getloadavg()[0]
    for ev in events:
        for label, method in methods.items():
            t0 = time.perf_counter()
            t = method(ev)
            times[label].append(time.perf_counter() - t0)
            metrics[label].append(evaluate_event(ev, t))
            off, hits = t.offsets, t.hit_index
            tracks[label].append({frozenset(hits[off[i] : off[i + 1]].tolist())
                                  for i in range(len(off) - 1)})  # fmt: skip
    rows = []
    for label in methods:
        agg = aggregate(metrics[label])
        rows.append({
            "backend": label,
            "s/event": statistics.mean(times[label]),
            "efficiency": agg.efficiency,
            "fake_rate": agg.fake_rate,
            "same tracks as torch": sum(len(a & b) for a, b in zip(tracks[label],
                                        tracks["torch fp32"], strict=True))
            / max(1, sum(len(b) for b in tracks["torch fp32"])),
            "load": (load_before, os.getloadavg()[0]),
        })  # fmt: skip
        log.info("export bench: reconstruct %s %.2f s/event", label, rows[-1]["s/event"])
    return rows


# ---------------------------------------------------------------- the suite


def run_export_bench(
    out: str | Path = "benchmarks/results",
    *,
    quick: bool = False,
    test_events: Path | None = None,
    train_events: Path | None = None,
    in_graphs: Path | None = None,
) -> Path:
    """Run the suite; write ``out/export.md``, ``out/export.json`` and ``out/export/*.png``.

    ``test_events`` / ``train_events``: held-out and training-like μ=200 events
    for the ``gnn`` model (skipped without them); ``in_graphs``: the real
    IN-paper graphs for the IN-style classifier (skipped without them).
    """
    import torch

    from tracklearn.pipeline.gnn import DEFAULT_MODEL
    from tracklearn.pipeline.trigger import DEFAULT_MUON_MODEL

    torch.set_num_threads(1)
    out = Path(out)
    t_start = time.perf_counter()
    rows: list[NetworkRow] = []
    recon: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tracklearn-export-bench-") as tmp:
        work = Path(tmp)
        # the heavy part first: exports, calibration, metrics, toy training
        rows += _export("muon CNN", "20,000 test images (seed 20261)", DEFAULT_MUON_MODEL,
                        work / "muon", n_eval=200 if quick else 20_000)  # fmt: skip
        gnn = test_events is not None and train_events is not None
        if gnn:
            rows += _export("gnn", "3 held-out tt̄ μ=200 events; calibrated on 2 training events",
                            DEFAULT_MODEL, work / "gnn", data=test_events,
                            calibration=train_events)  # fmt: skip
        if in_graphs is not None and in_graphs.exists() and train_events is not None:
            rows += _export("gnn: in_graphs (IN-paper style)", "real IN-paper graphs (20 files)",
                            DEFAULT_MODEL / "in_graphs", work / "in_graphs", data=in_graphs,
                            calibration=train_events)  # fmt: skip
        rows += _toy_rows(work, quick)
        # then the timings, side by side, on the quietest machine we can wait for
        t_wait = time.perf_counter()
        wait_for_quiet(QUIET_LOAD, 0.0 if quick else QUIET_WAIT_S)
        waited = time.perf_counter() - t_wait
        scan = throughput_scan(work / "muon", DEFAULT_MUON_MODEL,
                               batches=(1, 2) if quick else BATCHES,
                               seconds=0.05 if quick else 1.5)  # fmt: skip
        if gnn:
            from tracklearn.io import find_events

            assert test_events is not None
            recon = reconstruct_timing(work / "gnn", find_events([test_events]))
    total = time.perf_counter() - t_start
    plots = _plots(out / "export", scan, rows)
    text = _markdown(rows, scan, recon, total, plots, waited)
    path = out / "export.md"
    write_text_atomic(path, text)
    doc = {
        "networks": [{"network": r.network, "data": r.data, **asdict(r.report)} for r in rows],
        "throughput": [asdict(s) for s in scan],
        "reconstruct": recon,
        "provenance": provenance(),
    }
    write_text_atomic(out / "export.json", json.dumps(doc, indent=1, default=float) + "\n")
    return path


def _f(x: float | None, digits: int = 4) -> str:
    return "–" if x is None or x != x else f"{x:.{digits}f}"


def _network_lines(rows: list[NetworkRow]) -> list[str]:
    lines = [
        "| network | params | fp32 KB | int8 KB | gzip KB fp32 → pruned | parity: max abs Δ "
        "(scaled) "
        "| metric | torch fp32 | ORT fp32 | ORT int8 (Δ) | pruned 50 % (Δ) | data |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row.report
        sizes = (f"{r.n_parameters:,} | {r.size_bytes['fp32'] / 1024:.0f} | "
                 f"{r.size_bytes['int8'] / 1024:.0f} | {r.gzip_bytes['fp32'] / 1024:.0f} → "
                 f"{r.gzip_bytes['pruned'] / 1024:.0f} | {r.parity_max_abs:.1g} "
                 f"({r.parity_scaled:.1g})")  # fmt: skip
        metrics = r.metrics.get("torch_fp32", {})
        if not metrics:
            lines.append(f"| {row.network} | {sizes} | – | – | – | – | – | {row.data} |")
        for k, ref in metrics.items():
            ort = r.metrics["ort_fp32"][k]
            i8 = r.metrics["ort_int8"][k]
            pr = r.metrics["torch_pruned"][k]
            lines.append(
                f"| {row.network} | {sizes} | {k} | {_f(ref)} | {_f(ort)} | "
                f"{_f(i8)} ({i8 - ref:+.4f}) | {_f(pr)} ({pr - ref:+.4f}) | {row.data} |"
            )
            sizes = "〃 | 〃 | 〃 | 〃 | 〃"
    return lines


def _markdown(rows: list[NetworkRow], scan: list[Throughput], recon: list[dict[str, Any]],
              total: float, plots: list[Path], waited: float) -> str:  # fmt: skip
    prov = provenance()
    by = {s.backend: s for s in scan}
    t_fp32, t_int8 = by["torch fp32"].images_per_s, by["onnxruntime int8"].images_per_s
    fb = FLOOR_BATCH if FLOOR_BATCH in t_fp32 else max(t_fp32)
    speedup = t_int8[fb] / t_fp32[fb]
    lines = [
        "# Deployable inference: ONNX, int8, pruning, throughput",
        "",
        f"`run_export_bench` (`tracklearn bench --suite export`) on "
        f"{_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}, tracklearn "
        f"{prov['tracklearn_version']} at git {prov['git_revision']}, torch "
        f"{_version('torch')}, onnxruntime {_version('onnxruntime')}, {os.cpu_count()} CPU "
        f"cores; {total:.0f} s in all.",
        "",
        "## Every exported network",
        "",
        "`tracklearn export MODEL_DIR --format onnx --out DIR --int8` with "
        f"`prune_fraction: {PRUNE_FRACTION}` (`tracklearn.export`): fp32 ONNX (torch.export "
        "exporter, opset 18), checked against torch on fixed inputs of three sizes (the "
        "export fails when |Δ| / max(1, |torch|) exceeds 1e-5: absolute for outputs up to 1, "
        "relative above, as trained networks' logits reach tens; the table gives the "
        "absolute max |Δ| and, in brackets, the scaled one) and on real inputs (scaled, "
        "1e-4); int8: onnxruntime static quantisation "
        "(QDQ, per-channel int8 weights, uint8 activations, MinMax calibration on training "
        "data: the training images or events, or the training split of a toy), of the "
        "convolutions and matrix products only; pruned: global magnitude pruning of half the "
        "Linear/Conv/LSTM weights, no fine-tuning (its size cost shows in the gzip size, as "
        "the zeros are still stored). Metrics on held-out data, the same for every column; "
        "edge metrics at each model's own threshold (efficiency = true edges kept / true "
        "edges); toy accuracy after the seed layers; the regression's metric is the RMS "
        "residual of the track parameters (lower is better). Toy models are trained here "
        "for a few minutes only: their absolute accuracies are not the toy bench's.",
        "",
        *_network_lines(rows),
        "",
        "## Throughput vs batch size (muon CNN)",
        "",
        "Images per second of the shipped muon CNN, each backend with 2 threads on the 2 "
        "cores (torch: `set_num_threads(2)`, inference mode; onnxruntime: 2 intra-op "
        "threads), measured side by side: for every batch size the three backends take "
        "turns, 3 rounds of about 0.5 s each, and the rate is the batch size over the "
        "fastest call (the one least disturbed by other jobs). The cores are shared with "
        f"other jobs: the scan waited {waited:.0f} s for the 1-minute load average to fall "
        f"to {QUIET_LOAD:g} (at most {QUIET_WAIT_S:.0f} s); the load before and after is "
        "listed.",
        "",
        "| batch | " + " | ".join(s.backend for s in scan) + " | int8 / torch |",
        "|---|" + "---|" * (len(scan) + 1),
    ]
    for b in t_fp32:
        cells = " | ".join(f"{s.images_per_s[b]:,.0f}" for s in scan)
        lines.append(f"| {b} | {cells} | {t_int8[b] / t_fp32[b]:.2f} |")
    lines += [
        "| latency at batch 1 [ms] | "
        + " | ".join(f"{s.latency_ms_batch1:.2f}" for s in scan) + " | |",
        "| load before → after | "
        + " | ".join(f"{s.load[0]:.1f} → {s.load[1]:.1f}" for s in scan) + " | |",
        "",
        f"Floor (issue 13): onnxruntime int8 ≥ {FLOOR_SPEEDUP:g} × torch fp32 at batch {fb}: "
        f"{speedup:.2f} × — {'PASS' if speedup >= FLOOR_SPEEDUP else 'FAIL'}.",
        "",
    ]  # fmt: skip
    if recon:
        lines += [
            "## reconstruct time per event (gnn, 2 threads)",
            "",
            "The shipped `gnn` model exported (`tracklearn export`) and run by `tracklearn "
            "reconstruct --method gnn --model EXPORT --backend torch|onnxruntime` (int8: "
            "`precision: int8`) on the 3 held-out tt̄ μ=200 events, the backends taking turns "
            "on every event after one warm-up call each; the time covers graph building, the "
            "filter, the Interaction Network and track building (only the two networks change "
            "between backends). Scores that differ by float rounding (≤ 1e-5) can fall on "
            "either side of a cut for a few of the ~10⁶ edges, so a handful of tracks may "
            "differ even in fp32: the last column counts torch's tracks found hit for hit.",
            "",
            "| backend | s/event | efficiency | fake rate | torch's tracks found identical "
            "| load before → after |",
            "|---|---|---|---|---|---|",
        ]
        for r in recon:
            lines.append(
                f"| {r['backend']} | {r['s/event']:.2f} | {_f(r['efficiency'])} | "
                f"{_f(r['fake_rate'])} | {100 * r['same tracks as torch']:.2f} % | "
                f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |"
            )
        lines.append("")
    lines += ["## Plots", ""] + [f"![{p.stem}](export/{p.name})" for p in plots]
    return "\n".join(lines) + "\n"


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _plots(folder: Path, scan: list[Throughput], rows: list[NetworkRow]) -> list[Path]:
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    for s, marker in zip(scan, "os^", strict=False):
        b = sorted(s.images_per_s)
        ax.plot(b, [s.images_per_s[k] for k in b], marker=marker, label=s.backend)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size [images per call]")
    ax.set_ylabel("images / s (2 cores)")
    ax.set_title("muon CNN throughput")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    path = folder / "throughput_batch.png"
    save_figure(fig, path, dpi=110)
    return [path]
