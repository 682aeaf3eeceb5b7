"""Track builders by name: the ``method`` of a model folder's building spec.

A builder class is registered with ``@register_track_builder("name")``; it must
accept ``threshold`` and ``min_hits`` (and may take more keyword settings).
:func:`make_track_builder` builds one and fails listing the valid names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tracklearn.building.base import TrackBuilder
from tracklearn.registry import Registry

T = TypeVar("T")

_BUILDERS: Registry[Callable[..., TrackBuilder]] = Registry("track building method")


def register_track_builder(name: str) -> Callable[[T], T]:
    """Register a builder class under ``name`` (decorator)."""

    def deco(cls: T) -> T:
        _BUILDERS.add(name, cls)  # type: ignore[arg-type]
        return cls

    return deco


def track_builder_names() -> list[str]:
    """Names of the registered track builders, sorted."""
    return _BUILDERS.names()


def make_track_builder(name: str, **settings: Any) -> TrackBuilder:
    """The builder registered as ``name`` with ``settings`` (threshold, min_hits, ...)."""
    return _BUILDERS.get(name)(**settings)
