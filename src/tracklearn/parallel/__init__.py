"""Event-parallel execution: local processes or a Dask cluster, retries, resume.

Every command that works event by event (``reconstruct``, ``simulate``,
``evaluate``) describes its per-event work as a :class:`Job` and runs it with
:func:`run_tasks`; :func:`claim_folder` makes reruns resume and keeps the
outputs of different runs apart.  Dask is imported only when a scheduler is used.
"""

from tracklearn.errors import RunInterrupted
from tracklearn.parallel.engine import (
    MAX_RETRIES,
    Job,
    Outcome,
    RunReport,
    run_tasks,
)
from tracklearn.parallel.outputs import OutputLayout, claim_folder, remove_temporaries
from tracklearn.parallel.scheduler import (
    SchedulerSpec,
    available_cores,
    cap_workers,
    parse_scheduler,
)

__all__ = [
    "MAX_RETRIES",
    "Job",
    "Outcome",
    "OutputLayout",
    "RunInterrupted",
    "RunReport",
    "SchedulerSpec",
    "available_cores",
    "cap_workers",
    "claim_folder",
    "parse_scheduler",
    "remove_temporaries",
    "run_tasks",
]
