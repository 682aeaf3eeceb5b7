"""Edge metrics of hit graphs: how many true segments a graph keeps, and how clean it is.

Definitions (one place; cited by the graph builders, the benchmark and the CLI):

* **target segment**: a true segment (two consecutive hits of one particle,
  :func:`tracklearn.graph.truth.true_segments`) of a *target* particle
  (:func:`tracklearn.metrics.targets.target_mask`: pT ≥ 1 GeV, |η| ≤ 4, ≥ 5 layers
  by default);
* **edge efficiency** = target segments the graph joins (an edge between the two
  hits, in either direction) / target segments; NaN without target segments;
* **edge purity** = true edges / edges, a true edge joining two hits of one
  (non-noise) particle (:func:`tracklearn.graph.truth.edge_labels`, the label of the
  IN-paper graphs); NaN for a graph without edges;
* for scored edges: ``roc_auc`` of the scores against the true-edge labels (NaN
  when only one class is present) and efficiency and purity of the edges with
  ``score >= threshold``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event
from tracklearn.metrics.targets import TargetSelection, target_mask
from tracklearn.metrics.truth import edge_labels, true_segments
from tracklearn.typing import IntArray

__all__ = [
    "EdgeMetrics",
    "edge_metrics",
    "label_metrics",
    "target_segments",
]


@dataclass(frozen=True)
class EdgeMetrics:
    """Edge metrics of one graph (see the module docstring for each definition).

    Attributes
    ----------
    edge_efficiency
        Kept target segments / target segments (NaN without target segments).
    edge_purity
        True edges / edges (NaN without edges).
    n_edges, n_true_edges
        Edges, and those joining two hits of one particle.
    n_target_segments, n_target_segments_kept
        Target segments, and those the graph joins.
    roc_auc
        Area under the ROC curve of the scores (NaN without scores or with one class).
    threshold
        Score cut of the ``*_at_threshold`` fields (NaN without scores).
    edge_efficiency_at_threshold, edge_purity_at_threshold
        The same definitions on the edges with ``score >= threshold`` (NaN without scores).
    """

    edge_efficiency: float
    edge_purity: float
    n_edges: int
    n_true_edges: int
    n_target_segments: int
    n_target_segments_kept: int
    roc_auc: float = float("nan")
    threshold: float = float("nan")
    edge_efficiency_at_threshold: float = float("nan")
    edge_purity_at_threshold: float = float("nan")

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def target_segments(event: Event, sel: TargetSelection | None = None) -> IntArray:
    """True segments of target particles, hit rows, shape ``(2, S)``, inner hit first."""
    seg = true_segments(event)
    if seg.shape[1] == 0:
        return seg
    assert event.truth is not None and event.particles is not None
    is_target = target_mask(event, sel)
    targets = np.sort(event.particles.particle_id[is_target])
    pid = event.truth.particle_id[seg[0]]
    if len(targets) == 0:
        return seg[:, :0]
    pos = np.clip(np.searchsorted(targets, pid), 0, len(targets) - 1)
    return seg[:, targets[pos] == pid]


def _undirected_key(a: IntArray, b: IntArray, n: int) -> IntArray:
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo.astype(np.int64) * n + hi.astype(np.int64)


def _count_kept(segments: IntArray, edges: IntArray, n_hits: int) -> int:
    if segments.shape[1] == 0 or edges.shape[1] == 0:
        return 0
    edge_keys = np.unique(_undirected_key(edges[0], edges[1], n_hits))
    seg_keys = _undirected_key(segments[0], segments[1], n_hits)
    return int(np.count_nonzero(np.isin(seg_keys, edge_keys)))


def label_metrics(
    y: npt.ArrayLike, scores: npt.ArrayLike, threshold: float = 0.5
) -> dict[str, float]:
    """Classifier metrics from edge labels alone (graphs read without their event).

    Here efficiency is true edges with ``score >= threshold`` / true edges (the
    TPR), since the graph's missing segments are unknown.

    Parameters
    ----------
    y, scores
        Label (1 = true edge) and score of each edge, shapes ``(E,)``.

    Returns
    -------
    dict
        ``edge_efficiency``, ``edge_purity``, ``roc_auc``, ``n_edges``, ``threshold``.
    """
    yy = np.asarray(y).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    sel = s >= threshold
    tp = int(np.count_nonzero(sel & yy))
    return {
        "edge_efficiency": _ratio(tp, int(np.count_nonzero(yy))),
        "edge_purity": _ratio(tp, int(np.count_nonzero(sel))),
        "roc_auc": _roc_auc(yy, s),
        "n_edges": float(len(yy)),
        "threshold": float(threshold),
    }


def _roc_auc(y: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64]) -> float:
    if len(y) == 0 or y.all() or not y.any():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def edge_metrics(
    event: Event,
    edge_index: npt.ArrayLike,
    scores: npt.ArrayLike | None = None,
    threshold: float = 0.5,
    sel: TargetSelection | None = None,
) -> EdgeMetrics:
    """Edge efficiency, purity and (with scores) ROC AUC of a graph on one event.

    Parameters
    ----------
    event
        Event with truth and particles.
    edge_index
        Edges as **hit rows** of ``event`` (for a :class:`~tracklearn.edm.Graph`
        pass ``graph.hit_index[graph.edge_index]``).
    scores
        Optional edge scores (higher = more likely true).
    threshold
        Score cut for the ``*_at_threshold`` fields.
    sel
        Target selection; the DESIGN.md default when None.

    Shapes
    ------
    ``edge_index`` ``(2, E)``, ``scores`` ``(E,)``.
    """
    edges = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    segments = target_segments(event, sel)
    y = edge_labels(event, edges).astype(bool)
    n_edges = edges.shape[1]
    n_true = int(np.count_nonzero(y))
    kept = _count_kept(segments, edges, event.n_hits)
    n_seg = segments.shape[1]
    out = EdgeMetrics(
        edge_efficiency=_ratio(kept, n_seg),
        edge_purity=_ratio(n_true, n_edges),
        n_edges=n_edges,
        n_true_edges=n_true,
        n_target_segments=n_seg,
        n_target_segments_kept=kept,
    )
    if scores is None:
        return out
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.shape != (n_edges,):
        raise ValueError(f"scores must have shape ({n_edges},), got {s.shape}")
    sel_edges = s >= threshold
    kept_t = _count_kept(segments, edges[:, sel_edges], event.n_hits)
    return EdgeMetrics(
        **{
            **asdict(out),
            "roc_auc": _roc_auc(y, s),
            "threshold": float(threshold),
            "edge_efficiency_at_threshold": _ratio(kept_t, n_seg),
            "edge_purity_at_threshold": _ratio(
                int(np.count_nonzero(y & sel_edges)), int(np.count_nonzero(sel_edges))
            ),
        }
    )
