"""Torch models that score the edges of hit graphs, one per file, behind a registry.

Import :mod:`tracklearn.models.registry` for :func:`get_model`; this package
imports torch, so the classical path never imports it.  The HEP.TrkX toy models
live in :mod:`tracklearn.models.toy` with their own registry.
"""

from tracklearn.models.registry import available_models, get_model, register_model

__all__ = ["available_models", "get_model", "register_model"]
