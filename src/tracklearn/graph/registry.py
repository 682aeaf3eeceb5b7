"""Graph builders by name: ``geometric``, ``module_map``, ``metric_learning``, ``hashing``.

A builder factory takes keyword settings and returns a :class:`GraphBuilder`
(``builder(event) -> Graph``).  Factories import their implementation on call,
so listing the builders never imports torch.

>>> available_builders()
['geometric', 'hashing', 'metric_learning', 'module_map']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tracklearn.edm import Event, Graph
from tracklearn.registry import Registry

__all__ = [
    "GraphBuilder",
    "available_builders",
    "get_builder",
    "make_builder",
    "register_builder",
]


class GraphBuilder(Protocol):
    """A graph-construction stage: pure, returns a new :class:`~tracklearn.edm.Graph`."""

    def __call__(self, event: Event) -> Graph: ...


BuilderFactory = Callable[..., GraphBuilder]
_BUILDERS: Registry[BuilderFactory] = Registry("graph builder")


def register_builder(name: str) -> Callable[[BuilderFactory], BuilderFactory]:
    """Decorator: make ``factory(**settings) -> GraphBuilder`` available as ``name``."""

    def deco(factory: BuilderFactory) -> BuilderFactory:
        _BUILDERS.add(name, factory)
        return factory

    return deco


def available_builders() -> list[str]:
    """Names of the registered graph builders, sorted."""
    return _BUILDERS.names()


def get_builder(name: str) -> BuilderFactory:
    """The factory registered as ``name``; an unknown name lists the valid ones."""
    return _BUILDERS.get(name)


def make_builder(name: str, **settings: Any) -> GraphBuilder:
    """``get_builder(name)(**settings)``."""
    return get_builder(name)(**settings)


@register_builder("geometric")
def _geometric(**config: Any) -> GraphBuilder:
    """IN-style geometric graph; ``config`` are ``GeometricConfig`` fields."""
    from tracklearn.graph.geometric import GeometricConfig, GeometricGraphBuilder

    return GeometricGraphBuilder(GeometricConfig(**config))


@register_builder("module_map")
def _module_map(path: str | Path) -> GraphBuilder:
    """Module map read from ``path`` (the ``.npz`` written by the ``module_map`` stage)."""
    from tracklearn.graph.module_map import ModuleMapGraphBuilder

    return ModuleMapGraphBuilder.from_file(path)


@register_builder("metric_learning")
def _metric_learning(checkpoint: str | Path, **overrides: Any) -> GraphBuilder:
    """Embedding from ``checkpoint`` (``best.pt`` of the ``embedding`` stage)."""
    from tracklearn.graph.metric_learning import MetricLearningGraphBuilder

    return MetricLearningGraphBuilder.from_checkpoint(checkpoint, **overrides)


@register_builder("hashing")
def _hashing(**config: Any) -> GraphBuilder:
    """Hashing / ANN buckets as edges; ``config`` are ``BucketConfig`` fields."""
    from tracklearn.graph.hashing import HashingGraphBuilder, make_bucket_builder

    return HashingGraphBuilder(make_bucket_builder(**config))
