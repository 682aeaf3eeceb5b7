"""One generic, seeded training loop with atomic, resumable checkpoints."""

from tracklearn.training.loop import History, TrainConfig, load_checkpoint, train

__all__ = ["History", "TrainConfig", "load_checkpoint", "train"]
