"""One generic, seeded training loop with atomic, resumable checkpoints."""

from tracklearn.training.loop import History, TrainConfig, load_checkpoint, train
from tracklearn.training.stages import _STAGES


def _load_stages() -> None:
    """Import the modules that define stages (each registers its own; they import torch)."""
    import tracklearn.training.edge_stages
    import tracklearn.training.fullspectrum
    import tracklearn.training.graph_stages
    import tracklearn.training.muon
    import tracklearn.training.toy  # noqa: F401


_STAGES.load = _load_stages

__all__ = ["History", "TrainConfig", "load_checkpoint", "train"]
