"""Multi-process data-parallel training: ``tracklearn train STAGE ... --nproc N``.

:func:`launch` starts N processes (``torch.multiprocessing`` spawn), joins them
in a ``gloo`` process group on 127.0.0.1 (CPU) and runs the same function in
each; :func:`tracklearn.training.loop.train` sees the group and wraps the model
in :class:`torch.nn.parallel.DistributedDataParallel`.  Processes started by
``torchrun`` (``RANK``/``WORLD_SIZE`` in the environment) join the same way
(:func:`init_from_env`).

Every process builds the same data (the stage code is unchanged), draws the
same shuffled batch sequence from the same seeded generator, and takes its
share: batch ``j`` of an epoch belongs to rank ``j % N``.  With
``train.batches_per_step = B`` (a multiple of N) one optimiser step averages
the gradients of B batches whatever N is, so N = 2 follows N = 1 up to float
rounding at equal global batch.  Rank 0 evaluates, writes the checkpoints,
curves and the model; the others return before writing anything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from tracklearn.errors import ConfigError, RunInterrupted, TracklearnError

log = logging.getLogger(__name__)


def world() -> tuple[int, int]:
    """``(rank, world size)`` of this process; ``(0, 1)`` without a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """True in single-process training and in rank 0 (the one that writes outputs)."""
    return world()[0] == 0


def barrier() -> None:
    """Wait for every process (no-op without a process group)."""
    if world()[1] > 1:
        dist.barrier()


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` in every process (``obj`` as given without a process group)."""
    if world()[1] == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_mean(values: list[float]) -> list[float]:
    """Mean of ``values`` over the processes (as given without a process group)."""
    if world()[1] == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return (t / world()[1]).tolist()


@contextlib.contextmanager
def main_process_first() -> Iterator[None]:
    """Rank 0 runs the block first (building caches), then the others (reading them)."""
    rank, size = world()
    if size > 1 and rank != 0:
        dist.barrier()
    try:
        yield
    finally:
        if size > 1 and rank == 0:
            dist.barrier()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for the process group's rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def init_from_env() -> bool:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1); True if joined."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or world()[1] > 1:
        return False
    dist.init_process_group("gloo")
    return True


def _child(
    rank: int,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    nproc: int,
    port: int,
    results: Any,
) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us on Ctrl-C
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=nproc
    )
    try:
        value = fn(*args)
        results.put((rank, "ok", value if rank == 0 else None))
    except TracklearnError as exc:
        results.put((rank, "error", str(exc)))
    except Exception as exc:
        log.debug("rank %d failed:\n%s", rank, traceback.format_exc())
        lines = str(exc).strip().splitlines()
        msg = f"rank {rank}: {type(exc).__name__}: {lines[0] if lines else ''}"
        results.put((rank, "error", msg))
    finally:
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


def launch(fn: Callable[..., Any], args: tuple[Any, ...], nproc: int) -> Any:
    """Run ``fn(*args)`` in ``nproc`` processes joined in a gloo group; return rank 0's value.

    ``fn`` must be importable (it is pickled by reference).  A
    :class:`TracklearnError` in any process is raised here with its message;
    Ctrl-C stops every process and raises :class:`RunInterrupted`.
    """
    if nproc < 1:
        raise ConfigError(f"--nproc {nproc}: must be >= 1")
    if nproc == 1:
        return fn(*args)
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    port = free_port()
    procs = [
        ctx.Process(target=_child, args=(r, fn, args, nproc, port, results), daemon=False)
        for r in range(nproc)
    ]
    outcomes: dict[int, tuple[str, Any]] = {}
    try:
        for p in procs:
            p.start()
        while len(outcomes) < nproc:
            while not results.empty():
                rank, status, value = results.get()
                outcomes[rank] = (status, value)
            if any(s == "error" for s, _ in outcomes.values()):
                break  # the others may wait for it in a collective: stop them
            if any(p.exitcode not in (None, 0) for p in procs) and results.empty():
                break  # killed (out of memory?): the others wait for it forever
            if all(not p.is_alive() for p in procs) and results.empty():
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        _stop(procs)
        msg = "interrupted: checkpoint.pt holds the last finished epoch; rerun with --resume"
        raise RunInterrupted(0, nproc, msg) from None
    errors = [v for s, v in outcomes.values() if s == "error"]
    if errors:
        _stop(procs)
        raise TracklearnError(errors[0])
    if len(outcomes) < nproc:
        _stop(procs)
        dead = [p.exitcode for p in procs if p.exitcode]
        raise TracklearnError(
            f"a training process died (exit codes {dead}); checkpoint.pt holds the last "
            "finished epoch: rerun with --resume"
        )
    for p in procs:
        p.join()
    return outcomes[0][1]


def _stop(procs: list[Any]) -> None:
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join(timeout=10)
