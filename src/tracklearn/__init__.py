"""tracklearn: classical and machine-learning track finding for particle trackers."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
