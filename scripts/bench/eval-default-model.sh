#!/usr/bin/env bash
# The embedded model's character n-grams, measured: the lexical model of
# scripts/data/train-default-model.sh trained with character 2-5 grams,
# 3-4 grams (the shipped one) and none, each scored on
#   - bitext_cs_20k dev (the split beside its training data),
#   - bitext_cs_8k dev (the same 27 intents written for another set: how
#     well the model carries to wordings it never saw),
# as the intent the tool gives (`category.subcategory`, keyword rules off),
# with the model's size, the lexical stream's speed on 50,000 distinct
# real tickets (scripts/data/distinct-tickets.py; the three models
# alternated, median of three runs), and how many of those tickets get the
# same category and subcategory as from the 2-5 model.
#
#   scripts/bench/eval-default-model.sh [DATASETS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet --bin support-categorize
tool=target/release/support-categorize
export SUPPORT_LEXICAL=1

for split in bitext_cs_20k/dev bitext_cs_8k/dev; do
  python3 - "$datasets/$split.csv" > "$work/${split%%/*}.jsonl" <<'PY'
import csv, json, sys
for i, row in enumerate(csv.DictReader(open(sys.argv[1], encoding="utf-8"))):
    print(json.dumps({"id": str(i), "description": row["text"], "intent": row["intent"]}))
PY
done
python3 scripts/data/distinct-tickets.py --count 50000 > "$work/stream.jsonl"
printf 'rules: []\n' > "$work/no-rules.yaml"

variants="2-5 3-4 0"
for chars in $variants; do
  "$tool" train --char-ngrams "$chars" --data "$datasets/bitext_cs_20k/train.csv" \
    --text text --label intent --out "$work/$chars.model" > /dev/null
done
for run in 1 2 3; do
  for chars in $variants; do
    start=$(date +%s.%N)
    "$tool" --model "$work/$chars.model" < "$work/stream.jsonl" > /dev/null
    echo "$chars $(echo "$(date +%s.%N) - $start" | bc)" >> "$work/times"
  done
done

for chars in $variants; do
  "$tool" --model "$work/$chars.model" < "$work/stream.jsonl" > "$work/$chars.stream.jsonl"
done

echo "| character n-grams | model KB | bitext_cs_20k dev | bitext_cs_8k dev | lexical stream, tickets/s | same category / subcategory as 2-5 |"
echo "|---|---:|---:|---:|---:|---:|"
for chars in $variants; do
  scores=""
  for set in bitext_cs_20k bitext_cs_8k; do
    scores+=$("$tool" --config "$work/no-rules.yaml" --model "$work/$chars.model" < "$work/$set.jsonl" \
      | python3 -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin]
hits = sum(r["category"].get("subcategory") == r["intent"] for r in rows)
print("%.3f" % (hits / len(rows)))')" | "
  done
  speed=$(awk -v v="$chars" '$1 == v {print $2}' "$work/times" | sort -n | sed -n 2p \
    | awk '{printf "%.0f", 50000 / $1}')
  same=$(python3 - "$work/2-5.stream.jsonl" "$work/$chars.stream.jsonl" <<'PY'
import json, sys
pairs = list(zip(*[[json.loads(line)["category"] for line in open(path)] for path in sys.argv[1:]]))
name = sum(a["name"] == b["name"] for a, b in pairs) / len(pairs)
sub = sum(a.get("subcategory") == b.get("subcategory") for a, b in pairs) / len(pairs)
print(f"{name:.1%} / {sub:.1%}")
PY
)
  echo "| $chars | $(( $(stat -c %s "$work/$chars.model") / 1000 )) | $scores$speed | $same |"
done
