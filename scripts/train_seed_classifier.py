"""Train the seed classifier that ``CKFConfig(seed_classifier="default")`` loads.

Training set per event: the distorted good / medium / bad seeds of
:func:`~tracklearn.classical.seed_classifier.training_seeds` (as in the seed
talk) plus the seed finder's own seeds labelled by truth
(:func:`~tracklearn.classical.seed_classifier.finder_seeds`).  Writes
``OUT.npz`` (weights) and ``OUT.json`` (command, data, seed, metrics on the
held-out events).

Usage::

    PYTHONPATH=src python scripts/train_seed_classifier.py TRAIN_DIR TEST_DIR OUT \\
        [--events N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from tracklearn.classical.seed_classifier import (
    CLASSES,
    confusion_matrix,
    finder_seeds,
    train_seed_classifier,
    training_seeds,
)
from tracklearn.classical.seeding import SeedFinder
from tracklearn.io import find_events
from tracklearn.io.atomic import write_text_atomic
from tracklearn.io.trackml import read_event
from tracklearn.provenance import provenance


def _data(folder: Path, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    finder = SeedFinder()
    xs, ys = [], []
    for prefix in find_events([folder])[:n]:
        event = read_event(prefix)
        for x, y in (training_seeds(event, finder, rng), finder_seeds(event, finder)):
            xs.append(x)
            ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("train", type=Path)
    ap.add_argument("test", type=Path)
    ap.add_argument("out", type=Path, help="output path without suffix")
    ap.add_argument("--events", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    x, y = _data(args.train, args.events, rng)
    clf = train_seed_classifier(x, y, seed=args.seed, hidden=(32, 32))
    xt, yt = _data(args.test, args.events, rng)
    cm = confusion_matrix(yt, clf.predict(xt))
    clf.save(args.out.with_suffix(".npz"))
    info = {
        **provenance(),
        "command": "PYTHONPATH=src python " + " ".join(sys.argv),
        "train_data": str(args.train),
        "test_data": str(args.test),
        "events": args.events,
        "seed": args.seed,
        "hidden": [32, 32],
        "n_train": {c: int((y == i).sum()) for i, c in enumerate(CLASSES)},
        "n_test": {c: int((yt == i).sum()) for i, c in enumerate(CLASSES)},
        "confusion_test_rows_true": cm.round(4).tolist(),
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    write_text_atomic(args.out.with_suffix(".json"), json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
