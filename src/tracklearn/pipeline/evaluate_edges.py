"""Edge efficiency, purity and ROC AUC of a trained classifier on pre-built graph files.

Used by ``tracklearn evaluate-edges``; the graphs are read, never trained on.  The
file formats are those of :mod:`tracklearn.io.graphs` (``in-npz``,
``heptrkx-sectors``); a graph read without edge features gets the IN-paper ones
computed from its nodes (:func:`tracklearn.graph.features.edge_features`).
It lives in ``pipeline``, above both ``models`` and ``graph``, because it uses both
(in ``models`` it closed a ``graph`` <-> ``models`` import cycle).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.datapaths import DEFAULT_MODEL
from tracklearn.edm import Graph
from tracklearn.errors import DataError
from tracklearn.graph.features import edge_features
from tracklearn.io.atomic import write_text_atomic
from tracklearn.io.graphs import get_graph_reader
from tracklearn.metrics.edges import label_metrics
from tracklearn.models.edge_model import EdgeModel
from tracklearn.provenance import provenance

log = logging.getLogger(__name__)


def with_edge_features(graph: Graph) -> Graph:
    """``graph`` itself when it has edge features, else a copy with the IN-paper ones.

    The node features must be the global ``[r / 1 m, phi / pi, z / 1 m]``.

    Shapes: ``edge_attr`` of the result (E, 4).
    """
    if graph.edge_attr is not None:
        return graph
    return dataclasses.replace(graph, edge_attr=edge_features(graph.x, graph.edge_index))


def evaluate_edge_files(
    graph_dir: str | Path,
    out: str | Path,
    model: str | Path | None = None,
    fmt: str = "in-npz",
    threshold: float | None = None,
    on_file: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Score every graph file under ``graph_dir``; write ``out/edge_metrics.json``.

    Parameters
    ----------
    graph_dir
        Folder searched recursively for ``*.npz`` graphs.
    fmt
        Graph file format, a name of :func:`tracklearn.io.graphs.available_graph_formats`.
    model
        A classifier folder (``model.json``); default the shipped ``gnn`` model.
    threshold
        Edge-score cut; default the threshold stored with the model.

    Returns
    -------
    dict
        ``edge_efficiency``, ``edge_purity``, ``roc_auc``, ``n_edges`` over all
        files (edges pooled), ``per_set`` (per sub-folder) and ``per_file``.
    """
    read = get_graph_reader(fmt)  # an unknown format fails here, listing the valid ones
    if model is None:
        # the shipped classifier for pT-filtered pixel graphs, trained on simulated graphs
        # built like the IN paper's (see configs/gnn/edge_classifier_in_style.yaml)
        model = DEFAULT_MODEL / "in_graphs" if (DEFAULT_MODEL / "in_graphs").exists() else None
    clf = EdgeModel.load(model or DEFAULT_MODEL)
    thr = clf.threshold if threshold is None else threshold
    root = Path(graph_dir)
    files = sorted(root.rglob("*.npz"))
    if not files:
        raise DataError(root, "no .npz graph files found")
    per_file: dict[str, dict[str, float]] = {}
    pooled: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for path in files:
        g = with_edge_features(read(path))
        assert g.y is not None
        s = clf.scores(g)
        rel = str(path.relative_to(root))
        per_file[rel] = label_metrics(g.y, s, thr)
        group = str(path.parent.relative_to(root))
        ys, ss = pooled.setdefault(group, ([], []))
        ys.append(g.y)
        ss.append(s)
        if on_file is not None:
            on_file()
    per_set = {
        k: label_metrics(np.concatenate(v[0]), np.concatenate(v[1]), thr) for k, v in pooled.items()
    }
    all_y = np.concatenate([y for v in pooled.values() for y in v[0]])
    all_s = np.concatenate([s for v in pooled.values() for s in v[1]])
    result: dict[str, Any] = {
        **label_metrics(all_y, all_s, thr),
        "threshold": thr,
        "model": str(model or DEFAULT_MODEL),
        "format": fmt,
        "n_files": len(files),
        "per_set": per_set,
        "per_file": per_file,
        "provenance": provenance(),
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "edge_metrics.json", json.dumps(result, indent=2))
    return result
