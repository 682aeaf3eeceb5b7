"""A tiny barrel-and-disk detector and exact helices through it, for the fullspectrum tests."""

from __future__ import annotations

import numpy as np

from tracklearn.edm import Event, Hits, Particles, Truth
from tracklearn.fullspectrum.layers import LayerTable, stored_layer_key

#: barrel radii [mm] (volume 8, layers 2, 4, ...) and disk z [mm] (volume 9)
RADII = (32.0, 72.0, 116.0, 172.0, 260.0, 360.0, 500.0, 660.0)
DISKS = (700.0, 900.0)
HALF_LENGTH = 600.0  # mm, barrel half-length
B_TESLA = 2.0


def toy_table() -> LayerTable:
    """The toy detector's layers: 8 barrel cylinders, then 2 disks at positive z."""
    n_b, n_d = len(RADII), len(DISKS)
    barrel_keys = stored_layer_key(np.full(n_b, 8), 2 * np.arange(1, n_b + 1))
    disk_keys = stored_layer_key(np.full(n_d, 9), 2 * np.arange(1, n_d + 1))
    key = np.concatenate([barrel_keys, disk_keys])
    barrel = np.array([True] * n_b + [False] * n_d)
    position = np.array(RADII + DISKS)
    t_min = np.array([-HALF_LENGTH] * n_b + [20.0] * n_d)
    t_max = np.array([HALF_LENGTH] * n_b + [700.0] * n_d)
    return LayerTable(key, barrel, position, t_min, t_max, np.full(n_b + n_d, 0.5))


def helix_hits(
    pt: float, phi0: float, cot: float, q: int = 1, z0: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact crossings (x, y, z, layer row) of a particle from (0, 0, z0) with the toy layers.

    Crossings are ordered along the path; the particle stops after half a turn.
    """
    radius = pt / (0.299792458e-3 * B_TESLA)  # mm
    h = -float(np.sign(q))  # rotation sense in +z field
    cx, cy = -h * radius * np.sin(phi0), h * radius * np.cos(phi0)
    pts = []
    for k, rr in enumerate(RADII):
        d = np.hypot(cx, cy)
        c = (rr**2 - d**2 - radius**2) / (2 * d * radius)
        if abs(c) > 1:
            continue
        beta0 = np.arctan2(-cy, -cx)
        gamma = np.arctan2(cy, cx)
        a = min(np.mod(h * (gamma + s * np.arccos(c) - beta0), 2 * np.pi) for s in (1, -1))
        z = z0 + radius * a * cot
        if a < np.pi and abs(z) <= HALF_LENGTH:
            pts.append((a, k))
    for j, zd in enumerate(DISKS):
        if cot <= 0:
            continue
        a = (zd - z0) / (radius * cot)
        if a < np.pi:
            pts.append((a, len(RADII) + j))
    pts.sort()
    xs, ys, zs, ls = [], [], [], []
    for a, k in pts:
        x = h * radius * (np.sin(phi0 + h * a) - np.sin(phi0))
        y = -h * radius * (np.cos(phi0 + h * a) - np.cos(phi0))
        r = np.hypot(x, y)
        if k >= len(RADII) and not (20.0 <= r <= 700.0):
            continue
        xs.append(x)
        ys.append(y)
        zs.append(z0 + radius * a * cot)
        ls.append(k)
    return np.array(xs), np.array(ys), np.array(zs), np.array(ls, np.int64)


def toy_event(
    particles: list[tuple[float, float, float, int]],
    noise: int = 0,
    seed: int = 0,
    table: LayerTable | None = None,
) -> Event:
    """An event with hits of particles ``(pt [GeV], phi0, cot θ, q)`` and uniform noise."""
    table = table or toy_table()
    rng = np.random.default_rng(seed)
    xs, ys, zs, ls, pid = [], [], [], [], []
    for k, (pt, phi0, cot, q) in enumerate(particles):
        x, y, z, lay = helix_hits(pt, phi0, cot, q)
        xs.append(x)
        ys.append(y)
        zs.append(z)
        ls.append(lay)
        pid.append(np.full(len(x), k + 1))
    if noise:
        lay = rng.integers(0, len(table), noise)
        phi = rng.uniform(-np.pi, np.pi, noise)
        t = rng.uniform(table.t_min[lay], table.t_max[lay])
        r = np.where(table.barrel[lay], table.position[lay], t)
        xs.append(r * np.cos(phi))
        ys.append(r * np.sin(phi))
        zs.append(np.where(table.barrel[lay], t, table.position[lay]))
        ls.append(lay)
        pid.append(np.zeros(noise, np.int64))
    x, y, z = np.concatenate(xs), np.concatenate(ys), np.concatenate(zs)
    lay = np.concatenate(ls)
    p = np.concatenate(pid).astype(np.int64)
    n = len(x)
    # one module per hit: module ids never clash within a layer
    hits = Hits(
        hit_id=np.arange(1, n + 1), x=x, y=y, z=z,
        volume_id=(table.key[lay] // 1000).astype(np.int32),
        layer_id=(table.key[lay] % 1000).astype(np.int32),
        module_id=np.arange(1, n + 1, dtype=np.int32),
    )  # fmt: skip
    truth = Truth(
        hit_id=np.arange(1, n + 1), particle_id=p, tx=x, ty=y, tz=z,
        tpx=np.ones(n), tpy=np.zeros(n), tpz=np.zeros(n),
        weight=np.where(p > 0, 1.0, 0.0) / max(int(np.count_nonzero(p)), 1),
    )  # fmt: skip
    ids = np.arange(1, len(particles) + 1)
    m = len(ids)
    parts = Particles(
        particle_id=ids, vx=np.zeros(m), vy=np.zeros(m), vz=np.zeros(m),
        px=np.array([pt * np.cos(ph) for pt, ph, _c, _q in particles], np.float64),
        py=np.array([pt * np.sin(ph) for pt, ph, _c, _q in particles], np.float64),
        pz=np.array([pt * c for pt, _p, c, _q in particles], np.float64),
        q=np.array([q for *_a, q in particles], np.int32),
        nhits=np.array([np.count_nonzero(p == i) for i in ids], np.int32),
    )  # fmt: skip
    return Event(event_id=1, hits=hits, truth=truth, particles=parts)
