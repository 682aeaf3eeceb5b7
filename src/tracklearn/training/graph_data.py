"""Graphs for training edge models: built from a folder of events, cached, split in sectors.

Graphs are cached as ``.npz`` under ``cache/<hash>/`` where the hash covers the
builder name and config, so a changed builder never reads stale graphs.
Large graphs are cut into φ sectors (edges grouped by the azimuth of their
inner hit) so that one training step stays small on a CPU.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, Graph
from tracklearn.errors import DataError
from tracklearn.graph.builders import make_builder
from tracklearn.graph.subgraph import edge_subgraph
from tracklearn.io import find_events, read_event
from tracklearn.io.atomic import atomic_path
from tracklearn.metrics.truth import edge_labels

log = logging.getLogger(__name__)


class GraphDataConfig(BaseModel):
    """Which events become training graphs and how.

    ``sectors``: φ sectors per graph (by the azimuth of the inner hit, node
    feature column 1 = φ/π); ``sectors_per_event``: how many of them (chosen
    with the seed) are kept per event, ``None`` = all.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    builder: str = "geometric"
    builder_config: dict[str, Any] = Field(default_factory=dict)
    val_events: int = Field(2, ge=1)  # the last events of the folder (sorted) validate
    max_events: int | None = Field(None, ge=2)
    sectors: int = Field(1, ge=1)
    sectors_per_event: int | None = Field(None, ge=1)
    seed: int = 0
    # GeV; if set, only edges of particles with pT >= this are true (the target tracks),
    # edges of slower particles count as false
    label_pt_min: float | None = Field(None, ge=0)


def _cache_key(cfg: GraphDataConfig) -> str:
    spec = json.dumps(
        {"builder": cfg.builder, "config": cfg.builder_config, "label_pt_min": cfg.label_pt_min},
        sort_keys=True,
    )
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def _save(path: Path, g: Graph) -> None:
    assert g.edge_attr is not None and g.y is not None
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(
            fh,
            hit_index=g.hit_index,
            x=g.x,
            edge_index=g.edge_index,
            edge_attr=g.edge_attr,
            y=g.y,
            event_id=np.int64(g.event_id),
        )


def _load(path: Path) -> Graph:
    with np.load(path) as f:
        return Graph(
            hit_index=f["hit_index"],
            x=f["x"],
            edge_index=f["edge_index"],
            edge_attr=f["edge_attr"],
            y=f["y"],
            event_id=int(f["event_id"]),
        )


def build_graphs(
    prefixes: Sequence[Path],
    cfg: GraphDataConfig,
    cache: Path,
    on_event: Callable[[], None] | None = None,
) -> list[Graph]:
    """Labelled graphs of ``prefixes``, read from or written to the cache (see module doc)."""
    folder = cache / _cache_key(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    builder = None
    graphs = []
    for prefix in prefixes:
        path = folder / f"{Path(prefix).name}.npz"
        if path.exists():
            g = _load(path)
        else:
            builder = builder or make_builder(cfg.builder, cfg.builder_config)
            event = read_event(prefix, parts=("hits", "truth", "particles"))
            if not event.has_truth:
                raise DataError(prefix, "training needs truth")
            g = builder(event)
            g = Graph(
                g.hit_index,
                g.x,
                g.edge_index,
                g.edge_attr,
                graph_labels(event, g.hit_index[g.edge_index], cfg.label_pt_min),
                g.event_id,
            )
            _save(path, g)
        graphs.append(g)
        if on_event is not None:
            on_event()
    return graphs


def graph_labels(
    event: Event, hit_edges: npt.NDArray[np.int64], pt_min: float | None
) -> npt.NDArray[np.float32]:
    """Same-particle labels of edges (hit rows, shape (2, E)), optionally only for pT ≥ ``pt_min``.

    Shapes: (2, E) → (E,) float32.
    """
    y = edge_labels(event, hit_edges)
    if pt_min is None:
        return y
    assert event.truth is not None and event.particles is not None
    p = event.particles
    fast = np.sort(p.particle_id[np.hypot(p.px, p.py) >= pt_min])
    pid = event.truth.particle_id[hit_edges[0]]
    if len(fast) == 0:
        return np.zeros_like(y)
    pos = np.clip(np.searchsorted(fast, pid), 0, len(fast) - 1)
    out: npt.NDArray[np.float32] = y * (fast[pos] == pid).astype(np.float32)
    return out


def sector_graphs(
    graph: Graph, sectors: int, keep: int | None, rng: np.random.Generator
) -> list[Graph]:
    """Cut ``graph`` into ``sectors`` φ sectors by inner-hit azimuth; keep ``keep`` of them."""
    if sectors == 1:
        return [graph]
    phi = graph.x[graph.edge_index[0], 1]  # φ/π in [-1, 1]
    sector = np.minimum(((phi + 1.0) / 2.0 * sectors).astype(np.int64), sectors - 1)
    chosen = np.arange(sectors) if keep is None else rng.choice(sectors, min(keep, sectors), False)
    return [edge_subgraph(graph, sector == s) for s in np.sort(chosen)]


def split_events(data: Path, cfg: GraphDataConfig) -> tuple[list[Path], list[Path]]:
    """Event prefixes of ``data`` split into (train, validation): the last ``val_events``."""
    prefixes = sorted(find_events([data]))
    if cfg.max_events is not None:
        prefixes = prefixes[: cfg.max_events]
    if len(prefixes) <= cfg.val_events:
        raise DataError(data, f"need more than {cfg.val_events} events, found {len(prefixes)}")
    return prefixes[: -cfg.val_events], prefixes[-cfg.val_events :]
