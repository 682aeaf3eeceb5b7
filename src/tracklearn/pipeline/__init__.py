"""Compose stages into reconstructors; registry of methods by name."""

from tracklearn.pipeline.registry import (
    DEFAULT_METHOD,
    Reconstructor,
    available_methods,
    get_method,
    register_method,
)

__all__ = ["DEFAULT_METHOD", "Reconstructor", "available_methods", "get_method", "register_method"]
