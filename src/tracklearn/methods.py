"""Reconstruction methods by name: the :class:`Reconstructor` protocol and its registry.

A method is a factory ``make(config: dict | None) -> Reconstructor`` that
registers where it is defined, with ``@register_method("name")``; this module
sits below every method, so registering imports nothing upward.
:func:`tracklearn.pipeline.get_method` imports the defining modules and builds
a method by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tracklearn.edm import Event, TrackCandidates
from tracklearn.registry import Registry

__all__ = ["METHODS", "Factory", "Reconstructor", "register_method"]


class Reconstructor(Protocol):
    """A pure stage: an event in, its track candidates out."""

    def __call__(self, event: Event) -> TrackCandidates: ...


Factory = Callable[[dict[str, Any] | None], Reconstructor]

#: every registered method (filled as the defining modules are imported)
METHODS: Registry[Factory] = Registry("reconstruction method")


def register_method(name: str, description: str = "") -> Callable[[Factory], Factory]:
    """Register ``factory`` under ``name`` (decorator); the description defaults to
    the first line of its docstring."""
    return METHODS.register(name, description)
