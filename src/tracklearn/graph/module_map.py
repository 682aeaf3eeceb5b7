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
module and sorted by φ inside each module, pairs by inner module (CSR); every
hit is expanded to the pairs of its module, every (hit, pair) to the hits of
the pair's outer module inside the pair's Δφ window (found with
``np.searchsorted``), and these candidates are cut on all four windows.  Edges
point from the inner-module hit to the outer-module hit (the direction the
particles went in training).

Few training events leave many module pairs unseen; ``rotations`` and
``reflect`` add φ-rotated and z-mirrored copies of every training segment
(:mod:`tracklearn.graph.augment`), which multiplies the pairs seen.

Storage: a compact table of sorted int64 module keys
(:func:`tracklearn.edm.detector.module_key`), int32 pair indices and windows
stored at half precision, rounded outwards (float32 in memory), in an ``.npz``
file, with a JSON sidecar holding the config, the events it was built from and
the provenance.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, Graph
from tracklearn.edm.detector import Detector, module_key
from tracklearn.errors import ConfigError, DataError
from tracklearn.graph.assemble import event_graph
from tracklearn.graph.augment import ModuleLocator
from tracklearn.graph.features import wrap_phi
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.metrics.truth import true_segments
from tracklearn.provenance import provenance
from tracklearn.typing import FloatArray, IntArray

__all__ = [
    "QUANTITIES",
    "ModuleMap",
    "ModuleMapConfig",
    "ModuleMapGraphBuilder",
    "build_module_map",
    "segment_quantities",
]

log = logging.getLogger(__name__)

#: the windowed quantities, in the order of the window arrays' second axis
QUANTITIES: tuple[str, ...] = ("dphi", "dz", "z0", "phi_slope")
_MIN_DR = 1e-3  # mm: below this |dr|, z0 and phi_slope are undefined
_CHUNK = 20_000  # hits expanded at once when applying the map (bounds memory)
_KEY_STRIDE = 8.0  # > 2 pi: module index * stride + (phi + pi) sorts by (module, phi)


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
    rotations
        Random φ rotations of every training event also learned from
        (:mod:`tracklearn.graph.augment`; needs the detector).
    reflect
        Also learn from the z → −z copies (of the event and of each rotation).
    seed
        Seed of the rotation angles.
    range_correction
        Also widen each window by ``width / (n_seen - 1)`` on both sides: the
        unbiased estimate of the end points of a uniform distribution from
        ``n_seen`` samples, so pairs seen rarely get relatively wider windows.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pt_min: float = Field(0.0, ge=0)  # GeV
    min_hits: int = Field(2, ge=2)
    margin: float = Field(0.1, ge=0)  # fraction of the window width
    dphi_margin: float = Field(0.002, ge=0)  # rad
    dz_margin: float = Field(2.0, ge=0)  # mm
    z0_margin: float = Field(20.0, ge=0)  # mm
    phi_slope_margin: float = Field(2e-5, ge=0)  # rad/mm
    rotations: int = Field(0, ge=0)  # random phi rotations of each training event
    reflect: bool = False  # also learn from z -> -z copies
    range_correction: bool = False  # widen sparse pairs by width / (n_seen - 1) per side
    seed: int = 0


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
                lo=_half(self.lo, -np.inf),
                hi=_half(self.hi, np.inf),
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
        for k in ("lo", "hi"):  # stored as float16 (see save), used as float32
            arrays[k] = arrays[k].astype(np.float32)
        return cls(config=ModuleMapConfig(**meta["config"]), **arrays)


def _half(a: npt.NDArray[np.floating], towards: float) -> npt.NDArray[np.float16]:
    """``a`` as float16, rounded towards ``towards`` (−inf for lower, +inf for upper edges).

    Windows are stored at half precision to halve the file; rounding outwards
    means a stored window is never narrower than the learned one (at most one
    float16 step, ~0.1 % of the value, wider).  NaN stays NaN.
    """
    big = float(np.finfo(np.float16).max)
    # beyond the float16 range a value may only overflow outwards (a lower edge to
    # -inf, an upper edge to +inf); the other side is clipped to the largest finite
    clipped = np.maximum(a, -big) if towards > 0 else np.minimum(a, big)
    with np.errstate(over="ignore"):
        h = clipped.astype(np.float16)
        wrong = h.astype(np.float64) < a if towards > 0 else h.astype(np.float64) > a
        out: npt.NDArray[np.float16] = np.where(wrong, np.nextafter(h, np.float16(towards)), h)
    return out


def _aggregate(
    key_src: IntArray,
    key_dst: IntArray,
    lo: FloatArray,
    hi: FloatArray,
    n: IntArray,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Merge rows with the same (key_src, key_dst): min of ``lo``, max of ``hi``, sum of ``n``.

    Rows are sorted by the two keys (``np.lexsort``) so that each pair is one run;
    ``reduceat`` then reduces every run at once.  ``fmin``/``fmax`` ignore NaN.
    """
    if len(key_src) == 0:
        return key_src, key_dst, lo, hi, n
    order = np.lexsort((key_dst, key_src))
    ks, kd = key_src[order], key_dst[order]
    starts = np.flatnonzero(np.r_[True, (ks[1:] != ks[:-1]) | (kd[1:] != kd[:-1])])
    return (
        ks[starts],
        kd[starts],
        np.fmin.reduceat(lo[order], starts, axis=0),
        np.fmax.reduceat(hi[order], starts, axis=0),
        np.add.reduceat(n[order], starts),
    )


def _event_table(
    event: Event,
    cfg: ModuleMapConfig,
    locator: ModuleLocator | None,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Aggregated pairs of one event and of its symmetry copies (see ``augment``)."""
    seg = true_segments(event, pt_min=cfg.pt_min, min_hits=cfg.min_hits)
    h = event.hits
    keys = module_key(h.volume_id, h.layer_id, h.module_id)
    q = segment_quantities(*_cyl(event), seg[0], seg[1])
    ks, kd, qs = [keys[seg[0]]], [keys[seg[1]]], [q]
    if locator is not None and seg.shape[1]:
        used = np.unique(seg)
        a, b = np.searchsorted(used, seg[0]), np.searchsorted(used, seg[1])
        xyz = h.positions[used]
        angles = np.concatenate([[0.0], rng.uniform(-np.pi, np.pi, cfg.rotations)])
        for reflect in (False, True) if cfg.reflect else (False,):
            for angle in angles:
                if angle == 0.0 and not reflect:
                    continue  # the event itself
                new = locator.transformed_keys(
                    h.volume_id[used], h.layer_id[used], xyz, float(angle), reflect
                )
                # rotations keep dphi, dz, z0 and the slope; z -> -z flips dz and z0
                qv = q * np.array([1.0, -1.0, -1.0, 1.0]) if reflect else q
                ks.append(new[a])
                kd.append(new[b])
                qs.append(qv)
    key_src, key_dst, quant = np.concatenate(ks), np.concatenate(kd), np.concatenate(qs)
    # two hits of one particle on one module (or a copy folded onto one module)
    # would make a self-pair; the graph never needs those
    keep = key_src != key_dst
    quant = quant[keep]
    return _aggregate(
        key_src[keep], key_dst[keep], quant, quant, np.ones(len(quant), dtype=np.int64)
    )


def build_module_map(
    events: Iterable[Event],
    config: ModuleMapConfig | None = None,
    detector: Detector | None = None,
) -> ModuleMap:
    """Learn a module map from events with truth.

    Parameters
    ----------
    events
        Training events (truth and particles needed); read one at a time.
    config
        Threshold, margins and augmentation; defaults when None.
    detector
        Module geometry, needed when ``config.rotations`` or ``config.reflect``
        ask for symmetry copies (:mod:`tracklearn.graph.augment`).

    Returns
    -------
    ModuleMap
    """
    cfg = config or ModuleMapConfig()
    locator: ModuleLocator | None = None
    if cfg.rotations or cfg.reflect:
        if detector is None:
            raise ConfigError("module-map augmentation (rotations, reflect) needs a detector")
        locator = ModuleLocator(detector)
    rng = np.random.default_rng(cfg.seed)
    tables = [_event_table(ev, cfg, locator, rng) for ev in events]
    if tables:
        key_src, key_dst, lo, hi, n_seen = _aggregate(
            *(np.concatenate([t[i] for t in tables]) for i in range(5))
        )
    else:
        key_src = key_dst = n_seen = np.zeros(0, dtype=np.int64)
        lo = hi = np.zeros((0, 4))
    modules = np.unique(np.concatenate([key_src, key_dst]))
    width = np.nan_to_num(hi - lo)
    absolute = np.array([cfg.dphi_margin, cfg.dz_margin, cfg.z0_margin, cfg.phi_slope_margin])
    rel = np.full(len(n_seen), cfg.margin)
    if cfg.range_correction:
        # n samples of a uniform distribution miss on average width / (n - 1) of
        # its range at each end (the unbiased estimate of the end points)
        rel += np.where(n_seen > 1, 1.0 / np.maximum(n_seen - 1, 1), 0.0)
    pad = rel[:, None] * width + absolute
    # a quantity never defined for a pair (NaN) is not cut on
    lo = np.where(np.isnan(lo), -np.inf, lo - pad)
    hi = np.where(np.isnan(hi), np.inf, hi + pad)
    # _aggregate sorted by (key_src, key_dst), so the indices are sorted too
    return ModuleMap(
        modules=modules.astype(np.int64),
        pair_src=np.searchsorted(modules, key_src).astype(np.int32),
        pair_dst=np.searchsorted(modules, key_dst).astype(np.int32),
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
        # Hits grouped by module and sorted by phi inside each module; the float key
        # module * 8 + (phi + pi) increases along that order (phi + pi < 2 pi < 8), so
        # one searchsorted finds the hits of a module inside a phi range.
        on_map = np.flatnonzero(mod >= 0)
        hit_order = on_map[np.lexsort((phi[on_map], mod[on_map]))]
        sort_key = mod[hit_order] * _KEY_STRIDE + (phi[hit_order] + math.pi)
        pair_start = self._pair_offsets[:-1]
        pair_count = np.diff(self._pair_offsets)
        dphi_lo = mm.lo[:, 0].astype(np.float64)
        dphi_width = mm.hi[:, 0].astype(np.float64) - dphi_lo
        chunks: list[IntArray] = []
        for c0 in range(0, len(hit_order), _CHUNK):
            hits = hit_order[c0 : c0 + _CHUNK]
            # (hit, pair) for every pair whose inner module holds the hit
            own, pair = _expand(pair_start[mod[hits]], pair_count[mod[hits]])
            src_hit = hits[own]
            base = mm.pair_dst[pair].astype(np.float64) * _KEY_STRIDE
            # the pair's dphi window around the hit, from lo (in [-pi, pi)) over width;
            # a window past +pi continues from -pi (second range)
            lo = wrap_phi(phi[src_hit] + dphi_lo[pair])
            width = np.minimum(dphi_width[pair], 2 * math.pi)
            end1 = np.minimum(lo + width, math.pi)
            s1 = np.searchsorted(sort_key, base + lo + math.pi, side="left")
            e1 = np.searchsorted(sort_key, base + end1 + math.pi, side="right")
            wraps = lo + width > math.pi
            s2 = np.searchsorted(sort_key, base[wraps], side="left")
            e2 = np.searchsorted(
                sort_key, base[wraps] + (lo + width)[wraps] - math.pi, side="right"
            )
            own1, pos1 = _expand(s1, e1 - s1)
            own2, pos2 = _expand(s2, e2 - s2)
            cand = np.concatenate([own1, np.flatnonzero(wraps)[own2]])
            pos = np.concatenate([pos1, pos2])
            src = src_hit[cand]
            dst = hit_order[pos]
            p = pair[cand]
            q = segment_quantities(r, phi, z, src, dst)
            # NaN (undefined z0 / slope) compares False on both sides, so it passes
            ok = ~np.any((q < mm.lo[p]) | (q > mm.hi[p]), axis=1)
            chunks.append(np.stack([src[ok], dst[ok]]))
        if not chunks:
            return np.zeros((2, 0), dtype=np.int64)
        return np.concatenate(chunks, axis=1).astype(np.int64)

    def __call__(self, event: Event) -> Graph:
        return event_graph(event, self.candidate_edges(event))


def _read_events(prefixes: Sequence[Path]) -> Iterable[Event]:
    from tracklearn.io.trackml import read_event

    for p in prefixes:
        yield read_event(p)


def run_module_map_stage(
    config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    """``tracklearn train module_map``: build a map from the events in ``data``.

    ``config`` holds :class:`ModuleMapConfig` fields plus ``detector`` (path of a
    ``detectors.csv``, default the shared TrackML one; read only for augmentation)
    and ``val_events`` (int, default 1): the last events (sorted by name) are kept
    out of the map and used to report the edge efficiency and purity of the map.  Writes
    ``out/module_map.npz`` and ``out/module_map.json``.  ``resume`` is ignored
    (building is one pass).
    """
    from tracklearn.io.trackml import find_events
    from tracklearn.metrics.edges import edge_metrics

    cfg_dict = dict(config)
    n_val = int(cfg_dict.pop("val_events", 1))
    detector_path = cfg_dict.pop("detector", None)
    cfg = ModuleMapConfig(**cfg_dict)
    detector = None
    if cfg.rotations or cfg.reflect:
        from tracklearn.datapaths import shared_data_dir
        from tracklearn.io.trackml import read_detector

        default = shared_data_dir() / "trackml" / "detectors.csv.gz"
        detector = read_detector(Path(detector_path) if detector_path else default)
    prefixes = sorted(find_events([data]))
    if len(prefixes) <= n_val:
        raise DataError(data, f"need more than {n_val} events to build and validate a module map")
    train, val = prefixes[: len(prefixes) - n_val], prefixes[len(prefixes) - n_val :]
    t0 = time.perf_counter()
    mm = build_module_map(_read_events(train), cfg, detector)
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
