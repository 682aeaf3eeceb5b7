"""Print how well tracklearn's TrackML weight rules reproduce a real event's weights.

Usage: ``python scripts/check_trackml_weights.py [EVENT_PREFIX]`` (default: the
shared real event).  Exit 1 if any hit or particle is not explained.
"""

from __future__ import annotations

import sys

import numpy as np

from tracklearn.datapaths import shared_data_dir
from tracklearn.io.trackml import read_event
from tracklearn.simulation.weights import MIN_HITS, trackml_generation, weights_for_event

#: the file prints weights with 6 significant digits: allow half a last digit plus slack
LAST_DIGIT_TOL = 0.6


def main(argv: list[str]) -> int:
    prefix = argv[0] if argv else shared_data_dir() / "trackml" / "event000000001"
    ev = read_event(prefix, parts=("hits", "truth", "particles"), require=("truth", "particles"))
    assert ev.truth is not None and ev.particles is not None
    truth, particles = ev.truth, ev.particles
    real = truth.weight
    ours = weights_for_event(truth, particles)
    scale = real.sum() / ours.sum()
    ours = ours * scale

    nonzero = real > 0
    rel = np.abs(ours[nonzero] / real[nonzero] - 1)
    last_digit = 10.0 ** (np.floor(np.log10(real[nonzero])) - 5)
    digits = np.abs(ours[nonzero] - real[nonzero]) / last_digit
    printed = np.array([float(f"{x:.6g}") for x in ours[nonzero]]) == real[nonzero]
    boundary = np.abs((ours[nonzero] / last_digit) % 1 - 0.5)[~printed]
    hit_ok = np.zeros(len(real), dtype=bool)
    hit_ok[~nonzero] = ours[~nonzero] == 0
    hit_ok[nonzero] = digits <= LAST_DIGIT_TOL

    signal = truth.particle_id != 0
    pids, inv = np.unique(truth.particle_id[signal], return_inverse=True)
    bad_hits = np.bincount(inv, weights=~hit_ok[signal]).astype(int)
    n_hits = np.bincount(inv)
    primary = trackml_generation(pids) == 0
    weighted = (n_hits >= MIN_HITS) & primary

    rows = [
        ("event", str(prefix)),
        ("normalisation (real total / ours)", f"{scale:.9g}"),
        ("hits / noise / real nonzero", f"{len(real)} / {(~signal).sum()} / {nonzero.sum()}"),
        ("real-zero hits given 0", f"{(hit_ok & ~nonzero).sum()} / {(~nonzero).sum()}"),
        ("max relative error (nonzero)", f"{rel.max():.3e}"),
        ("hits with relative error > 1e-6", f"{(rel > 1e-6).sum()}"),
        ("max error in last printed digits", f"{digits.max():.3f} (tolerance {LAST_DIGIT_TOL})"),
        ("ours printed to 6 digits == file", f"{printed.sum()} / {nonzero.sum()}"),
        (
            "  others: max distance to a rounding edge",
            f"{boundary.max() if len(boundary) else 0:.3f} last digits",
        ),
        ("particles with hits", f"{len(pids)}"),
        ("  weighted (>= 4 hits, generation 0)", f"{weighted.sum()}"),
        ("  zero: < 4 hits", f"{(n_hits < MIN_HITS).sum()}"),
        ("  zero: >= 4 hits, secondary", f"{((n_hits >= MIN_HITS) & ~primary).sum()}"),
        ("particles explained (every hit)", f"{(bad_hits == 0).sum()} / {len(pids)}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    for pid in pids[bad_hits > 0]:
        print(f"unexplained particle {pid}")
    return 0 if hit_ok.all() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
