"""Registry of reconstruction methods by name.

A method is a factory ``make(config: dict | None) -> Reconstructor`` registered with
``@register_method("name")``; :func:`get_method` builds one and fails listing the
valid names when the name is unknown.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import ValidationError

from tracklearn.config import validation_problems
from tracklearn.edm import Event, TrackCandidates
from tracklearn.errors import ConfigError, UnknownNameError


class Reconstructor(Protocol):
    """A pure stage: an event in, its track candidates out."""

    def __call__(self, event: Event) -> TrackCandidates: ...


Factory = Callable[[dict[str, Any] | None], Reconstructor]

_METHODS: dict[str, Factory] = {}
_DESCRIPTIONS: dict[str, str] = {}

#: Modules that register methods when imported; imported lazily so that
#: ``tracklearn --help`` and the classical path never import torch.
_PROVIDERS: tuple[str, ...] = (
    "tracklearn.classical.dbscan",
    "tracklearn.classical.ckf",
    "tracklearn.classical.hough",
    "tracklearn.pipeline.gnn",
    "tracklearn.fullspectrum.reconstructor",
)

#: The best method we ship; ``reconstruct`` uses it when no ``--method`` is given.
DEFAULT_METHOD = "fullspectrum"


def register_method(name: str, description: str = "") -> Callable[[Factory], Factory]:
    """Register ``factory`` under ``name`` (decorator)."""

    def deco(factory: Factory) -> Factory:
        if name in _METHODS and _METHODS[name] is not factory:
            raise ValueError(f"reconstruction method {name!r} registered twice")
        _METHODS[name] = factory
        _DESCRIPTIONS[name] = description or (factory.__doc__ or "").strip().split("\n")[0]
        return factory

    return deco


def _load_providers() -> None:
    for mod in _PROVIDERS:
        importlib.import_module(mod)


def available_methods() -> dict[str, str]:
    """Names of the registered methods with a one-line description each."""
    _load_providers()
    return dict(sorted(_DESCRIPTIONS.items()))


def get_method(name: str, config: dict[str, Any] | None = None) -> Reconstructor:
    """Build the reconstruction method ``name`` with an optional config mapping."""
    _load_providers()
    if name not in _METHODS:
        raise UnknownNameError("reconstruction method", name, list(_METHODS))
    try:
        return _METHODS[name](config)
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise ConfigError(f"config of method {name!r} is invalid ({problems})") from None
