"""Registry of torch models by name (edge scorers, the muon-trigger CNN).

A model class registers with ``@register_model("name")``; :func:`get_model` builds
one from keyword arguments and fails listing the valid names when the name is
unknown.  The modules defining models are imported on first use (the loader is
set in :mod:`tracklearn.models`, so this module never imports them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch

from tracklearn.errors import ConfigError
from tracklearn.registry import Registry

_MODELS: Registry[type[torch.nn.Module]] = Registry("model")

T = TypeVar("T", bound=type[torch.nn.Module])


def register_model(name: str) -> Callable[[T], T]:
    """Class decorator: make ``cls`` buildable as ``get_model(name, **kwargs)``."""

    def deco(cls: T) -> T:
        _MODELS.add(name, cls)
        return cls

    return deco


def available_models() -> list[str]:
    """Names of the registered models, sorted."""
    return _MODELS.names()


def get_model(name: str, **kwargs: Any) -> torch.nn.Module:
    """Build the model ``name``; an unknown name lists the valid ones."""
    cls = _MODELS.get(name)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"model {name!r}: bad arguments ({exc})") from None
