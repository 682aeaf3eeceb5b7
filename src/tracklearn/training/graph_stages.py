"""Trainable graph-construction stages for ``tracklearn train`` (imported lazily).

They live here, not in ``graph``, so that ``graph`` never imports ``training.stages``.

* ``module_map``: :func:`tracklearn.graph.module_map.run_module_map_stage`;
* ``embedding``: :func:`tracklearn.training.embedding.run_embedding_stage`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracklearn.training.stages import register_stage


@register_stage(
    "module_map",
    summary="graph building: module map from events with truth (configs/gnn/module_map.yaml)",
)
def module_map_stage(
    config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    """Build a module map from the events in ``data`` (see ``run_module_map_stage``)."""
    from tracklearn.graph.module_map import run_module_map_stage

    return run_module_map_stage(config, data, out, resume)


@register_stage(
    "embedding",
    summary="graph building: metric-learning hit embedding (configs/gnn/embedding.yaml)",
)
def embedding_stage(
    config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    """Train the metric-learning hit embedding (see ``run_embedding_stage``)."""
    from tracklearn.training.embedding import run_embedding_stage

    return run_embedding_stage(config, data, out, resume)
