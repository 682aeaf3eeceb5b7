"""Registry of torch models by name (edge scorers, the muon-trigger CNN).

A model class registers with ``@register_model("name")``; :func:`get_model` builds
one from keyword arguments and fails listing the valid names when the name is
unknown.  Modules defining models are listed in ``_PROVIDERS`` and imported on
first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from tracklearn.errors import ConfigError, UnknownNameError

_MODELS: dict[str, type[torch.nn.Module]] = {}
_PROVIDERS: tuple[str, ...] = (
    "tracklearn.models.interaction_network",
    "tracklearn.models.edge_network",
    "tracklearn.models.filter_mlp",
    "tracklearn.models.muon_cnn",
)

T = TypeVar("T", bound=type[torch.nn.Module])


def register_model(name: str) -> Callable[[T], T]:
    """Class decorator: make ``cls`` buildable as ``get_model(name, **kwargs)``."""

    def deco(cls: T) -> T:
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"model {name!r} registered twice")
        _MODELS[name] = cls
        return cls

    return deco


def _load() -> None:
    for module in _PROVIDERS:
        importlib.import_module(module)


def available_models() -> list[str]:
    """Names of the registered models, sorted."""
    _load()
    return sorted(_MODELS)


def get_model(name: str, **kwargs: Any) -> torch.nn.Module:
    """Build the model ``name``; an unknown name lists the valid ones."""
    _load()
    if name not in _MODELS:
        raise UnknownNameError("model", name, list(_MODELS))
    try:
        return _MODELS[name](**kwargs)
    except TypeError as exc:
        raise ConfigError(f"model {name!r}: bad arguments ({exc})") from None
