#!/usr/bin/env bash
# `support-categorize train` with and without the texts' embeddings as
# features: trained on Banking77's train split (English), scored on its dev
# split and on 154 Spanish questions written for Banking77's intents
# (crates/support-answer/tests/data/banking77-es.csv). Prints accuracy,
# macro-F1, training seconds (the optimizer) and embedding seconds (all of
# the train split the first time, the per-text cache after; with
# XDG_CACHE_HOME pointing at an empty folder, and SUPPORT_EMBEDDER at the
# model, it shows the cold cost). Needs the embedding model:
# scripts/setup-models.sh.
#
# Usage: scripts/bench/eval-categorize-train.sh [DATASETS_DIR]   (default: ../shared/datasets)
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
work=target/eval-categorize-train
mkdir -p "$work"
cargo build --release --quiet --bin support-categorize
tool=target/release/support-categorize
spanish=crates/support-answer/tests/data/banking77-es.csv

score() { # MODEL DATA LABEL_COLUMN [FLAGS] -> "accuracy macro-F1"
    "$tool" "${@:4}" --model "$1" evaluate --data "$2" --label "$3" 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.3f %.3f" % (r["accuracy"], r["macro_f1"]))'
}
printf '%-22s %18s %18s %10s %10s\n' features "dev acc / F1" "Spanish acc / F1" train-s embed-s
for variant in lexical embeddings; do
    flags=()
    [ "$variant" = lexical ] && flags=(--lexical)
    model=$work/banking77-$variant.model
    summary=$("$tool" "${flags[@]}" train --data "$datasets/banking77/train.csv" --out "$model")
    read -r seconds embedding < <(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s["seconds"], s["embedding_seconds"] or "-")' "$summary")
    read -r dev_acc dev_f1 < <(score "$model" "$datasets/banking77/dev.csv" label "${flags[@]}")
    read -r es_acc es_f1 < <(score "$model" "$spanish" article_id "${flags[@]}")
    label="words"
    [ "$variant" = embeddings ] && label="words + embeddings"
    printf '%-22s %18s %18s %10s %10s\n' "$label" "$dev_acc / $dev_f1" "$es_acc / $es_f1" "$seconds" "$embedding"
done
