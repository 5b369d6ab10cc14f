#!/usr/bin/env bash
# Compares support-model with scikit-learn on the same train/dev files:
# TF-IDF (word 1-2 grams + char_wb 2-5 grams, sublinear tf) +
# LogisticRegression(C=10), against our hashed TF-IDF + L-BFGS logistic
# regression. Prints accuracy, macro-F1 and training time of both, then the
# cost of classifying one text in a fresh process (spawn to exit): Python
# unpickling the sklearn pipeline vs `support-categorize --model` on one ticket.
# Both sides of ours go through the real tool: `train`, `evaluate`, and a ticket on stdin.
#
# Usage: scripts/bench/compare-sklearn.sh [DATASETS_DIR]   (default: ../shared/datasets)
# scripts/bench/sklearn-venv.sh creates target/sklearn-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
work=target/compare-sklearn
mkdir -p "$work"

python=$(scripts/bench/sklearn-venv.sh)
cargo build --release --quiet --bin support-categorize
# The lexical model against scikit-learn's: the embedding path is not part of this comparison.
export SUPPORT_LEXICAL=1

"$python" - "$datasets" "$work" <<'PY'
import csv, json, pickle, statistics, subprocess, sys, time, warnings
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline, make_union

# LogisticRegression keeps its default max_iter=100 (ours also stops at 100
# iterations at most); on the Spanish tweets it warns that it has not converged.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
datasets, work = sys.argv[1], sys.argv[2]
RUNS = 15  # single-prediction processes per side; the median is shown
CASES = [
    # name, text column, label column, a text to classify alone
    ("banking77", "text", "label", "I still have not received my new card, when will it arrive?"),
    ("airline_sentiment_es", "text", "label", "@Iberia llevo dos horas esperando mi maleta, qué vergüenza"),
]

def load(path, text, label):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r[text] for r in rows], [r[label] for r in rows]

def median_ms(run_once):
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run_once()
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)

def median_process_ms(command):
    return median_ms(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))

PREDICT_ONE = "import pickle, sys; m = pickle.load(open(sys.argv[1], 'rb')); print(m.predict([sys.argv[2]])[0])"
rows = []
for name, text_col, label_col, sample in CASES:
    train_file, dev_file = f"{datasets}/{name}/train.csv", f"{datasets}/{name}/dev.csv"
    x_train, y_train = load(train_file, text_col, label_col)
    x_dev, y_dev = load(dev_file, text_col, label_col)
    pipeline = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LogisticRegression(C=10),
    )
    started = time.perf_counter()
    pipeline.fit(x_train, y_train)
    sk_train = time.perf_counter() - started
    predicted = pipeline.predict(x_dev)
    sk_model = f"{work}/{name}.pkl"
    with open(sk_model, "wb") as f:
        pickle.dump(pipeline, f)
    sk = dict(accuracy=accuracy_score(y_dev, predicted), macro_f1=f1_score(y_dev, predicted, average="macro"),
              train_seconds=sk_train, one_ms=median_process_ms([sys.executable, "-c", PREDICT_ONE, sk_model, sample]))

    our_model = f"{work}/{name}.model"
    tool = "target/release/support-categorize"
    trained = json.loads(subprocess.run([tool, "train", "--data", train_file, "--text", text_col, "--label", label_col,
                                         "--out", our_model], check=True, capture_output=True, text=True).stdout)
    evaluated = json.loads(subprocess.run([tool, "evaluate", "--model", our_model, "--data", dev_file, "--text", text_col,
                                           "--label", label_col], check=True, capture_output=True, text=True).stdout)
    ticket = f"{work}/{name}.ticket.json"
    with open(ticket, "w", encoding="utf-8") as f:
        json.dump({"id": "one", "description": sample}, f)
    def one_ticket():
        with open(ticket, "rb") as stdin:
            subprocess.run([tool, "--model", our_model], stdin=stdin, check=True, stdout=subprocess.DEVNULL)
    ours = dict(accuracy=evaluated["accuracy"], macro_f1=evaluated["macro_f1"], train_seconds=trained["seconds"],
                model_bytes=trained["bytes"], one_ms=median_ms(one_ticket))
    rows.append((name, len(x_train), len(x_dev), sk, ours))

print(f"scikit-learn {sklearn.__version__}; single prediction = median of {RUNS} fresh processes (spawn to exit)")
header = f"{'dataset':<22}{'side':<20}{'accuracy':>9}{'macro-F1':>10}{'train s':>9}{'1 ticket ms':>12}{'model KB':>10}"
print(header)
print("-" * len(header))
for name, n_train, n_dev, sk, ours in rows:
    print(f"{name:<22}{'scikit-learn':<20}{sk['accuracy']:>9.4f}{sk['macro_f1']:>10.4f}{sk['train_seconds']:>9.2f}{sk['one_ms']:>12.1f}")
    print(f"{'':<22}{'support-categorize':<20}{ours['accuracy']:>9.4f}{ours['macro_f1']:>10.4f}{ours['train_seconds']:>9.2f}"
          f"{ours['one_ms']:>12.1f}{ours['model_bytes'] / 1024:>10.0f}")
    print(f"{'':<22}({n_train} train / {n_dev} dev; training {sk['train_seconds'] / ours['train_seconds']:.1f}x faster, "
          f"one text {sk['one_ms'] / ours['one_ms']:.0f}x faster)")
PY
