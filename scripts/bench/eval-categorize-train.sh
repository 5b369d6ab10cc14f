#!/usr/bin/env bash
# `support-categorize train` with and without the texts' embeddings as
# features, and with and without the nearest training texts' vote (and the
# vote alone, the embeddings' own figure): trained
# on Banking77's train split (English), scored on its dev split and on 154
# Spanish questions written for Banking77's intents
# (crates/support-answer/tests/data/banking77-es.csv). Prints accuracy,
# macro-F1, training seconds (the optimizer) and embedding seconds (all of
# the train split the first time, the per-text cache after; with
# XDG_CACHE_HOME pointing at an empty folder, and SUPPORT_EMBEDDER at the
# model, it shows the cold cost), the model's size, how many of the dev
# questions per second the model categorizes as a stream of tickets (one
# process, embedding each), and one question in a fresh process (median of
# 15: loading the model, and the encoder, included). Needs the embedding model:
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
# The dev questions as tickets, for the stream's speed.
python3 - "$datasets/banking77/dev.csv" > "$work/dev.jsonl" <<'PY'
import csv, json, sys
for i, row in enumerate(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"))):
    print(json.dumps({"id": str(i), "description": row["text"]}))
PY
speed() { # MODEL [FLAGS] -> "dev questions/s as a stream" "one ticket in a fresh process, ms (median of 15)"
    python3 - "$tool" "$work/dev.jsonl" "$@" <<'PY'
import statistics, subprocess, sys, time
tool, stream, model, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def seconds(data):
    started = time.perf_counter()
    subprocess.run([tool, *flags, "--model", model], input=data, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started
data = open(stream, "rb").read()
one = data.splitlines(keepends=True)[0]
print("%.0f %.1f" % (data.count(b"\n") / seconds(data), statistics.median(seconds(one) for _ in range(15)) * 1000))
PY
}
printf '%-32s %18s %18s %10s %10s %10s %14s %10s\n' features "dev acc / F1" "Spanish acc / F1" train-s embed-s model-KB stream-tickets/s one-ms
for variant in lexical vote-alone unvoted embeddings; do
    flags=() train_flags=()
    case $variant in
        lexical) flags=(--lexical) label="words" ;;
        vote-alone) train_flags=(--vote-weight 1) label="embeddings alone (the vote)" ;;
        unvoted) train_flags=(--vote-weight 0) label="words + embeddings, no vote" ;;
        embeddings) label="words + embeddings + vote" ;;
    esac
    model=$work/banking77-$variant.model
    summary=$("$tool" "${flags[@]}" train "${train_flags[@]}" --data "$datasets/banking77/train.csv" --out "$model")
    read -r seconds embedding < <(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s["seconds"], s["embedding_seconds"] or "-")' "$summary")
    read -r dev_acc dev_f1 < <(score "$model" "$datasets/banking77/dev.csv" label "${flags[@]}")
    read -r es_acc es_f1 < <(score "$model" "$spanish" article_id "${flags[@]}")
    read -r rate one_ms < <(speed "$model" "${flags[@]}")
    printf '%-32s %18s %18s %10s %10s %10s %14s %10s\n' "$label" "$dev_acc / $dev_f1" "$es_acc / $es_f1" "$seconds" "$embedding" \
        "$(($(wc -c < "$model") / 1024))" "$rate" "$one_ms"
done
