"""Hashing benchmark: runs end to end on tiny events and writes its table and plot."""

from __future__ import annotations

import json
from pathlib import Path

from tests.graph.test_hashing import TINY, curled_event

from tracklearn.bench.hashing import run_hashing_bench
from tracklearn.edm import Event
from tracklearn.graph.similarity import save_embedding, train_similarity
from tracklearn.io.trackml import write_event


def test_hashing_bench_writes_the_table(tmp_path: Path) -> None:
    for sub, seeds in (("train", (21, 22)), ("test", (23,))):
        for s in seeds:
            ev = curled_event(seed=s, pt=1.5)  # targets need pT ≥ 1 GeV
            write_event(Event(s, ev.hits, ev.truth, ev.particles), tmp_path / sub)
    model, _ = train_similarity([curled_event(seed=24)], TINY)
    emb = save_embedding(model, TINY, tmp_path / "emb.pt", {"command": "test"})
    path = run_hashing_bench(
        tmp_path / "out", tmp_path / "train", tmp_path / "test", embedding=emb,
        module_map=tmp_path / "none.npz", threads=1, quick=True,
    )  # fmt: skip
    text = path.read_text()
    assert "| helix | kdtree | 10 |" in text and "| learned | hnsw | 20 |" in text
    assert "Amrouche et al." in text and "pair classifier" in text
    assert (tmp_path / "out" / "hashing.png").stat().st_size > 1000
    rows = json.loads((tmp_path / "out" / "hashing.json").read_text())["rows"]
    assert {r["space"] for r in rows} == {"helix", "learned"}
    assert all(0.0 <= r["efficiency"] <= 1.0 for r in rows)
    for r in rows:  # the beam-line / displaced split adds up to the efficiency
        df = r["displaced_fraction"]
        parts = r["efficiency_beamline"] * (1 - df) + (r["efficiency_displaced"] * df if df else 0)
        assert abs(parts - r["efficiency"]) < 1e-9
