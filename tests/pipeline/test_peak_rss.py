"""Peak RSS of a worker is its own, not its (large) parent's."""

from __future__ import annotations

import multiprocessing as mp
import sys

import numpy as np
import pytest

from tracklearn.pipeline.run import peak_rss_mb
from tracklearn.report import markdown_table


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_spawned_worker_does_not_report_the_parents_memory() -> None:
    big = np.ones(400 * 2**20 // 8)  # 400 MB touched in this process
    parent = peak_rss_mb()
    assert parent > 400
    with mp.get_context("spawn").Pool(1) as pool:
        child = pool.apply(peak_rss_mb)
    assert child < parent - 300, (child, parent)
    del big


def test_markdown_table_never_writes_an_exponent_for_large_numbers() -> None:
    lines = markdown_table([{"a": 1312.7, "b": 0.01449, "c": 2.0, "d": 3}])
    assert lines[2] == "| 1313 | 0.0145 | 2 | 3 |"
