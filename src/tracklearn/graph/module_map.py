"""Module-map graph construction: module pairs learned from true segments of training events.

*Building* the map: every true segment (two consecutive hits of one particle,
:func:`tracklearn.graph.truth.true_segments`) of a particle with pT ≥ ``pt_min``
in the training events links the module of its inner hit to the module of its
outer hit.  For each linked (inner module, outer module) pair the map keeps the
range [min, max] of four segment quantities seen in training:

* ``dphi`` = wrap(φ_out − φ_in) [rad];
* ``dz`` = z_out − z_in [mm];
* ``z0`` = z_in − r_in · dz / dr [mm] (straight line to the beam axis);
* ``phi_slope`` = dphi / dr [rad/mm];

with ``dr = r_out − r_in``.  When ``|dr|`` is below 1 µm (two hits at the same
radius, as on endcap overlaps) ``z0`` and ``phi_slope`` are undefined (NaN) and
not cut on.  Each window is widened by ``margin`` times its width on both sides
(plus the small absolute margins of :class:`ModuleMapConfig`), because a pair
seen a few times in training has a window narrower than the true spread.

*Applying* it (vectorised, no loop over hits or pairs): hits are grouped by
module (CSR), pairs by inner module (CSR); every hit is expanded to the pairs of
its module, every (hit, pair) to the hits of the pair's outer module, and the
candidates are cut on the pair's windows.  Edges point from the inner-module hit
to the outer-module hit (the direction the particles went in training).

Storage: a compact table of sorted int64 module keys
(:func:`tracklearn.edm.detector.module_key`), int32 pair indices and float32
windows in an ``.npz`` file, with a JSON sidecar holding the config, the events it
was built from and the provenance.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, Graph
from tracklearn.edm.detector import module_key
from tracklearn.errors import DataError
from tracklearn.graph.features import edge_features, node_features, wrap_phi
from tracklearn.graph.truth import edge_labels, true_segments
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.provenance import provenance

__all__ = [
    "QUANTITIES",
    "ModuleMap",
    "ModuleMapConfig",
    "ModuleMapGraphBuilder",
    "build_module_map",
    "segment_quantities",
]

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: the windowed quantities, in the order of the window arrays' second axis
QUANTITIES: tuple[str, ...] = ("dphi", "dz", "z0", "phi_slope")
_MIN_DR = 1e-3  # mm: below this |dr|, z0 and phi_slope are undefined
_CHUNK = 20_000  # hits expanded at once when applying the map (bounds memory)


class ModuleMapConfig(BaseModel):
    """How a module map is learned and how wide its windows are.

    Attributes
    ----------
    pt_min
        Segments of particles with pT ≥ this [GeV] make the map (0: every particle).
    min_hits
        Only particles with at least this many hits.
    margin
        Each window is widened by ``margin`` × its width on both sides.
    dphi_margin, dz_margin, z0_margin, phi_slope_margin
        Absolute widening on both sides [rad, mm, mm, rad/mm].
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pt_min: float = Field(0.0, ge=0)  # GeV
    min_hits: int = Field(2, ge=2)
    margin: float = Field(0.1, ge=0)  # fraction of the window width
    dphi_margin: float = Field(0.002, ge=0)  # rad
    dz_margin: float = Field(2.0, ge=0)  # mm
    z0_margin: float = Field(20.0, ge=0)  # mm
    phi_slope_margin: float = Field(2e-5, ge=0)  # rad/mm


def _cyl(event: Event) -> tuple[FloatArray, FloatArray, FloatArray]:
    h = event.hits
    return h.r, h.phi, h.z


def segment_quantities(
    r: FloatArray, phi: FloatArray, z: FloatArray, src: IntArray, dst: IntArray
) -> FloatArray:
    """``dphi`` [rad], ``dz`` [mm], ``z0`` [mm], ``phi_slope`` [rad/mm] of hit pairs.

    ``z0`` and ``phi_slope`` are NaN where ``|dr| < 1 µm``.

    Shapes
    ------
    ``r, phi, z`` ``(N,)``; ``src, dst`` ``(K,)``; output ``(K, 4)``.
    """
    dr = r[dst] - r[src]
    dphi = wrap_phi(phi[dst] - phi[src])
    dz = z[dst] - z[src]
    ok = np.abs(dr) >= _MIN_DR
    safe = np.where(ok, dr, 1.0)
    z0 = np.where(ok, z[src] - r[src] * dz / safe, np.nan)
    slope = np.where(ok, dphi / safe, np.nan)
    return np.stack([dphi, dz, z0, slope], axis=1)


@dataclass(frozen=True, eq=False)
class ModuleMap:
    """A learned module map (see the module docstring).

    Attributes
    ----------
    modules : int64, shape (M,)
        Sorted module keys (:func:`~tracklearn.edm.detector.module_key`).
    pair_src, pair_dst : int32, shape (P,)
        Inner and outer module of each pair (indices into ``modules``), sorted by
        ``(pair_src, pair_dst)``.
    lo, hi : float32, shape (P, 4)
        Window of each pair for :data:`QUANTITIES` (already widened by the margins);
        ±inf means no cut.
    n_seen : int32, shape (P,)
        Training segments behind each pair.
    config
        The config that built the map.
    """

    modules: IntArray
    pair_src: npt.NDArray[np.int32]
    pair_dst: npt.NDArray[np.int32]
    lo: npt.NDArray[np.float32]
    hi: npt.NDArray[np.float32]
    n_seen: npt.NDArray[np.int32]
    config: ModuleMapConfig

    def __post_init__(self) -> None:
        p = len(self.pair_src)
        if len(self.pair_dst) != p or self.lo.shape != (p, 4) or self.hi.shape != (p, 4):
            raise DataError("module map", "pair arrays have inconsistent shapes")
        if len(self.modules) > 1 and np.any(np.diff(self.modules) <= 0):
            raise DataError("module map", "module keys are not sorted and unique")

    @property
    def n_pairs(self) -> int:
        return len(self.pair_src)

    def pair_offsets(self) -> IntArray:
        """CSR offsets of the pairs by inner module, shape ``(M + 1,)``."""
        counts = np.bincount(self.pair_src, minlength=len(self.modules))
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def module_index(self, keys: npt.ArrayLike) -> IntArray:
        """Index in ``modules`` of each key, ``-1`` for modules not in the map."""
        k = np.asarray(keys, dtype=np.int64)
        if len(self.modules) == 0:
            return np.full(k.shape, -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.modules, k), 0, len(self.modules) - 1)
        return np.where(self.modules[pos] == k, pos, -1).astype(np.int64)

    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write ``path`` (``.npz``) and its JSON sidecar ``path.with_suffix('.json')``."""
        path = Path(path).with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                modules=self.modules,
                pair_src=self.pair_src,
                pair_dst=self.pair_dst,
                lo=self.lo,
                hi=self.hi,
                n_seen=self.n_seen,
            )
        meta = {
            "format": "tracklearn-module-map-1",
            "quantities": list(QUANTITIES),
            "units": {"dphi": "rad", "dz": "mm", "z0": "mm", "phi_slope": "rad/mm"},
            "n_modules": len(self.modules),
            "n_pairs": self.n_pairs,
            "config": self.config.model_dump(),
            "provenance": provenance(),
            **(extra or {}),
        }
        write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ModuleMap:
        """Read a map written by :meth:`save` (the config comes from the sidecar)."""
        path = Path(path).with_suffix(".npz")
        sidecar = path.with_suffix(".json")
        if not path.exists() or not sidecar.exists():
            raise DataError(path, "module map (.npz) or its .json sidecar is missing")
        meta = json.loads(sidecar.read_text())
        with np.load(path) as z:
            arrays = {k: z[k] for k in ("modules", "pair_src", "pair_dst", "lo", "hi", "n_seen")}
        return cls(config=ModuleMapConfig(**meta["config"]), **arrays)


def _event_segments(event: Event, cfg: ModuleMapConfig) -> tuple[IntArray, IntArray, FloatArray]:
    seg = true_segments(event, pt_min=cfg.pt_min, min_hits=cfg.min_hits)
    h = event.hits
    keys = module_key(h.volume_id, h.layer_id, h.module_id)
    q = segment_quantities(*_cyl(event), seg[0], seg[1])
    return keys[seg[0]], keys[seg[1]], q


def build_module_map(events: Iterable[Event], config: ModuleMapConfig | None = None) -> ModuleMap:
    """Learn a module map from events with truth.

    Parameters
    ----------
    events
        Training events (truth and particles needed); read one at a time.
    config
        Threshold and margins; defaults when None.

    Returns
    -------
    ModuleMap
    """
    cfg = config or ModuleMapConfig()
    ks: list[IntArray] = []
    kd: list[IntArray] = []
    qs: list[FloatArray] = []
    for ev in events:
        a, b, q = _event_segments(ev, cfg)
        ks.append(a)
        kd.append(b)
        qs.append(q.astype(np.float32))
    key_src = np.concatenate(ks) if ks else np.zeros(0, np.int64)
    key_dst = np.concatenate(kd) if kd else np.zeros(0, np.int64)
    quant = np.concatenate(qs).astype(np.float64) if qs else np.zeros((0, 4))
    modules = np.unique(np.concatenate([key_src, key_dst]))
    src = np.searchsorted(modules, key_src)
    dst = np.searchsorted(modules, key_dst)
    # one int64 code per (src, dst) module pair; sorting groups the segments of a
    # pair, and reduceat takes min / max over each group
    code = src.astype(np.int64) * max(len(modules), 1) + dst
    order = np.argsort(code, kind="stable")
    code, quant = code[order], quant[order]
    if len(code):
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        lo = np.fmin.reduceat(quant, starts, axis=0)  # fmin ignores NaN
        hi = np.fmax.reduceat(quant, starts, axis=0)
        n_seen = np.diff(np.r_[starts, len(code)])
    else:
        starts = np.zeros(0, dtype=np.int64)
        lo = hi = np.zeros((0, 4))
        n_seen = np.zeros(0, dtype=np.int64)
    pair_code = code[starts]
    width = np.nan_to_num(hi - lo)
    absolute = np.array([cfg.dphi_margin, cfg.dz_margin, cfg.z0_margin, cfg.phi_slope_margin])
    pad = cfg.margin * width + absolute
    # a quantity never defined for a pair (NaN) is not cut on
    lo = np.where(np.isnan(lo), -np.inf, lo - pad)
    hi = np.where(np.isnan(hi), np.inf, hi + pad)
    n_mod = max(len(modules), 1)
    return ModuleMap(
        modules=modules.astype(np.int64),
        pair_src=(pair_code // n_mod).astype(np.int32),
        pair_dst=(pair_code % n_mod).astype(np.int32),
        lo=lo.astype(np.float32),
        hi=hi.astype(np.float32),
        n_seen=n_seen.astype(np.int32),
        config=cfg,
    )


def _expand(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """For ranges ``[starts[i], starts[i] + counts[i])``: (owner i, position) of every element."""
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    pos = np.repeat(starts, counts) + np.arange(total, dtype=np.int64) - np.repeat(first, counts)
    return owner, pos


class ModuleMapGraphBuilder:
    """Apply a :class:`ModuleMap` to an event: ``builder(event) -> Graph``.

    Every hit is a node (``hit_index = arange(N)``); node features are
    :func:`~tracklearn.graph.features.node_features`, edge features
    :func:`~tracklearn.graph.features.edge_features`, ``y`` the same-particle
    label when the event has truth.

    Shapes
    ------
    ``Graph.x`` ``(N, 3)``, ``edge_index`` ``(2, E)``, ``edge_attr`` ``(E, 4)``, ``y`` ``(E,)``.
    """

    def __init__(self, module_map: ModuleMap) -> None:
        self.map = module_map
        self._pair_offsets = module_map.pair_offsets()

    @classmethod
    def from_file(cls, path: str | Path) -> ModuleMapGraphBuilder:
        return cls(ModuleMap.load(path))

    def candidate_edges(self, event: Event) -> IntArray:
        """Edges (hit rows, inner → outer) passing the windows, shape ``(2, E)``."""
        mm = self.map
        h = event.hits
        r, phi, z = _cyl(event)
        mod = mm.module_index(module_key(h.volume_id, h.layer_id, h.module_id))
        # hits grouped by module: CSR over module index
        hit_order = np.argsort(mod, kind="stable")
        hit_order = hit_order[mod[hit_order] >= 0]
        hit_counts = np.bincount(mod[hit_order], minlength=len(mm.modules))
        hit_start = np.concatenate([[0], np.cumsum(hit_counts)])[:-1].astype(np.int64)
        pair_start = self._pair_offsets[:-1]
        pair_count = np.diff(self._pair_offsets)
        chunks: list[IntArray] = []
        for c0 in range(0, len(hit_order), _CHUNK):
            hits = hit_order[c0 : c0 + _CHUNK]
            m = mod[hits]
            # (hit, pair) for every pair whose inner module holds the hit
            own, pair = _expand(pair_start[m], pair_count[m])
            src_hit = hits[own]
            dst_mod = mm.pair_dst[pair]
            # (hit, pair, target hit) for every hit on the pair's outer module
            own2, pos = _expand(hit_start[dst_mod], hit_counts[dst_mod])
            src = src_hit[own2]
            dst = hit_order[pos]
            p = pair[own2]
            q = segment_quantities(r, phi, z, src, dst)
            lo, hi = mm.lo[p], mm.hi[p]
            # NaN (undefined z0 / slope) compares False on both sides, so it passes
            ok = ~np.any((q < lo) | (q > hi), axis=1)
            chunks.append(np.stack([src[ok], dst[ok]]))
        if not chunks:
            return np.zeros((2, 0), dtype=np.int64)
        return np.concatenate(chunks, axis=1).astype(np.int64)

    def __call__(self, event: Event) -> Graph:
        edges = self.candidate_edges(event)
        x = node_features(event)
        return Graph(
            hit_index=np.arange(event.n_hits, dtype=np.int64),
            x=x,
            edge_index=edges,
            edge_attr=edge_features(x, edges),
            y=edge_labels(event, edges) if event.truth is not None else None,
            event_id=event.event_id,
        )


def _read_events(prefixes: Sequence[Path]) -> Iterable[Event]:
    from tracklearn.io.trackml import read_event

    for p in prefixes:
        yield read_event(p)


def run_module_map_stage(
    config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    """``tracklearn train module_map``: build a map from the events in ``data``.

    ``config`` holds :class:`ModuleMapConfig` fields plus ``val_events`` (int,
    default 1): the last events (sorted by name) are kept out of the map and used
    to report the edge efficiency and purity of the map.  Writes
    ``out/module_map.npz`` and ``out/module_map.json``.  ``resume`` is ignored
    (building is one pass).
    """
    from tracklearn.io.trackml import find_events
    from tracklearn.metrics.edges import edge_metrics

    cfg_dict = dict(config)
    n_val = int(cfg_dict.pop("val_events", 1))
    cfg = ModuleMapConfig(**cfg_dict)
    prefixes = sorted(find_events([data]))
    if len(prefixes) <= n_val:
        raise DataError(data, f"need more than {n_val} events to build and validate a module map")
    train, val = prefixes[: len(prefixes) - n_val], prefixes[len(prefixes) - n_val :]
    t0 = time.perf_counter()
    mm = build_module_map(_read_events(train), cfg)
    build_s = time.perf_counter() - t0
    log.info("module map: %d pairs from %d events in %.1f s", mm.n_pairs, len(train), build_s)
    builder = ModuleMapGraphBuilder(mm)
    kept = segs = edges = true = 0
    for ev in _read_events(val):
        m = edge_metrics(ev, builder.candidate_edges(ev))
        kept += m.n_target_segments_kept
        segs += m.n_target_segments
        edges += m.n_edges
        true += m.n_true_edges
    metrics = {
        "n_pairs": float(mm.n_pairs),
        "n_modules": float(len(mm.modules)),
        "build_s": build_s,
        "val_edge_efficiency": kept / segs if segs else float("nan"),
        "val_edge_purity": true / edges if edges else float("nan"),
        "val_edges_per_event": edges / len(val),
    }
    mm.save(
        Path(out) / "module_map.npz",
        extra={"train_events": [str(p) for p in train], "val_events": [str(p) for p in val]},
    )
    write_text_atomic(Path(out) / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics
