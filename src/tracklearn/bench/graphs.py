"""Benchmark of the graph builders: edge efficiency, purity, size, time and memory.

:func:`run_graph_bench` builds (or loads) each builder, applies it to held-out
test events and writes ``benchmarks/results/graph-construction.md``.  Every
builder runs in its own child process so that its peak resident memory is its
own (it includes the interpreter and, for the embedding, torch).

Metrics (:mod:`tracklearn.metrics.edges`), summed over the test events before
dividing: target edge efficiency (target segments joined / target segments),
purity (true edges / edges), edges per event; build time (learning the module
map), time per event (applying the builder, without reading the event).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import multiprocessing as mp
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tracklearn.io.atomic import write_text_atomic
from tracklearn.provenance import provenance

__all__ = [
    "BuilderSpec",
    "GraphBenchRow",
    "default_specs",
    "run_graph_bench",
    "run_graph_suite",
    "write_markdown",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuilderSpec:
    """One builder to benchmark.

    Attributes
    ----------
    label
        Row name in the report.
    kind
        Registered builder name (:mod:`tracklearn.graph.registry`).
    settings
        Keyword settings of the builder factory; for ``module_map`` the fields of
        :class:`~tracklearn.graph.module_map.ModuleMapConfig` (the map is learned
        from the training events inside the benchmark); for ``metric_learning``
        ``checkpoint`` and optional overrides.
    shown
        The settings as the report prints them (default: ``settings`` as JSON), e.g.
        a checkpoint made in the run's scratch folder rather than its path.
    """

    label: str
    kind: str
    settings: dict[str, Any]
    shown: str | None = None


@dataclass(frozen=True)
class GraphBenchRow:
    """Measured numbers of one builder (see the module docstring)."""

    label: str
    kind: str
    edge_efficiency: float
    edge_purity: float
    edges_per_event: float
    nodes_per_event: float
    build_s: float
    time_per_event_s: float
    peak_rss_mb: float
    n_events: int
    settings: str


def default_specs(embedding_checkpoint: Path | None = None) -> list[BuilderSpec]:
    """The builders of the shipped report (module map as in ``configs/gnn/module_map.yaml``)."""
    specs = [
        BuilderSpec("geometric pixel (IN plus cuts)", "geometric", {"layer_set": "pixel"}),
        BuilderSpec(
            "geometric all layers",
            "geometric",
            {"layer_set": "all", "phi_slope_max": 0.0006, "z0_max": 200.0},
        ),
        BuilderSpec(
            "module map",
            "module_map",
            {"pt_min": 0.4, "margin": 0.2, "rotations": 40, "reflect": True},
        ),
    ]
    if embedding_checkpoint is not None:
        specs.append(_embedding_spec(embedding_checkpoint))
    return specs


def _embedding_spec(checkpoint: Path, shown: str | None = None) -> BuilderSpec:
    return BuilderSpec("metric learning", "metric_learning", {"checkpoint": str(checkpoint)}, shown)


def _run_one(
    spec: BuilderSpec,
    train: Sequence[str],
    test: Sequence[str],
    detector: str | None,
    threads: int,
) -> GraphBenchRow:
    """Child-process body: build, apply to every test event, measure."""
    from tracklearn.graph.registry import make_builder
    from tracklearn.io.trackml import read_detector, read_event
    from tracklearn.metrics.edges import edge_metrics

    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    build_s = 0.0
    if spec.kind == "module_map":
        from tracklearn.graph.module_map import (
            ModuleMapConfig,
            ModuleMapGraphBuilder,
            build_module_map,
        )

        cfg = ModuleMapConfig(**spec.settings)
        det = read_detector(detector) if detector and (cfg.rotations or cfg.reflect) else None
        t0 = time.perf_counter()
        mm = build_module_map((read_event(p) for p in train), cfg, det)
        build_s = time.perf_counter() - t0
        builder: Any = ModuleMapGraphBuilder(mm)
    else:
        builder = make_builder(spec.kind, **spec.settings)
    kept = segs = edges = true = nodes = 0
    elapsed = 0.0
    for p in test:
        ev = read_event(p)
        t0 = time.perf_counter()
        g = builder(ev)
        elapsed += time.perf_counter() - t0
        m = edge_metrics(ev, g.hit_index[g.edge_index])
        kept += m.n_target_segments_kept
        segs += m.n_target_segments
        edges += m.n_edges
        true += m.n_true_edges
        nodes += g.n_nodes
    n = max(len(test), 1)
    return GraphBenchRow(
        label=spec.label,
        kind=spec.kind,
        edge_efficiency=kept / segs if segs else float("nan"),
        edge_purity=true / edges if edges else float("nan"),
        edges_per_event=edges / n,
        nodes_per_event=nodes / n,
        build_s=build_s,
        time_per_event_s=elapsed / n,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        n_events=len(test),
        settings=spec.shown or json.dumps(spec.settings, sort_keys=True, default=str),
    )


def run_graph_bench(
    train_dir: str | Path,
    test_dir: str | Path,
    out: str | Path = Path("benchmarks/results/graph-construction.md"),
    specs: Sequence[BuilderSpec] | None = None,
    *,
    detector: str | Path | None = None,
    threads: int = 1,
    notes: str = "",
) -> list[GraphBenchRow]:
    """Benchmark graph builders on held-out events and write the Markdown report.

    Parameters
    ----------
    train_dir
        Events the learned builders are built from (the module map here; the
        embedding is trained beforehand by the ``embedding`` stage).
    test_dir
        Held-out events the builders are measured on (truth needed).
    out
        Markdown file to write.
    specs
        Builders to run; :func:`default_specs` when None.
    detector
        ``detectors.csv`` for the module-map augmentation (default: the shared one).
    threads
        Torch threads in each child process.
    notes
        Extra Markdown (how the events were made) put under the table.

    Returns
    -------
    list of GraphBenchRow
    """
    from tracklearn.io.trackml import find_events

    train = [str(p) for p in sorted(find_events([train_dir]))]
    test = [str(p) for p in sorted(find_events([test_dir]))]
    if detector is None:
        from tracklearn.datapaths import shared_data_dir

        detector = shared_data_dir() / "trackml" / "detectors.csv.gz"
    rows: list[GraphBenchRow] = []
    ctx = mp.get_context("spawn")
    for spec in specs if specs is not None else default_specs():
        log.info("graph bench: %s", spec.label)
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            row = pool.submit(_run_one, spec, train, test, str(detector), threads).result()
        rows.append(row)
    write_markdown(
        rows, out, train_dir=train_dir, test_dir=test_dir, n_train=len(train), notes=notes
    )
    return rows


def run_graph_suite(
    train_dir: Path,
    test_dir: Path,
    out: Path,
    work: Path,
    *,
    detector: Path,
    embedding_config: Path,
    events_note: str,
    specs: Sequence[BuilderSpec] | None = None,
) -> Path:
    """``tracklearn bench --suite graphs``: train the embedding, then measure every builder.

    The metric-learning embedding is trained inside the run (``tracklearn train
    embedding`` with ``embedding_config`` on ``train_dir``, its last event for
    validation) so that no row needs a checkpoint made outside it; the module map
    is learned from the same events by :func:`run_graph_bench`. ``specs``: the
    other builders (default: those of :func:`default_specs`); the embedding's row
    is added after them.
    """
    from tracklearn.config import load_yaml
    from tracklearn.training.stages import run_stage

    config = load_yaml(embedding_config)
    emb = work / "embedding"
    log.info("graph bench: training the embedding (%s)", embedding_config)
    t0 = time.perf_counter()
    metrics = run_stage("embedding", config, train_dir, emb, resume=False)
    train_s = time.perf_counter() - t0
    epochs = config.get("train", {}).get("epochs", "?")
    notes = (
        f"{events_note} The module map is learned inside the benchmark from all training "
        f"events (`configs/gnn/module_map.yaml` settings); the embedding is trained inside it "
        f"too (`tracklearn train embedding --config configs/gnn/embedding.yaml`, up to {epochs} "
        f"epochs, the last training event for validation: {train_s:.0f} s on one thread, "
        f"validation edge efficiency {metrics.get('val_edge_efficiency', float('nan')):.3f}, "
        f"purity {metrics.get('val_edge_purity', float('nan')):.3f}). The geometric builders use "
        "every hit (no truth filter) and only the layer pairs of their set; their efficiency "
        "still counts all target segments, so the pixel graph cannot reach strip segments by "
        "construction. Same-layer segments (overlapping modules) are only reachable by the "
        "module map and the embedding."
    )
    # the checkpoint lives in the run's scratch folder: the report says so, not its path
    embedding = _embedding_spec(emb / "best.pt", shown='{"checkpoint": "trained in this run"}')
    run_specs = [*(default_specs() if specs is None else specs), embedding]
    run_graph_bench(train_dir, test_dir, out, run_specs, detector=detector, notes=notes)
    return out


def _fmt(x: float, digits: int = 4) -> str:
    return "—" if x != x else f"{x:.{digits}f}"


def write_markdown(
    rows: Sequence[GraphBenchRow],
    out: str | Path,
    *,
    train_dir: str | Path,
    test_dir: str | Path,
    n_train: int,
    notes: str = "",
) -> Path:
    """Write the report table (and a JSON copy beside it) atomically."""
    out = Path(out)
    prov = provenance()
    lines = [
        "# Graph construction",
        "",
        f"Written by `tracklearn bench --suite graphs` on "
        f"{_dt.date.today().isoformat()} (tracklearn {prov['tracklearn_version']}, "
        f"git {prov['git_revision']}).",
        "",
        f"Built from {n_train} training events in `{Path(train_dir).name}`; measured on "
        f"{rows[0].n_events if rows else 0} held-out events in `{Path(test_dir).name}`.",
        "Edge efficiency: true consecutive segments of target particles (pT ≥ 1 GeV, "
        "|η| ≤ 4, ≥ 5 layers) that the graph joins; purity: edges joining two hits of one "
        "particle / edges (`tracklearn.metrics.edges`). Time: applying the builder to one "
        "event, 1 thread; peak RSS: the child process that built and applied it.",
        "",
        "| builder | edge efficiency | purity | edges / event | nodes / event "
        "| build [s] | time / event [s] | peak RSS [MB] |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {_fmt(r.edge_efficiency)} | {_fmt(r.edge_purity)} "
            f"| {r.edges_per_event:,.0f} | {r.nodes_per_event:,.0f} | {_fmt(r.build_s, 1)} "
            f"| {_fmt(r.time_per_event_s, 2)} | {r.peak_rss_mb:,.0f} |"
        )
    lines += ["", "Settings:", ""]
    lines += [f"- {r.label} (`{r.kind}`): `{r.settings}`" for r in rows]
    if notes:
        lines += ["", notes.strip()]
    write_text_atomic(out, "\n".join(lines) + "\n")
    write_text_atomic(
        out.with_suffix(".json"),
        json.dumps({"rows": [asdict(r) for r in rows], "provenance": prov}, indent=2) + "\n",
    )
    return out
