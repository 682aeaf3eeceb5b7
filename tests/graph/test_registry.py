"""Graph-builder registry."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tracklearn.errors import UnknownNameError
from tracklearn.graph.geometric import GeometricGraphBuilder
from tracklearn.graph.registry import available_builders, get_builder, make_builder


def test_builders_are_listed_and_unknown_names_list_them() -> None:
    assert available_builders() == ["geometric", "hashing", "metric_learning", "module_map"]
    with pytest.raises(UnknownNameError, match="geometric, hashing, metric_learning, module_map"):
        get_builder("knn")


def test_make_geometric_builder_validates_its_config() -> None:
    b = make_builder("geometric", layer_set="pixel_barrel", z0_max=100.0)
    assert isinstance(b, GeometricGraphBuilder) and b.config.z0_max == 100.0
    with pytest.raises(ValueError, match="phi_slope"):
        make_builder("geometric", phi_slope=1.0)


def test_listing_builders_does_not_import_torch() -> None:
    code = (
        "import sys; from tracklearn.graph.registry import available_builders;"
        "available_builders(); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
