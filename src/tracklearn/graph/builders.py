"""Resolve a graph builder from a name and a config mapping.

Thin wrapper over ``tracklearn.graph.registry.get_builder`` so that training and
the ``gnn`` method name builders the same way in their configs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracklearn.edm import Event, Graph
from tracklearn.errors import UnknownNameError

GraphBuilderFn = Callable[[Event], Graph]


def make_builder(name: str, config: dict[str, Any] | None = None) -> GraphBuilderFn:
    """The graph builder ``name`` with ``config``; an unknown name lists the valid ones."""
    try:
        from tracklearn.graph.registry import get_builder
    except ImportError:  # the builder registry has not landed: geometric only
        if name != "geometric":
            raise UnknownNameError("graph builder", name, ["geometric"]) from None
        from tracklearn.graph.geometric import GeometricConfig, GeometricGraphBuilder

        return GeometricGraphBuilder(GeometricConfig(**(config or {})))
    builder: GraphBuilderFn = get_builder(name, config)
    return builder
