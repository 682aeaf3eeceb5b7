"""``tracklearn evaluate`` with the events scored in worker processes or on a Dask cluster.

Scoring is read-only (the report is written whole at the end), so there is
nothing to resume: an event that fails to score fails the evaluation, with
every failed event's one-line error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from tracklearn.errors import DataError, RunInterrupted
from tracklearn.evaluation import EvaluationResult, EventJob, evaluate_folder
from tracklearn.metrics import TargetSelection
from tracklearn.parallel.engine import run_tasks
from tracklearn.parallel.scheduler import SchedulerSpec, cap_workers

_T = TypeVar("_T")


class EvaluationFailed(DataError):
    """Some events could not be scored; ``errors`` holds each one's line."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more events failed)" if len(errors) > 1 else ""
        super().__init__("evaluate", errors[0] + more)

    def __str__(self) -> str:
        return str(self.problem)


def evaluate_events(
    truth: Sequence[str | Path],
    tracks_dir: str | Path,
    out_dir: str | Path,
    targets: TargetSelection | None = None,
    *,
    workers: int = 1,
    scheduler: SchedulerSpec | None = None,
    validation: tuple[Sequence[str | Path], str | Path] | None = None,
) -> EvaluationResult:
    """:func:`tracklearn.evaluation.evaluate_folder` with the events scored in parallel.

    ``validation`` (truth events, their tracks folder): their edge scores are read
    by the workers too, and the temperature is fitted once, here.
    """
    if workers <= 1 and scheduler is None:
        return evaluate_folder(truth, tracks_dir, out_dir, targets, validation=validation)

    def map_events(prefixes: list[Path], job: EventJob[_T]) -> list[_T]:
        n = workers if scheduler is not None else cap_workers(workers, len(prefixes))
        try:
            report = run_tasks(job, [str(p) for p in prefixes], workers=n, scheduler=scheduler)
        except RunInterrupted as exc:
            raise RunInterrupted(
                exc.done, exc.total, f"interrupted: nothing written to {out_dir}"
            ) from None
        if report.failed:
            raise EvaluationFailed([str(o.error) for o in report.failed])
        return [o.value for o in report.outcomes]

    return evaluate_folder(
        truth, tracks_dir, out_dir, targets, map_events=map_events, validation=validation
    )
