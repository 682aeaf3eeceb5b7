"""Built-in quick generator: exact helices through ideal cylinders and disks.

For tests and the demo, so nothing needs external data.  Charged particles
(power-law pT spectrum, flat η and φ, Gaussian luminous region) follow exact
helices in a uniform solenoid field through :func:`~tracklearn.geometry.cylinders.trackml_like`;
every surface crossing before the particle leaves the tracker (or completes
half a turn) becomes a hit, smeared by the surface's resolution.  Uniform noise
hits are added and hit order is shuffled, so it carries no truth.  There is no
material, energy loss or field non-uniformity here: the realistic simulator is a
separate module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, Hits, Particles, Truth
from tracklearn.geometry.cylinders import CylindricalDetector, trackml_like
from tracklearn.geometry.helix import (
    alpha_at_radius,
    helix_point,
    radius_of_curvature,
    rotation_sense,
)
from tracklearn.simulation.weights import trackml_hit_weights

log = logging.getLogger(__name__)

#: particle ids start above 2**53 so that any float64 round trip would corrupt them
_PID_BASE = 1 << 60


class QuickConfig(BaseModel):
    """Settings of the quick generator (units in the comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_particles: int = Field(200, ge=0)  # charged particles per event
    pt_min: float = Field(0.4, gt=0)  # GeV
    pt_max: float = Field(50.0, gt=0)  # GeV
    pt_power: float = Field(3.0, gt=1)  # dN/dpT ∝ pT^-pt_power
    eta_max: float = Field(3.0, gt=0)  # |η| range, flat
    vertex_sigma_xy: float = Field(0.015, ge=0)  # mm, Gaussian beam spot
    vertex_sigma_z: float = Field(55.0, ge=0)  # mm, Gaussian luminous region
    b_field: float = Field(2.0, gt=0)  # T, uniform along +z
    noise_fraction: float = Field(0.1, ge=0)  # noise hits per particle hit
    hit_efficiency: float = Field(1.0, gt=0, le=1)  # probability a crossing gives a hit
    smear: bool = True  # apply the surfaces' resolutions
    max_turn: float = Field(np.pi, gt=0)  # rad, loopers are followed this far


def _sample_particles(cfg: QuickConfig, rng: np.random.Generator) -> dict[str, npt.NDArray]:
    n = cfg.n_particles
    # inverse-CDF sampling of a truncated power law
    u = rng.random(n)
    a = 1.0 - cfg.pt_power
    lo, hi = cfg.pt_min**a, cfg.pt_max**a
    pt = (lo + u * (hi - lo)) ** (1.0 / a)
    eta = rng.uniform(-cfg.eta_max, cfg.eta_max, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    q = rng.choice(np.array([-1, 1]), n)
    return {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "q": q,
        "vx": rng.normal(0.0, cfg.vertex_sigma_xy, n),
        "vy": rng.normal(0.0, cfg.vertex_sigma_xy, n),
        "vz": rng.normal(0.0, cfg.vertex_sigma_z, n),
    }


def generate_event(
    event_id: int,
    rng: np.random.Generator,
    cfg: QuickConfig | None = None,
    detector: CylindricalDetector | None = None,
) -> Event:
    """Generate one event (hits, truth, particles) with the quick generator."""
    cfg = cfg or QuickConfig()
    det = detector or trackml_like()
    p = _sample_particles(cfg, rng)
    n = cfg.n_particles
    radius = radius_of_curvature(p["pt"], p["q"], cfg.b_field)
    h = rotation_sense(p["q"], cfg.b_field)
    cot = np.sinh(p["eta"])
    vx, vy, vz, phi0 = p["vx"], p["vy"], p["vz"], p["phi"]

    # turning angle at which each particle leaves the tracker (or stops looping)
    with np.errstate(divide="ignore", invalid="ignore"):
        a_z = np.where(cot != 0, (np.sign(cot) * det.half_z - vz) / (radius * cot), np.inf)
    a_r = alpha_at_radius(det.r_max, vx, vy, phi0, radius, h)
    a_exit = np.fmin(np.fmin(a_z, np.nan_to_num(a_r, nan=np.inf)), cfg.max_turn)

    rows: list[tuple[npt.NDArray, ...]] = []
    for cyl in det.cylinders:
        a = alpha_at_radius(cyl.r, vx, vy, phi0, radius, h)
        x, y, z = helix_point(a, vx, vy, vz, phi0, cot, radius, h)
        ok = np.isfinite(a) & (a <= a_exit) & (np.abs(z) <= cyl.half_z)
        idx = np.flatnonzero(ok)
        rows.append(
            (
                idx,
                a[idx],
                x[idx],
                y[idx],
                z[idx],
                np.full(len(idx), cyl.volume_id),
                np.full(len(idx), cyl.layer_id),
                np.full(len(idx), cyl.sigma_rphi),
                np.full(len(idx), cyl.sigma_z),
                np.zeros(len(idx), bool),
            )
        )
    for disk in det.disks:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (disk.z - vz) / (radius * cot)
        x, y, z = helix_point(a, vx, vy, vz, phi0, cot, radius, h)
        r = np.hypot(x, y)
        ok = np.isfinite(a) & (a > 0) & (a <= a_exit) & (r >= disk.r_min) & (r <= disk.r_max)
        idx = np.flatnonzero(ok)
        rows.append(
            (
                idx,
                a[idx],
                x[idx],
                y[idx],
                np.full(len(idx), disk.z),
                np.full(len(idx), disk.volume_id),
                np.full(len(idx), disk.layer_id),
                np.full(len(idx), disk.sigma_rphi),
                np.full(len(idx), disk.sigma_r),
                np.ones(len(idx), bool),
            )
        )
    cols = [np.concatenate(c) for c in zip(*rows, strict=True)]
    pidx, alpha, tx, ty, tz, vol, lay, s_rphi, s_2, on_disk = cols
    pidx = pidx.astype(np.int64)
    keep = rng.random(len(pidx)) < cfg.hit_efficiency
    order = np.lexsort((alpha[keep], pidx[keep]))
    pidx, alpha, tx, ty, tz, vol, lay, s_rphi, s_2, on_disk = (
        c[keep][order] for c in (pidx, alpha, tx, ty, tz, vol, lay, s_rphi, s_2, on_disk)
    )
    # true momentum at the hit: direction φ0 + h α
    dir_phi = phi0[pidx] + h[pidx] * alpha
    tpx = p["pt"][pidx] * np.cos(dir_phi)
    tpy = p["pt"][pidx] * np.sin(dir_phi)
    tpz = p["pt"][pidx] * cot[pidx]

    # measured positions: Gaussian smearing along r·φ and z (barrel) or r (disk)
    tr, tphi = np.hypot(tx, ty), np.arctan2(ty, tx)
    if cfg.smear:
        mr = tr + np.where(on_disk, rng.normal(0.0, 1.0, len(tr)) * s_2, 0.0)
        mphi = tphi + rng.normal(0.0, 1.0, len(tr)) * s_rphi / tr
        mz = tz + np.where(on_disk, 0.0, rng.normal(0.0, 1.0, len(tr)) * s_2)
    else:
        mr, mphi, mz = tr, tphi, tz.copy()

    # noise hits, uniform on randomly chosen surfaces weighted by area
    n_noise = int(rng.poisson(cfg.noise_fraction * len(pidx))) if len(pidx) else 0
    nr, nphi, nz, nvol, nlay, n_on_disk = _noise_hits(det, n_noise, rng)

    all_r = np.concatenate([mr, nr])
    all_phi = np.concatenate([mphi, nphi])
    all_z = np.concatenate([mz, nz])
    all_vol = np.concatenate([vol, nvol]).astype(np.int32)
    all_lay = np.concatenate([lay, nlay]).astype(np.int32)
    all_disk = np.concatenate([on_disk, n_on_disk])
    module = _module_ids(det, all_vol, all_lay, all_phi, all_r, all_z, all_disk)
    n_sig = len(pidx)
    all_pidx = np.concatenate([pidx, np.full(n_noise, -1, np.int64)])
    zeros = np.zeros(n_noise)
    t_cols = [
        np.concatenate([a, b])
        for a, b in (
            (tx, all_r[n_sig:] * np.cos(all_phi[n_sig:])),
            (ty, all_r[n_sig:] * np.sin(all_phi[n_sig:])),
            (tz, all_z[n_sig:]),
            (tpx, zeros),
            (tpy, zeros),
            (tpz, zeros),
        )
    ]

    # shuffle so that the hit order carries no truth
    perm = rng.permutation(len(all_pidx))
    pid_of_particle = _PID_BASE + 2 * np.arange(n, dtype=np.int64) + 1
    particle_id = np.where(all_pidx >= 0, pid_of_particle[np.maximum(all_pidx, 0)], 0)
    # TrackML weights; every quick particle comes from the collision (no secondaries)
    weight = trackml_hit_weights(
        all_pidx,
        np.column_stack(t_cols[:3]),
        np.column_stack([vx, vy, vz]),
        p["pt"],
    )
    hit_id = np.arange(1, len(perm) + 1, dtype=np.int64)
    hits = Hits(
        hit_id=hit_id,
        x=(all_r * np.cos(all_phi))[perm],
        y=(all_r * np.sin(all_phi))[perm],
        z=all_z[perm],
        volume_id=all_vol[perm],
        layer_id=all_lay[perm],
        module_id=module[perm],
    )
    truth = Truth(
        hit_id=hit_id,
        particle_id=particle_id[perm],
        tx=t_cols[0][perm],
        ty=t_cols[1][perm],
        tz=t_cols[2][perm],
        tpx=t_cols[3][perm],
        tpy=t_cols[4][perm],
        tpz=t_cols[5][perm],
        weight=weight[perm],
    )
    nhits = np.bincount(pidx, minlength=n)
    particles = Particles(
        particle_id=pid_of_particle,
        vx=vx,
        vy=vy,
        vz=vz,
        px=p["pt"] * np.cos(phi0),
        py=p["pt"] * np.sin(phi0),
        pz=p["pt"] * cot,
        q=p["q"],
        nhits=nhits.astype(np.int32),
        particle_type=211 * p["q"],
    )
    return Event(
        event_id=event_id,
        hits=hits,
        truth=truth,
        particles=particles,
        source=f"quick event {event_id}",
    )


def _noise_hits(
    det: CylindricalDetector, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray, ...]:
    surfaces = list(det.cylinders) + list(det.disks)
    areas = np.array(
        [2 * np.pi * c.r * 2 * c.half_z for c in det.cylinders]
        + [np.pi * (d.r_max**2 - d.r_min**2) for d in det.disks]
    )
    which = rng.choice(len(surfaces), size=n, p=areas / areas.sum())
    phi = rng.uniform(-np.pi, np.pi, n)
    u = rng.random(n)
    n_cyl = len(det.cylinders)
    r = np.empty(n)
    z = np.empty(n)
    vol = np.empty(n, np.int32)
    lay = np.empty(n, np.int32)
    for k, s in enumerate(surfaces):
        sel = which == k
        vol[sel], lay[sel] = s.volume_id, s.layer_id
        if k < n_cyl:
            r[sel] = s.r  # type: ignore[union-attr]
            z[sel] = (2 * u[sel] - 1) * s.half_z  # type: ignore[union-attr]
        else:
            # uniform in area: r² uniform
            r[sel] = np.sqrt(s.r_min**2 + u[sel] * (s.r_max**2 - s.r_min**2))  # type: ignore[union-attr]
            z[sel] = s.z  # type: ignore[union-attr]
    return r, phi, z, vol, lay, which >= n_cyl


def _module_ids(
    det: CylindricalDetector,
    vol: npt.NDArray,
    lay: npt.NDArray,
    phi: npt.NDArray,
    r: npt.NDArray,
    z: npt.NDArray,
    on_disk: npt.NDArray,
) -> npt.NDArray[np.int32]:
    module = np.zeros(len(vol), np.int32)
    for cyl in det.cylinders:
        sel = ~on_disk & (vol == cyl.volume_id) & (lay == cyl.layer_id)
        module[sel] = det.barrel_module(cyl, phi[sel], z[sel])
    for disk in det.disks:
        sel = on_disk & (vol == disk.volume_id) & (lay == disk.layer_id)
        module[sel] = det.disk_module(disk, phi[sel], r[sel])
    return module


def generate_events(
    n_events: int, seed: int, cfg: QuickConfig | None = None, first_event_id: int = 1000
) -> Iterator[Event]:
    """Yield ``n_events`` events; event ``k`` depends only on ``seed`` and ``k``."""
    children = np.random.SeedSequence(seed).spawn(n_events)
    for k, ss in enumerate(children):
        yield generate_event(first_event_id + k, np.random.default_rng(ss), cfg)
