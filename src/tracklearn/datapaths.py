"""Where the shared real data lives: ``$TRACKLEARN_DATA`` or ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "TRACKLEARN_DATA"


def shared_data_dir() -> Path:
    """The shared data folder (may not exist).

    ``$TRACKLEARN_DATA`` if set, else ``shared/data`` beside the checkout that
    holds this package (``<checkout>/../shared/data``).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]
    return checkout.parent / "shared" / "data"
