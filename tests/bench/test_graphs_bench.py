"""Graph benchmark: runs end to end on tiny events and writes its table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklearn.bench.graphs import BuilderSpec, run_graph_bench
from tracklearn.edm import Event
from tracklearn.io.trackml import write_event


@pytest.mark.slow  # spawns a process per builder
def test_graph_bench_writes_the_table(tmp_path: Path, small_event: Event) -> None:
    for sub, ids in (("train", (1, 2)), ("test", (3,))):
        for i in ids:
            ev = small_event
            write_event(Event(i, ev.hits, ev.truth, ev.particles), tmp_path / sub)
    specs = [
        BuilderSpec("geo", "geometric", {"layer_set": "pixel_barrel"}),
        BuilderSpec("mm", "module_map", {"pt_min": 0.0}),
    ]
    out = tmp_path / "graph-construction.md"
    rows = run_graph_bench(tmp_path / "train", tmp_path / "test", out, specs)
    assert [r.label for r in rows] == ["geo", "mm"]
    # the map learned from the same event keeps every true segment
    assert rows[1].edge_efficiency == 1.0 and rows[1].n_events == 1
    assert rows[1].build_s > 0 and rows[1].peak_rss_mb > 10
    text = out.read_text()
    assert "| mm | 1.0000 |" in text and out.with_suffix(".json").exists()
