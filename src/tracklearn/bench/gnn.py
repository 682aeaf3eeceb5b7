"""Benchmark of the ``gnn`` method next to DBSCAN: writes ``benchmarks/results/gnn.md``.

:func:`run_gnn_bench` measures, on the same events:

* per stage (graph, filter, classifier) the edge efficiency (target segments
  kept; targets of DESIGN.md) and purity (same-particle edges / edges), in process;
* ``gnn`` and ``dbscan`` through ``tracklearn reconstruct`` + ``evaluate`` in
  subprocesses (so time per event and peak RSS belong to one method each):
  DM efficiency, fake and duplicate rates, TrackML score;
* the same on the real 5 % TrackML event;
* ``evaluate-edges`` on the real Interaction-Network-paper graphs, per set;
* efficiency vs pT and η of both methods in one plot each (PNG beside the table);
* time per event and peak RSS of ``gnn`` vs the number of hits (one event per
  pile-up value, when ``scaling`` events are given), with a plot.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.graph.subgraph import edge_subgraph, filter_edges
from tracklearn.io import find_events, read_event
from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.metrics.edges import edge_metrics
from tracklearn.provenance import provenance

log = logging.getLogger(__name__)

KEYS = ("efficiency", "fake_rate", "duplicate_rate", "trackml_score", "time_s", "peak_rss_mb")


def _cli(*args: str) -> None:
    cmd = [sys.executable, "-m", "tracklearn.cli", *args]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {run.stderr.strip()[-500:]}")


def method_metrics(
    events: Sequence[Path], method: str, work: Path, model: Path | None = None
) -> dict[str, Any]:
    """``reconstruct`` then ``evaluate`` ``events`` with ``method``; the ``"all"`` metrics."""
    tracks, report = work / f"{method}-tracks", work / f"{method}-eval"
    extra = ["--model", str(model)] if model is not None else []
    _cli("reconstruct", *map(str, events), "--method", method, "--out", str(tracks), *extra)
    truth = [arg for e in events for arg in ("--truth", str(e))]
    _cli("evaluate", *truth, "--tracks", str(tracks), "--out", str(report))
    doc = json.loads((report / "metrics.json").read_text())
    return dict(doc["all"])


def stage_edge_metrics(events: Sequence[Path], model: Path | None = None) -> dict[str, Any]:
    """Edge efficiency / purity after graph building, filter and classifier (summed counts)."""
    from tracklearn.pipeline.gnn import GNNConfig, GNNReconstructor

    reco = GNNReconstructor(GNNConfig(model=str(model) if model else None))
    sums: dict[str, np.ndarray] = {}
    n_edges: dict[str, list[int]] = {}
    for prefix in events:
        event = read_event(prefix, parts=("hits", "truth", "particles"))
        g = reco.graph_builder(event)
        stages = [("graph", g)]
        if reco.filter is not None:
            g = filter_edges(g, reco.filter)
            stages.append(("filter", g))
        s = reco.classifier.scores(g)
        stages.append(("classifier", edge_subgraph(g, s >= reco.classifier.threshold)))
        for name, graph in stages:
            m = edge_metrics(event, graph.hit_index[graph.edge_index])
            counts = np.array(
                [m.n_target_segments_kept, m.n_target_segments, m.n_true_edges, m.n_edges]
            )
            sums[name] = sums.get(name, np.zeros(4, np.int64)) + counts
            n_edges.setdefault(name, []).append(m.n_edges)
    return {
        name: {
            "edge_efficiency": c[0] / max(c[1], 1),
            "edge_purity": c[2] / max(c[3], 1),
            "edges_per_event": float(np.mean(n_edges[name])),
        }
        for name, c in sums.items()
    }


def efficiency_overlays(
    events: Sequence[Path], track_dirs: dict[str, Path], out: Path, stem: str
) -> list[Path]:
    """Efficiency vs pT and vs η of several methods on the same events, one PNG each.

    ``track_dirs`` maps a method name to the folder its ``reconstruct`` wrote.
    Returns the written files ``out/<stem>_efficiency_pt.png`` and ``..._eta.png``.
    """
    from matplotlib.figure import Figure

    from tracklearn.evaluation import ETA_BINS, PT_BINS
    from tracklearn.io.tracks import read_tracks, tracks_path
    from tracklearn.metrics.curves import ParticleTable, efficiency_curve, particle_table
    from tracklearn.plotting.efficiency import plot_efficiency

    tables: dict[str, list[ParticleTable]] = {m: [] for m in track_dirs}
    for prefix in events:
        event = read_event(prefix, parts=("hits", "truth", "particles"))
        for method, folder in track_dirs.items():
            tracks = read_tracks(tracks_path(folder, event.event_id), event)
            tables[method].append(particle_table(event, tracks))
    written = []
    for var, bins, xlabel, logx in (
        ("pt", PT_BINS, "$p_T$ [GeV]", True),
        ("eta", ETA_BINS, r"$\eta$", False),
    ):
        fig = Figure(figsize=(6, 4.2), layout="constrained")
        ax = fig.subplots()
        for method, parts in tables.items():
            t = ParticleTable.concatenate(parts)
            values = t.pt if var == "pt" else t.eta
            plot_efficiency(ax, efficiency_curve(values, t.matched, bins), label=method,
                            xlabel=xlabel)  # fmt: skip
        if logx:
            ax.set_xscale("log")
        ax.set_title(f"DM efficiency, {len(events)} simulated events")
        ax.legend(loc="lower right")
        path = out / f"{stem}_efficiency_{var}.png"
        written.append(_save_png(fig, path))
    return written


def _save_png(fig: Any, path: Path) -> Path:

    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=120)
    return path


def time_vs_hits(
    scaling: dict[float, Path], work: Path, model: Path | None, out: Path
) -> list[dict[str, float]]:
    """``gnn`` time per event and peak RSS on one event per pile-up value; plot to ``out``."""
    from matplotlib.figure import Figure

    rows = []
    for mu, folder in sorted(scaling.items()):
        events = sorted(find_events([folder]))[:1]
        m = method_metrics(events, "gnn", work / f"mu{mu:g}", model)
        n_hits = read_event(events[0], parts=("hits",)).n_hits
        rows.append({"pileup": mu, "n_hits": float(n_hits), "time_s": m["time_s"],
                     "peak_rss_mb": m.get("peak_rss_mb", float("nan")),
                     "efficiency": m["efficiency"], "fake_rate": m["fake_rate"]})  # fmt: skip
    fig = Figure(figsize=(6, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot([r["n_hits"] for r in rows], [r["time_s"] for r in rows], "o-", label="gnn")
    for r in rows:
        ax.annotate(f"μ={r['pileup']:g}", (r["n_hits"], r["time_s"]), fontsize=8)
    ax.set_xlabel("hits per event")
    ax.set_ylabel("seconds per event")
    ax.set_ylim(bottom=0)
    ax.set_title("gnn reconstruction time vs event size")
    _save_png(fig, out / "gnn_time_vs_hits.png")
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def run_gnn_bench(
    out: str | Path,
    events_dir: str | Path,
    work: str | Path,
    *,
    model: str | Path | None = None,
    real_prefix: str | Path | None = None,
    in_graphs: str | Path | None = None,
    in_model: str | Path | None = None,
    scaling: dict[float, Path] | None = None,
    note: str = "",
) -> Path:
    """Measure ``gnn`` against ``dbscan`` and write ``out/gnn.md`` (and ``gnn.json``).

    Parameters
    ----------
    events_dir
        Simulated events with truth, not used in training.
    work
        Scratch folder for tracks and reports.
    model
        ``gnn`` model folder; the shipped default when None.
    real_prefix
        The real TrackML event (5 % subsample) to also reconstruct.
    in_graphs, in_model
        IN-paper graph folder and the classifier to score them with.
    scaling
        Pile-up value → folder of events; the first event of each is reconstructed
        with ``gnn`` for the time-vs-hits table and plot.
    """
    out, work = Path(out), Path(work)
    events = sorted(find_events([events_dir]))
    model_p = Path(model) if model else None
    res: dict[str, Any] = {"events": [str(e) for e in events]}
    # Methods run first, in subprocesses forked while this process is still small: Linux
    # carries the parent's peak RSS (ru_maxrss) across fork/exec into the child's figure.
    res["simulated"] = {
        m: method_metrics(events, m, work / "sim", model_p if m == "gnn" else None)
        for m in ("dbscan", "gnn")
    }
    if real_prefix is not None:
        res["real"] = {
            m: method_metrics(
                [Path(real_prefix)], m, work / "real", model_p if m == "gnn" else None
            )
            for m in ("dbscan", "gnn")
        }
    if scaling:
        res["scaling"] = time_vs_hits(scaling, work / "scaling", model_p, out / "gnn")
    res["plots"] = [
        str(p.relative_to(out))
        for p in efficiency_overlays(
            events, {m: work / "sim" / f"{m}-tracks" for m in res["simulated"]}, out / "gnn", "sim"
        )
    ]
    res["stages"] = stage_edge_metrics(events, model_p)
    if in_graphs is not None:
        from tracklearn.pipeline.evaluate_edges import evaluate_edge_files

        r = evaluate_edge_files(in_graphs, work / "in_graphs", in_model)
        res["in_graphs"] = {"all": {k: r[k] for k in ("edge_efficiency", "edge_purity",
                                                       "roc_auc", "n_edges", "threshold")},
                            **r["per_set"]}  # fmt: skip
    res["provenance"] = provenance()
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "gnn.json", json.dumps(res, indent=1, default=float))
    path = out / "gnn.md"
    write_text_atomic(path, _markdown(res, note))
    return path


def _markdown(res: dict[str, Any], note: str) -> str:
    lines = ["# GNN track finding (`--method gnn`) vs DBSCAN", ""]
    if note:
        lines += [note, ""]
    lines += [f"Simulated events: {len(res['events'])} (not used in training).", ""]
    lines += ["## Edges per stage (simulated)", "",
              "| stage | edge efficiency (target segments) | purity | edges/event |",
              "|---|---|---|---|"]  # fmt: skip
    for name, m in res["stages"].items():
        lines.append(
            f"| {name} | {_fmt(m['edge_efficiency'])} | {_fmt(m['edge_purity'])} | "
            f"{m['edges_per_event']:.0f} |"
        )
    for title, key in (("Tracks, simulated events", "simulated"), ("Tracks, real event", "real")):
        if key not in res:
            continue
        lines += ["", f"## {title}", "", "| method | " + " | ".join(KEYS) + " |",
                  "|---" * (len(KEYS) + 1) + "|"]  # fmt: skip
        for method, m in res[key].items():
            lines.append(f"| {method} | " + " | ".join(_fmt(m.get(k, "")) for k in KEYS) + " |")
    if res.get("scaling"):
        lines += ["", "## gnn time vs event size (one event per pile-up value)", "",
                  "| pile-up μ | hits | s/event | peak RSS MB | efficiency | fake_rate |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for r in res["scaling"]:
            lines.append(
                f"| {r['pileup']:g} | {r['n_hits']:.0f} | {_fmt(r['time_s'])} | "
                f"{_fmt(r['peak_rss_mb'])} | {_fmt(r['efficiency'])} | {_fmt(r['fake_rate'])} |"
            )
        lines += ["", "![time vs hits](gnn/gnn_time_vs_hits.png)"]
    if res.get("plots"):
        lines += ["", "## Efficiency vs pT and η (simulated events)", ""]
        lines += [f"![{Path(p).stem}]({p})" for p in res["plots"]]
    if "in_graphs" in res:
        lines += ["", "## Real IN-paper graphs (evaluate-edges, no retraining)", ""]
        lines += [
            "| set | edge efficiency | edge purity | ROC AUC | edges |",
            "|---|---|---|---|---|",
        ]
        for name, m in res["in_graphs"].items():
            lines.append(
                f"| {name} | {_fmt(m['edge_efficiency'])} | {_fmt(m['edge_purity'])} | "
                f"{_fmt(m['roc_auc'])} | {m['n_edges']:.0f} |"
            )
    lines += ["", f"git revision {res['provenance']['git_revision']}", ""]
    return "\n".join(lines)
