"""The muon-trigger and export benchmarks write their tables and plots (quick settings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracklearn.bench.export import run_export_bench
from tracklearn.bench.muon_trigger import run_muon_trigger_bench


@pytest.mark.slow
def test_muon_trigger_bench_writes_table_floors_and_plots(tmp_path: Path) -> None:
    path = run_muon_trigger_bench(tmp_path, quick=True)
    text = path.read_text()
    for needle in ("## Floors (issue 13)", "| roads |", "| cnn int8 |", "load average",
                   "1,000 fresh test images", "the same voxels as torch"):  # fmt: skip
        assert needle in text
    assert {p.name for p in (tmp_path / "muon-trigger").iterdir()} == {
        "efficiency_pt.png", "fake_rate_pt.png", "example_image.png",
    }  # fmt: skip
    doc = json.loads((tmp_path / "muon-trigger.json").read_text())
    assert set(doc["main"]) == {"roads", "cnn fp32", "cnn int8"}


@pytest.mark.slow
def test_export_bench_quick_without_tracking_data(tmp_path: Path) -> None:
    path = run_export_bench(tmp_path, quick=True)
    text = path.read_text()
    assert "| muon CNN |" in text and "| toy lstm |" in text and "int8 / torch" in text
    assert "reconstruct time per event" not in text  # no μ=200 events given
    assert (tmp_path / "export" / "throughput_batch.png").exists()
    doc = json.loads((tmp_path / "export.json").read_text())
    assert [t["backend"] for t in doc["throughput"]] == [
        "torch fp32", "onnxruntime fp32", "onnxruntime int8",
    ]  # fmt: skip
