"""``benchmarks/results/manifest.json``: which revision and source tree wrote each suite's
table, when, and in how long; what ``tracklearn bench --resume`` reads to keep suites that
are already current."""

from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path
from typing import Any

from tracklearn.io.atomic import write_text_atomic
from tracklearn.provenance import git_revision

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def _load(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable (%s): every suite runs again", path, exc)
        return {}
    suites = doc.get("suites") if isinstance(doc, dict) else None
    return suites if isinstance(suites, dict) else {}


def current_result(out: Path, suite: str, tree: str | None) -> Path | None:
    """The results file of ``suite`` if the manifest says it was written from source tree
    ``tree`` (None: this checkout has uncommitted changes, nothing is current) and the
    file is still there."""
    entry = _load(out).get(suite)
    if tree is None or not isinstance(entry, dict) or entry.get("source_tree") != tree:
        return None
    path = out / str(entry.get("file", ""))
    return path if entry.get("file") and path.is_file() else None


def record_suite(out: Path, suite: str, path: Path, tree: str | None, wall_s: float) -> None:
    """Add (or replace) ``suite``'s entry, written whole (temp file, then rename)."""
    suites = _load(out)
    suites[suite] = {
        "file": path.resolve().relative_to(out.resolve()).as_posix(),
        "git_revision": git_revision(),
        "source_tree": tree,
        "finished_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 1),
    }
    doc = {
        "about": "written by tracklearn bench after each suite; source_tree is a hash of the "
        "committed tree without benchmarks/results, README.md and tests/ (null: written from "
        "uncommitted changes); tracklearn bench --resume keeps the suites whose source_tree "
        "equals the checkout's",
        "suites": dict(sorted(suites.items())),
    }
    write_text_atomic(out / MANIFEST, json.dumps(doc, indent=1) + "\n")
