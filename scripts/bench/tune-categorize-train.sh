#!/usr/bin/env bash
# How `support-categorize train` weighs the texts' embeddings beside the words
# (`--embedding-scale`) and how much the nearest training texts' vote counts
# (`--vote-weight`), chosen on Banking77's train split only. The rows are cut
# into five folds by position (row i in fold i mod 5; the file is sorted by
# label, so each fold holds every intent). Scales: fold 4 is held out and the
# rest trains a model per scale, without the vote, as when the scale was
# chosen. Vote weights: each fold is held out in turn, and the mean held-out
# accuracy and macro-F1 of the five are printed (a weight's gain is a few
# questions per fold, so one fold would not tell it from noise). The dev
# split is not read. Needs the embedding model (scripts/setup-models.sh);
# embeddings are cached per text, so only the first model embeds.
#
# Usage: scripts/bench/tune-categorize-train.sh [DATASETS_DIR]   (default: ../shared/datasets)
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
work=target/tune-categorize-train
mkdir -p "$work"
scripts/setup-models.sh >/dev/null
cargo build --release --quiet --bin support-categorize
tool=target/release/support-categorize

python3 - "$datasets/banking77/train.csv" "$work" <<'PY'
import csv, sys
source, work = sys.argv[1:]
with open(source, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
for fold in range(5):
    for name, keep in (("fit", lambda i: i % 5 != fold), ("held", lambda i: i % 5 == fold)):
        with open(f"{work}/{name}-{fold}.csv", "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(row for i, row in enumerate(rows) if keep(i))
PY

# Prints "accuracy macro_f1" of a model trained on fold $1's rest with the
# flags after it, on fold $1.
held_out() {
    local fold=$1
    shift
    "$tool" train --data "$work/fit-$fold.csv" --out "$work/model" "$@" >/dev/null
    "$tool" --model "$work/model" evaluate --data "$work/held-$fold.csv" 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["accuracy"], r["macro_f1"])'
}

echo "embedding-scale  held-out accuracy / macro-F1 (fold 4, $(($(wc -l < "$work/held-4.csv") - 1)) questions, no vote)"
for scale in 1 2 3 4; do
    held_out 4 --embedding-scale "$scale" --vote-weight 0 |
        awk -v s="$scale" '{ printf "%s %.4f / %.4f\n", s, $1, $2 }'
done
echo "vote-weight  mean held-out accuracy / macro-F1 of the five folds (scale 3)"
for weight in 0 0.2 0.3 0.5; do
    for fold in 0 1 2 3 4; do
        held_out "$fold" --vote-weight "$weight"
    done | awk -v w="$weight" '{ a += $1; f += $2 } END { printf "%s %.4f / %.4f\n", w, a / NR, f / NR }'
done
