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

__all__ = ["METHODS", "Factory", "Reconstructor", "needs_trackml_geometry", "register_method",
           "use_for"]  # fmt: skip


class Reconstructor(Protocol):
    """A pure stage: an event in, its track candidates out."""

    def __call__(self, event: Event) -> TrackCandidates: ...


Factory = Callable[[dict[str, Any] | None], Reconstructor]

#: every registered method (filled as the defining modules are imported)
METHODS: Registry[Factory] = Registry("reconstruction method")


def register_method(
    name: str, description: str = "", use_for: str = "", *, trackml_geometry: bool = False
) -> Callable[[Factory], Factory]:
    """Register ``factory`` under ``name`` (decorator); the description defaults to
    the first line of its docstring; ``use_for`` says when to choose it;
    ``trackml_geometry``: it needs events of the TrackML detector (its modules)."""
    return METHODS.register(name, description, use_for=use_for, trackml_geometry=trackml_geometry)


def use_for(name: str) -> str:
    """What method ``name`` is the right choice for (``tracklearn methods`` prints it).

    Like every lookup of :data:`METHODS` it needs the methods registered:
    :mod:`tracklearn.pipeline` sets the registry to import them.
    """
    return str(METHODS.meta(name).get("use_for", ""))


def needs_trackml_geometry(name: str) -> bool:
    """Whether method ``name`` only runs on events of the TrackML detector (it looks up
    its modules)."""
    return bool(METHODS.meta(name).get("trackml_geometry", False))
