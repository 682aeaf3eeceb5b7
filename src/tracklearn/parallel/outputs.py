"""One output folder, one run: resume, ``--force``, stale and half-written files.

An output folder belongs to the settings that made it (command, method,
resolved config, ...), recorded in ``.tracklearn-run.json`` when a run starts.
Rerunning the same command resumes: events whose outputs are complete are
skipped.  Another command or other settings on a folder that holds outputs is
refused, in one line naming the first setting that differs, unless ``force``:
then the earlier run's outputs are removed first, so old and new results never
mix.  ``force`` with the same settings redoes the given events.

Per-event outputs are written atomically (temporary file, then rename): a
crash or Ctrl-C can leave only the temporaries (``.event…``), which
:func:`remove_temporaries` deletes (at start and after an interrupt).  The run
summary (``run.json``) is removed when a run starts and written last, only when
every event succeeded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracklearn.config import first_difference
from tracklearn.errors import ConfigError
from tracklearn.io.atomic import write_text_atomic
from tracklearn.io.outdir import prepare_out_dir

log = logging.getLogger(__name__)

STATE_FILE = ".tracklearn-run.json"


def settings_key(settings: Mapping[str, Any]) -> str:
    """Hash of the settings (canonical JSON), 16 hex digits."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class OutputLayout:
    """Which files a command writes per event, and which one says the event is done.

    ``patterns`` are globs of every per-event output (for cleaning a folder);
    ``files(item)`` the outputs of one event; ``done(item)`` whether they are
    complete (the file written last exists).
    """

    patterns: tuple[str, ...]
    files: Callable[[str], list[Path]]
    done: Callable[[str], bool]
    summary: str = "run.json"


def remove_temporaries(out: Path) -> int:
    """Delete half-written temporaries of :func:`tracklearn.io.atomic.atomic_path`."""
    n = 0
    for p in out.glob(".event*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            n += 1
    for pattern in (
        f".{STATE_FILE}.*",
        ".run.json.*",
        ".simulation.json.*",
        ".tracklearn-write-check.*",
    ):
        for p in out.glob(pattern):
            if p.is_file():
                p.unlink(missing_ok=True)
                n += 1
    return n


def _existing_outputs(out: Path, layout: OutputLayout) -> list[Path]:
    return sorted({p for pat in layout.patterns for p in out.glob(pat) if p.is_file()})


def claim_folder(
    out: str | Path,
    command: str,
    settings: Mapping[str, Any],
    items: Sequence[str],
    layout: OutputLayout,
    *,
    force: bool = False,
    resume: bool = True,
) -> list[str]:
    """Make ``out`` this run's folder; return the items still to do (in order).

    Raises :class:`ConfigError` when the folder holds outputs of another run and
    ``force`` is not given.
    """
    folder = prepare_out_dir(out)
    n_tmp = remove_temporaries(folder)
    if n_tmp:
        log.info("%s: removed %d half-written files of an earlier run", folder, n_tmp)
    # JSON-normalised (tuples become lists), as it will be read back next time
    state = json.loads(json.dumps({"command": command, "settings": dict(settings)}, default=str))
    key = settings_key(state)
    state_path = folder / STATE_FILE
    old = _read_state(state_path)
    existing = _existing_outputs(folder, layout)
    same = old is not None and old.get("key") == key
    if existing and not same:
        if not force:
            diff = (
                first_difference(
                    {"command": old.get("command"), **(old.get("settings") or {})},
                    {"command": command, **state["settings"]},
                )
                if old is not None
                else "made by another run (no record of its settings)"
            )
            raise ConfigError(
                f"{folder}: holds outputs of another run ({diff}); use another output folder, "
                "or --force to replace them"
            )
        log.warning("%s: removing %d files of an earlier run (--force)", folder, len(existing))
        _remove(existing)
    (folder / layout.summary).unlink(missing_ok=True)
    write_text_atomic(state_path, json.dumps({**state, "key": key}, indent=1, default=str))
    if force or not resume:
        _remove(p for item in items for p in layout.files(item))
        return list(items)
    return [i for i in items if not layout.done(i)]


def _read_state(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _remove(paths: Iterable[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
