"""Provenance stored with every output folder: version, git revision, time, host."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from tracklearn import __version__


def git_revision(checkout: Path | None = None) -> str:
    """Git revision of the tracklearn checkout, or of ``checkout`` (``unknown`` outside one)."""
    here = _checkout(checkout)
    try:
        rev = _git(here, "describe", "--always", "--abbrev=12")
        # dirty: tracked changes outside benchmarks/results (a bench that rewrites its
        # own tables must not mark the revision it ran from as modified)
        changed = _git(here, "status", "--porcelain", "--untracked-files=no", "--", ":/",
                       ":(exclude,top)benchmarks/results")  # fmt: skip
        return (rev + "-dirty" if changed else rev) or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _checkout(checkout: Path | None) -> Path:
    return checkout or Path(__file__).resolve().parent


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


#: paths whose content cannot change what ``tracklearn bench`` measures: its own tables,
#: the README (its numbers are copied from the tables) and the tests
_NOT_SOURCE = ("benchmarks/results/", "README.md", "tests/")


def source_tree_id(checkout: Path | None = None) -> str | None:
    """Hash of the committed tree without :data:`_NOT_SOURCE` (None: uncommitted changes
    or no checkout).  Two commits with the same id run the same code on the same data."""
    rev = git_revision(checkout)
    if rev == "unknown" or rev.endswith("-dirty"):
        return None
    try:
        listing = _git(_checkout(checkout), "ls-tree", "-r", "--full-tree", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return None
    kept = [ln for ln in listing.splitlines() if not ln.split("\t", 1)[1].startswith(_NOT_SOURCE)]
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:16]
