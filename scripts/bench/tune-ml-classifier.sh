#!/bin/sh
# How many L-BFGS iterations support-ml-predict's group and agent models
# get (training.classifier.max_iterations): the UCI incident log's train part
# split by incident number (md5 mod 5: one fifth held out), trained with 50,
# 100 and 200, scored on the held-out fifth. The dev part is not read, so the
# choice is not tuned on it. DATASETS defaults to ../shared/datasets; files
# go to target/tune-ml-classifier/.
set -eu
cd "$(dirname "$0")/../.."
DATASETS="${DATASETS:-../shared/datasets}"
OUT=target/tune-ml-classifier
mkdir -p "$OUT"
cargo build --release --quiet --bin support-ml-predict
B=target/release/support-ml-predict
python3 - "$DATASETS/itsm_incidents/train.csv" "$OUT" <<'PY'
import csv, hashlib, sys
source, out = sys.argv[1:]
with open(source, newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    header = next(rows)
    number = header.index("number")
    with open(f"{out}/fit.csv", "w", newline="", encoding="utf-8") as fit, \
         open(f"{out}/held-out.csv", "w", newline="", encoding="utf-8") as held:
        writers = [csv.writer(fit), csv.writer(held)]
        for w in writers:
            w.writerow(header)
        for row in rows:
            writers[int(hashlib.md5(row[number].encode()).hexdigest(), 16) % 5 == 0].writerow(row)
PY
echo "iterations  group top-1  group top-3  agent top-1  agent top-3  group s  agent s"
for iterations in 50 100 200; do
    printf 'training:\n  classifier:\n    max_iterations: %s\n' "$iterations" > "$OUT/config.yaml"
    "$B" train --config "$OUT/config.yaml" --data "$OUT/fit.csv" --out "$OUT/model" > "$OUT/train.json"
    "$B" evaluate --config "$OUT/config.yaml" --data "$OUT/held-out.csv" --model "$OUT/model" > "$OUT/eval.json"
    python3 - "$iterations" "$OUT" <<'PY'
import json, sys
iterations, out = sys.argv[1:]
e = json.load(open(f"{out}/eval.json"))
s = json.load(open(f"{out}/train.json"))["seconds_by_model"]
print(f"{iterations:>10}  {e['group']['top1']:11.4f}  {e['group']['top3']:11.4f}  "
      f"{e['agent']['top1']:11.4f}  {e['agent']['top3']:11.4f}  {s['group']:7.2f}  {s['agent']:7.2f}")
PY
done
