"""Reconstruction methods by name: build one, list them.

Methods register where they are defined (``@register_method("name")`` from
:mod:`tracklearn.methods`); :func:`get_method` imports the defining modules,
builds one and fails listing the valid names when the name is unknown.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tracklearn.config import validation_problems
from tracklearn.errors import ConfigError
from tracklearn.methods import METHODS, Factory, Reconstructor, register_method

__all__ = [
    "DEFAULT_METHOD",
    "Factory",
    "Reconstructor",
    "available_methods",
    "get_method",
    "register_method",
]

#: The best method we ship; ``reconstruct`` uses it when no ``--method`` is given.
DEFAULT_METHOD = "fullspectrum"


def _load_providers() -> None:
    """Import the modules that register methods.

    Imported here, on first use, not at the top: ``tracklearn --help`` and the
    classical path must never import torch (``pipeline.gnn`` does).
    """
    import tracklearn.classical.ckf
    import tracklearn.classical.dbscan
    import tracklearn.classical.hough
    import tracklearn.fullspectrum.reconstructor
    import tracklearn.pipeline.gnn  # noqa: F401


#: lookups of a method's data (``METHODS.meta``) import the registering modules first
METHODS.load = _load_providers


def available_methods() -> dict[str, str]:
    """Names of the registered methods with a one-line description each."""
    _load_providers()
    return METHODS.descriptions()


def get_method(name: str, config: dict[str, Any] | None = None) -> Reconstructor:
    """Build the reconstruction method ``name`` with an optional config mapping."""
    _load_providers()
    factory = METHODS.get(name)
    try:
        return factory(config)
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise ConfigError(f"config of method {name!r} is invalid ({problems})") from None
