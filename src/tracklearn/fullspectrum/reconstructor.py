"""The full-spectrum tracker: learned seeds → 3-hit-helix following → learned selection.

Each pass of the model (:class:`~tracklearn.fullspectrum.model.PassConfig`)
finds triplet seeds on the hits no earlier pass took, scores them with its
seed classifier, follows the promising ones through the detector, scores the
resulting candidates with its candidate classifier and gives hits to the best
candidates greedily.  After the last pass every track collects the free
overlap duplicates next to its hits.  All loops are compiled with numba;
the networks run in numpy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.config import validate
from tracklearn.edm import Event, TrackCandidates
from tracklearn.fullspectrum.features import candidate_features
from tracklearn.fullspectrum.follow import follow_seeds, pick_duplicates
from tracklearn.fullspectrum.grid import HitGrid, build_grid
from tracklearn.fullspectrum.luminous import luminous_sigma
from tracklearn.fullspectrum.model import (
    DEFAULT_MODEL,
    FullSpectrumModel,
    PassConfig,
    SelectionConfig,
)
from tracklearn.fullspectrum.seeding import find_triplets
from tracklearn.fullspectrum.select import greedy_select
from tracklearn.fullspectrum.tables import csr_from_pairs
from tracklearn.methods import register_method
from tracklearn.typing import FloatArray, IntArray

log = logging.getLogger(__name__)


#: curvature [1/mm] per 1/pT [1/GeV] at the 2 T of the seeding region
KAPPA_2T = 0.6e-3

_T = TypeVar("_T")

#: seeds are followed in this many blocks, shared among the threads
FOLLOW_BLOCKS = 2


class FullSpectrumConfig(BaseModel):
    """Settings of ``--method fullspectrum`` (``--config`` YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = DEFAULT_MODEL  # model folder; default: the shipped one
    selection: SelectionConfig | None = None  # overrides the model's
    z0_max: float | None = Field(None, gt=0)  # mm; fixes the seed z0 window of every pass
    threads: int = Field(2, ge=1)  # threads sharing seeding and following
    # parts replaced by their hand-made alternative (the bench's ablation): "seed_net"
    # (follow every seed), "track_net" (rank by hits - 2·holes - χ²/hit, keep all),
    # "windows" (measurement error per layer kind + Highland scattering at 3 % X0)
    ablation: tuple[Literal["seed_net", "track_net", "windows"], ...] = ()
    warm_up: bool = True  # compile / load the kernels once when the method is built


@dataclass
class PassState:
    """What one pass produced (kept for training and diagnostics)."""

    name: str
    seeds: IntArray  # (S, 3) sorted-hit indices
    seed_features: FloatArray
    seed_score: FloatArray
    followed: IntArray  # indices into seeds that were followed
    hits: IntArray  # (F, H) candidates of the followed seeds
    stats: FloatArray
    features: FloatArray
    score: FloatArray
    track_ptr: IntArray
    track_hits: IntArray


#: ``seed_filter(event) -> keep``: which triplet seeds of the event to keep; ``keep``
#: takes (S, 3) event hit rows (inner, middle, outer) and returns (S,) booleans
SeedFilter = Callable[[Event], Callable[[IntArray], npt.NDArray[np.bool_]]]


@dataclass
class RunState:
    """Everything :meth:`FullSpectrumReconstructor.run` keeps of one event."""

    grid: HitGrid
    owner: IntArray
    passes: list[PassState] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)
    z0_max: float = 0.0
    keep_seeds: Callable[[IntArray], npt.NDArray[np.bool_]] | None = None


class FullSpectrumReconstructor:
    """``Reconstructor`` of the ``fullspectrum`` method (see the module docstring)."""

    def __init__(
        self,
        model: FullSpectrumModel,
        config: FullSpectrumConfig | None = None,
        seed_filter: SeedFilter | None = None,
    ) -> None:
        """``seed_filter`` (optional) keeps only some triplet seeds of every pass, e.g.
        those whose three hits share a hashing bucket
        (:func:`tracklearn.graph.hashing.bucket_seed_filter`); it runs once per event."""
        self.model = model
        self.config = config or FullSpectrumConfig()
        self.seed_filter = seed_filter
        self.selection = self.config.selection or model.spec.selection
        t = model.tables
        L = t.n_layers
        self._sigma = t.sigma if "windows" not in self.config.ablation else _hand_sigma(model)
        self._out = t.successor_csr()
        self._in = t.successor_csr(inwards=True)
        lay = model.layers
        self._inner = np.where(lay.barrel, lay.position < 200.0, lay.t_max < 200.0)
        self._seed_graph: dict[str, tuple[Any, ...]] = {}
        for p in model.spec.passes:
            trip = t.seed_triplets if p.seeds == "first" else t.chain_triplets
            allowed = np.zeros((L, L, L), bool)
            allowed[trip[:, 0], trip[:, 1], trip[:, 2]] = True
            mids = np.unique(trip[:, 1]).astype(np.int64)
            inner = csr_from_pairs(np.stack([trip[:, 1], trip[:, 0]], 1), L)
            outer = csr_from_pairs(np.stack([trip[:, 1], trip[:, 2]], 1), L)
            self._seed_graph[p.name] = (mids, inner[0], inner[1], outer[0], outer[1], allowed)

    def __call__(self, event: Event) -> TrackCandidates:
        return self.tracks(event, self.run(event))

    def z0_window(self, grid: HitGrid) -> float:
        """The seeds' z0 window [mm]: the config's, or from the event's luminous region."""
        if self.config.z0_max is not None:
            return self.config.z0_max
        spec = self.model.spec
        sigma = luminous_sigma(grid, self.model.layers)
        if sigma is None:
            return spec.luminous_max_z0
        return float(np.clip(spec.luminous_sigma_factor * sigma, spec.luminous_min_z0,
                             spec.luminous_max_z0))  # fmt: skip

    def run(self, event: Event, *, n_passes: int | None = None) -> RunState:
        """Run the first ``n_passes`` passes (all by default) on ``event``."""
        t0 = time.perf_counter()
        layer = self.model.layers.index_of(event.hits, event.source)
        grid = build_grid(event.hits, layer, self.model.layers)
        state = RunState(grid, np.full(grid.n_hits, -1, np.int64))
        state.z0_max = self.z0_window(grid)
        state.times["grid"] = time.perf_counter() - t0
        if self.seed_filter is not None:
            t1 = time.perf_counter()
            state.keep_seeds = self.seed_filter(event)
            state.times["seed_filter"] = time.perf_counter() - t1
        n_tracks = 0
        for p in self.model.spec.passes[:n_passes]:
            ps = self.run_pass(p, state, n_tracks)
            n_tracks += len(ps.track_ptr) - 1
            state.passes.append(ps)
        return state

    def seeds(self, p: PassConfig, state: RunState) -> tuple[IntArray, FloatArray]:
        """Triplet seeds of pass ``p`` on the hits no track holds yet, in (m, i, o) order.

        The middle hits are shared among ``threads`` threads; the result does not
        depend on their number.
        """
        g, lay = state.grid, self.model.layers
        mids, ip, il, op, ol, allowed = self._seed_graph[p.name]
        used = state.owner >= 0
        z0 = p.z0_max if p.z0_max is not None else state.z0_max
        n = self.config.threads

        def part(k: int) -> tuple[IntArray, FloatArray]:
            return find_triplets(
                g, lay.surfaces, used, mids, ip, il, op, ol, allowed, KAPPA_2T / p.pt_min, z0,
                p.d0_max, p.margin_t, 0.03, p.cot_tol, p.n_sigma_ms, p.max_doublets, k, n,
            )  # fmt: skip

        parts = _in_threads(part, n, n)
        trip = np.concatenate([t for t, _ in parts])
        feat = np.concatenate([f for _, f in parts])
        order = np.lexsort((trip[:, 2], trip[:, 0], trip[:, 1]))
        trip, feat = trip[order], feat[order]
        if state.keep_seeds is not None and len(trip):
            keep = np.asarray(state.keep_seeds(g.row[trip]), dtype=bool)
            trip, feat = trip[keep], feat[keep]
        return trip, feat

    def follow(self, seeds: IntArray, state: RunState) -> tuple[IntArray, FloatArray]:
        """Follow ``seeds`` (S, 3) through the detector on the free hits (``threads`` threads)."""
        g, lay, t, sel = state.grid, self.model.layers, self.model.tables, self.selection
        used = state.owner >= 0
        # a fixed number of blocks, shared among the threads: the skipping of contained
        # seeds happens within a block, so results do not depend on the thread count
        n = FOLLOW_BLOCKS
        bounds = np.linspace(0, len(seeds), n + 1).astype(np.int64)

        def part(k: int) -> tuple[IntArray, FloatArray]:
            return follow_seeds(
                np.ascontiguousarray(seeds[bounds[k] : bounds[k + 1]]), g, lay.surfaces, used,
                self._out[0], self._out[1], self._in[0], self._in[1], self._sigma, sel.n_sigma,
                sel.max_holes, sel.trim_chi2, t.sigma_dup, sel.n_sigma_dup,
            )  # fmt: skip

        parts = _in_threads(part, n, self.config.threads)
        return np.concatenate([h for h, _ in parts]), np.concatenate([s for _, s in parts])

    def run_pass(self, p: PassConfig, state: RunState, first_track: int) -> PassState:
        """One pass: seeds, seed scores, following, candidate scores, greedy selection."""
        tick = time.perf_counter()
        seeds, sfeat = self.seeds(p, state)
        state.times[f"{p.name}:seeds"] = time.perf_counter() - tick
        tick = time.perf_counter()
        net = self.model.seed_nets.get(p.name)
        if "seed_net" in self.config.ablation:
            net = None
        sscore = net.predict(sfeat) if net is not None and len(seeds) else np.ones(len(seeds))
        followed = np.nonzero(sscore >= (p.seed_min_score if net is not None else 0.0))[0]
        followed = followed[np.argsort(-sscore[followed], kind="stable")]
        state.times[f"{p.name}:seed_net"] = time.perf_counter() - tick
        tick = time.perf_counter()
        hits, stats = self.follow(seeds[followed], state)
        kept = stats[:, 0] > 0  # seeds contained in an earlier candidate were skipped
        followed, hits, stats = followed[kept], hits[kept], stats[kept]
        state.times[f"{p.name}:follow"] = time.perf_counter() - tick
        tick = time.perf_counter()
        feats = candidate_features(hits, stats, sfeat[followed], sscore[followed], state.grid,
                                   self._inner)  # fmt: skip
        tnet = self.model.track_nets.get(p.name)
        if "track_net" in self.config.ablation:
            tnet = None
        if tnet is not None and len(hits):
            logit = tnet.logit(feats)
            score = _sigmoid(logit)
            min_score = p.accept_min_score
        else:  # hand-made ranking: many hits, few holes, small χ²
            logit = -2.0 * stats[:, 2] - stats[:, 3] / np.maximum(stats[:, 0], 1.0)
            score = np.ones(len(hits))
            min_score = 0.0
        state.times[f"{p.name}:track_net"] = time.perf_counter() - tick
        tick = time.perf_counter()
        sel = self.selection
        rank = logit + sel.rank_per_hit * stats[:, 0]
        _, tptr, thits = greedy_select(hits, score, rank, state.owner, first_track, sel.min_free,
                                       sel.min_free_frac, min_score)  # fmt: skip
        state.times[f"{p.name}:select"] = time.perf_counter() - tick
        return PassState(p.name, seeds, sfeat, sscore, followed, hits, stats, feats, score,
                         tptr, thits)  # fmt: skip

    def tracks(self, event: Event, state: RunState) -> TrackCandidates:
        """Final tracks: every pass's tracks plus their overlap duplicates, as event rows."""
        tick = time.perf_counter()
        g, lay = state.grid, self.model.layers
        if state.passes:
            ptrs = [state.passes[0].track_ptr]
            for ps in state.passes[1:]:
                ptrs.append(ps.track_ptr[1:] + ptrs[-1][-1])
            tptr = np.concatenate(ptrs)
            thits = np.concatenate([ps.track_hits for ps in state.passes])
        else:
            tptr, thits = np.zeros(1, np.int64), np.zeros(0, np.int64)
        pick_duplicates(
            tptr,
            thits,
            state.owner,
            g,
            lay.surfaces,
            self.model.tables.sigma_dup,
            self.selection.n_sigma_dup,
        )
        state.times["duplicates"] = time.perf_counter() - tick
        return tracks_from_owner(state.owner, g.row, event.n_hits)


def _hand_sigma(model: FullSpectrumModel) -> FloatArray:
    """The ablation's hand-made error model: resolution per layer kind + Highland at 3 % X0.

    σ² = σ_meas² + (0.0136 · sqrt(0.03) · d / p)², the same for every layer pair and
    both directions; σ_meas (r·φ, t) [mm]: pixels (0.05, 0.1), layers beyond 200 mm
    (strips) with t extent < 1.5 m (0.1, 1.0), the rest (0.15, 3.0).
    """
    lay = model.layers
    n = len(lay)
    radius = np.where(lay.barrel, lay.position, lay.t_max)
    meas = np.where((radius < 200.0)[:, None], [0.05, 0.1],
                    np.where((radius < 700.0)[:, None], [0.1, 1.0], [0.15, 3.0]))  # fmt: skip
    sig = np.zeros((2, n, n, 2, 3))
    sig[..., 0] = (meas**2)[None, None, :, :]
    sig[..., 2] = (0.0136 * np.sqrt(0.03)) ** 2
    return sig


def _sigmoid(logit: FloatArray) -> FloatArray:
    """1 / (1 + exp(-logit)) without overflow warnings."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * logit)), np.float64)


def _in_threads(fn: Callable[[int], _T], n: int, threads: int) -> list[_T]:
    """``[fn(0), …, fn(n - 1)]`` on ``threads`` threads (the compiled kernels release the GIL)."""
    if threads <= 1 or n == 1:
        return [fn(k) for k in range(n)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(fn, range(n)))


def tracks_from_owner(owner: IntArray, row: IntArray, n_hits: int) -> TrackCandidates:
    """TrackCandidates (event rows) of hits labelled with dense track numbers (-1: none)."""
    sel = owner >= 0
    tid = owner[sel]
    rows = row[sel]
    if len(tid) == 0:
        return TrackCandidates(np.zeros(1, np.int64), np.zeros(0, np.int64), n_hits)
    uniq, dense = np.unique(tid, return_inverse=True)
    order = np.argsort(dense, kind="stable")
    counts = np.bincount(dense, minlength=len(uniq))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return TrackCandidates(offsets, rows[order].astype(np.int64), n_hits)


def make_fullspectrum(config: dict[str, Any] | None) -> FullSpectrumReconstructor:
    """Build the method from a config mapping (see :class:`FullSpectrumConfig`)."""
    cfg = validate(FullSpectrumConfig, config, "fullspectrum config")
    reco = FullSpectrumReconstructor(FullSpectrumModel.load(cfg.model), cfg)
    if cfg.warm_up:
        reco(warm_up_event(reco.model.layers))
    return reco


def warm_up_event(layers: Any) -> Event:
    """A few hits on every layer: running it compiles (or loads) every kernel once."""
    from tracklearn.edm import Hits

    rng = np.random.default_rng(0)
    n = len(layers)
    lay = np.repeat(np.arange(n), 4)
    phi = rng.uniform(-np.pi, np.pi, len(lay))
    t = rng.uniform(layers.t_min[lay], layers.t_max[lay])
    r = np.where(layers.barrel[lay], layers.position[lay], t)
    z = np.where(layers.barrel[lay], t, layers.position[lay])
    m = len(lay)
    hits = Hits(
        hit_id=np.arange(1, m + 1), x=r * np.cos(phi), y=r * np.sin(phi), z=z,
        volume_id=(layers.key[lay] // 1000).astype(np.int32),
        layer_id=(layers.key[lay] % 1000).astype(np.int32),
        module_id=np.arange(1, m + 1, dtype=np.int32),
    )  # fmt: skip
    return Event(event_id=0, hits=hits, source="warm-up event")


@register_method(
    "fullspectrum",
    "learned triplet seeds for every pT + 3-hit-helix following + learned candidate "
    "selection (the default)",
    use_for="everything: every pT ≥ 0.1 GeV, |η| ≤ 4, displaced tracks, μ=200 in seconds",
)
def _make(config: dict[str, Any] | None) -> FullSpectrumReconstructor:
    return make_fullspectrum(config)
