"""Graph benchmark: runs end to end on tiny events and writes its table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklearn.bench.graphs import BuilderSpec, run_graph_bench, run_graph_suite
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


@pytest.mark.slow  # trains an embedding, spawns a process per builder
def test_graph_suite_trains_its_own_embedding(tmp_path: Path, small_event: Event) -> None:
    """No row of the suite needs a checkpoint made outside the run."""
    for sub, ids in (("train", (1, 2)), ("test", (3,))):
        for i in ids:
            write_event(Event(i, small_event.hits, small_event.truth, small_event.particles),
                        tmp_path / sub)  # fmt: skip
    config = tmp_path / "embedding.yaml"
    config.write_text(
        "builder: {use_cells: false, radius: 0.5, k_max: 8, model: {hidden: 8, n_layers: 1}}\n"
        "train: {epochs: 1, lr: 0.003, patience: 1, threads: 1, seed: 0}\n"
        "pt_min: 0.0\nval_events: 1\n"
    )
    out = tmp_path / "graph-construction.md"
    run_graph_suite(
        tmp_path / "train", tmp_path / "test", out, tmp_path / "work",
        detector=tmp_path / "unused.csv", embedding_config=config, events_note="Tiny events.",
        specs=[BuilderSpec("geo", "geometric", {"layer_set": "pixel_barrel"})],
    )  # fmt: skip
    assert (tmp_path / "work" / "embedding" / "best.pt").is_file()
    text = out.read_text()
    assert "| geo |" in text and "| metric learning |" in text
    assert "Tiny events." in text and "trained inside it" in text
    assert "trained in this run" in text and str(tmp_path / "work") not in text
