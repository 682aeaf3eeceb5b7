"""Provenance stored with every output folder: version, git revision, time, host."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from tracklearn import __version__


def git_revision() -> str:
    """Git revision of the tracklearn checkout (``unknown`` outside a checkout)."""
    here = Path(__file__).resolve().parent
    try:
        rev = _git(here, "describe", "--always", "--abbrev=12")
        # dirty: tracked changes outside benchmarks/results (a bench that rewrites its
        # own tables must not mark the revision it ran from as modified)
        changed = _git(here, "status", "--porcelain", "--untracked-files=no", "--", ":/",
                       ":(exclude,top)benchmarks/results")  # fmt: skip
        return (rev + "-dirty" if changed else rev) or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
    )
    return out.stdout.strip()


def provenance() -> dict[str, Any]:
    """What made an artifact: package version, git revision, UTC time, host facts."""
    return {
        "tracklearn_version": __version__,
        "git_revision": git_revision(),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
