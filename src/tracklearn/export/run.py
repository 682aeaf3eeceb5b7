"""``tracklearn export MODEL_DIR --format onnx --out DIR [--int8]``: the whole export of a folder.

For every unit of the model folder (:func:`tracklearn.export.units.load_units`):

1. export the network to ``<out>/<unit>/model.onnx`` (fp32) and check it:
   ``|onnxruntime − torch|`` over fixed example inputs of three sizes must not
   exceed ``parity_tol`` (1e-5) — absolutely for outputs up to 1 in magnitude,
   relatively (``|Δ| / |torch|``) above, since float32 rounds a logit of 30 to
   ~2e-6 and a trained network's logits reach tens — and on the first two
   calibration inputs (real data, whose message-passing sums run over thousands
   of edges in another order) ``|Δ| / max(1, |torch|)`` must not exceed
   ``parity_tol_real`` (1e-4); otherwise the export fails.  The absolute
   ``max |Δ|`` is reported too;
2. with ``int8``: static int8 quantisation calibrated on the unit's training
   data → ``model.int8.onnx``;
3. with ``prune_fraction``: global magnitude pruning of that fraction of the
   weights → ``model.pruned.onnx`` (fp32, zeros compress: its gzip size is
   reported);
4. when the unit has a metric, measure it with torch fp32, onnxruntime fp32,
   int8 and the pruned network on the same held-out data.

Each unit folder gets ``export.json`` (inputs, outputs, front-end, threshold,
files, parity, sizes, metrics, provenance) and copies of the model's small
files (``model.json``, ``weights.pt``; for a ``gnn`` model also ``pipeline.json``
and the module map), so the export folder runs with ``--backend onnxruntime``
and, for comparison, with torch.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.errors import ConfigError
from tracklearn.export.onnx_io import (
    ExportError,
    export_onnx,
    max_abs_delta,
    n_parameters,
    prune_magnitude,
    quantize_int8,
    torch_outputs,
)
from tracklearn.export.runtime import EXPORT_FILE, FILES, make_session
from tracklearn.export.spec import Arrays, ExportSpec, get_export_spec
from tracklearn.export.units import DataOptions, ExportUnit, Runner, load_units
from tracklearn.io.atomic import write_text_atomic
from tracklearn.provenance import provenance

log = logging.getLogger(__name__)

FORMATS = ("onnx",)


class ExportConfig(BaseModel):
    """Settings of ``tracklearn export`` (YAML via ``--config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    int8: bool = False  # also write the int8 model (static quantisation)
    prune_fraction: float | None = Field(None, gt=0, lt=1)  # magnitude pruning of the weights
    # max |onnxruntime - torch| / max(1, |torch|) on the fixed inputs
    parity_tol: float = Field(1e-5, gt=0)
    # max |onnxruntime - torch| / max(1, |torch|) on real inputs: sums over many edges in
    # another order differ by ~1e-5 relative in float32
    parity_tol_real: float = Field(1e-4, gt=0)
    parity_sizes: tuple[int, ...] = (2, 7, 33)  # example inputs: images/events or graph nodes
    n_calibration: int = Field(32, ge=1)  # calibration inputs (batches / sub-graphs)
    n_eval: int = Field(0, ge=0)  # items the metric runs on (muon images, events); 0: default
    per_channel: bool = True  # int8 weights scaled per output channel
    measure: bool = True  # run the unit's metric (torch, fp32, int8, pruned)
    seed: int = 0
    threads: int = Field(1, ge=1)  # torch and onnxruntime threads while measuring


@dataclass
class UnitReport:
    """What the export of one unit made and measured (``export.json`` holds the same)."""

    name: str
    model: str
    exporter: str
    n_parameters: int
    parity_max_abs: float
    parity_scaled: float = 0.0  # max |Δ| / max(1, |torch|) on the fixed inputs (the check)
    parity_real_relative: float | None = None  # the same on real inputs
    size_bytes: dict[str, int] = field(default_factory=dict)
    gzip_bytes: dict[str, int] = field(default_factory=dict)
    int8_max_abs: float | None = None
    int8_float_nodes: list[str] = field(default_factory=list)  # layers int8 left in float
    pruning: dict[str, float] | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0


def _gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def _torch_runner(core: torch.nn.Module, spec: ExportSpec) -> Runner:
    return lambda inputs: torch_outputs(core, spec, inputs)


def _ort_runner(path: Path, threads: int) -> Runner:
    session = make_session(path, threads)
    names = [i.name for i in session.get_inputs()]
    return lambda inputs: list(session.run(None, {n: inputs[n] for n in names}))


def _parity_inputs(unit: ExportUnit, spec: ExportSpec, cfg: ExportConfig) -> list[Arrays]:
    rng = np.random.default_rng(cfg.seed)
    return [spec.example_inputs(unit.module, unit.meta, s, rng) for s in cfg.parity_sizes]


def export_unit(unit: ExportUnit, out: Path, cfg: ExportConfig) -> UnitReport:
    """Export, check, quantise, prune and measure one unit into ``out/<unit.name>``."""
    t0 = time.perf_counter()
    spec = get_export_spec(unit.model_name)
    core = spec.core(unit.module, unit.meta).eval()
    folder = out / unit.name
    folder.mkdir(parents=True, exist_ok=True)
    for name in unit.copy_files:
        if (unit.source / name).exists():
            shutil.copy2(unit.source / name, folder / name)
    checks = _parity_inputs(unit, spec, cfg)
    fp32 = folder / FILES["fp32"]
    exporter = export_onnx(core, spec, checks[-1], fp32)
    calibration = unit.calibration() if unit.calibration is not None else None
    parity = max_abs_delta(core, spec, fp32, checks)
    scaled = max_abs_delta(core, spec, fp32, checks, relative=True)
    real = max_abs_delta(core, spec, fp32, calibration[:2], relative=True) if calibration else None
    for value, tol, what in ((scaled, cfg.parity_tol, "on fixed inputs"),
                             (real, cfg.parity_tol_real, "on real inputs")):  # fmt: skip
        if value is not None and not value <= tol:
            raise ExportError(
                f"{unit.source}: ONNX export of {unit.model_name} differs from torch {what} by "
                f"{value:.3g} > {tol:g}"
            )
    report = UnitReport(unit.name, unit.model_name, exporter, n_parameters(core), parity)
    report.parity_scaled, report.parity_real_relative = scaled, real
    files = {"fp32": fp32.name}
    if cfg.int8:
        calib = calibration or [
            spec.example_inputs(unit.module, unit.meta, s, np.random.default_rng(cfg.seed + i))
            for i, s in enumerate([16] * cfg.n_calibration)
        ]
        report.int8_float_nodes = quantize_int8(
            fp32, folder / FILES["int8"], calib, spec.quantize_op_types,
            per_channel=cfg.per_channel, keep_first_float=spec.keep_first_float,
        )  # fmt: skip
        files["int8"] = FILES["int8"]
        report.int8_max_abs = max_abs_delta(core, spec, folder / FILES["int8"], checks[:2])
    pruned = None
    if cfg.prune_fraction is not None:
        pruned, report.pruning = prune_magnitude(core, cfg.prune_fraction)
        export_onnx(pruned, spec, checks[-1], folder / FILES["pruned"])
        files["pruned"] = FILES["pruned"]
    for key, name in files.items():
        report.size_bytes[key] = (folder / name).stat().st_size
        report.gzip_bytes[key] = _gzip_size(folder / name)
    if cfg.measure and unit.evaluate is not None:
        torch.set_num_threads(cfg.threads)
        report.metrics["torch_fp32"] = unit.evaluate(_torch_runner(core, spec))
        for key, name in files.items():
            if key == "pruned":
                assert pruned is not None
                report.metrics["torch_pruned"] = unit.evaluate(_torch_runner(pruned, spec))
            else:
                report.metrics[f"ort_{key}"] = unit.evaluate(
                    _ort_runner(folder / name, cfg.threads)
                )
    report.seconds = time.perf_counter() - t0
    info = {
        **unit.meta,
        "inputs": list(spec.input_names),
        "outputs": list(spec.output_names),
        "dynamic_axes": {
            k: {str(a): d for a, d in v.items()} for k, v in spec.dynamic_axes.items()
        },
        "front_end": spec.front_end,
        "files": files,
        "exporter": exporter,
        "calibration": "training data" if calibration else "example inputs",
        "report": asdict(report),
        "export_config": cfg.model_dump(mode="json"),
        "source": str(unit.source),
        "provenance": provenance(),
    }
    write_text_atomic(folder / EXPORT_FILE, json.dumps(info, indent=2, default=str) + "\n")
    log.info("exported %s (%s) to %s in %.1f s", unit.name, unit.model_name, folder,
             report.seconds)  # fmt: skip
    return report


def export_model(
    model_dir: str | Path,
    out: str | Path,
    *,
    fmt: Literal["onnx"] | str = "onnx",
    config: ExportConfig | None = None,
    data: str | Path | None = None,
    calibration_data: str | Path | None = None,
) -> list[UnitReport]:
    """Export every unit of ``model_dir`` into ``out`` (see the module docstring).

    ``data`` holds what the metrics run on and, unless ``calibration_data`` is
    given, what int8 is calibrated on (see :mod:`tracklearn.export.units`).
    The export is built in a temporary folder beside ``out`` and renamed into
    place when every unit passed its checks, so a failed export leaves nothing.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    cfg = config or ExportConfig()
    out = Path(out)
    cal = None if calibration_data is None else Path(calibration_data)
    units = load_units(model_dir, data, DataOptions(cfg.n_calibration, cfg.n_eval, cal))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp:
        reports = [export_unit(u, Path(tmp), cfg) for u in units]
        Path(tmp).chmod(0o755)  # mkdtemp made it private
        if out.exists():
            shutil.rmtree(out)
        shutil.move(tmp, out)
        Path(tmp).mkdir()  # TemporaryDirectory removes it again on exit
    return reports


def report_rows(reports: list[UnitReport]) -> list[dict[str, Any]]:
    """One summary row per unit for the CLI table."""
    rows = []
    for r in reports:
        row: dict[str, Any] = {
            "unit": r.name,
            "model": r.model,
            "params": r.n_parameters,
            "fp32 KB": round(r.size_bytes["fp32"] / 1024, 1),
            "parity max|Δ|": f"{r.parity_max_abs:.2g}",
        }
        if "int8" in r.size_bytes:
            row["int8 KB"] = round(r.size_bytes["int8"] / 1024, 1)
        for variant, metrics in r.metrics.items():
            for k, v in metrics.items():
                row[f"{k} ({variant})"] = round(v, 4)
        rows.append(row)
    return rows
