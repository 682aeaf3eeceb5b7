"""Train the shipped hashing-bucket embedding: ``src/tracklearn/data/hashing_embedding.{pt,json}``.

Simulates (once, into ``--work``) tt̄ + μ=200 training events with seed 1, as the
benchmark suites do (``tracklearn.bench.events.simulated_events``), trains the
gated embedding (:class:`~tracklearn.models.bucket_embedding.GatedBucketEmbedding`,
its cluster-direction volumes read from the geometry by
:func:`~tracklearn.graph.hashing.direction_from_detector`) with
:func:`~tracklearn.graph.similarity.train_similarity` on all but the last, and
measures the bucket efficiency of the learned and the hand-made space on that
last (validation) event; the test events (seed 2) are never read.  The JSON beside
the weights records the command, the data seeds, the config and these metrics.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/train_hashing_embedding.py
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from tracklearn.bench.events import simulated_events
from tracklearn.datapaths import shared_data_dir
from tracklearn.graph.hashing import (
    DEFAULT_EMBEDDING,
    direction_from_detector,
    make_bucket_builder,
)
from tracklearn.graph.metric_learning import EmbeddingModelConfig
from tracklearn.graph.similarity import SimilarityConfig, save_embedding, train_similarity
from tracklearn.io import find_events, read_event
from tracklearn.io.trackml import load_detector
from tracklearn.metrics.buckets import bucket_metrics, sum_bucket_metrics
from tracklearn.provenance import provenance

#: the shipped model's training settings (its direction config comes from the geometry);
#: chosen on training events 1000-1029 against validation events 1007-1009 of seed 1
CONFIG = dict(
    architecture="gated",
    model=EmbeddingModelConfig(hidden=32, n_layers=2, out_dim=5),
    displaced_weight=10.0,
    epochs=10,
    lr=0.003,
)
Z0_SCALE = 5.0  # per m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/tracklearn-hashing"))
    ap.add_argument("--events", type=int, default=31, help="training + 1 validation event")
    ap.add_argument("--out", type=Path, default=DEFAULT_EMBEDDING)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    geometry = shared_data_dir() / "trackml" / "detectors.csv.gz"
    folder = simulated_events(args.work, "mu200_train", 200, args.events, 1, geometry)
    prefixes = sorted(find_events([folder]))[: args.events]
    train = [read_event(p) for p in prefixes[:-1]]
    val = read_event(prefixes[-1])
    direction = direction_from_detector(load_detector(geometry), z0_scale=Z0_SCALE)
    config = SimilarityConfig(direction=direction, **CONFIG)
    t0 = time.perf_counter()
    model, hist = train_similarity(train, config)
    seconds = time.perf_counter() - t0
    meta = {
        **provenance(),
        "command": "OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python "
        + "scripts/train_hashing_embedding.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": f"tracklearn simulate --detector trackml --pileup 200 --seed 1: {len(train)} "
        f"training events, validation {prefixes[-1].name}",
        "train_seconds": round(seconds, 1),
        "loss": [round(x, 5) for x in hist.loss],
    }
    path = save_embedding(model, config, args.out, meta)
    metrics = {}
    for space in ("helix", "learned"):
        ss = {"path": str(path)} if space == "learned" else {}
        for k in (10, 20, 50):
            b = make_bucket_builder(space=space, space_settings=ss, index="kdtree", k=k)
            m = sum_bucket_metrics([bucket_metrics(val, b(val))])
            metrics[f"val_{space}_k{k}_efficiency"] = round(m.efficiency, 4)
            metrics[f"val_{space}_k{k}_fake_rate"] = round(m.fake_rate, 4)
    meta["validation"] = metrics
    save_embedding(model, config, args.out, meta)
    logging.info("wrote %s: %s", path, metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
