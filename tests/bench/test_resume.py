"""`tracklearn bench --resume`: the manifest records each finished suite; a suite written
from the same source tree is kept, any other runs again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import tracklearn.bench.simulation
import tracklearn.bench.suites
from tracklearn.bench.suites import run_suites
from tracklearn.provenance import source_tree_id


@pytest.fixture
def fake_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[int]]:
    """The simulation suite replaced by one that writes its table and counts its runs."""
    calls: list[int] = []

    def fake(out: Path, **_: object) -> Path:
        calls.append(1)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "simulation.md"
        path.write_text(f"run {len(calls)}\n")
        return path

    monkeypatch.setattr(tracklearn.bench.simulation, "run_simulation_bench", fake)
    data = tmp_path / "data"
    (data / "trackml").mkdir(parents=True)
    (data / "trackml" / "detectors.csv.gz").write_bytes(b"")
    return data, calls


def _tree(monkeypatch: pytest.MonkeyPatch, tree: str | None) -> None:
    monkeypatch.setattr(tracklearn.bench.suites, "source_tree_id", lambda: tree)


def test_resume_keeps_a_suite_of_the_same_source_tree_and_reruns_otherwise(
    tmp_path: Path, fake_suite: tuple[Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, calls = fake_suite
    out = tmp_path / "results"
    _tree(monkeypatch, "tree-a")
    assert run_suites(out, ["simulation"], data=data, resume=True) == [out / "simulation.md"]
    entry = json.loads((out / "manifest.json").read_text())["suites"]["simulation"]
    assert entry["file"] == "simulation.md" and entry["source_tree"] == "tree-a"
    assert entry["wall_s"] >= 0 and entry["git_revision"]

    assert run_suites(out, ["simulation"], data=data, resume=True) == [out / "simulation.md"]
    assert len(calls) == 1  # kept
    run_suites(out, ["simulation"], data=data)
    assert len(calls) == 2  # without --resume every suite runs

    _tree(monkeypatch, "tree-b")  # the code changed
    run_suites(out, ["simulation"], data=data, resume=True)
    assert len(calls) == 3
    _tree(monkeypatch, None)  # uncommitted changes: nothing is current
    run_suites(out, ["simulation"], data=data, resume=True)
    assert len(calls) == 4
    assert (
        json.loads((out / "manifest.json").read_text())["suites"]["simulation"]["source_tree"]
        is None
    )
    _tree(monkeypatch, "tree-b")
    (out / "simulation.md").unlink()  # the table is gone
    run_suites(out, ["simulation"], data=data, resume=True)
    assert len(calls) == 5


def test_an_unreadable_manifest_means_every_suite_runs(
    tmp_path: Path, fake_suite: tuple[Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, calls = fake_suite
    out = tmp_path / "results"
    out.mkdir()
    (out / "manifest.json").write_text("{truncated")
    _tree(monkeypatch, "tree-a")
    run_suites(out, ["simulation"], data=data, resume=True)
    assert len(calls) == 1
    assert json.loads((out / "manifest.json").read_text())["suites"]["simulation"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_source_tree_ignores_results_readme_and_tests_only(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for rel in ("src/a.py", "README.md", "benchmarks/results/x.md", "tests/t.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("1\n")
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    first = source_tree_id(repo)
    assert first is not None
    for rel in ("README.md", "benchmarks/results/x.md", "tests/t.py"):
        (repo / rel).write_text("2\n")
    assert source_tree_id(repo) is None  # uncommitted changes to README / tests
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two")
    assert source_tree_id(repo) == first
    (repo / "src/a.py").write_text("2\n")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "three")
    assert source_tree_id(repo) not in (None, first)
