#!/usr/bin/env bash
# Retrain the shipped fullspectrum model (the default method) from scratch on 2 CPU cores:
# simulate tt̄ + μ=200 events with a short (σz = 5.5 mm) and a long (σz = 55 mm) luminous
# region for training and validation, learn the tracker's tables and networks
# (tracklearn train fullspectrum), and copy the model folder with its provenance.json
# into src/tracklearn/fullspectrum/default.
# Usage: scripts/train_fullspectrum.sh [WORK_DIR]   (env PYTHON overrides the interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$ROOT/build/train-fullspectrum}"
PY="${PYTHON:-python}"
TL=("$PY" -m tracklearn.cli)
LONG=configs/simulation/trackml-long-luminous.yaml
mkdir -p "$WORK"
cd "$ROOT"
# the provenance names the commit the model was trained from: only a clean tree has one
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && [ -z "${ALLOW_DIRTY:-}" ]; then
  echo "error: the tree has uncommitted changes; commit them (or set ALLOW_DIRTY=1 for a" \
    "trial run whose provenance is marked -dirty)" >&2
  exit 1
fi
sim() {  # name, seed, events, first id, [config]
  if [ ! -d "$WORK/$1" ]; then
    "${TL[@]}" simulate --detector trackml --pileup 200 --events "$3" --seed "$2" \
      --first-event-id "$4" --out "$WORK/$1" --workers 2 --format csv.gz ${5:+--config "$5"}
  fi
}
sim train_short 101 12 101000
sim train_long 102 6 102000 "$LONG"
sim val_short 103 2 103000
sim val_long 104 2 104000 "$LONG"
rm -rf "$WORK/model"
"${TL[@]}" train fullspectrum --config configs/fullspectrum/train.yaml --data "$WORK" \
  --out "$WORK/model"
DEST=src/tracklearn/fullspectrum/default
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$WORK"/model/{model.json,layers.npz,tables.npz,provenance.json} "$DEST"/
cp "$WORK"/model/seed_*.npz "$WORK"/model/track_*.npz "$DEST"/
echo "shipped model in $DEST"
