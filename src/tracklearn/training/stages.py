"""Registry of trainable stages for ``tracklearn train STAGE``.

A stage is a function ``run(config: dict, data: Path, out: Path, resume: bool)
-> dict[str, float]`` (final validation metrics) registered by name where it is
defined, with a one-line summary (``tracklearn train --help`` lists them); the
defining modules are imported on first use (the loader is set in
:mod:`tracklearn.training`, so this module never imports them), so
``tracklearn --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracklearn.errors import ConfigError
from tracklearn.registry import Registry

StageFn = Callable[[dict[str, Any], Path, Path, bool], dict[str, float]]
#: stage functions by name; each description is the stage's one-line summary
_STAGES: Registry[StageFn] = Registry("stage")
#: stages that may run on several processes (``--nproc``): rank 0 alone writes outputs
_DISTRIBUTED: set[str] = set()


def register_stage(
    name: str, *, distributed: bool = False, summary: str | None = None
) -> Callable[[StageFn], StageFn]:
    """Decorator: make ``fn`` trainable as ``tracklearn train NAME``.

    ``distributed``: the stage trains through :func:`tracklearn.training.loop.train`
    and writes its outputs only in the main process, so ``--nproc N`` may run it.
    ``summary``: one line for ``tracklearn train --help`` (default: the first line
    of ``fn``'s docstring).
    """

    def deco(fn: StageFn) -> StageFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        _STAGES.add(name, fn, summary or (doc[0].replace("``", "") if doc else "(no description)"))
        if distributed:
            _DISTRIBUTED.add(name)
        return fn

    return deco


def available_stages() -> list[str]:
    return _STAGES.names()


def describe_stages() -> dict[str, str]:
    """Every stage's one-line summary, by name (sorted); ``--nproc`` stages say so."""
    return {
        name: summary + (" [--nproc]" if name in _DISTRIBUTED else "")
        for name, summary in _STAGES.descriptions().items()
    }


def get_stage(name: str) -> StageFn:
    """The stage called ``name``; an unknown name lists the valid ones."""
    return _STAGES.get(name)


def run_stage(
    name: str, config: dict[str, Any], data: Path, out: Path, resume: bool, nproc: int = 1
) -> dict[str, float]:
    """Train stage ``name``, on ``nproc`` processes (DistributedDataParallel, gloo, CPU).

    Torch is seeded with ``train.seed`` before the stage builds its model, so two
    fresh runs with the same seed give the same model.
    """
    get_stage(name)  # an unknown name fails here, listing the valid ones
    if nproc > 1 and name not in _DISTRIBUTED:
        raise ConfigError(
            f"stage {name!r} does not train on several processes; --nproc works with: "
            + ", ".join(sorted(_DISTRIBUTED))
        )
    from tracklearn.training.distributed import init_from_env, launch

    if init_from_env():  # started by torchrun: this process is one rank already
        return _run_seeded(name, config, data, out, resume)
    result: dict[str, float] = launch(_run_seeded, (name, config, data, out, resume), nproc)
    return result


def _run_seeded(
    name: str, config: dict[str, Any], data: Path, out: Path, resume: bool
) -> dict[str, float]:
    train_cfg = config.get("train") if isinstance(config, dict) else None
    if isinstance(train_cfg, dict):  # stages with a model: seed before it is built
        from tracklearn.training.loop import seed_everything

        seed = train_cfg.get("seed", 0)
        seed_everything(seed if isinstance(seed, int) else 0)
    return get_stage(name)(config, data, out, resume)
