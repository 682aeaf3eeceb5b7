"""Time ckf with and without its seed pruning, back to back on one event.

Usage::

    OMP_NUM_THREADS=1 python scripts/time_seed_pruning.py EVENT_PREFIX [REPEATS]

Builds ``CKFReconstructor`` once without pruning (``seed_classifier=None``) and once
with the default pruning, then calls them alternately ``REPEATS`` times (default 2)
and prints the wall seconds, DM efficiency and fake rate of each call.  Run it on a
quiet machine: the two settings must see the same load.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tracklearn.classical.ckf import CKFConfig, CKFReconstructor
from tracklearn.io import read_event
from tracklearn.metrics.rates import evaluate_event


def main() -> None:
    event = read_event(Path(sys.argv[1]))
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    settings = {
        "no pruning": CKFReconstructor(CKFConfig(seed_classifier=None)),
        "default pruning": CKFReconstructor(CKFConfig()),
    }
    for _ in range(repeats):
        for name, reco in settings.items():
            t0 = time.perf_counter()
            tracks = reco(event)
            dt = time.perf_counter() - t0
            m = evaluate_event(event, tracks)
            print(f"{name}: {dt:.1f} s  efficiency {m.efficiency:.4f}  fakes {m.fake_rate:.4f}")


if __name__ == "__main__":
    main()
