"""Hashing buckets as seeds of the full-spectrum default (``bucket_seed_filter``), on the
real 5 % event: the filter runs once per event, keeps exactly the triplets whose inner
and outer hits are in the middle hit's bucket, and a filter that keeps every seed
changes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tracklearn.fullspectrum.reconstructor import FullSpectrumReconstructor, make_fullspectrum
from tracklearn.graph.hashing import bucket_seed_filter, make_bucket_builder
from tracklearn.io import read_event


def test_bucket_seeds_are_the_triplets_inside_one_bucket(real_prefix: Path) -> None:
    event = read_event(real_prefix)
    base = make_fullspectrum({"threads": 1, "warm_up": False})
    builder = make_bucket_builder(space="helix", index="kdtree", k=20)
    nn = builder.neighbours(builder.points(event))
    calls: list[int] = []

    def counting(ev: object) -> object:
        calls.append(1)
        return bucket_seed_filter(builder)(ev)  # type: ignore[arg-type]

    every = FullSpectrumReconstructor(base.model, base.config)
    keep_all = FullSpectrumReconstructor(
        base.model, base.config, seed_filter=lambda ev: lambda t: np.ones(len(t), bool)
    )
    bucketed = FullSpectrumReconstructor(base.model, base.config, seed_filter=counting)  # type: ignore[arg-type]
    s_all, s_keep, s_b = every.run(event), keep_all.run(event), bucketed.run(event)
    assert len(calls) == 1  # the buckets are built once per event, not per pass
    t_all, t_keep = every.tracks(event, s_all), keep_all.tracks(event, s_keep)
    assert np.array_equal(t_all.hit_index, t_keep.hit_index)
    # the first pass sees the same free hits either way: its bucketed seeds are exactly
    # the default's seeds whose inner and outer hits are in the middle hit's bucket
    first_all, first_b = s_all.passes[0].seeds, s_b.passes[0].seeds
    rows = s_all.grid.row[first_all]
    inside = np.array([(i in nn[m]) and (o in nn[m]) for i, m, o in rows])
    assert 0 < len(first_b) < len(first_all)
    assert np.array_equal(first_b, first_all[inside])
