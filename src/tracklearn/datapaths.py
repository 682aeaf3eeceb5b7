"""Where data lives: the shared real data (``$TRACKLEARN_DATA`` or ``../shared/data``)
and the model folders shipped inside the package."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "TRACKLEARN_DATA"

#: the edge-classifier pipeline shipped with the package (method ``gnn``)
DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "default"
#: the muon-trigger CNN shipped with the package
DEFAULT_MUON_MODEL = Path(__file__).resolve().parent / "models" / "muon_trigger"
#: the checkout (or installed tree) that holds ``src/tracklearn``: ``configs/`` lives here
CHECKOUT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The shared data folder (may not exist).

    ``$TRACKLEARN_DATA`` if set, else ``shared/data`` beside the checkout that
    holds this package (``<checkout>/../shared/data``).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return CHECKOUT.parent / "shared" / "data"
