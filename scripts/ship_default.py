"""Copy trained model folders into src/tracklearn/models/default with provenance.json.

Usage: python scripts/ship_default.py CLASSIFIER_DIR IN_STYLE_DIR COMMAND SIM_JSON
(called by scripts/train_default.sh; copies only the small model files).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tracklearn.provenance import git_revision, provenance

DEST = Path(__file__).resolve().parents[1] / "src" / "tracklearn" / "models" / "default"
FILES = ("model.json", "weights.pt")
MAP_FILES = ("module_map.npz", "module_map.json")


def _copy(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(src / name, dest / name)


def main() -> None:
    clf, in_style, command, sim = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    if DEST.exists():
        shutil.rmtree(DEST)
    _copy(clf, DEST)
    shutil.copy2(clf / "pipeline.json", DEST / "pipeline.json")
    for name in MAP_FILES:  # the module map the graph builder reads travels with the model
        if (clf / name).exists():
            shutil.copy2(clf / name, DEST / name)
    if (clf / "filter").exists():
        _copy(clf / "filter", DEST / "filter")
    _copy(in_style, DEST / "in_graphs")
    meta = {name: json.loads((d / "model.json").read_text()) for name, d in
            (("classifier", clf), ("filter", clf / "filter"), ("in_graphs", in_style))
            if (d / "model.json").exists()}  # fmt: skip
    prov = {
        "command": command,
        "simulation": json.loads(sim),
        "code_revision": git_revision(),
        "validation": {k: v.get("val_metrics") for k, v in meta.items()},
        "thresholds": {k: v.get("threshold") for k, v in meta.items()},
        "training_configs": {
            "classifier": json.loads((clf / "config.json").read_text())["config"],
            "in_graphs": json.loads((in_style / "config.json").read_text())["config"],
        },
        **provenance(),
    }
    (DEST / "provenance.json").write_text(json.dumps(prov, indent=2, default=str))


if __name__ == "__main__":
    main()
