"""Evaluate track files against truth: metrics.json, efficiency plots, summary table.

This is the library side of ``tracklearn evaluate``.  Metrics follow the
definitions in :mod:`tracklearn.metrics`; ``time_s`` and ``peak_rss_mb`` come
from the timing files ``reconstruct`` leaves beside the tracks.

Tracks files are ``event<id>-tracks.csv`` or ``event<id>-tracks.root``
(``reconstruct --format root``).  When ``reconstruct`` also left fitted track
parameters (``event<id>-track-params.parquet``, or the ``track_params`` tree of
the ROOT tracks file), the report adds ``resolution.json``
(σ(pT)/pT per pT bin, barrel and all; pull widths and 68/95 % coverage;
definitions in :mod:`tracklearn.metrics.resolution`), ``resolution_pt.png`` and
``pulls.png``.

Last it writes ``report.html``: one self-contained page with the summary table (the
numbers of ``metrics.json``), the targets, the plots embedded and the provenance.

When it left edge scores (``event<id>-edge-scores.parquet``, :mod:`tracklearn.io.scores`),
the report adds ``calibration.json`` and ``reliability.png``: the reliability
diagram and expected calibration error of the edge scores against truth, the
MC-dropout spread of right and wrong edges when the scores have one, and, with
``validation`` events, the same after temperature scaling fitted on those
(:mod:`tracklearn.metrics.calibration`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.io import (
    find_events,
    read_event,
    read_timing,
    read_track_params,
    read_tracks_labelled,
    track_params_path,
)
from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.io.outdir import prepare_out_dir
from tracklearn.io.tracks import find_tracks_file, hits_digest
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
from tracklearn.metrics.resolution import Residuals, resolution_summary, track_residuals
from tracklearn.provenance import provenance

#: pT bin edges of the efficiency plot [GeV]
PT_BINS = np.array([1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, 50.0, 100.0])
#: η bin edges of the efficiency plot
ETA_BINS = np.linspace(-4.0, 4.0, 17)


#: every file ``evaluate`` may write; removed from the output folder before it starts
REPORT_FILES = (
    "metrics.json",
    "summary.md",
    "efficiency_pt.png",
    "efficiency_eta.png",
    "track_length.png",
    "resolution.json",
    "resolution_pt.png",
    "pulls.png",
    "calibration.json",
    "reliability.png",
    "report.html",
)


def _check_digest(timing: dict[str, Any] | None, event: Event, tracks_dir: str | Path) -> None:
    """Tracks made from other hits (another event with the same hit ids) are an error."""
    if timing is None or "hits_digest" not in timing:
        return
    if timing["hits_digest"] != hits_digest(event):
        raise DataError(
            find_tracks_file(tracks_dir, event.event_id),
            f"was reconstructed from other hits than {event.source} "
            "(tracks of another event, or the hits changed since)",
        )


@dataclass
class EvaluationResult:
    """What ``evaluate`` produced."""

    per_event: dict[int, dict[str, Any]]
    overall: dict[str, Any]
    metrics_path: Path
    plots: list[Path] = field(default_factory=list)
    #: ``resolution.json`` contents when track parameters were found, else None
    resolution: dict[str, Any] | None = None
    resolution_path: Path | None = None
    #: per-track residuals behind ``resolution`` (None without parameters)
    residuals: Residuals | None = None
    #: ``calibration.json`` contents when edge scores were found, else None
    calibration: dict[str, Any] | None = None
    #: the ``provenance`` of ``metrics.json``
    provenance: dict[str, Any] = field(default_factory=dict)
    #: ``report.html``, the self-contained page of all the above
    report_path: Path | None = None

    def table_rows(self) -> list[dict[str, Any]]:
        keys = (*DESIGN_KEYS, "time_s", "peak_rss_mb")
        rows = []
        for name, m in [*((str(k), v) for k, v in self.per_event.items()), ("all", self.overall)]:
            rows.append({"event": name, **{k: m[k] for k in keys if k in m}})
        return rows


@dataclass(frozen=True)
class EventScore:
    """Everything ``evaluate`` needs of one event (computed where the event is read)."""

    event_id: int
    metrics: TrackingMetrics
    row: dict[str, Any]
    table: ParticleTable
    lengths: npt.NDArray[np.int64]
    residuals: Residuals | None
    time_s: float | None
    peak_rss_mb: float
    #: the event's edge scores with truth labels, when ``reconstruct`` wrote them
    edges: EdgeSample | None = None


@dataclass(frozen=True)
class ScoreJob:
    """Score one truth event (item: its prefix) against ``tracks_dir``; picklable for workers."""

    tracks_dir: str
    targets: TargetSelection

    @property
    def cache_key(self) -> str:
        return "evaluate"

    def setup(self) -> None:
        return None

    def run(self, state: None, item: str) -> EventScore:
        return score_event(item, self.tracks_dir, self.targets)


@dataclass(frozen=True)
class EdgeSampleJob:
    """Read one truth event's edge scores from ``tracks_dir`` with their labels (item: its
    prefix); None when it has none.  Picklable for workers."""

    tracks_dir: str

    @property
    def cache_key(self) -> str:
        return "evaluate"

    def setup(self) -> None:
        return None

    def run(self, state: None, item: str) -> EdgeSample | None:
        return _edge_sample(self.tracks_dir, _read_truth_event(item))


def score_event(prefix: str | Path, tracks_dir: str | Path, targets: TargetSelection) -> EventScore:
    """Read one event with truth and its tracks, and score them."""
    event = _read_truth_event(prefix)
    tracks_file = find_tracks_file(tracks_dir, event.event_id)
    tracks, track_ids = read_tracks_labelled(tracks_file, event)
    timing = read_timing(tracks_dir, event.event_id)
    _check_digest(timing, event, tracks_dir)
    tracks = _with_parameters(tracks_dir, event, tracks, track_ids, tracks_file)
    residuals = None
    if tracks.parameters is not None:
        residuals = track_residuals(event, tracks, targets=targets)
    m = evaluate_event(event, tracks, targets)
    row = m.to_dict()
    time_s, rss = None, float("nan")
    if timing is not None and "time_s" in timing:  # other tools may write no time
        row.update({k: timing[k] for k in ("time_s", "peak_rss_mb") if k in timing})
        time_s = float(timing["time_s"])
        rss = float(timing.get("peak_rss_mb", np.nan))
    return EventScore(
        event.event_id,
        m,
        row,
        particle_table(event, tracks, targets),
        tracks.lengths,
        residuals,
        time_s,
        rss,
        _edge_sample(tracks_dir, event),
    )


_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class EventJob(Protocol[_T_co]):
    """Per-event work of ``evaluate`` (:class:`ScoreJob`, :class:`EdgeSampleJob`)."""

    @property
    def cache_key(self) -> str: ...

    def setup(self) -> None: ...

    def run(self, state: None, item: str) -> _T_co: ...


class ScoreMap(Protocol):
    """Runs a job over event prefixes; returns its results in input order."""

    def __call__(self, prefixes: list[Path], job: EventJob[_T]) -> list[_T]: ...


def _map_here(prefixes: list[Path], job: EventJob[_T]) -> list[_T]:
    """Run ``job`` over the events in this process, one by one."""
    return [job.run(None, str(p)) for p in prefixes]


def evaluate_folder(
    truth: Sequence[str | Path],
    tracks_dir: str | Path,
    out_dir: str | Path,
    targets: TargetSelection | None = None,
    *,
    map_events: ScoreMap | None = None,
    validation: tuple[Sequence[str | Path], str | Path] | None = None,
) -> EvaluationResult:
    """Score every truth event against ``tracks_dir`` and write the report to ``out_dir``.

    ``map_events(prefixes, job)`` runs ``job`` over the events (in worker processes or
    on a cluster: :func:`tracklearn.parallel.evaluate.evaluate_events`); by default
    they are scored here one by one.  ``validation`` = (truth events, their tracks
    folder): edge scores of other events to fit a temperature on (see the module
    docstring); they are read by the same ``map_events`` and the temperature is
    fitted here, once, on all of them.
    """
    targets = targets or TargetSelection()
    out = prepare_out_dir(out_dir)
    # a report of an earlier evaluation must not mix with this one (nor survive its failure)
    for name in REPORT_FILES:
        (out / name).unlink(missing_ok=True)
    run_map: ScoreMap = map_events or _map_here
    scores = run_map(find_events(truth), ScoreJob(str(tracks_dir), targets))
    per_event = {sc.event_id: sc.row for sc in scores}
    metrics = [sc.metrics for sc in scores]
    tables = [sc.table for sc in scores]
    lengths = [sc.lengths for sc in scores]
    residuals = [sc.residuals for sc in scores if sc.residuals is not None]
    times = [sc.time_s for sc in scores if sc.time_s is not None]
    rss = [sc.peak_rss_mb for sc in scores if sc.time_s is not None]
    edge_parts = [sc.edges for sc in scores if sc.edges is not None]
    if not metrics:
        raise DataError(str(truth), "no events to evaluate")
    overall = aggregate(metrics).to_dict()
    if times:
        overall["time_s"] = float(np.mean(times))
        overall["time_s_median"] = float(np.median(times))
        if np.isfinite(rss).any():
            overall["peak_rss_mb"] = float(np.nanmax(rss))
    overall["n_events"] = len(metrics)
    doc = {
        "targets": targets.model_dump(),
        "all": overall,
        **{str(k): v for k, v in per_event.items()},
        "provenance": provenance(),
    }
    metrics_path = out / "metrics.json"
    write_text_atomic(metrics_path, json.dumps(doc, indent=1, default=_json_default))
    result = EvaluationResult(per_event, overall, metrics_path, provenance=doc["provenance"])
    result.plots = _plots(out, tables, np.concatenate(lengths), targets)
    if residuals:
        res = Residuals.concatenate(residuals)
        result.residuals = res
        result.resolution = resolution_summary(res)
        result.resolution_path = out / "resolution.json"
        write_text_atomic(
            result.resolution_path,
            json.dumps(_nan_to_none({**result.resolution, "provenance": provenance()}), indent=1),
        )
        result.plots += _resolution_plots(out, res, result.resolution)
    if edge_parts:
        test = EdgeSample.concatenate(edge_parts)
        val = None
        if validation is not None:
            edge_job = EdgeSampleJob(str(validation[1]))
            val_parts = [s for s in run_map(find_events(validation[0]), edge_job) if s is not None]
            if not val_parts:
                raise DataError(str(validation[1]), "no edge scores for the validation events")
            val = EdgeSample.concatenate(val_parts)
        result.calibration, curves = edge_calibration(test, val)
        write_text_atomic(
            out / "calibration.json",
            json.dumps(_nan_to_none({**result.calibration, "provenance": provenance()}), indent=1),
        )
        result.plots.append(_calibration_plot(out, curves, test))
    write_text_atomic(out / "summary.md", summary_markdown(result))
    result.report_path = out / "report.html"
    write_text_atomic(result.report_path, _report_html(result, targets))
    return result


def _report_html(result: EvaluationResult, targets: TargetSelection) -> str:
    """``report.html``: the summary table, the notes of ``summary.md``, the plots."""
    from tracklearn.plotting.html_report import report_html

    n = len(result.per_event)
    sections: list[tuple[str, list[str]]] = [
        (
            "Definitions",
            [
                f"target particles: pT >= {targets.pt_min:g} GeV, |eta| <= {targets.eta_max:g}, "
                f"hits on at least {targets.min_layers} distinct layers",
                "matching: double majority (more than 50 % of the track's hits are the "
                "particle's, and it holds more than 50 % of the particle's hits)",
                "efficiency: matched target particles / target particles; fake rate: "
                "tracks of >= 5 hits matched to no particle / tracks of >= 5 hits; "
                "duplicate rate: extra matched tracks of a particle / matched tracks",
            ],
        )
    ]
    sections += _report_sections(result)
    return report_html(
        title=f"tracklearn evaluate: {n} event{'' if n == 1 else 's'}",
        rows=result.table_rows(),
        images=result.plots,
        provenance=result.provenance,
        sections=sections,
    )


def _read_truth_event(prefix: str | Path) -> Event:
    return read_event(
        prefix, parts=("hits", "truth", "particles"), require=("hits", "truth", "particles")
    )


@dataclass(frozen=True)
class EdgeSample:
    """Edge scores of one or more events with their truth labels. Shapes: (E,) each."""

    score: npt.NDArray[np.float64]
    label: npt.NDArray[np.float64]
    std: npt.NDArray[np.float64] | None

    @staticmethod
    def concatenate(parts: Sequence[EdgeSample]) -> EdgeSample:
        stds = [p.std for p in parts]
        return EdgeSample(
            np.concatenate([p.score for p in parts]),
            np.concatenate([p.label for p in parts]),
            None if any(s is None for s in stds) else np.concatenate(stds),  # type: ignore[arg-type]
        )


def _edge_sample(tracks_dir: str | Path, event: Event) -> EdgeSample | None:
    """The event's edge scores and labels (the classifier's own definition), if written."""
    from tracklearn.io.scores import edge_scores_path, read_edge_scores
    from tracklearn.training.graph_data import graph_labels

    path = edge_scores_path(tracks_dir, event.event_id)
    if not path.exists():
        return None
    edges = read_edge_scores(path, event)
    labels = graph_labels(event, np.stack([edges.inner, edges.outer]), edges.label_pt_min)
    std = None if edges.score_std is None else edges.score_std.astype(np.float64)
    return EdgeSample(edges.score.astype(np.float64), labels.astype(np.float64), std)


def edge_calibration(
    test: EdgeSample, validation: EdgeSample | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``calibration.json`` contents for edge scores, and the reliability curves to plot.

    ECE, NLL and reliability diagram of the scores against the labels; with
    ``validation``, a temperature fitted there and the same numbers after it;
    with MC-dropout spreads, the mean spread of right and wrong edges (decision
    at score 0.5) and the AUC of the spread as a detector of wrong edges.
    """
    from sklearn.metrics import roc_auc_score

    from tracklearn.metrics.calibration import (
        apply_temperature,
        fit_temperature,
        nll,
        reliability_curve,
    )

    raw = reliability_curve(test.score, test.label)
    doc: dict[str, Any] = {
        "n_edges": len(test.score),
        "n_true": int(test.label.sum()),
        "ece": raw.ece,
        "nll": nll(test.score, test.label),
        "reliability": raw.to_dict(),
        "definitions": {
            "label": "1 when both hits belong to one particle (of pT >= the classifier's "
            "label_pt_min when it has one), else 0",
            "ece": "sum over 10 equal-width score bins of n_b/N |fraction true - mean score|",
            "temperature": "T minimising the validation NLL of sigmoid(logit(score)/T)",
            "mc_dropout": "decision: score >= 0.5; auc_std_vs_error = ROC AUC of score_std "
            "separating wrong from right decisions (0.5: spread says nothing)",
        },
    }
    curves: dict[str, Any] = {"raw": raw}
    if validation is not None:
        t = fit_temperature(validation.score, validation.label)
        scaled = apply_temperature(test.score, t)
        after = reliability_curve(scaled, test.label)
        doc |= {
            "temperature": t,
            "n_edges_validation": len(validation.score),
            "ece_validation_before": reliability_curve(validation.score, validation.label).ece,
            "ece_after": after.ece,
            "nll_after": nll(scaled, test.label),
            "reliability_after": after.to_dict(),
        }
        curves["after"] = after
    if test.std is not None:
        wrong = (test.score >= 0.5) != (test.label > 0.5)
        auc = (
            float(roc_auc_score(wrong, test.std)) if 0 < wrong.sum() < len(wrong) else float("nan")
        )
        doc["mc_dropout"] = {
            "mean_std": float(test.std.mean()),
            "mean_std_right": float(test.std[~wrong].mean()) if (~wrong).any() else float("nan"),
            "mean_std_wrong": float(test.std[wrong].mean()) if wrong.any() else float("nan"),
            "fraction_wrong": float(wrong.mean()),
            "auc_std_vs_error": auc,
        }
    return doc, curves


def calibration_lines(calibration: dict[str, Any]) -> list[str]:
    """A few printable lines of ``calibration.json``."""
    lines = [
        f"edge scores: {calibration['n_edges']} edges, ECE {calibration['ece']:.4f}, "
        f"NLL {calibration['nll']:.4f}"
    ]
    if "temperature" in calibration:
        lines.append(
            f"temperature {calibration['temperature']:.3f} (fitted on "
            f"{calibration['n_edges_validation']} validation edges): ECE "
            f"{calibration['ece_after']:.4f}, NLL {calibration['nll_after']:.4f}"
        )
    mc = calibration.get("mc_dropout")
    if mc:
        lines.append(
            f"MC-dropout spread: right edges {mc['mean_std_right']:.4f}, wrong edges "
            f"{mc['mean_std_wrong']:.4f}, AUC as error detector {mc['auc_std_vs_error']:.3f}"
        )
    return lines


def _calibration_plot(out: Path, curves: dict[str, Any], test: EdgeSample) -> Path:
    from matplotlib.figure import Figure

    from tracklearn.plotting.calibration import plot_reliability, plot_spread_vs_error

    n_panels = 2 if test.std is not None else 1
    fig = Figure(figsize=(5.5 * n_panels, 4.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n_panels))
    plot_reliability(axes[0], curves["raw"], label="edge scores")
    if "after" in curves:
        plot_reliability(axes[0], curves["after"], label="after temperature scaling")
    axes[0].set_title(f"Reliability of edge scores ({len(test.score)} edges)")
    if test.std is not None:
        plot_spread_vs_error(
            axes[1], test.std, test.score - test.label, ylabel="RMS of (score - label)"
        )
        axes[1].set_title("MC-dropout spread against error")
    return _save(fig, out / "reliability.png")


def _with_parameters(
    tracks_dir: str | Path,
    event: Event,
    tracks: TrackCandidates,
    track_ids: npt.NDArray[np.int64],
    tracks_file: Path,
) -> TrackCandidates:
    """Attach the parameter file's rows to the tracks read from the tracks file.

    The parameters are ``event<id>-track-params.parquet`` beside CSV tracks, the
    ``track_params`` tree of a ROOT tracks file.  Rows are joined on ``track_id``;
    rows whose track lost all its hits in the tracks file (every hit shared with
    an earlier track) are dropped.
    """
    if tracks_file.suffix == ".root":
        from tracklearn.io.root import read_track_params_root

        in_root = read_track_params_root(tracks_file)
        if in_root is None:
            return tracks
        tid, params = in_root
    else:
        path = track_params_path(tracks_dir, event.event_id)
        if not path.exists():
            return tracks
        tid, params = read_track_params(path)
    pos = np.clip(np.searchsorted(track_ids, tid), 0, max(len(track_ids) - 1, 0))
    found = (track_ids[pos] == tid) if len(track_ids) else np.zeros(len(tid), bool)
    rows = np.flatnonzero(found)
    return tracks.with_parameters(params.take(rows).renumbered(pos[rows]))


def resolution_lines(resolution: dict[str, Any]) -> list[str]:
    """A few printable lines: σ(pT)/pT per bin (barrel) and the pull widths."""
    barrel = resolution["pt_resolution"]["barrel"]
    cells = [
        f"{b['pt_lo']:g}-{b['pt_hi']:g}: "
        + (f"{100 * b['sigma_pt_over_pt']:.2f}%" if b["n"] >= 5 else "n/a")
        + f" ({b['n']})"
        for b in barrel
        if b["n"]
    ]
    pulls = resolution["pulls"]
    return [
        f"fitted tracks matched to targets: {resolution['n_tracks']}",
        "sigma(pT)/pT, barrel |eta|<1, by true pT [GeV] (tracks): " + "; ".join(cells),
        "pull widths (Gaussian core fit sigma): "
        + ", ".join(f"{k} {v['core_sigma']:.2f}" for k, v in pulls.items()),
        "68 % / 95 % interval coverage: "
        + ", ".join(
            f"{k} {v.get('coverage_0.68', np.nan):.2f}/{v.get('coverage_0.95', np.nan):.2f}"
            for k, v in pulls.items()
        ),
    ]


def _nan_to_none(o: Any) -> Any:
    """NaN (empty bins) as JSON null, so that strict JSON readers accept the file."""
    if isinstance(o, dict):
        return {k: _nan_to_none(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_nan_to_none(v) for v in o]
    if isinstance(o, float) and not np.isfinite(o):
        return None
    return o


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
    for title, items in _report_sections(result):
        lines += ["", f"{title}:", ""]
        lines += [f"- {line}" for line in items]
    return "\n".join(lines) + "\n"


def _report_sections(result: EvaluationResult) -> list[tuple[str, list[str]]]:
    """The optional report sections (resolution, calibration) of summary.md and report.html."""
    sections = []
    if result.resolution is not None:
        sections.append(("Track parameters (resolution.json)", resolution_lines(result.resolution)))
    if result.calibration is not None:
        sections.append(
            ("Edge-score calibration (calibration.json)", calibration_lines(result.calibration))
        )
    return sections


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


def _resolution_plots(out: Path, res: Residuals, summary: dict[str, Any]) -> list[Path]:
    from matplotlib.figure import Figure

    from tracklearn.edm.track_parameters import PARAMETER_NAMES
    from tracklearn.plotting.resolution import plot_pt_resolution, plot_pull

    fig = Figure(figsize=(6, 4.2), layout="constrained")
    ax = fig.subplots()
    plot_pt_resolution(ax, summary["pt_resolution"]["barrel"], label=r"barrel $|\eta|<1$")
    plot_pt_resolution(ax, summary["pt_resolution"]["all"], label="all", fmt="s", mfc="none")
    ax.legend()
    ax.set_title(f"$p_T$ resolution ({len(res)} matched fitted tracks)")
    paths = [_save(fig, out / "resolution_pt.png")]
    labels = dict(
        zip(PARAMETER_NAMES, ("$d_0$", "$z_0$", r"$\phi$", r"$\theta$", "$q/p$"), strict=True)
    )
    fig = Figure(figsize=(13, 3.2), layout="constrained")
    axes = fig.subplots(1, 5)
    pulls = res.pull
    for j, (ax, name) in enumerate(zip(axes, PARAMETER_NAMES, strict=True)):
        w = summary["pulls"][name]
        plot_pull(
            ax, pulls[:, j], name=labels[name], core_mean=w["core_mean"], core_sigma=w["core_sigma"]
        )
    paths.append(_save(fig, out / "pulls.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    save_figure(fig, path, dpi=120)
    return path
