#!/usr/bin/env bash
# Sentiment on held-out data: the embedded lexicon, and models trained by
# `support-sentiment train` on each airline train split (words and the
# lexicon's cues with --lexical; with the texts' embeddings too, the
# default when scripts/setup-models.sh has installed the embedding model),
# all scored on the dev split; beside them, in the same
# run, scikit-learn's TF-IDF (word 1-2 grams + char_wb 2-5 grams, sublinear
# tf) + LogisticRegression(C=1) on the same files. Prints accuracy, macro-F1
# and training seconds (the optimizer; embeddings come from the per-text
# cache after the first run, which embeds about 55 texts/s). The airline
# sets' licences allow evaluation and a team's own training runs, not a
# shipped model: the default stays the lexicon.
#
# Usage: scripts/bench/eval-sentiment.sh [DATASETS_DIR]   (default: ../shared/datasets)
# Creates target/sklearn-venv (pip install scikit-learn) on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
venv=target/sklearn-venv
work=target/eval-sentiment
mkdir -p "$work"
if ! "$venv/bin/python" -c 'import sklearn' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet scikit-learn
fi
cargo build --release --quiet --bin support-sentiment
tool=target/release/support-sentiment

figures() { # REPORT.json -> "accuracy macro-F1"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.3f %.3f" % (r["accuracy"], r["macro_f1"]))' "$1"
}
printf '%-4s %-28s %8s %8s %8s\n' lang method accuracy macro-F1 train-s
for lang in en es; do
    dir=$datasets/airline_sentiment_$lang
    "$tool" evaluate --data "$dir/dev.csv" > "$work/lexicon-$lang.json"
    read -r acc f1 < <(figures "$work/lexicon-$lang.json")
    printf '%-4s %-28s %8s %8s %8s\n' "$lang" "lexicon (embedded default)" "$acc" "$f1" -
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
        printf '%-4s %-28s %8s %8s %8s\n' "$lang" "$label" "$acc" "$f1" "$seconds"
    done
    "$venv/bin/python" - "$dir" "$lang" <<'PY'
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
print(f"{lang:<4} {'scikit-learn TF-IDF + LR':<28} {accuracy_score(dev_labels, predicted):8.3f} "
      f"{f1_score(dev_labels, predicted, average='macro'):8.3f} {seconds:8.2f}")
PY
done
