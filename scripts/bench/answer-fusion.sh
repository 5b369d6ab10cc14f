#!/usr/bin/env bash
# How much the lexical retriever should weigh beside the semantic vote
# (support-answer's `lexical_weight`), chosen on Banking77's train split only:
# every train question is asked of an index of the train KB with itself left
# out (`support-answer evaluate --leave-one-out`, no encoder run), for each
# weight; the weight of the best MRR is picked (the lowest on a tie), then
# Banking77 dev and the Spanish check are evaluated once with the default and
# with the pick.
#
#   scripts/bench/answer-fusion.sh [INDEX_DIR]   # an index of the Banking77 KB, built when absent
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup-models.sh >/dev/null
cargo build --release -q --bin support-answer
B=target/release/support-answer
kb=target/banking77-kb
index=${1:-target/banking77.index}
scripts/data/banking77-kb.py "$kb" >/dev/null
[ -f "$index/index.json" ] || "$B" index --kb "$kb/articles.jsonl" --out "$index" >/dev/null
config=$(mktemp)
grid=$(mktemp)
trap 'rm -f "$config" "$grid"' EXIT

figures() { # recall@1 and MRR of an evaluate run's JSON
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["recall_at_1"], d["mrr"])'
}

echo "== leave-one-out on the train KB's questions: lexical_weight recall@1 MRR"
for weight in 0 0.1 0.2 0.3 0.5 0.6 0.7 0.8 1.0 1.5; do
    echo "lexical_weight: $weight" > "$config"
    echo "$weight $("$B" evaluate --index "$index" --leave-one-out --config "$config" | figures)" | tee -a "$grid"
done
# The best MRR; on a tie, the lowest weight.
pick=$(sort -k3,3gr -k1,1g "$grid" | head -1 | cut -d' ' -f1)
default=$("$B" --print-config | sed -n 's/^lexical_weight: //p')
echo "== picked lexical_weight $pick (best MRR); the default is $default"
echo "== recall@1 MRR, default / picked"
echo "lexical_weight: $pick" > "$config"
for data in "$kb/queries.csv" crates/support-answer/tests/data/banking77-es.csv; do
    echo "$data: $("$B" evaluate --index "$index" --data "$data" | figures) / $("$B" evaluate --index "$index" --data "$data" --config "$config" | figures)"
done
