"""Readers of pre-built hit-graph files by format name (``tracklearn evaluate-edges --format``).

A reader takes the path of one file and returns a :class:`~tracklearn.edm.Graph`
whose node features are the global ``[r / 1 m, phi / pi, z / 1 m]`` (so every
edge model can read it) and whose ``edge_attr`` is the file's edge features, or
``None`` when the file has none (the caller then computes them from the nodes).
Readers register with :func:`register_graph_format` in their own module; the
modules are listed in ``_PROVIDERS`` and imported on first use.

>>> available_graph_formats()
['heptrkx-sectors', 'in-npz']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tracklearn.edm import Graph
from tracklearn.errors import UnknownNameError

__all__ = [
    "GraphReader",
    "available_graph_formats",
    "get_graph_reader",
    "register_graph_format",
]

GraphReader = Callable[[Path], Graph]
R = TypeVar("R", bound=GraphReader)
_READERS: dict[str, GraphReader] = {}
_PROVIDERS: tuple[str, ...] = (
    "tracklearn.io.in_npz",
    "tracklearn.io.heptrkx_sectors",
)


def register_graph_format(name: str) -> Callable[[R], R]:
    """Decorator: make ``reader(path) -> Graph`` the reader of format ``name``."""

    def deco(reader: R) -> R:
        if name in _READERS and _READERS[name] is not reader:
            raise ValueError(f"graph format {name!r} registered twice")
        _READERS[name] = reader
        return reader

    return deco


def _load() -> None:
    for module in _PROVIDERS:
        importlib.import_module(module)


def available_graph_formats() -> list[str]:
    """Names of the registered graph-file formats, sorted."""
    _load()
    return sorted(_READERS)


def get_graph_reader(name: str) -> GraphReader:
    """The reader of format ``name``; an unknown name lists the valid ones."""
    _load()
    if name not in _READERS:
        raise UnknownNameError("graph format", name, sorted(_READERS))
    return _READERS[name]
