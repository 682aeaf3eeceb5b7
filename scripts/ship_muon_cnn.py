"""Copy a trained muon_cnn run into src/tracklearn/models/muon_trigger with provenance.json.

Usage: python scripts/ship_muon_cnn.py RUN_DIR COMMAND   (called by scripts/train_muon_cnn.sh)

Besides the training record it measures the model on 20,000 fresh test images
(seed ``TEST_SEED``, never trained on): efficiency for pT >= 10 GeV and fake rate.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

from tracklearn.metrics.muon_trigger import fake, matched, voxel_counts
from tracklearn.models.muon_model import MuonCNNModel
from tracklearn.provenance import git_revision, provenance
from tracklearn.simulation.muon_chamber import TEST_SEED, MuonChamberConfig, iter_muon_images

DEST = Path(__file__).resolve().parents[1] / "src" / "tracklearn" / "models" / "muon_trigger"
N_TEST = 20_000


def main() -> None:
    run, command = Path(sys.argv[1]), sys.argv[2]
    model = MuonCNNModel.load(run)
    sim = MuonChamberConfig.model_validate(model.info["simulation"])
    hit, fakes = [], []
    for batch in iter_muon_images(N_TEST, TEST_SEED, sim):
        tp, p, m = voxel_counts(model(batch.hits), batch.truth)
        hit.append(matched(tp, p)[batch.pt_gev >= 10.0])
        fakes.append(fake(tp, m)[m > 0])
    history = (run / "history.csv").read_text().splitlines()
    cols = history[0].split(",")
    seconds = sum(float(r.split(",")[cols.index("time_s")]) for r in history[1:])
    if DEST.exists():
        shutil.rmtree(DEST)
    DEST.mkdir(parents=True)
    for name in ("model.json", "weights.pt"):
        shutil.copy2(run / name, DEST / name)
    prov = {
        "command": command,
        "code_revision": git_revision(),
        "training_config": json.loads((run / "config.json").read_text())["config"],
        "data": model.info["data"],
        "simulation": model.info["simulation"],
        "best_epoch": model.info["best_epoch"],
        "validation": model.info["val_metrics"],
        "test": {
            "images": N_TEST,
            "seed": TEST_SEED,
            "efficiency_pt10": float(np.concatenate(hit).mean()),
            "fake_rate": float(np.concatenate(fakes).mean()),
        },
        "train_seconds": round(seconds, 1),
        **provenance(),
    }
    (DEST / "provenance.json").write_text(json.dumps(prov, indent=2, default=str) + "\n")
    print(json.dumps(prov["test"]))


if __name__ == "__main__":
    main()
