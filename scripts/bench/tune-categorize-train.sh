#!/usr/bin/env bash
# How `support-categorize train` weighs the texts' embeddings beside the words
# (`--embedding-scale`), chosen on Banking77's train split only: every fifth
# row (by position; the file is sorted by label, so a contiguous fifth would
# hold a fifth of the intents) is held out, the rest trains a model per
# scale, and the held-out accuracy and macro-F1 are printed. The dev split is
# not read. Needs the embedding model (scripts/setup-models.sh); embeddings
# are cached per text, so a second run trains in seconds.
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
for name, keep in (("fit", lambda i: i % 5 != 4), ("held", lambda i: i % 5 == 4)):
    with open(f"{work}/{name}.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(row for i, row in enumerate(rows) if keep(i))
PY
echo "embedding-scale  held-out accuracy / macro-F1 (every fifth row of train, $(($(wc -l < "$work/held.csv") - 1)) questions)"
for scale in 1 2 3 4; do
    "$tool" train --data "$work/fit.csv" --out "$work/scale-$scale.model" --embedding-scale "$scale" >/dev/null
    "$tool" --model "$work/scale-$scale.model" evaluate --data "$work/held.csv" 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print("%s %.4f / %.4f" % (sys.argv[1], r["accuracy"], r["macro_f1"]))' "$scale"
done
