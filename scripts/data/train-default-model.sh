#!/bin/sh
# Rebuilds the categorizer's embedded model from bitext_cs_20k (train split),
# deterministically: the same data gives the same bytes. Then rebuild the
# binaries to embed it. DATASETS defaults to ../shared/datasets.
set -eu
cd "$(dirname "$0")/../.."
DATASETS="${DATASETS:-../shared/datasets}"
OUT=crates/support-categorize/model/default.model
cargo build --release --quiet --bin support-categorize
target/release/support-categorize train \
  --data "$DATASETS/bitext_cs_20k/train.csv" --text text --label intent --out "$OUT"
sha256sum "$OUT"
