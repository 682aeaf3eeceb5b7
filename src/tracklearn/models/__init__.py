"""Torch models that score the edges of hit graphs, one per file, behind a registry.

Import :mod:`tracklearn.models.registry` for :func:`get_model`; this package
imports torch, so the classical path never imports it.  The HEP.TrkX toy models
live in :mod:`tracklearn.models.toy` with their own registry.
"""

from tracklearn.models.registry import _MODELS, available_models, get_model, register_model


def _load_models() -> None:
    """Import the modules that define models (each registers its own)."""
    import tracklearn.models.candidate_mlp
    import tracklearn.models.edge_network
    import tracklearn.models.filter_mlp
    import tracklearn.models.interaction_network
    import tracklearn.models.muon_cnn  # noqa: F401


_MODELS.load = _load_models

__all__ = ["available_models", "get_model", "register_model"]
