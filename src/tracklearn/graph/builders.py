"""Resolve a graph builder from a name and a config mapping.

Thin wrapper over :func:`tracklearn.graph.registry.make_builder` so that
training and the ``gnn`` method name builders the same way in their configs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracklearn.edm import Event, Graph

GraphBuilderFn = Callable[[Event], Graph]


def make_builder(name: str, config: dict[str, Any] | None = None) -> GraphBuilderFn:
    """The graph builder ``name`` with ``config``; an unknown name lists the valid ones."""
    from tracklearn.graph.registry import make_builder as _make

    builder: GraphBuilderFn = _make(name, **(config or {}))
    return builder
