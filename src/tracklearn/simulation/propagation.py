"""Charged-particle propagation through planar modules in a magnetic field.

All particles are stepped together (vectorised over particles).  Within one
step of length ``h`` the field is taken constant at its value at the step's
midpoint (predicted with the field at the start), so the path is an exact
helix about the local field direction: with unit direction ``t``, unit field
``b``, ``t∥ = (t·b) b``, ``t⊥ = t − t∥`` and ``ω = q κ |B| / p``
(κ = 0.2998e-3 GeV T⁻¹ mm⁻¹),

    t(s) = t∥ + t⊥ cos ωs + (t⊥ × b) sin ωs
    x(s) = x₀ + t∥ s + t⊥ sin(ωs)/ω + (t⊥ × b)(1 − cos ωs)/ω.

After each step, layers whose envelope (see
:class:`~tracklearn.geometry.planar.ModuleLookup`) overlaps the step are
looked up, their nearby modules listed from the layer grid, and the exact
crossing of the helix with every candidate module plane is solved by Newton's
method on ``f(s) = n·(x(s) − c)``; crossings inside the step and inside the
module's trapezoid are kept.  Material effects are applied at the end of the
step to every particle that crossed sensors in it: multiple scattering
(Highland), optional mean ionisation loss, and nuclear interactions that end
a hadron's path (their vertices are returned so secondaries can be made).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.geometry.coords import perpendicular_basis
from tracklearn.geometry.material import MaterialConfig
from tracklearn.geometry.planar import ModuleLookup, inside_bounds
from tracklearn.typing import BoolArray, FloatArray, IntArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

#: Mean ionisation loss of a minimum-ionising particle in silicon [GeV/mm].
SILICON_DEDX_GEV_PER_MM: float = 0.3876e-3


class MagneticField(Protocol):
    def __call__(
        self, x: FloatArray, y: FloatArray, z: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]: ...


class PropagationConfig(BaseModel):
    """Stepping, stopping and physics switches of :func:`propagate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step_mm: float = Field(20.0, gt=0)  # mm
    # loop protection as in the ACTS propagator: a particle stops after the path
    # of ``max_turns`` helix turns in the field at its production point,
    # ``max_turns · 2π p / (κ |q| |B|)``; 0.5 reproduces the real TrackML data,
    # where hits per particle do not grow at low pT
    max_turns: float = Field(0.5, gt=0)
    # GeV: particles produced below this pT are listed but not propagated; in
    # the real TrackML lists ~90 % of primaries with pT < 0.15 GeV have no hit
    # and ~3 % of those above
    pt_min_propagate: float = Field(0.15, ge=0)
    max_steps: int = Field(2000, gt=0)
    p_min: float = Field(0.05, gt=0)  # GeV: particles below stop
    multiple_scattering: bool = True
    energy_loss: bool = True
    nuclear_interactions: bool = True
    margin_mm: float = Field(2.0, ge=0)  # mm: envelope slack around a step


@dataclass(frozen=True)
class StartState:
    """Particles to propagate.  Shapes: (P,) each; positions [mm], momenta [GeV]."""

    x: FloatArray
    y: FloatArray
    z: FloatArray
    px: FloatArray
    py: FloatArray
    pz: FloatArray
    q: FloatArray
    mass: FloatArray
    hadron: BoolArray


@dataclass(frozen=True)
class Crossings:
    """Sensor crossings, sorted by particle then path length.  Shapes: (K,) / (K, 3).

    Attributes
    ----------
    particle : int64
        Row in the :class:`StartState`.
    module : int64
        Detector row.
    path : float64
        Path length from the start [mm].
    position : float64, (K, 3)
        Global crossing point on the module mid-plane [mm].
    momentum : float64, (K, 3)
        Momentum at the crossing [GeV].
    local : float64, (K, 3)
        Local (u, v, w) of the crossing [mm] (w ≈ 0).
    local_dir : float64, (K, 3)
        Unit direction in the module frame.
    """

    particle: IntArray
    module: IntArray
    path: FloatArray
    position: FloatArray
    momentum: FloatArray
    local: FloatArray
    local_dir: FloatArray

    def __len__(self) -> int:
        return len(self.particle)


@dataclass(frozen=True)
class Interactions:
    """Nuclear interaction vertices.  Shapes: (I,) / (I, 3)."""

    particle: IntArray
    position: FloatArray
    momentum: FloatArray


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.cross(a, b)


def _helix(
    x0: FloatArray,
    t_par: FloatArray,
    t_perp: FloatArray,
    t_side: FloatArray,
    omega: FloatArray,
    s: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Position and unit direction after path ``s``.  Shapes: (N, 3) and (N,)."""
    a = omega * s
    # sin(a)/ω and (1 − cos a)/ω written with sinc so that ω → 0 is exact
    sin_term = s * np.sinc(a / np.pi)
    cos_term = s * (a / 2.0) * np.sinc(a / (2.0 * np.pi)) ** 2
    pos = x0 + t_par * s[:, None] + t_perp * sin_term[:, None] + t_side * cos_term[:, None]
    direction = t_par + t_perp * np.cos(a)[:, None] + t_side * np.sin(a)[:, None]
    return pos, direction


def _helix_frame(
    t0: FloatArray, bvec: FloatArray, qop: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(t∥, t⊥, t⊥ × b, ω) of helices with unit direction ``t0`` in field ``bvec``."""
    bmag = np.linalg.norm(bvec, axis=1)
    safe = np.where(bmag > 0, bmag, 1.0)
    bhat = bvec / safe[:, None]
    bhat[bmag == 0] = (0.0, 0.0, 1.0)
    t_par = np.sum(t0 * bhat, axis=1)[:, None] * bhat
    t_perp = t0 - t_par
    t_side = _cross(t_perp, bhat)
    omega = qop * C_LIGHT_GEV_PER_T_MM * bmag
    return t_par, t_perp, t_side, omega


def _field(field: MagneticField, pos: FloatArray) -> FloatArray:
    bx, by, bz = field(pos[:, 0], pos[:, 1], pos[:, 2])
    return np.stack(np.broadcast_arrays(bx, by, bz), axis=1).astype(np.float64)


def _highland(x_over_x0: FloatArray, p: FloatArray, beta: FloatArray) -> FloatArray:
    """Highland width θ₀ [rad] of the projected scattering angle (unit charge)."""
    xx = np.maximum(x_over_x0, 1e-12)
    return 13.6e-3 / (beta * p) * np.sqrt(xx) * (1.0 + 0.038 * np.log(xx / beta**2))


def propagate(
    start: StartState,
    lookup: ModuleLookup,
    field: MagneticField,
    rng: np.random.Generator,
    config: PropagationConfig | None = None,
    material: MaterialConfig | None = None,
) -> tuple[Crossings, Interactions]:
    """Follow every particle through the detector; return its sensor crossings.

    Particles stop when they leave the tracker (r or |z| beyond the outermost
    sensors), after ``max_turns`` turns, below ``p_min`` or at a nuclear
    interaction.  Neutral particles (q = 0) are not propagated.
    """
    cfg = config or PropagationConfig()
    mat = material or MaterialConfig()
    det = lookup.detector
    normals = det.rotations[:, :, 2]
    centers = det.centers
    rotations = det.rotations
    module_volume = det.volume_id.astype(np.int64)
    vols = np.unique(module_volume)
    x0_of_volume = {int(v): mat.x0_mm.get(int(v), mat.default_x0_mm) for v in vols}
    lam_of_volume = {int(v): mat.lambda_mm.get(int(v), mat.default_lambda_mm) for v in vols}
    module_x0 = np.vectorize(x0_of_volume.get, otypes=[float])(module_volume)
    module_lambda = np.vectorize(lam_of_volume.get, otypes=[float])(module_volume)
    groups = lookup.volume_groups()
    r_out = lookup.r_max + cfg.margin_mm
    z_out = lookup.z_max + cfg.margin_mm

    pos = np.stack([start.x, start.y, start.z], axis=1).astype(np.float64)
    mom = np.stack([start.px, start.py, start.pz], axis=1).astype(np.float64)
    p = np.linalg.norm(mom, axis=1)
    keep = (
        (start.q != 0) & (p > cfg.p_min) & (np.hypot(mom[:, 0], mom[:, 1]) >= cfg.pt_min_propagate)
    )
    keep &= (np.hypot(pos[:, 0], pos[:, 1]) < r_out) & (np.abs(pos[:, 2]) < z_out)
    ids = np.flatnonzero(keep).astype(np.int64)
    pos = pos[ids]
    p = p[ids]
    t = mom[ids] / p[:, None]
    q = start.q[ids].astype(np.float64)
    mass = start.mass[ids].astype(np.float64)
    hadron = start.hadron[ids]
    path = np.zeros(len(ids))
    b_start = np.linalg.norm(_field(field, pos), axis=1)
    path_limit = np.where(
        b_start > 0,
        cfg.max_turns
        * 2
        * np.pi
        * p
        / (C_LIGHT_GEV_PER_T_MM * np.abs(q) * np.maximum(b_start, 1e-12)),
        np.inf,
    )
    last_module = np.full(len(ids), -1, dtype=np.int64)
    h = cfg.step_mm

    out: dict[str, list[npt.NDArray[np.generic]]] = {
        k: [] for k in ("particle", "module", "path", "position", "momentum", "local", "dir")
    }
    inter: dict[str, list[npt.NDArray[np.generic]]] = {
        "particle": [],
        "position": [],
        "momentum": [],
    }

    for _ in range(cfg.max_steps):
        n = len(ids)
        if n == 0:
            break
        qop = q / p
        hs = np.full(n, h)
        b0 = _field(field, pos)
        frame = _helix_frame(t, b0, qop)
        mid, _unused = _helix(pos, *frame, hs / 2.0)
        frame = _helix_frame(t, _field(field, mid), qop)
        end, t_end = _helix(pos, *frame, hs)

        # --- candidate layers: envelope overlap of the step in r (barrels) or z (disks)
        r0 = np.hypot(pos[:, 0], pos[:, 1])
        r1 = np.hypot(end[:, 0], end[:, 1])
        m = cfg.margin_mm
        q_idx: list[IntArray] = []
        q_lay: list[IntArray] = []
        for barrel, layers in groups:
            if barrel:
                lo, hi = np.minimum(r0, r1) - m, np.maximum(r0, r1) + m
            else:
                lo, hi = np.minimum(pos[:, 2], end[:, 2]) - m, np.maximum(pos[:, 2], end[:, 2]) + m
            qi, ql = lookup.layers_crossed(lo, hi, barrel, layers)
            q_idx.append(qi)
            q_lay.append(ql)
        cand_p = np.concatenate(q_idx)
        cand_l = np.concatenate(q_lay)
        alive = np.ones(n, dtype=bool)
        if len(cand_p):
            # estimate where the step meets the layer's reference surface (linear)
            ref = lookup.ref[cand_l]
            barrel_c = lookup.is_barrel[cand_l]
            a0 = np.where(barrel_c, r0[cand_p], pos[cand_p, 2])
            a1 = np.where(barrel_c, r1[cand_p], end[cand_p, 2])
            denom = np.where(np.abs(a1 - a0) > 1e-12, a1 - a0, 1e-12)
            f = np.clip((ref - a0) / denom, 0.0, 1.0)
            guess = pos[cand_p] + f[:, None] * (end[cand_p] - pos[cand_p])
            qq, mod = lookup.candidates(cand_l, guess[:, 0], guess[:, 1], guess[:, 2])
            k = cand_p[qq]
            nrm = normals[mod]
            ctr = centers[mod]
            x0k = pos[k]
            fr = (frame[0][k], frame[1][k], frame[2][k], frame[3][k])
            ndt = np.sum(nrm * t[k], axis=1)
            ok = np.abs(ndt) > 1e-9
            s = np.where(ok, np.sum(nrm * (ctr - x0k), axis=1) / np.where(ok, ndt, 1.0), h / 2)
            for _it in range(5):
                xs, ts = _helix(x0k, *fr, s)
                fs = np.sum(nrm * (xs - ctr), axis=1)
                dfs = np.sum(nrm * ts, axis=1)
                good = np.abs(dfs) > 1e-9
                s = np.clip(s - np.where(good, fs / np.where(good, dfs, 1.0), 0.0), -h, 2 * h)
            xs, ts = _helix(x0k, *fr, s)
            fs = np.sum(nrm * (xs - ctr), axis=1)
            hit = (s >= 0) & (s < h) & (np.abs(fs) < 1e-4)
            # the module a step started on is not crossed again at s ≈ 0
            hit &= ~((mod == last_module[k]) & (s < 1e-3))
            loc = np.einsum("kji,kj->ki", rotations[mod], xs - ctr)
            hit &= inside_bounds(det, mod, loc[:, 0], loc[:, 1])
            k, mod, s, xs, ts, loc = k[hit], mod[hit], s[hit], xs[hit], ts[hit], loc[hit]
            # keep each particle's first crossing only: the step is cut there so
            # that material effects act exactly at the module; a second module
            # in reach is found by the next step
            s_first = np.full(n, np.inf)
            np.minimum.at(s_first, k, s)
            first = s == s_first[k]
            k, mod, s, xs, ts, loc = (
                k[first],
                mod[first],
                s[first],
                xs[first],
                ts[first],
                loc[first],
            )
            k, idx = np.unique(k, return_index=True)
            mod, s, xs, ts, loc = mod[idx], s[idx], xs[idx], ts[idx], loc[idx]
            ldir = np.einsum("kji,kj->ki", rotations[mod], ts)
            cos_inc = np.maximum(np.abs(ldir[:, 2]), 1e-3)
            thick = det.module_t[mod] / cos_inc
            out["particle"].append(ids[k])
            out["module"].append(mod)
            out["path"].append(path[k] + s)
            out["position"].append(xs)
            out["momentum"].append(ts * p[k, None])
            out["local"].append(loc)
            out["dir"].append(ldir)
            hs[k] = s
            end[k] = xs
            t_end[k] = ts
            last_module[:] = -1
            last_module[k] = mod
            if cfg.nuclear_interactions:
                p_int = -np.expm1(-thick / module_lambda[mod])
                stop = hadron[k] & (rng.random(len(k)) < p_int)
                inter["particle"].append(ids[k[stop]])
                inter["position"].append(xs[stop])
                inter["momentum"].append(ts[stop] * p[k[stop], None])
                alive[k[stop]] = False
            if cfg.energy_loss:
                energy = np.sqrt(p[k] ** 2 + mass[k] ** 2) - thick * SILICON_DEDX_GEV_PER_MM
                p[k] = np.sqrt(np.maximum(energy**2 - mass[k] ** 2, 0.0))
            if cfg.multiple_scattering:
                sel = k[p[k] > cfg.p_min]
                xx0 = (thick / module_x0[mod])[p[k] > cfg.p_min]
                if len(sel):
                    beta = p[sel] / np.sqrt(p[sel] ** 2 + mass[sel] ** 2)
                    theta0 = _highland(xx0, p[sel], beta)
                    e1, e2 = perpendicular_basis(t_end[sel])
                    th = rng.normal(size=(len(sel), 2)) * theta0[:, None]
                    new = t_end[sel] + th[:, :1] * e1 + th[:, 1:] * e2
                    t_end[sel] = new / np.linalg.norm(new, axis=1)[:, None]
        else:
            last_module[:] = -1

        path += hs
        r_end = np.hypot(end[:, 0], end[:, 1])
        alive &= (r_end < r_out) & (np.abs(end[:, 2]) < z_out)
        alive &= (path < path_limit) & (p > cfg.p_min)
        ids, hadron, last_module = ids[alive], hadron[alive], last_module[alive]
        pos, t, p, q, mass = end[alive], t_end[alive], p[alive], q[alive], mass[alive]
        path, path_limit = path[alive], path_limit[alive]
        t /= np.linalg.norm(t, axis=1)[:, None]

    def cat(key: str, shape: tuple[int, ...], dtype: type) -> npt.NDArray[np.generic]:
        parts = out[key]
        return np.concatenate(parts) if parts else np.zeros(shape, dtype=dtype)

    particle = cat("particle", (0,), np.int64).astype(np.int64)
    path_all = cat("path", (0,), np.float64).astype(np.float64)
    order = np.lexsort((path_all, particle))
    crossings = Crossings(
        particle=particle[order],
        module=cat("module", (0,), np.int64).astype(np.int64)[order],
        path=path_all[order],
        position=cat("position", (0, 3), np.float64).astype(np.float64)[order],
        momentum=cat("momentum", (0, 3), np.float64).astype(np.float64)[order],
        local=cat("local", (0, 3), np.float64).astype(np.float64)[order],
        local_dir=cat("dir", (0, 3), np.float64).astype(np.float64)[order],
    )
    interactions = Interactions(
        particle=(
            np.concatenate(inter["particle"]) if inter["particle"] else np.zeros(0, np.int64)
        ).astype(np.int64),
        position=np.concatenate(inter["position"]) if inter["position"] else np.zeros((0, 3)),
        momentum=np.concatenate(inter["momentum"]) if inter["momentum"] else np.zeros((0, 3)),
    )
    return crossings, interactions
