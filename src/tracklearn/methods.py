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

__all__ = ["METHODS", "NEEDS_TRACKML_GEOMETRY", "USE_FOR", "Factory", "Reconstructor",
           "register_method"]  # fmt: skip


class Reconstructor(Protocol):
    """A pure stage: an event in, its track candidates out."""

    def __call__(self, event: Event) -> TrackCandidates: ...


Factory = Callable[[dict[str, Any] | None], Reconstructor]

#: every registered method (filled as the defining modules are imported)
METHODS: Registry[Factory] = Registry("reconstruction method")


#: what each method is the right choice for (``tracklearn methods`` prints it)
USE_FOR: dict[str, str] = {}
#: methods that only run on events of the TrackML detector (they look up its modules)
NEEDS_TRACKML_GEOMETRY: set[str] = set()


def register_method(
    name: str, description: str = "", use_for: str = "", *, trackml_geometry: bool = False
) -> Callable[[Factory], Factory]:
    """Register ``factory`` under ``name`` (decorator); the description defaults to
    the first line of its docstring; ``use_for`` says when to choose it;
    ``trackml_geometry``: it needs events of the TrackML detector (its modules)."""
    if use_for:
        USE_FOR[name] = use_for
    if trackml_geometry:
        NEEDS_TRACKML_GEOMETRY.add(name)
    return METHODS.register(name, description)
