"""Choose the gnn track building on validation events, and say where targets are lost.

Usage::

    python scripts/choose_building.py MODEL_FOLDER EVENT [EVENT ...] [--quick] [--compare JSON]

Runs the model's graph builder, filter and classifier once per event, then scans
the track building (method x threshold x selection) on the cached edge scores and
prints the configurations ranked by DM efficiency minus fake rate.  For the best
one and for the model's current building it also prints, for every missed target
particle, the first stage that loses it:

* ``graph``: no component of its same-particle edges in the module-map graph
  holds more than half of its hits;
* ``filter``: likewise after the filter;
* ``classifier``: likewise among the edges scoring at least the building threshold;
* ``building``: its edges are there but its best track is merged with another
  particle (``merged``), holds too few of its hits (``split``) or was dropped by
  the selection (``dropped``).

Fakes are split into ``merged`` (no particle holds more than half of the track)
and ``fragment`` (one does, but the track has at most half of its hits).
Use validation events only: the test events are for the final number.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.building import connected_component_labels, layer_code, make_track_builder
from tracklearn.building.selection import n_layers_per_track, select_tracks
from tracklearn.edm import Event, Graph, TrackCandidates
from tracklearn.graph.subgraph import edge_subgraph
from tracklearn.io import read_event
from tracklearn.metrics.matching import match_tracks
from tracklearn.metrics.rates import aggregate, evaluate_event
from tracklearn.metrics.targets import target_mask
from tracklearn.pipeline.gnn import GNNConfig, GNNReconstructor

Cached = tuple[Event, Graph, npt.NDArray[np.float32], dict[str, npt.NDArray[np.int64]]]


def _cache(reco: GNNReconstructor, prefix: Path) -> Cached:
    event = read_event(prefix)
    full = reco.graph_builder(event)
    stage_edges = {"graph": full.hit_index[full.edge_index]}
    graph = full
    if reco.filter is not None:
        graph = edge_subgraph(full, reco.filter.scores(full) >= reco.filter.threshold)
    stage_edges["filter"] = graph.hit_index[graph.edge_index]
    return event, graph, reco.classifier.scores(graph), stage_edges


def _findable(event: Event, edges: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Per particle: does one component of its same-particle edges hold > half its hits?"""
    assert event.truth is not None and event.particles is not None
    pid = event.truth.particle_id
    same = (pid[edges[0]] == pid[edges[1]]) & (pid[edges[0]] != 0)
    labels = connected_component_labels(event.n_hits, edges, same)
    size = np.bincount(labels, minlength=event.n_hits)
    pids = event.particles.particle_id
    order = np.argsort(pids)
    real = np.flatnonzero(pid != 0)
    row = order[np.searchsorted(pids[order], pid[real])]
    best = np.zeros(len(pids), dtype=np.int64)
    np.maximum.at(best, row, size[labels[real]])
    return 2 * best > np.bincount(row, minlength=len(pids))


def _build(cached: Cached, setting: dict[str, Any]) -> TrackCandidates:
    event, graph, scores, _ = cached
    settings = {k: v for k, v in setting.items() if k not in ("method", "min_layers")}
    builder = make_track_builder(setting["method"], **settings)
    layer = layer_code(event.hits.volume_id, event.hits.layer_id)
    tracks = builder(graph, scores, event.n_hits, layer=layer)
    if setting.get("min_layers"):
        tracks = select_tracks(tracks, n_layers_per_track(tracks, layer) >= setting["min_layers"])
    return tracks


def losses(cached: list[Cached], setting: dict[str, Any]) -> Counter[str]:
    """Missed targets by the first stage that loses them, and fakes by kind."""
    out: Counter[str] = Counter()
    for one in cached:
        event, graph, scores, stage_edges = one
        assert event.truth is not None and event.particles is not None
        tracks = _build(one, setting)
        kept = scores >= setting["threshold"]
        stages = {**stage_edges, "classifier": graph.hit_index[graph.edge_index[:, kept]]}
        match = match_tracks(event, tracks)
        target = target_mask(event)
        missed = target & (match.n_matched_tracks == 0)
        out["targets"] += int(target.sum())
        for stage, edges in stages.items():
            ok = _findable(event, edges)
            out[f"lost: {stage}"] += int((missed & ~ok).sum())
            missed &= ok
        pid, labels = event.truth.particle_id, tracks.to_labels()
        for row in np.flatnonzero(missed):
            on = labels[pid == event.particles.particle_id[row]]
            on = on[on > 0]
            if len(on) == 0:
                out["lost: building (dropped)"] += 1
                continue
            t = int(np.bincount(on).argmax()) - 1
            own = np.count_nonzero(pid[tracks.track(t)] == event.particles.particle_id[row])
            merged = 2 * own <= tracks.lengths[t]
            out[f"lost: building ({'merged' if merged else 'split'})"] += 1
        fake = (match.n_hits >= 5) & ~match.matched
        impure = 2 * match.n_majority <= match.n_hits
        out["tracks >= 5 hits"] += int((match.n_hits >= 5).sum())
        out["fakes: merged"] += int((fake & impure).sum())
        out["fakes: fragment"] += int((fake & ~impure).sum())
    return out


def grid(quick: bool) -> list[dict[str, Any]]:
    thresholds = (
        (0.6, 0.65, 0.7, 0.8, 0.95) if quick else (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 0.95)
    )
    out: list[dict[str, Any]] = []
    for method, thr, min_layers in itertools.product(
        ("components", "walkthrough", "hybrid"), thresholds, (0, 5)
    ):
        out.append({"method": method, "threshold": thr, "min_hits": 3, "min_layers": min_layers})
    for thr, ext, eml in itertools.product(thresholds, (0.1, 0.3), (4, 5)):
        out.append(
            {"method": "hybrid", "threshold": thr, "min_hits": 3, "min_layers": 5}
            | {"extend_threshold": ext, "extend_min_layers": eml}
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("events", type=Path, nargs="+")
    parser.add_argument("--quick", action="store_true", help="a smaller threshold grid")
    parser.add_argument(
        "--compare",
        type=json.loads,
        help='another building to diagnose, e.g. \'{"method": '
        '"components", "threshold": 0.95, "min_hits": 3}\'',
    )
    args = parser.parse_args()
    reco = GNNReconstructor(GNNConfig(model=str(args.model), threads=1))
    cached = [_cache(reco, p) for p in args.events]
    rows = []
    for setting in grid(args.quick):
        m = aggregate([evaluate_event(c[0], _build(c, setting)) for c in cached])
        rows.append((m.efficiency - m.fake_rate, setting, m))
    rows.sort(key=lambda r: -r[0])
    for diff, setting, m in rows[:15]:
        print(
            f"eff {m.efficiency:.4f} fake {m.fake_rate:.4f} dup {m.duplicate_rate:.4f} "
            f"score {m.trackml_score:.4f} eff-fake {diff:.4f}  {json.dumps(setting)}"
        )
    current = json.loads((args.model / "pipeline.json").read_text())["building"]
    current = {k: v for k, v in current.items() if k not in ("pt_min", "bz") or v}
    shown = [("best", rows[0][1]), ("model's current", current)]
    for name, setting in shown + ([("compared", args.compare)] if args.compare else []):
        print(f"losses with the {name} building {json.dumps(setting)}:")
        for key, value in sorted(losses(cached, setting).items()):
            print(f"  {key:28s} {value}")


if __name__ == "__main__":
    main()
