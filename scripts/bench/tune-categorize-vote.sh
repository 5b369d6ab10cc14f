#!/usr/bin/env bash
# How many of the nearest training texts vote in a model of
# `support-categorize train`, and how fast a vote fades (10 or 20, 0.02 or
# 0.05), chosen on Banking77's train split only, in scikit-learn's model of
# the same features: TF-IDF word 1-2 and character 2-5 grams beside the
# embedding times 3, LogisticRegression(C=10), its probabilities blended
# with the vote at weights 0 to 1. Five folds by position (row i in fold
# i mod 5), each held out in turn; prints the mean held-out accuracy of
# each setting. The weight itself is chosen on our own model by
# scripts/bench/tune-categorize-train.sh. The dev split is not read.
#
# Usage: scripts/bench/tune-categorize-vote.sh [DATASETS_DIR]   (default: ../shared/datasets)
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
work=target/tune-categorize-vote
mkdir -p "$work"
scripts/setup-models.sh >/dev/null
python=$(scripts/bench/sklearn-venv.sh)
cargo build --release --quiet -p support-embed --example embed
python3 -c 'import csv, sys
for row in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")):
    print(row["text"].replace("\n", " "))' "$datasets/banking77/train.csv" > "$work/texts.txt"
target/release/examples/embed query < "$work/texts.txt" > "$work/vectors.jsonl"
"$python" - "$datasets/banking77/train.csv" "$work/vectors.jsonl" <<'PY'
import csv, json, sys
import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
texts = [r["text"] for r in rows]
classes = sorted({r["label"] for r in rows})
y = np.array([classes.index(r["label"]) for r in rows])
E = np.array([json.loads(line) for line in open(sys.argv[2])], dtype=np.float32)
scores = {}
for fold in range(5):
    held = np.arange(len(y)) % 5 == fold
    fit = ~held
    words = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))
    chars = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5))
    fit_texts = [t for t, h in zip(texts, held) if not h]
    held_texts = [t for t, h in zip(texts, held) if h]
    X_fit = hstack([words.fit_transform(fit_texts), chars.fit_transform(fit_texts), csr_matrix(3 * E[fit])]).tocsr()
    X_held = hstack([words.transform(held_texts), chars.transform(held_texts), csr_matrix(3 * E[held])]).tocsr()
    P = LogisticRegression(C=10, max_iter=300).fit(X_fit, y[fit]).predict_proba(X_held)
    cosines = E[held] @ E[fit].T
    for k in (10, 20):
        nearest = np.argsort(-cosines, axis=1)[:, :k]
        near = np.take_along_axis(cosines, nearest, 1)
        for temperature in (0.02, 0.05):
            weights = np.exp((near - near[:, :1]) / temperature)
            vote = np.zeros_like(P)
            for i in range(len(vote)):
                np.add.at(vote[i], y[fit][nearest[i]], weights[i])
            vote /= vote.sum(1, keepdims=True)
            for w in (0, 0.1, 0.2, 0.3, 0.5, 1.0):
                right = ((1 - w) * P + w * vote).argmax(1) == y[held]
                scores.setdefault((k, temperature, w), []).append(right.mean())
print("neighbours temperature weight  mean held-out accuracy (five folds)")
for (k, temperature, w), accuracy in sorted(scores.items()):
    print(f"{k:10} {temperature:11} {w:6}  {np.mean(accuracy):.4f}")
PY
