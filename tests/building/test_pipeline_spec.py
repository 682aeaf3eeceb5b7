"""pipeline.json is typed: the shipped one loads, bad ones are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracklearn.building.spec import GNNPipelineSpec
from tracklearn.datapaths import DEFAULT_MODEL
from tracklearn.errors import ConfigError, DataError


def test_shipped_pipeline_loads_and_names_files_inside_the_folder() -> None:
    spec = GNNPipelineSpec.load(DEFAULT_MODEL)
    assert spec.builder == "module_map" and spec.filter == "filter"
    assert spec.building.method == "hybrid"
    resolved = spec.builder_config_in(DEFAULT_MODEL)
    assert Path(resolved["path"]).is_file() and Path(resolved["path"]).parent == DEFAULT_MODEL


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"builder": "module_map", "builder_config": {"path": "/tmp/mm.npz"}}, "not inside"),
        ({"builder": "module_map", "filter": "../other"}, "not inside"),
        ({"builder": "module_map", "bogus": 1}, "bogus"),
        ({"builder": "module_map", "building": {"method": "nope"}}, "unknown track building"),
        ({}, "builder"),
    ],
)
def test_bad_pipeline_json_is_one_line(tmp_path: Path, content: dict, problem: str) -> None:  # type: ignore[type-arg]
    (tmp_path / "pipeline.json").write_text(json.dumps(content))
    with pytest.raises(ConfigError, match=problem) as info:
        GNNPipelineSpec.load(tmp_path)
    assert "pipeline.json" in str(info.value) and "\n" not in str(info.value)


def test_missing_or_broken_pipeline_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no pipeline.json"):
        GNNPipelineSpec.load(tmp_path)
    (tmp_path / "pipeline.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        GNNPipelineSpec.load(tmp_path)
