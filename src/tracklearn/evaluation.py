"""Evaluate track files against truth: metrics.json, efficiency plots, summary table.

This is the library side of ``tracklearn evaluate``.  Metrics follow the
definitions in :mod:`tracklearn.metrics`; ``time_s`` and ``peak_rss_mb`` come
from the timing files ``reconstruct`` leaves beside the tracks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.errors import DataError
from tracklearn.io import atomic_path, find_events, read_event, read_timing, read_tracks
from tracklearn.io.atomic import write_text_atomic
from tracklearn.io.tracks import tracks_path
from tracklearn.metrics import (
    DESIGN_KEYS,
    ParticleTable,
    TargetSelection,
    TrackingMetrics,
    aggregate,
    efficiency_curve,
    evaluate_event,
    particle_table,
)
from tracklearn.provenance import provenance

#: pT bin edges of the efficiency plot [GeV]
PT_BINS = np.array([1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, 50.0, 100.0])
#: η bin edges of the efficiency plot
ETA_BINS = np.linspace(-4.0, 4.0, 17)


@dataclass
class EvaluationResult:
    """What ``evaluate`` produced."""

    per_event: dict[int, dict[str, Any]]
    overall: dict[str, Any]
    metrics_path: Path
    plots: list[Path] = field(default_factory=list)

    def table_rows(self) -> list[dict[str, Any]]:
        keys = (*DESIGN_KEYS, "time_s", "peak_rss_mb")
        rows = []
        for name, m in [*((str(k), v) for k, v in self.per_event.items()), ("all", self.overall)]:
            rows.append({"event": name, **{k: m[k] for k in keys if k in m}})
        return rows


def evaluate_folder(
    truth: Sequence[str | Path],
    tracks_dir: str | Path,
    out_dir: str | Path,
    targets: TargetSelection | None = None,
) -> EvaluationResult:
    """Score every truth event against ``tracks_dir`` and write the report to ``out_dir``."""
    targets = targets or TargetSelection()
    out = Path(out_dir)
    per_event: dict[int, dict[str, Any]] = {}
    metrics: list[TrackingMetrics] = []
    tables: list[ParticleTable] = []
    lengths: list[npt.NDArray[np.int64]] = []
    times: list[float] = []
    rss: list[float] = []
    for prefix in find_events(truth):
        event = read_event(
            prefix, parts=("hits", "truth", "particles"), require=("hits", "truth", "particles")
        )
        tracks = read_tracks(tracks_path(tracks_dir, event.event_id), event)
        m = evaluate_event(event, tracks, targets)
        metrics.append(m)
        row = m.to_dict()
        timing = read_timing(tracks_dir, event.event_id)
        if timing is not None:
            row.update({k: timing[k] for k in ("time_s", "peak_rss_mb") if k in timing})
            times.append(float(timing["time_s"]))
            rss.append(float(timing.get("peak_rss_mb", np.nan)))
        per_event[event.event_id] = row
        tables.append(particle_table(event, tracks, targets))
        lengths.append(tracks.lengths)
    if not metrics:
        raise DataError(str(truth), "no events to evaluate")
    overall = aggregate(metrics).to_dict()
    if times:
        overall["time_s"] = float(np.mean(times))
        overall["time_s_median"] = float(np.median(times))
        overall["peak_rss_mb"] = float(np.nanmax(rss))
    overall["n_events"] = len(metrics)
    doc = {
        "targets": targets.model_dump(),
        "all": overall,
        **{str(k): v for k, v in per_event.items()},
        "provenance": provenance(),
    }
    out.mkdir(parents=True, exist_ok=True)
    metrics_path = out / "metrics.json"
    write_text_atomic(metrics_path, json.dumps(doc, indent=1, default=_json_default))
    result = EvaluationResult(per_event, overall, metrics_path)
    result.plots = _plots(out, tables, np.concatenate(lengths), targets)
    write_text_atomic(out / "summary.md", summary_markdown(result))
    return result


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"cannot serialise {type(o)}")


def summary_markdown(result: EvaluationResult) -> str:
    """The summary table as Markdown."""
    rows = result.table_rows()
    keys = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(k, "")) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def _cell(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _plots(
    out: Path,
    tables: list[ParticleTable],
    lengths: npt.NDArray[np.int64],
    targets: TargetSelection,
) -> list[Path]:
    from matplotlib.figure import Figure

    from tracklearn.plotting.efficiency import plot_efficiency, plot_track_lengths

    table = ParticleTable.concatenate(tables)
    pt, eta, matched = table.pt, table.eta, table.matched
    paths = []
    for name, values, bins, xlabel, logx in (
        ("efficiency_pt.png", pt, PT_BINS[targets.pt_min <= PT_BINS], "$p_T$ [GeV]", True),
        ("efficiency_eta.png", eta, ETA_BINS, r"$\eta$", False),
    ):
        if len(bins) < 2:
            bins = np.array([targets.pt_min, max(targets.pt_min * 100, 100.0)])
        fig = Figure(figsize=(6, 4.2), layout="constrained")
        ax = fig.subplots()
        plot_efficiency(
            ax, efficiency_curve(values, matched, bins), label="double-majority", xlabel=xlabel
        )
        if logx and len(values):  # an empty curve has no positive x to log-scale
            ax.set_xscale("log")
        ax.set_title(f"Tracking efficiency ({len(pt)} target particles)")
        paths.append(_save(fig, out / name))
    fig = Figure(figsize=(6, 4.2), layout="constrained")
    plot_track_lengths(fig.subplots(), lengths)
    paths.append(_save(fig, out / "track_length.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    return path
