"""Registry of trainable stages for ``tracklearn train STAGE``.

A stage is a function ``run(config: dict, data: Path, out: Path, resume: bool)
-> dict[str, float]`` (final validation metrics) registered by name; modules
that define stages are listed in ``_PROVIDERS`` and imported on first use, so
``tracklearn --help`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracklearn.errors import UnknownNameError

StageFn = Callable[[dict[str, Any], Path, Path, bool], dict[str, float]]

_STAGES: dict[str, StageFn] = {}
#: modules that register stages (imported lazily)
_PROVIDERS: list[str] = [
    "tracklearn.training.toy",
    "tracklearn.graph.stages",
    "tracklearn.training.edge_stages",
    "tracklearn.training.muon",
]


def register_stage(name: str) -> Callable[[StageFn], StageFn]:
    """Decorator: make ``fn`` trainable as ``tracklearn train NAME``."""

    def deco(fn: StageFn) -> StageFn:
        _STAGES[name] = fn
        return fn

    return deco


def _load() -> None:
    for module in _PROVIDERS:
        importlib.import_module(module)


def available_stages() -> list[str]:
    _load()
    return sorted(_STAGES)


def get_stage(name: str) -> StageFn:
    """The stage called ``name``; an unknown name lists the valid ones."""
    _load()
    if name not in _STAGES:
        raise UnknownNameError("stage", name, sorted(_STAGES))
    return _STAGES[name]
