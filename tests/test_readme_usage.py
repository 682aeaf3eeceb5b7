"""Every command of the README's Usage block runs as written, in order (issue 17).

The block is read from README.md, continuation lines joined, comments and the
optional ``[...]`` flags dropped, and each line run by bash in a scratch checkout
(``configs/`` copied, ``../shared/data`` linked to the real data). Only the sizes
are made tiny, by the substitutions in :data:`TINY` (event counts) and
:func:`_tiny_config` (epochs, steps, augmentation copies), so that the whole
chain — simulate, info, reconstruct, evaluate, display, train the gnn stages, the
muon trigger, ONNX export, validate-simulation, bench — takes minutes; a command
that fails, or a substitution that no longer matches the README, fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracklearn.datapaths import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]

#: README text → tiny version (each must match a README command once)
TINY: dict[str, str] = {
    "--events 10 --particles 2000": "--events 2 --particles 200",
    "--pileup 200 --events 10": "--pileup 5 --events 4",
    "--events 5000": "--events 300",
}


def usage_commands(readme: str) -> list[str]:
    """The Usage section's bash commands, one string each, optional flags removed."""
    section = readme.split("\n## Usage", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = block.replace("\\\n", " ").splitlines()
    out = []
    for line in lines:
        line = _drop_comment(line).strip()
        if line:
            out.append(re.sub(r"\s+", " ", re.sub(r"\s\[[^\[\]]*\]", "", line)).strip())
    return out


def _drop_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _tiny_config(node: Any) -> Any:
    """A training config with one epoch of few steps and one augmentation copy."""
    if isinstance(node, dict):
        small = {"epochs": 1, "steps_per_epoch": 3, "rotations": 1, "fresh_images": 200,
                 "patience": 1, "val_events": 1}  # fmt: skip
        return {k: small[k] if k in small else _tiny_config(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_tiny_config(v) for v in node]
    return node


def test_usage_parser() -> None:
    text = (
        "x\n## Usage\n```bash\ntracklearn a x/ [--b 1] [--c d|e] \\\n    --f g   # note\n"
        '# whole-line comment\nsed "s#A#B#" in > out\n```\n'
    )
    assert usage_commands(text) == ["tracklearn a x/ --f g", 'sed "s#A#B#" in > out']


@pytest.mark.slow  # runs the whole Usage block on tiny inputs (a few minutes)
@pytest.mark.timeout(1800)
def test_every_usage_command_runs_as_written(tmp_path: Path) -> None:
    shared = shared_data_dir()
    if not shared.exists():
        pytest.fail(f"shared data not found at {shared} (set $TRACKLEARN_DATA)")
    commands = usage_commands((ROOT / "README.md").read_text())
    joined = "\n".join(commands)
    for text in TINY:
        assert joined.count(text) == 1, f"README Usage no longer has {text!r} once"
    work = tmp_path / "checkout"
    work.mkdir()
    (tmp_path / "shared").symlink_to(shared.parent if shared.name == "data" else shared)
    for cfg in (ROOT / "configs").rglob("*.yaml"):
        dst = work / cfg.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(yaml.safe_dump(_tiny_config(yaml.safe_load(cfg.read_text()))))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    env.pop("TRACKLEARN_DATA", None)  # the commands name ../shared/data themselves
    assert shutil.which("tracklearn", path=env["PATH"]), "tracklearn not on PATH"
    for command in commands:
        for text, tiny in TINY.items():
            command = command.replace(text, tiny)
        if command.startswith("tracklearn bench"):  # the quick baselines into build/bench-quick
            command += " --quick --suite baselines"
        proc = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                              text=True, timeout=900)  # fmt: skip
        assert proc.returncode == 0, (
            f"README command failed ({proc.returncode}): {command}\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
        )
    for out in ("data", "mu200", "tracks", "report", "event.png", "gnn_model", "tracks-gnn",
                "edges/edge_metrics.json", "muon_model", "trig", "onnx", "tracks-onnx",
                "validation", "build/bench-quick/baselines-quick.md"):  # fmt: skip
        assert (work / out).exists(), f"{out} not written"
