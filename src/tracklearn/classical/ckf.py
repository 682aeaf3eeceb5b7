"""Combinatorial Kalman filter track following from triplet seeds (method ``ckf``).

Chain (as in ACTS / ATLAS): triplet seeds (:mod:`~tracklearn.classical.seeding`)
→ a Kalman fit of the three seed hits → layer-by-layer following with a few
branches per layer and χ² gating → ambiguity resolution with a shared-hit
limit → a final Kalman fit + smoother of every accepted track
(:mod:`~tracklearn.classical.kalman`).  A second seeding pass with wide
``z0``/``d0`` windows on the pixel hits no track took finds displaced
particles (decays, interactions in the first layers), and a third on the strip
hits left finds particles with fewer than three pixel layers.  Optionally the MLP seed
classifier (:mod:`~tracklearn.classical.seed_classifier`) prunes the main
pass's seeds before following (``CKFConfig.seed_classifier``).

Following, vectorised over all branches of all seeds:

1. **Next layer.** From each branch state the helix in the local ``Bz`` is
   intersected analytically with every layer of the
   :class:`~tracklearn.geometry.planar.ModuleLookup` (barrels as cylinders of
   their mean radius, disks as planes of their mean z); the nearest forward
   crossing inside the layer's extent, other than the current layer, is next.
2. **Predict.** The state is transported (full field map, Highland noise of
   the surface just left) to a *reference plane* of that layer through the
   predicted point (tangent to the cylinder, or the disk plane).
3. **Candidates.** The layer's hits are sorted by φ; hits within
   ``window_sigma`` predicted standard deviations (plus a module-size
   allowance) are candidates.  Each is projected onto the reference plane
   along the track direction and its module covariance rotated into the
   plane's axes, so no propagation per candidate is needed.
4. **Gate and branch.** Candidates with χ² < ``chi2_max`` make new branches
   (the best ``branches_per_layer``); compatible hits on other modules of the
   same layer (overlaps; up to ``max_overlap_hits``) join the best branch.  A
   branch without a hit takes a hole; one that may not take another hole, or
   that leaves the tracker, stops and keeps its hits.  Per seed only the
   ``max_branches`` best branches survive (most hits, then lowest χ²).

Selection: tracks of ``min_hits`` or more hits, and shorter ones down to
``min_hits_short`` without holes, with a good χ² and pT (particles that end
or leave early), are accepted greedily (more hits, then lower χ²/ndf) while
they share at most ``max_shared`` hits with accepted tracks.

Shapes: ``B`` branches, ``L`` layers, ``C`` candidate (branch, hit) pairs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.classical.kalman import (
    PHI,
    QOP,
    THETA,
    KalmanConfig,
    KalmanFitter,
    Surfaces,
    TrackFit,
    bound_to_free,
    gain_update,
    hit_surfaces,
    local_position,
    module_surfaces,
    scattering_noise,
    transport,
)
from tracklearn.classical.seeding import SeedFinder, SeedingConfig, Seeds
from tracklearn.classical.track_fit import TrackFitter, measurement_sigma, parameters_from_fit
from tracklearn.edm import Detector, Event, TrackCandidates, TrackParameters
from tracklearn.geometry.coords import wrap_phi
from tracklearn.geometry.field import TRACKML_FIELD, MagneticField
from tracklearn.geometry.planar import ModuleLookup
from tracklearn.methods import register_method
from tracklearn.typing import BoolArray, FloatArray, IntArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

log = logging.getLogger(__name__)


class CKFConfig(BaseModel):
    """Settings of the combinatorial Kalman filter (units in the comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seeding: SeedingConfig = Field(default_factory=SeedingConfig)
    kalman: KalmanConfig = Field(default_factory=KalmanConfig)
    detector_path: str | None = None  # detectors.csv(.gz); default: the shared TrackML one
    chi2_max: float = Field(15.0, gt=0)  # χ² gate of a 2-D measurement
    chi2_overlap: float = Field(9.0, gt=0)  # χ² gate of a further hit on the same layer
    # extra hits per layer on other (overlapping) modules: forward tracks cross 2-3
    # modules of a pixel disk, and double majority needs most of those hits
    max_overlap_hits: int = Field(2, ge=0)
    window_sigma: float = Field(5.0, gt=0)  # candidate window in predicted σ
    window_mm: float = Field(3.0, ge=0)  # mm, extra window (module tilt, stereo)
    branches_per_layer: int = Field(2, ge=1)
    max_branches: int = Field(3, ge=1)  # per seed
    max_holes: int = Field(2, ge=0)
    max_steps: int = Field(30, ge=1)  # layers followed at most
    min_hits: int = Field(7, ge=3)  # shortest output track with holes or a poor χ²
    # shorter tracks (particles that end early, or leave the tracker) down to
    # min_hits_short are kept when they have no hole, χ²/ndf < short_chi2_max and
    # pT ≥ short_pt_min
    min_hits_short: int = Field(5, ge=3)
    short_chi2_max: float = Field(2.0, gt=0)
    # GeV: short pieces of low-pT forward particles (which have 10+ hits) are the
    # usual short fakes; targets have pT ≥ 1 GeV
    short_pt_min: float = Field(0.9, ge=0)
    max_shared: int = Field(1, ge=0)  # hits a track may share with better tracks
    # second pass on the pixel hits no track took, for displaced particles (decays,
    # interactions in the first layers): wide z0 / d0 seeds; None switches it off
    second_pass: SeedingConfig | None = Field(
        default_factory=lambda: SeedingConfig(
            z0_max=400.0, d0_max=10.0, d0_window=10.0, pt_min=0.95, max_seeds_per_middle=2
        )
    )
    # further passes on the hits no earlier track took, in order (each a seeding
    # config; the seed classifier does not prune them).  Default: triplets of strip
    # hits (r 200-1100 mm) for particles with fewer than 3 pixel layers (made
    # beyond the pixels, or crossing gaps) -- 3.4 % of the μ=200 targets
    extra_passes: tuple[SeedingConfig, ...] = Field(
        default_factory=lambda: (
            SeedingConfig(
                r_min=200.0,
                r_max=1100.0,
                z_max=3000.0,
                dr_min=50.0,
                dr_max=350.0,
                dz_max=800.0,
                z0_max=400.0,
                d0_max=30.0,
                d0_window=30.0,
                pt_min=1.1,
                cot_tolerance=0.05,
                max_seeds_per_middle=1,
            ),
        )
    )
    seed_chunk: int = Field(5_000, ge=1)  # seeds followed together (bounds memory)
    # skip seeds with this many hits on tracks accepted from earlier chunks (0: never)
    skip_used_seeds: int = Field(0, ge=0, le=3)
    # prune the main pass's seeds before following with the MLP seed classifier: a
    # .npz written by SeedClassifier.save, "default" for the one shipped in
    # tracklearn/data, or None (no pruning).  By default a seed is dropped when the
    # classifier gives P(bad) ≥ 0.9: half the main-pass seeds, the whole chain 1.17×
    # faster on μ=200 at equal efficiency (benchmarks/results/classical.md)
    seed_classifier: str | None = "default"
    seed_classifier_keep: tuple[str, ...] = ("good", "medium")  # predicted classes kept
    # drop a seed only when the other classes have this probability (None: argmax)
    seed_classifier_drop_prob: float | None = Field(0.9, gt=0, le=1)


@dataclass(frozen=True, eq=False)
class Candidates:
    """Followed tracks before ambiguity resolution (CSR), one per followed seed.

    Attributes
    ----------
    offsets : int64, shape (T + 1,)
    hit_index : int64, shape (offsets[-1],)
        Hit rows, innermost first.
    quality : float64, shape (T,)
        χ²/ndf of the following.
    holes : int64, shape (T,)
        Layers crossed without a hit *between* the first and last hit.
    missed : int64, shape (T,)
        All layers crossed without a hit (``holes`` plus those before the first
        and after the last hit, where following stopped).
    pt : float64, shape (T,)
        Transverse momentum [GeV] of the outward following's last state.
    """

    offsets: IntArray
    hit_index: IntArray
    quality: FloatArray
    holes: IntArray
    missed: IntArray
    pt: FloatArray

    def __len__(self) -> int:
        return len(self.quality)

    @property
    def lengths(self) -> IntArray:
        return np.diff(self.offsets)

    @classmethod
    def empty(cls) -> Candidates:
        i = np.zeros(0, np.int64)
        return cls(np.zeros(1, np.int64), i, np.zeros(0), i, i, np.zeros(0))

    @classmethod
    def concatenate(cls, parts: list[Candidates]) -> Candidates:
        if not parts:
            return cls.empty()
        lengths = np.concatenate([p.lengths for p in parts])
        return cls(
            np.r_[0, np.cumsum(lengths)].astype(np.int64),
            np.concatenate([p.hit_index for p in parts]),
            np.concatenate([p.quality for p in parts]),
            np.concatenate([p.holes for p in parts]),
            np.concatenate([p.missed for p in parts]),
            np.concatenate([p.pt for p in parts]),
        )


@dataclass(frozen=True)
class _Hits:
    """Hit data prepared for following: per-hit layer, module frame and errors."""

    layer: IntArray
    module: IntArray
    xyz: FloatArray
    sigma: FloatArray  # (N, 2) [mm] along module u, v
    order: IntArray  # hit rows sorted by (layer, φ)
    key: FloatArray  # sorted (layer, φ) keys


class CKFReconstructor:
    """Seeds → combinatorial Kalman following → ambiguity resolution → final fit."""

    def __init__(
        self,
        config: CKFConfig | None = None,
        detector: Detector | None = None,
        field: MagneticField = TRACKML_FIELD,
    ) -> None:
        self.config = config or CKFConfig()
        if detector is None:
            from tracklearn.io.trackml import load_detector

            path = Path(self.config.detector_path) if self.config.detector_path else None
            detector = load_detector(path)
        self.detector = detector
        self.lookup = ModuleLookup.build(detector)
        self.field = field
        #: the final fit + smoother of the accepted tracks
        self.track_fitter = TrackFitter(detector, field, self.config.kalman)
        self.seed_filter: Any = None  # optional callable(Seeds, Event) -> bool mask
        if self.config.seed_classifier is not None:
            from tracklearn.classical.seed_classifier import (
                SeedClassifier,
                default_classifier_path,
                seed_filter,
            )

            name = self.config.seed_classifier
            path = default_classifier_path() if name == "default" else Path(name)
            clf = SeedClassifier.load(path, field)
            self.seed_filter = seed_filter(
                clf, self.config.seed_classifier_keep, self.config.seed_classifier_drop_prob
            )

    # ------------------------------------------------------------------ helpers
    def _prepare(self, event: Event) -> _Hits:
        h = event.hits
        det = self.detector
        module = det.check_hits(h.volume_id, h.layer_id, h.module_id, event.source)
        layer = self.lookup.module_layer[module]
        phi = np.arctan2(h.y, h.x) + np.pi
        key = layer * 10.0 + phi
        order = np.argsort(key, kind="stable")
        return _Hits(
            layer=layer,
            module=module,
            xyz=h.positions,
            sigma=measurement_sigma(det, module),
            order=order.astype(np.int64),
            key=key[order],
        )

    def _next_layer(
        self, params: FloatArray, surf: Surfaces, visited: BoolArray, *, inward: bool = False
    ) -> tuple[IntArray, FloatArray]:
        """Next layer of each branch and the predicted point there ((B,), (B, 3)).

        Layer -1 where the helix leaves the tracker.  ``visited`` (B, n_layers)
        marks the layers the branch crossed already (seed layers, hits, holes): a
        track crosses a layer once, so they are never next again (without this a
        branch whose state sits on a layer after a hole could take the same hit
        twice).  ``inward`` (reversed tracks) only accepts crossings closer to the
        beamline (smaller r and |z|).
        """
        lk = self.lookup
        pos, _ = bound_to_free(params, surf)
        bz = self.field.bz(np.hypot(pos[:, 0], pos[:, 1]), pos[:, 2])
        sin_t = np.maximum(np.sin(params[:, THETA]), 1e-9)
        pt = sin_t / np.maximum(np.abs(params[:, QOP]), 1e-12)
        radius = pt / (C_LIGHT_GEV_PER_T_MM * np.maximum(np.abs(bz), 1e-6))
        h = -np.sign(params[:, QOP] * bz)  # rotation sense in x-y
        phi = params[:, PHI]
        cot = np.cos(params[:, THETA]) / sin_t
        # circle centre and the transverse turning angle α to each layer
        cx = pos[:, 0] - h * radius * np.sin(phi)
        cy = pos[:, 1] + h * radius * np.cos(phi)
        d = np.hypot(cx, cy)[:, None]
        gam = np.arctan2(cy, cx)[:, None]
        beta0 = np.arctan2(pos[:, 1] - cy, pos[:, 0] - cx)[:, None]
        R = radius[:, None]
        hh = h[:, None]
        ref = lk.ref[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = np.arccos((ref**2 - d**2 - R**2) / (2 * d * R))
            a1 = np.mod(hh * (gam + delta - beta0), 2 * np.pi)
            a2 = np.mod(hh * (gam - delta - beta0), 2 * np.pi)
        a1 = np.where(a1 < 1e-9, np.nan, a1)
        a2 = np.where(a2 < 1e-9, np.nan, a2)
        alpha_b = np.fmin(a1, a2)
        alpha_d = (ref - pos[:, 2:3]) / (R * cot[:, None])
        alpha = np.where(lk.is_barrel[None, :], alpha_b, alpha_d)
        alpha = np.where((alpha > 1e-6) & (alpha < np.pi), alpha, np.nan)
        # crossing point
        p0 = phi[:, None]
        x = pos[:, 0:1] + hh * R * (np.sin(p0 + hh * alpha) - np.sin(p0))
        y = pos[:, 1:2] - hh * R * (np.cos(p0 + hh * alpha) - np.cos(p0))
        z = pos[:, 2:3] + R * alpha * cot[:, None]
        other = np.where(lk.is_barrel[None, :], z, np.hypot(x, y))
        inside = (other >= lk.s_lo[None, :]) & (other <= lk.s_hi[None, :])
        if inward:
            r0 = np.hypot(pos[:, 0:1], pos[:, 1:2])
            inside &= (np.hypot(x, y) < r0 + 1.0) & (np.abs(z) < np.abs(pos[:, 2:3]) + 1.0)
        path = np.where(inside & np.isfinite(alpha), alpha, np.inf)
        path[visited] = np.inf
        nxt = np.argmin(path, axis=1)
        found = np.isfinite(path[np.arange(len(nxt)), nxt])
        pts = np.stack(
            [x[np.arange(len(nxt)), nxt], y[np.arange(len(nxt)), nxt], z[np.arange(len(nxt)), nxt]],
            axis=1,
        )
        return np.where(found, nxt, -1).astype(np.int64), pts

    def _candidates(
        self, hd: _Hits, layer: IntArray, pred: FloatArray, cov: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """(branch, hit row) pairs within the φ window of the predicted point."""
        cfg = self.config
        r = np.hypot(pred[:, 0], pred[:, 1])
        sig = np.sqrt(np.maximum(cov[:, 0, 0], 0.0))  # along u = φ direction
        dphi = (cfg.window_sigma * sig + cfg.window_mm + 5.0) / np.maximum(r, 1.0)
        dphi = np.minimum(dphi, 0.5)
        phi = np.arctan2(pred[:, 1], pred[:, 0]) + np.pi
        base = layer * 10.0
        lo = np.searchsorted(hd.key, base + np.maximum(phi - dphi, 0.0), "left")
        hi = np.searchsorted(hd.key, base + np.minimum(phi + dphi, 2 * np.pi), "right")
        count = np.maximum(hi - lo, 0)
        owner = np.repeat(np.arange(len(layer), dtype=np.int64), count)
        rank = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        return owner, hd.order[lo[owner] + rank]

    # ------------------------------------------------------------------ main
    def follow(self, event: Event, seeds: Seeds) -> Candidates:
        """Follow every seed outwards from its top hit and inwards from its bottom hit.

        Returns the best track of each seed, hits ordered along the track
        (innermost first).
        """
        cfg = self.config
        hd = self._prepare(event)
        n_s = len(seeds)
        if n_s == 0:
            return Candidates.empty()
        seed_hits = seeds.hits
        rows = seed_hits.ravel()
        surf_all = module_surfaces(self.detector, hd.module[rows], cfg.kalman.material)
        meas = local_position(surf_all, hd.xyz[rows])
        mcov = np.zeros((len(rows), 2, 2))
        mcov[:, 0, 0] = hd.sigma[rows, 0] ** 2
        mcov[:, 1, 1] = hd.sigma[rows, 1] ** 2
        fitter = KalmanFitter(self.field, cfg.kalman.model_copy(update={"iterations": 2}))
        sf = fitter.fit(meas, mcov, surf_all, np.arange(0, len(rows) + 1, 3))
        ok = np.flatnonzero(sf.ok)
        # outwards from the top hit
        out_seed, out_hits, out_n, out_c2, out_ho, out_tot, out_pt = self._run(
            hd,
            sf.smoothed[ok, 2],
            sf.smoothed_cov[ok, 2],
            surf_all.take(ok * 3 + 2),
            seed_hits[ok],
            ok,
            inward=False,
        )
        # inwards from the bottom hit: the same state with the direction reversed
        # (φ + π, π - θ, -q/p), so that "forwards" runs towards the beamline
        rev = sf.smoothed[ok, 0].copy()
        rev[:, PHI] = wrap_phi(rev[:, PHI] + np.pi)
        rev[:, THETA] = np.pi - rev[:, THETA]
        rev[:, QOP] = -rev[:, QOP]
        flip = np.diag([1.0, 1.0, 1.0, -1.0, -1.0])
        rcov = flip @ sf.smoothed_cov[ok, 0] @ flip
        in_seed, in_hits, in_n, in_c2, in_ho, in_tot, _ = self._run(
            hd, rev, rcov, surf_all.take(ok * 3), seed_hits[ok][:, ::-1], ok, inward=True
        )
        # join: inward extras (reversed, innermost first) + seed + outward extras
        pos_in = np.full(n_s, -1)
        pos_in[in_seed] = np.arange(len(in_seed))
        pos_out = np.full(n_s, -1)
        pos_out[out_seed] = np.arange(len(out_seed))
        both = np.flatnonzero((pos_in >= 0) & (pos_out >= 0))
        tracks = []
        quality = []
        for s_ in both:  # one concatenation per seed
            i, o = pos_in[s_], pos_out[s_]
            inner = in_hits[i, 3 : in_n[i]][::-1]
            outer = out_hits[o, : out_n[o]]
            tracks.append(np.concatenate([inner, outer]))
            quality.append((in_c2[i] + out_c2[o]) / max(2 * (len(inner) + len(outer)) - 5, 1))
        lengths = np.array([len(t) for t in tracks], dtype=np.int64)
        return Candidates(
            offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
            hit_index=(np.concatenate(tracks) if tracks else np.zeros(0)).astype(np.int64),
            quality=np.array(quality, dtype=np.float64),
            holes=(in_ho[pos_in[both]] + out_ho[pos_out[both]]).astype(np.int64),
            missed=(in_tot[pos_in[both]] + out_tot[pos_out[both]]).astype(np.int64),
            pt=out_pt[pos_out[both]].astype(np.float64),
        )

    def _run(
        self,
        hd: _Hits,
        par: FloatArray,
        cov: FloatArray,
        surf: Surfaces,
        seed_hits: IntArray,
        seed_of: IntArray,
        *,
        inward: bool,
    ) -> tuple[IntArray, IntArray, IntArray, FloatArray, IntArray, IntArray, FloatArray]:
        """Branch loop; the best branch per seed as (seed, hit matrix, hits, χ², holes
        before its last hit, all holes, pT [GeV] of the last state)."""
        cfg = self.config
        visited = np.zeros((len(par), len(self.lookup.ref)), bool)
        for k in range(3):
            visited[np.arange(len(par)), hd.layer[seed_hits[:, k]]] = True
        hit_mat = np.full((len(par), (1 + cfg.max_overlap_hits) * cfg.max_steps + 3), -1, np.int64)
        hit_mat[:, :3] = seed_hits
        n_hits = np.full(len(par), 3, np.int64)
        holes = np.zeros(len(par), np.int64)
        inner = np.zeros(len(par), np.int64)  # holes before the last hit
        chi2 = np.zeros(len(par))
        active = np.ones(len(par), bool)
        seed_of = seed_of.astype(np.int64)
        for _step in range(cfg.max_steps):
            a = np.flatnonzero(active)
            if not len(a):
                break
            nxt, _pts = self._next_layer(par[a], surf.take(a), visited[a], inward=inward)
            stop = nxt < 0
            active[a[stop]] = False
            a, nxt = a[~stop], nxt[~stop]
            if not len(a):
                break
            pts = _pts[~stop]
            disk = ~self.lookup.is_barrel[nxt]
            ref = hit_surfaces(pts[:, 0], pts[:, 1], pts[:, 2], disk)
            pa = cov[a] + scattering_noise(par[a], surf.take(a), cfg.kalman.mass)
            xp, jac, good = transport(par[a], surf.take(a), ref, self.field, cfg.kalman.step_mm, 3)
            pp = jac @ pa @ np.transpose(jac, (0, 2, 1))
            good &= np.all(np.isfinite(pp), axis=(1, 2))
            active[a[~good]] = False
            a, nxt, xp, pp = a[good], nxt[good], xp[good], pp[good]
            ref = ref.take(np.flatnonzero(good))
            ref = Surfaces(
                ref.center,
                ref.rotation,
                self._layer_x0(nxt),
            )
            pos_pred, t_pred = bound_to_free(xp, ref)
            owner, hit = self._candidates(hd, nxt, pos_pred, pp)
            # project each candidate onto the reference plane along the track
            rot = ref.rotation[owner]
            n_vec = rot[:, :, 2]
            tt = t_pred[owner]
            dpos = hd.xyz[hit] - ref.center[owner]
            s_line = np.sum(n_vec * dpos, axis=1) / np.sum(n_vec * tt, axis=1)
            proj = hd.xyz[hit] - tt * s_line[:, None]
            loc = np.einsum("kji,kj->ki", rot, proj - ref.center[owner])[:, :2]
            mrot = self.detector.rotations[hd.module[hit]]
            amat = np.einsum("kia,kib->kab", rot[:, :, :2], mrot[:, :, :2])  # (C, 2, 2)
            vmod = np.zeros((len(hit), 2, 2))
            vmod[:, 0, 0] = hd.sigma[hit, 0] ** 2
            vmod[:, 1, 1] = hd.sigma[hit, 1] ** 2
            vref = amat @ vmod @ np.transpose(amat, (0, 2, 1))
            res = loc - xp[owner, :2]
            s_mat = pp[owner, :2, :2] + vref
            s_inv = np.linalg.inv(s_mat)
            c2 = np.einsum("ki,kij,kj->k", res, s_inv, res)
            ok_c = c2 < cfg.chi2_max
            owner, hit, res, s_inv, c2 = owner[ok_c], hit[ok_c], res[ok_c], s_inv[ok_c], c2[ok_c]
            # best few per branch; a compatible hit on another module of the
            # same layer (the overlap of neighbouring modules) joins the best one
            order = np.lexsort((c2, owner))
            owner, hit, res, s_inv, c2 = (v[order] for v in (owner, hit, res, s_inv, c2))
            first = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else np.zeros(0, bool)
            start = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
            rank = np.arange(len(owner)) - start
            mod = hd.module[hit]
            same_module = mod == mod[start]
            # overlap hits: the best hit of each other module (rows are sorted by
            # χ², so np.unique's first occurrence of a (branch, module) is its
            # best), at most max_overlap_hits per branch
            ov = np.flatnonzero(~same_module & (c2 < cfg.chi2_overlap))
            ov = ov[
                np.sort(np.unique(owner[ov] * len(self.detector) + mod[ov], return_index=True)[1])
            ]
            ov_rank = _rank_in_group(owner[ov])
            ov = ov[ov_rank < cfg.max_overlap_hits]
            ov_hits = np.full((len(a), cfg.max_overlap_hits), -1, np.int64)
            ov_hits[owner[ov], _rank_in_group(owner[ov])] = hit[ov]
            keep = same_module & (rank < cfg.branches_per_layer)
            owner, hit, res, s_inv, c2 = (v[keep] for v in (owner, hit, res, s_inv, c2))
            overlap_hit = np.where((rank[keep] == 0)[:, None], ov_hits[owner], -1)  # (n, k)
            # updated branches
            new_par, new_cov = gain_update(xp[owner], pp[owner], res, s_inv)
            src = a[owner]
            n_new = len(src)
            # holes: branches with no compatible hit continue without an update
            no_hit = np.ones(len(a), bool)
            no_hit[owner] = False
            hole_src = a[no_hit]
            hole_ok = holes[hole_src] < cfg.max_holes
            hole_idx = np.flatnonzero(no_hit)[hole_ok]
            # a branch that may not take another hole stops where it is (it keeps
            # its hits: the particle may have ended or left through a gap)
            active[hole_src[~hole_ok]] = False
            hole_src = hole_src[hole_ok]
            # assemble the new branch set (replacing the followed ones)
            cont = np.concatenate([src, hole_src])
            new_hits = hit_mat[cont].copy()
            pos_k = n_hits[src]
            new_hits[np.arange(n_new), pos_k] = hit
            has_ov = overlap_hit >= 0  # filled left to right
            ov_r, ov_c = np.nonzero(has_ov)
            new_hits[ov_r, pos_k[ov_r] + 1 + ov_c] = overlap_hit[ov_r, ov_c]
            par_new = np.concatenate([new_par, xp[hole_idx]])
            cov_new = np.concatenate([new_cov, pp[hole_idx]])
            surf_new = Surfaces(
                np.concatenate([ref.center[owner], ref.center[hole_idx]]),
                np.concatenate([ref.rotation[owner], ref.rotation[hole_idx]]),
                np.concatenate([ref.x_over_x0[owner], ref.x_over_x0[hole_idx]]),
            )
            layer_new = np.concatenate([nxt[owner], nxt[hole_idx]])
            nh_new = np.concatenate([n_hits[src] + 1 + has_ov.sum(axis=1), n_hits[hole_src]])
            ho_new = np.concatenate([holes[src], holes[hole_src] + 1])
            in_new = np.concatenate([holes[src], inner[hole_src]])
            c2_new = np.concatenate([chi2[src] + c2, chi2[hole_src]])
            seed_new = seed_of[cont]
            # untouched: branches stopped earlier (inactive) stay as they are
            idle = np.flatnonzero(~active)
            par = np.concatenate([par[idle], par_new])
            cov = np.concatenate([cov[idle], cov_new])
            surf = Surfaces(
                np.concatenate([surf.center[idle], surf_new.center]),
                np.concatenate([surf.rotation[idle], surf_new.rotation]),
                np.concatenate([surf.x_over_x0[idle], surf_new.x_over_x0]),
            )
            vis_new = visited[cont]
            vis_new[np.arange(len(cont)), layer_new] = True
            visited = np.concatenate([visited[idle], vis_new])
            hit_mat = np.concatenate([hit_mat[idle], new_hits])
            n_hits = np.concatenate([n_hits[idle], nh_new])
            holes = np.concatenate([holes[idle], ho_new])
            inner = np.concatenate([inner[idle], in_new])
            chi2 = np.concatenate([chi2[idle], c2_new])
            seed_of = np.concatenate([seed_of[idle], seed_new])
            active = np.concatenate([np.zeros(len(idle), bool), np.ones(len(cont), bool)])
            # keep the best max_branches per seed: most hits, then lowest χ²
            keep_b = _best_per_group(seed_of, -n_hits, chi2, cfg.max_branches)
            sel = np.flatnonzero(keep_b)
            par, cov, visited, hit_mat = par[sel], cov[sel], visited[sel], hit_mat[sel]
            n_hits, holes, chi2, seed_of = n_hits[sel], holes[sel], chi2[sel], seed_of[sel]
            inner = inner[sel]
            surf = surf.take(sel)
            active = active[sel]
        best = np.flatnonzero(_best_per_group(seed_of, -n_hits, chi2, 1))
        pt = np.sin(par[best, THETA]) / np.maximum(np.abs(par[best, QOP]), 1e-12)
        return seed_of[best], hit_mat[best], n_hits[best], chi2[best], inner[best], holes[best], pt

    def fit_tracks(self, event: Event, tracks: TrackCandidates) -> TrackFit:
        """Final Kalman fit + smoother of every track: :meth:`TrackFitter.fit`."""
        return self.track_fitter.fit(event, tracks)

    def _layer_x0(self, layer: IntArray) -> FloatArray:
        mat = self.config.kalman.material
        vol = self.lookup.layer_volume[layer]
        x0 = np.array([mat.x0_mm.get(int(v), mat.default_x0_mm) for v in vol], dtype=np.float64)
        # representative sensor thickness of the layer's volume
        t_by_vol = {7: 0.15, 8: 0.15, 9: 0.15, 12: 0.25, 13: 0.25, 14: 0.25}
        t = np.array([t_by_vol.get(int(v), 0.35) for v in vol])
        return np.asarray(t / x0)

    def seeds(
        self,
        event: Event,
        config: SeedingConfig | None = None,
        usable: BoolArray | None = None,
    ) -> Seeds:
        """Triplet seeds of the event (from ``usable`` hits).  The optional
        ``seed_filter`` prunes the main pass (``config`` None) only: the seed
        classifier learnt seeds from the collision region, not displaced ones."""
        seeds = SeedFinder(config or self.config.seeding, self.field)(event.hits, usable)
        if self.seed_filter is not None and config is None and len(seeds):
            seeds = seeds.select(self.seed_filter(seeds, event))
        log.debug("%d seeds", len(seeds))
        return seeds

    def candidates(self, event: Event, seeds: Seeds) -> Candidates:
        """Follow the seeds in chunks (the chunk bounds the memory of the branch arrays).

        With ``skip_used_seeds`` a seed with that many hits on tracks already
        accepted from earlier chunks is not followed: it would only rebuild one of
        them (the final selection still sees every followed candidate).
        """
        cfg = self.config
        n = len(event.hits)
        taken = np.zeros(n, bool)
        parts = []
        for lo in range(0, len(seeds), cfg.seed_chunk):
            chunk = seeds.select(np.arange(lo, min(lo + cfg.seed_chunk, len(seeds))))
            if cfg.skip_used_seeds:
                chunk = chunk.select(taken[chunk.hits].sum(axis=1) < cfg.skip_used_seeds)
            c = self.follow(event, chunk)
            parts.append(c)
            if cfg.skip_used_seeds:
                taken[_entries(c, self.select(c, n, taken))] = True
        return Candidates.concatenate(parts)

    def passes(self, event: Event) -> tuple[Candidates, IntArray]:
        """All followed candidates and the accepted ones (best first), over all passes.

        Each pass after the main one seeds only hits no accepted track took.
        """
        cand = self.candidates(event, self.seeds(event))
        parts, accepted = [cand], [self.select(cand, len(event.hits))]
        extra = [self.config.second_pass] if self.config.second_pass is not None else []
        extra += list(self.config.extra_passes)
        n_before = len(cand)
        used = np.zeros(len(event.hits), bool)
        used[_entries(cand, accepted[0])] = True
        for k, config in enumerate(extra):
            more = self.candidates(event, self.seeds(event, config, ~used))
            acc = self.select(more, len(event.hits), used)
            used[_entries(more, acc)] = True
            log.debug("pass %d: %d candidates, %d accepted", k + 2, len(more), len(acc))
            parts.append(more)
            accepted.append(acc + n_before)
            n_before += len(more)
        return Candidates.concatenate(parts), np.concatenate(accepted)

    def select(self, cand: Candidates, n_hits: int, used: BoolArray | None = None) -> IntArray:
        """Accepted candidate numbers (ambiguity resolution), best first; hits in
        ``used`` (N,) already belong to tracks."""
        cfg = self.config
        short = cand.lengths < cfg.min_hits
        bad = short & (
            (cand.holes > 0) | (cand.quality >= cfg.short_chi2_max) | (cand.pt < cfg.short_pt_min)
        )
        # a rejected candidate gets length 0 in the resolver's eyes
        offsets = cand.offsets
        lengths = np.where(bad, 0, cand.lengths)
        keep = np.repeat(~bad, cand.lengths)
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        return resolve_ambiguity(
            offsets,
            cand.hit_index[keep],
            cand.quality,
            n_hits,
            min(cfg.min_hits_short, cfg.min_hits),
            cfg.max_shared,
            used,
        )

    def __call__(self, event: Event) -> TrackCandidates:
        n = len(event.hits)
        if n == 0:
            return TrackCandidates.empty(0)
        cand, accepted = self.passes(event)
        offsets, flat = cand.offsets, cand.hit_index
        parts = [flat[offsets[t] : offsets[t + 1]] for t in accepted]
        hit_index = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        out_off = np.r_[0, np.cumsum([len(p) for p in parts])].astype(np.int64)
        tracks = TrackCandidates(offsets=out_off, hit_index=hit_index, n_hits=n)
        # final fit + smoother: the tracks carry their perigee parameters
        if not tracks.n_tracks:
            return tracks.with_parameters(TrackParameters.empty())
        return tracks.with_parameters(parameters_from_fit(self.fit_tracks(event, tracks)))


def _entries(cand: Candidates, tracks: IntArray) -> IntArray:
    """Hit rows of the chosen candidates, concatenated."""
    lengths = cand.lengths[tracks]
    start = np.repeat(cand.offsets[tracks], lengths)
    rank = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return cand.hit_index[start + rank]


def _rank_in_group(group: IntArray) -> IntArray:
    """Position of each row within its run of equal ``group`` values (rows sorted by group)."""
    if not len(group):
        return np.zeros(0, np.int64)
    first = np.r_[True, group[1:] != group[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(group)), 0))
    return (np.arange(len(group)) - start).astype(np.int64)


def _best_per_group(group: IntArray, key1: IntArray, key2: FloatArray, k: int) -> BoolArray:
    """Mask of the ``k`` best rows per group (smallest key1, then key2)."""
    order = np.lexsort((key2, key1, group))
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    out = np.zeros(len(group), bool)
    out[order[(np.arange(len(g)) - start) < k]] = True
    return out


def resolve_ambiguity(
    offsets: IntArray,
    hit_index: IntArray,
    quality: FloatArray,
    n_hits: int,
    min_hits: int,
    max_shared: int,
    used: BoolArray | None = None,
) -> IntArray:
    """Greedy shared-hit resolution: tracks by (more hits, lower χ²/ndf) are
    accepted while they share at most ``max_shared`` hits with accepted tracks.

    Returns the accepted track numbers, best first.  ``used`` (N,) marks hits
    of tracks accepted before (they count as shared).  One pass over tracks (a
    loop is unavoidable: each decision depends on the previous ones).
    """
    lengths = np.diff(offsets)
    order = np.lexsort((quality, -lengths))
    used = np.zeros(n_hits, bool) if used is None else used.copy()
    accepted: list[int] = []
    for t in order:
        if lengths[t] < min_hits:
            continue
        h = hit_index[offsets[t] : offsets[t + 1]]
        if int(used[h].sum()) > max_shared:
            continue
        used[h] = True
        accepted.append(int(t))
    return np.array(accepted, dtype=np.int64)


@register_method(
    "ckf",
    "Triplet seeds + combinatorial Kalman filter following and fit",
    use_for="the classical reference: fitted parameters with covariances, pT ≥ 1 GeV; slow",
    trackml_geometry=True,
)
def make_ckf(config: dict[str, Any] | None) -> CKFReconstructor:
    """Build the CKF chain from a config mapping (see :class:`CKFConfig`)."""
    return CKFReconstructor(CKFConfig.model_validate(config or {}))


__all__ = ["CKFConfig", "CKFReconstructor", "resolve_ambiguity"]
