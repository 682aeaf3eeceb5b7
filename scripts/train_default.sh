#!/usr/bin/env bash
# Retrain the shipped gnn model from scratch on 2 CPU cores: simulate μ=200 events, build the
# module map from their target-like segments, train the edge filter on module-map graphs,
# the Interaction Network on filtered graphs and the IN-paper-style classifier (for the real
# IN-paper graphs), then copy the model, the map and a provenance.json into
# src/tracklearn/models/default.
# Usage: scripts/train_default.sh [WORK_DIR]   (env PYTHON overrides the interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$ROOT/build/train-default}"
PY="${PYTHON:-python}"
TL=("$PY" -m tracklearn.cli)
EVENTS=16 SEED=101 PILEUP=200
mkdir -p "$WORK"
cd "$ROOT"
export OMP_NUM_THREADS=1
"${TL[@]}" simulate --detector trackml --pileup "$PILEUP" --events "$EVENTS" --seed "$SEED" \
    --first-event-id 1000 --out "$WORK/events" --workers 2
"${TL[@]}" train module_map --config configs/gnn/module_map_targets.yaml --data "$WORK/events" \
    --out "$WORK/module_map"
MAP="$WORK/module_map/module_map.npz"
sed "s#MODULE_MAP#$MAP#" configs/gnn/filter.yaml > "$WORK/filter.yaml"
"${TL[@]}" train filter --config "$WORK/filter.yaml" --data "$WORK/events" --out "$WORK/filter"
sed -e "s#MODULE_MAP#$MAP#" -e "s#^filter_model: null#filter_model: $WORK/filter#" \
    configs/gnn/edge_classifier.yaml > "$WORK/edge_classifier.yaml"
# the IN-paper-style classifier is small: train it beside the big one on the second core
"${TL[@]}" train edge_classifier --config configs/gnn/edge_classifier_in_style.yaml \
    --data "$WORK/events" --out "$WORK/in_style" > "$WORK/in_style.log" 2>&1 &
IN_STYLE=$!
"${TL[@]}" train edge_classifier --config "$WORK/edge_classifier.yaml" --data "$WORK/events" \
    --out "$WORK/classifier"
wait "$IN_STYLE" || { echo "IN-style training failed: see $WORK/in_style.log" >&2; exit 1; }
"$PY" scripts/ship_default.py "$WORK/classifier" "$WORK/in_style" "scripts/train_default.sh $WORK" \
    "{\"detector\": \"trackml\", \"pileup\": $PILEUP, \"events\": $EVENTS, \"seed\": $SEED, \"first_event_id\": 1000}"
echo "shipped model in src/tracklearn/models/default"
