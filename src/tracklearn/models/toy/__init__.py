"""HEP.TrkX toy-detector models and the muon g-2 track finder, one per file, by name.

The registry lives here (namespaced, so it cannot clash with the main model
registry): :func:`register_toy_model` adds a class, :func:`build_toy_model`
builds one by name and an unknown name lists the valid ones.

Seeded hit classifiers share one interface: ``model(hits, seed) -> logits``
with Shapes ``hits``, ``seed`` (B, L, C) and ``logits`` (B, L, C) (a score
per cell of every layer; the predicted signal cell is the arg-max).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from tracklearn.errors import UnknownNameError

_MODELS: dict[str, type[torch.nn.Module]] = {}
#: the seeded single-track hit classifiers (same interface, compared in the bench)
SEEDED_MODELS = (
    "lstm",
    "deep_lstm",
    "bilstm",
    "next_layer_lstm",
    "convnn",
    "conv_autoencoder",
    "conv_lstm",
    "track_follower",
)
#: files that register models (imported on first lookup)
_MODULES = (*SEEDED_MODELS, "conv_lstm_regression", "g2_finder")

T = TypeVar("T", bound=type[torch.nn.Module])


def register_toy_model(name: str) -> Callable[[T], T]:
    """Class decorator: make a model buildable as ``build_toy_model(name, ...)``."""

    def deco(cls: T) -> T:
        _MODELS[name] = cls
        return cls

    return deco


def _load() -> None:
    for mod in _MODULES:
        importlib.import_module(f"tracklearn.models.toy.{mod}")


def available_toy_models() -> list[str]:
    """Registered toy model names."""
    _load()
    return sorted(_MODELS)


def build_toy_model(name: str, **kwargs: Any) -> torch.nn.Module:
    """Build the model registered as ``name`` with ``kwargs``."""
    _load()
    if name not in _MODELS:
        raise UnknownNameError("toy model", name, sorted(_MODELS))
    return _MODELS[name](**kwargs)


def mask_to_hits(logits: torch.Tensor, hits: torch.Tensor) -> torch.Tensor:
    """Give empty cells a score of -1e4, so only hit cells can be chosen.

    The signal cell is always a hit, so this loses nothing; it is our change
    to the HEP.TrkX models (option ``mask_hits``).  Shapes: (B, L, C) both.
    """
    return logits.masked_fill(hits <= 0, -1e4)
