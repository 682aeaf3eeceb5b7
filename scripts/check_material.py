"""Compare multiple scattering in simulated events with the real TrackML event.

For consecutive true hits of a particle (ordered by distance from its vertex,
skipping pairs on the same layer), the change of the polar angle θ of the true
momentum is mostly multiple scattering (a solenoid field does not change θ).
Its width times the momentum, θ₀·p [MeV], is printed per volume of the first
hit for 0.5 < p < 5 GeV, for the real event and for simulated events.

    python scripts/check_material.py SIM_DIR [REAL_PREFIX]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tracklearn.datapaths import shared_data_dir
from tracklearn.edm import Event
from tracklearn.io.trackml import find_events, read_event

VOLUMES = (7, 8, 9, 12, 13, 14, 16, 17, 18)


def theta0_p(event: Event) -> dict[int, tuple[float, int]]:
    """Half the 16–84 % width of Δθ·p [MeV] per volume, and the number of pairs."""
    t, h, p = event.truth, event.hits, event.particles
    assert t is not None and p is not None
    d = pd.DataFrame(
        {"pid": t.particle_id, "vol": h.volume_id, "lay": h.layer_id,
         "x": t.tx, "y": t.ty, "z": t.tz, "px": t.tpx, "py": t.tpy, "pz": t.tpz}
    )  # fmt: skip
    d = d[d.pid != 0].merge(
        pd.DataFrame({"pid": p.particle_id, "vx": p.vx, "vy": p.vy, "vz": p.vz}), on="pid"
    )
    d["dist"] = np.sqrt((d.x - d.vx) ** 2 + (d.y - d.vy) ** 2 + (d.z - d.vz) ** 2)
    d = d.sort_values(["pid", "dist"])
    mom = np.sqrt(d.px**2 + d.py**2 + d.pz**2).to_numpy()
    theta = np.arccos(d.pz.to_numpy() / mom)
    pid, vol, lay = d.pid.to_numpy(), d.vol.to_numpy(), d.lay.to_numpy()
    pair = (pid[1:] == pid[:-1]) & ~((vol[1:] == vol[:-1]) & (lay[1:] == lay[:-1]))
    p_mid = mom[1:]
    pair &= (p_mid > 0.5) & (p_mid < 5.0)
    scaled = (theta[1:] - theta[:-1]) * p_mid * 1000.0
    out = {}
    for v in VOLUMES:
        m = pair & (vol[:-1] == v)
        if m.sum() >= 30:
            lo, hi = np.percentile(scaled[m], [16, 84])
            out[v] = (float(hi - lo) / 2, int(m.sum()))
    return out


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    real_prefix = (
        Path(sys.argv[2]) if len(sys.argv) > 2 else shared_data_dir() / "trackml" / "event000000001"
    )
    real = theta0_p(read_event(real_prefix))
    sims = [theta0_p(read_event(p)) for p in find_events([sys.argv[1]])[:3]]
    print("volume | real θ0·p [MeV] (pairs) | simulated θ0·p [MeV] | sim/real")
    for v in VOLUMES:
        s = [x[v][0] for x in sims if v in x]
        r = real.get(v)
        sim = float(np.mean(s)) if s else float("nan")
        ratio = f"{sim / r[0]:.2f}" if r else "–"
        rtxt = f"{r[0]:.2f} ({r[1]})" if r else "– (too few)"
        print(f"{v} | {rtxt} | {sim:.2f} | {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
