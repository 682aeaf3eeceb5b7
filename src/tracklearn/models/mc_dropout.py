"""Monte Carlo dropout (Gal & Ghahramani 2016): a spread for every prediction.

At inference the network runs ``n_samples`` times with its dropout layers
*active* (everything else, e.g. normalisation layers, in evaluation mode); the
mean of the samples is the prediction and their standard deviation its
(epistemic) uncertainty.  The samples are drawn from a seeded torch generator
state, so a run is reproducible.

A network trained with dropout (models take ``dropout=p``) is sampled with its
own rate.  ``rate`` overrides it, and also lets a network *without* dropout
layers be sampled: dropout of that rate is then applied to the output of every
ReLU (forward hooks; the weights are not touched).  Such spreads measure the
sensitivity of a network that never saw dropout and are not calibrated
uncertainties: prefer training with dropout.

With ``n_samples = 1`` and no dropout active the result is exactly the
ordinary evaluation-mode output (spread 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from tracklearn.errors import ConfigError

__all__ = ["dropout_modules", "has_dropout", "mc_dropout", "mc_dropout_mode"]


def dropout_modules(module: nn.Module) -> list[nn.Module]:
    """The dropout layers of ``module`` (``nn.Dropout`` and its 1-3 D variants)."""
    kinds = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
    return [m for m in module.modules() if isinstance(m, kinds)]


def has_dropout(module: nn.Module) -> bool:
    """True when ``module`` has at least one dropout layer with a non-zero rate."""
    return any(float(getattr(m, "p", 0.0)) > 0 for m in dropout_modules(module))


@contextmanager
def mc_dropout_mode(module: nn.Module, rate: float | None = None) -> Iterator[nn.Module]:
    """Evaluation mode with dropout active; restores the previous modes and rates on exit.

    Parameters
    ----------
    module
        The network.
    rate
        Dropout probability to use instead of the network's own (0 ≤ rate < 1).  A
        network without dropout layers then gets dropout after every ReLU.

    Raises
    ------
    ConfigError
        ``rate`` is None and the network has no active dropout layer (its MC
        samples would all be equal).
    """
    if rate is not None and not 0.0 <= rate < 1.0:
        raise ConfigError(f"MC-dropout rate must be in [0, 1), got {rate}")
    drops = dropout_modules(module)
    if rate is None and not has_dropout(module):
        raise ConfigError(
            f"{type(module).__name__} has no dropout layers: train it with dropout > 0 "
            "or give an MC-dropout rate"
        )
    was_training = {m: m.training for m in module.modules()}
    old_p = {m: float(getattr(m, "p", 0.0)) for m in drops}
    hooks: list[torch.utils.hooks.RemovableHandle] = []
    module.eval()
    try:
        for m in drops:
            m.train()
            if rate is not None:
                m.p = rate  # type: ignore[assignment]
        if rate is not None and not drops and rate > 0:

            def hook(
                _m: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor
            ) -> torch.Tensor:
                return nn.functional.dropout(out, rate, training=True)

            hooks = [
                m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.ReLU)
            ]
        yield module
    finally:
        for h in hooks:
            h.remove()
        for m, p in old_p.items():
            m.p = p  # type: ignore[assignment]
        for m, mode in was_training.items():
            m.training = mode


def mc_dropout(
    module: nn.Module,
    forward: Callable[[], torch.Tensor],
    n_samples: int,
    *,
    rate: float | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of ``forward()`` over ``n_samples`` dropout draws.

    ``forward`` runs the network (e.g. ``lambda: torch.sigmoid(model(x, ei, ea))``);
    it is called under :func:`mc_dropout_mode` and ``torch.no_grad``, with the
    global torch RNG seeded by ``seed`` (its previous state is restored).  The
    standard deviation is the population one (divisor ``n_samples``).

    Shapes: whatever ``forward`` returns, for both outputs.
    """
    if n_samples < 1:
        raise ConfigError(f"MC-dropout needs at least 1 sample, got {n_samples}")
    with torch.random.fork_rng(devices=[]), torch.no_grad(), mc_dropout_mode(module, rate):
        torch.manual_seed(seed)
        first = forward()
        total = first.double()
        total_sq = first.double() ** 2
        for _ in range(n_samples - 1):
            out = forward().double()
            total = total + out
            total_sq = total_sq + out**2
    mean = total / n_samples
    var = (total_sq / n_samples - mean**2).clamp(min=0.0)
    return mean.to(first.dtype), var.sqrt().to(first.dtype)
