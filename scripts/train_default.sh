#!/usr/bin/env bash
# Retrain the shipped gnn model from scratch (≈35-50 min on 2 CPU cores):
# simulate μ=200 events, train the edge filter, the Interaction Network on
# filtered graphs and the IN-paper-style classifier, then copy the weights and a
# provenance.json into src/tracklearn/models/default.
# Usage: scripts/train_default.sh [WORK_DIR]   (env PYTHON overrides the interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$ROOT/build/train-default}"
PY="${PYTHON:-python}"
TL=("$PY" -m tracklearn.cli)
EVENTS=16 SEED=101 PILEUP=200
mkdir -p "$WORK"
cd "$ROOT"
"${TL[@]}" simulate --detector trackml --pileup "$PILEUP" --events "$EVENTS" --seed "$SEED" \
    --first-event-id 1000 --out "$WORK/events" --workers 2
"${TL[@]}" train filter --config configs/gnn/filter.yaml --data "$WORK/events" --out "$WORK/filter"
sed "s#^filter_model: null#filter_model: $WORK/filter#" configs/gnn/edge_classifier.yaml \
    > "$WORK/edge_classifier.yaml"
"${TL[@]}" train edge_classifier --config "$WORK/edge_classifier.yaml" --data "$WORK/events" \
    --out "$WORK/classifier"
"${TL[@]}" train edge_classifier --config configs/gnn/edge_classifier_in_style.yaml \
    --data "$WORK/events" --out "$WORK/in_style"
"$PY" scripts/ship_default.py "$WORK/classifier" "$WORK/in_style" "scripts/train_default.sh $WORK" \
    "{\"detector\": \"trackml\", \"pileup\": $PILEUP, \"events\": $EVENTS, \"seed\": $SEED, \"first_event_id\": 1000}"
echo "shipped model in src/tracklearn/models/default"
