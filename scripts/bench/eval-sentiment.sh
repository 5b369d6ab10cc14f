#!/usr/bin/env bash
# Sentiment on held-out data: the embedded lexicon, and models trained by
# `support-sentiment train` on each airline train split (words and the
# lexicon's cues with --lexical; with the texts' embeddings too, the
# default when scripts/setup-models.sh has installed the embedding model),
# all scored on the dev split; beside them, in the same run,
# scikit-learn's TF-IDF (word 1-2 grams + char_wb 2-5 grams, sublinear
# tf) + LogisticRegression(C=1) on the same files. Prints accuracy, macro-F1
# and training seconds (the optimizer; `train` also prints the seconds spent
# embedding, all texts the first time, the per-text cache after), then the
# speed of the English models beside the lexicon's. The airline sets'
# licences allow evaluation and a team's own training runs, not a shipped
# model: the default stays the lexicon.
#
# Usage: scripts/bench/eval-sentiment.sh [DATASETS_DIR]   (default: ../shared/datasets)
# scripts/bench/sklearn-venv.sh creates target/sklearn-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
work=target/eval-sentiment
mkdir -p "$work"
python=$(scripts/bench/sklearn-venv.sh)
cargo build --release --quiet --bin support-sentiment
tool=target/release/support-sentiment

figures() { # REPORT.json -> "accuracy macro-F1"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.3f %.3f" % (r["accuracy"], r["macro_f1"]))' "$1"
}
printf '%-4s %-34s %8s %8s %8s\n' lang method accuracy macro-F1 train-s
for lang in en es; do
    dir=$datasets/airline_sentiment_$lang
    "$tool" evaluate --data "$dir/dev.csv" > "$work/lexicon-$lang.json"
    read -r acc f1 < <(figures "$work/lexicon-$lang.json")
    printf '%-4s %-34s %8s %8s %8s\n' "$lang" "lexicon (embedded default)" "$acc" "$f1" -
    for variant in lexical embeddings; do
        flags=()
        [ "$variant" = lexical ] && flags=(--lexical)
        model=$work/airline-$lang-$variant.model
        summary=$("$tool" "${flags[@]}" train --data "$dir/train.csv" --out "$model")
        seconds=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$summary")
        "$tool" --model "$model" evaluate --data "$dir/dev.csv" > "$work/model-$lang-$variant.json"
        read -r acc f1 < <(figures "$work/model-$lang-$variant.json")
        label="train: words, lexicon"
        [ "$variant" = embeddings ] && label="$label, embedding"
        printf '%-4s %-34s %8s %8s %8s\n' "$lang" "$label" "$acc" "$f1" "$seconds"
    done
    "$python" - "$dir" "$lang" <<'PY'
import csv, sys, time
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline, make_union

folder, lang = sys.argv[1], sys.argv[2]
def load(name):
    rows = list(csv.DictReader(open(f"{folder}/{name}", encoding="utf-8")))
    return [r["text"] for r in rows], [r["label"] for r in rows]
texts, labels = load("train.csv")
dev_texts, dev_labels = load("dev.csv")
pipeline = make_pipeline(
    make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    ),
    LogisticRegression(C=1, max_iter=1000),
)
started = time.perf_counter()
pipeline.fit(texts, labels)
seconds = time.perf_counter() - started
predicted = pipeline.predict(dev_texts)
print(f"{lang:<4} {'scikit-learn TF-IDF + LR':<34} {accuracy_score(dev_labels, predicted):8.3f} "
      f"{f1_score(dev_labels, predicted, average='macro'):8.3f} {seconds:8.2f}")
PY
done

# Speed of the English models against the lexicon alone, 2 cores: a stream
# of 20,000 distinct real texts (300 with the embedding model, whose encoder
# sets the pace), and one ticket in a fresh process (median of 15).
scripts/data/distinct-tickets.py --count 20000 > "$work/distinct.jsonl"
head -300 "$work/distinct.jsonl" > "$work/distinct-300.jsonl"
python3 - "$tool" "$work" <<'PY'
import statistics, subprocess, sys, time
tool, work = sys.argv[1], sys.argv[2]
def seconds(args, stdin):
    with open(stdin, "rb") as f:
        started = time.perf_counter()
        subprocess.run([tool, *args], stdin=f, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started
one = f"{work}/one.json"
with open(one, "w") as f:
    f.write('{"id":"T-1","description":"My flight was delayed again and nobody answers"}\n')
print(f"\n{'sentiment':<34} {'tickets':>8} {'seconds':>8} {'tickets/s':>10} {'one ticket ms':>14}")
for name, args, stream in [
    ("lexicon", [], "distinct.jsonl"),
    ("model: words, lexicon", ["--model", f"{work}/airline-en-lexical.model"], "distinct.jsonl"),
    ("model: words, lexicon, embedding", ["--model", f"{work}/airline-en-embeddings.model"], "distinct-300.jsonl"),
]:
    path = f"{work}/{stream}"
    count = sum(1 for _ in open(path, encoding="utf-8"))
    elapsed = seconds(args, path)
    fresh = statistics.median(seconds(args, one) for _ in range(15)) * 1000
    print(f"{name:<34} {count:>8} {elapsed:>8.2f} {count / elapsed:>10,.0f} {fresh:>14.1f}")
PY
