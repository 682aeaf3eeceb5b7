"""tracklearn: machine-learning and classical track finding for particle trackers, measured alike."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
