#!/bin/sh
# Trains support-ml-predict on the train part of the UCI incident log and
# prints its evaluation on the dev part, next to the naive baselines: MAE,
# median absolute error and R² of the resolution time beside the median per
# category and priority; AUC, Brier score and calibration of the SLA-breach
# risk; top-1/top-3 of the assignment group (from open-time fields only).
# DATASETS defaults to ../shared/datasets; the model and the JSON report go
# to target/ml-predict/.
set -eu
cd "$(dirname "$0")/.."
DATASETS="${DATASETS:-../shared/datasets}"
DATA="$DATASETS/itsm_incidents"
OUT=target/ml-predict
mkdir -p "$OUT"
cargo build --release --quiet -p support-ml-predict
B=target/release/support-ml-predict
echo "== train on $DATA/train.csv"
"$B" train --data "$DATA/train.csv" --out "$OUT/itsm.model" | tee "$OUT/train.json"
echo "== evaluate on $DATA/dev.csv"
"$B" evaluate --data "$DATA/dev.csv" --model "$OUT/itsm.model" > "$OUT/dev-evaluation.json"
"$B" evaluate --data "$DATA/dev.csv" --model "$OUT/itsm.model" --format table
echo "(JSON: $OUT/dev-evaluation.json)"
