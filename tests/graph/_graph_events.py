"""Hand-placed hits for the graph-construction tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tracklearn.edm import Event, Hits, Particles, Truth


def hit_event(
    r: Sequence[float],
    phi: Sequence[float],
    z: Sequence[float],
    volume: Sequence[int],
    layer: Sequence[int],
    particle_id: Sequence[int],
    pt: dict[int, float] | None = None,
    module: Sequence[int] | None = None,
    event_id: int = 1,
) -> Event:
    """An event with hits at the given (r [mm], phi [rad], z [mm]) and truth.

    Every particle comes from the origin with pT = ``pt[pid]`` (default 10 GeV)
    along +x; truth positions equal the hit positions, so true segments order
    the hits of a particle by their distance from the origin.
    """
    rr, pp, zz = (np.asarray(a, dtype=np.float64) for a in (r, phi, z))
    n = len(rr)
    x, y = rr * np.cos(pp), rr * np.sin(pp)
    pid = np.asarray(particle_id, dtype=np.int64)
    mod = np.ones(n, np.int32) if module is None else np.asarray(module, np.int32)
    hits = Hits(
        hit_id=np.arange(1, n + 1), x=x, y=y, z=zz,
        volume_id=np.asarray(volume, np.int32), layer_id=np.asarray(layer, np.int32),
        module_id=mod,
    )  # fmt: skip
    truth = Truth(
        hit_id=np.arange(1, n + 1), particle_id=pid, tx=x, ty=y, tz=zz,
        tpx=np.ones(n), tpy=np.zeros(n), tpz=np.zeros(n), weight=np.full(n, 1.0 / max(n, 1)),
    )  # fmt: skip
    ids = np.unique(pid[pid != 0])
    pts = pt or {}
    k = len(ids)
    particles = Particles(
        particle_id=ids, vx=np.zeros(k), vy=np.zeros(k), vz=np.zeros(k),
        px=np.array([pts.get(int(i), 10.0) for i in ids], dtype=np.float64),
        py=np.zeros(k), pz=np.zeros(k), q=np.ones(k, np.int32),
        nhits=np.array([np.count_nonzero(pid == i) for i in ids], np.int32),
    )  # fmt: skip
    return Event(event_id=event_id, hits=hits, truth=truth, particles=particles)
