#!/usr/bin/env bash
# Retrain the shipped muon-trigger CNN (src/tracklearn/models/muon_trigger) from scratch on one
# core: simulate 5000 chamber images (seed 101; half validate, half are never used: every epoch
# trains on 10000 fresh images), train configs/train/muon_cnn.yaml, then copy the model with a
# provenance.json (command, seeds, data, validation and test metrics).  About 15 minutes.
# Usage: scripts/train_muon_cnn.sh [WORK_DIR]   (env PYTHON overrides the interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$ROOT/build/train-muon-cnn}"
PY="${PYTHON:-python}"
TL=("$PY" -m tracklearn.cli)
IMAGES=5000 SEED=101
cd "$ROOT"
export OMP_NUM_THREADS=1
rm -rf "$WORK/data" "$WORK/run"
"${TL[@]}" simulate --detector muon-chamber --events "$IMAGES" --seed "$SEED" --out "$WORK/data"
"${TL[@]}" train muon_cnn --config configs/train/muon_cnn.yaml --data "$WORK/data" --out "$WORK/run"
"$PY" scripts/ship_muon_cnn.py "$WORK/run" "scripts/train_muon_cnn.sh $WORK"
echo "shipped model in src/tracklearn/models/muon_trigger"
