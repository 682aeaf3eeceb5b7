"""Registry of trainable stages for ``tracklearn train STAGE``.

A stage is a function ``run(config: dict, data: Path, out: Path, resume: bool)
-> dict[str, float]`` (final validation metrics) registered by name with a
one-line summary (``tracklearn train --help`` lists them); modules that define
stages are listed in ``_PROVIDERS`` and imported on first use, so
``tracklearn --help`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracklearn.errors import ConfigError, UnknownNameError

StageFn = Callable[[dict[str, Any], Path, Path, bool], dict[str, float]]

_STAGES: dict[str, StageFn] = {}
#: one line per stage: what it trains and on which data
_SUMMARIES: dict[str, str] = {}
#: stages that may run on several processes (``--nproc``): rank 0 alone writes outputs
_DISTRIBUTED: set[str] = set()
#: modules that register stages (imported lazily)
_PROVIDERS: list[str] = [
    "tracklearn.training.toy",
    "tracklearn.graph.stages",
    "tracklearn.training.edge_stages",
    "tracklearn.training.fullspectrum",
    "tracklearn.training.muon",
]


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
        _STAGES[name] = fn
        doc = (fn.__doc__ or "").strip().splitlines()
        _SUMMARIES[name] = summary or (doc[0].replace("``", "") if doc else "(no description)")
        if distributed:
            _DISTRIBUTED.add(name)
        return fn

    return deco


def _load() -> None:
    for module in _PROVIDERS:
        importlib.import_module(module)


def available_stages() -> list[str]:
    _load()
    return sorted(_STAGES)


def describe_stages() -> dict[str, str]:
    """Every stage's one-line summary, by name (sorted); ``--nproc`` stages say so."""
    _load()
    return {
        name: _SUMMARIES[name] + (" [--nproc]" if name in _DISTRIBUTED else "")
        for name in sorted(_STAGES)
    }


def get_stage(name: str) -> StageFn:
    """The stage called ``name``; an unknown name lists the valid ones."""
    _load()
    if name not in _STAGES:
        raise UnknownNameError("stage", name, sorted(_STAGES))
    return _STAGES[name]


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
