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
trap 'rm -f "$config"' EXIT

figures() { # recall@1 and MRR of an evaluate run's JSON
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["recall_at_1"], d["mrr"])'
}

echo "== leave-one-out on the train KB's $(python3 -c "import json;print(sum(len(json.loads(l)['questions']) for l in open('$kb/articles.jsonl')))") questions: lexical_weight recall@1 MRR"
best=""
for weight in 0 0.1 0.2 0.3 0.5 0.6 0.7 0.8 1.0 1.5; do
    echo "lexical_weight: $weight" > "$config"
    read -r recall mrr < <("$B" evaluate --index "$index" --leave-one-out --config "$config" | figures)
    echo "$weight $recall $mrr"
    best=$(python3 -c "import sys; b='$best'.split(); print('$weight $mrr' if not b or $mrr > float(b[1]) else '$best')")
done
pick=${best%% *}
default=$("$B" --print-config | sed -n 's/^lexical_weight: //p')
echo "== picked lexical_weight $pick (best MRR); the default is $default"
echo "== recall@1 MRR, default / picked"
for data in "$kb/queries.csv" crates/support-answer/tests/data/banking77-es.csv; do
    echo "lexical_weight: $pick" > "$config"
    echo "$data: $("$B" evaluate --index "$index" --data "$data" | figures) / $("$B" evaluate --index "$index" --data "$data" --config "$config" | figures)"
done
