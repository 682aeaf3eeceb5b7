"""Track builders by name: the ``method`` of a model folder's building spec.

A builder class is registered with ``@register_track_builder("name")``; it must
accept ``threshold`` and ``min_hits`` (and may take more keyword settings).
:func:`make_track_builder` builds one and fails listing the valid names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tracklearn.building.base import TrackBuilder
from tracklearn.errors import UnknownNameError

T = TypeVar("T")

_BUILDERS: dict[str, Callable[..., TrackBuilder]] = {}


def register_track_builder(name: str) -> Callable[[T], T]:
    """Register a builder class under ``name`` (decorator)."""

    def deco(cls: T) -> T:
        if name in _BUILDERS and _BUILDERS[name] is not cls:
            raise ValueError(f"track builder {name!r} registered twice")
        _BUILDERS[name] = cls  # type: ignore[assignment]
        return cls

    return deco


def track_builder_names() -> list[str]:
    """Names of the registered track builders, sorted."""
    return sorted(_BUILDERS)


def make_track_builder(name: str, **settings: Any) -> TrackBuilder:
    """The builder registered as ``name`` with ``settings`` (threshold, min_hits, ...)."""
    if name not in _BUILDERS:
        raise UnknownNameError("track building method", name, list(_BUILDERS))
    return _BUILDERS[name](**settings)
