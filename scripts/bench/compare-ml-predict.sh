#!/usr/bin/env bash
# support-ml-predict against scikit-learn on the UCI incident log, side by
# side in one run: the same train part, the same open-time fields (the
# itsm format's features, hour and weekday, and the load when each incident
# opened, computed the same way from each file), evaluated on the dev part.
#   resolution time: our quantile trees (median, 10%, 90%) against
#                    HistGradientBoostingRegressor(loss="quantile") x 3
#   SLA breach:      our log-loss trees against HistGradientBoostingClassifier
#   group, agent:    our multinomial regression (support-model's sparse
#                    L-BFGS) against scikit-learn's LogisticRegression on the
#                    same one-hot columns
# Training seconds are wall time on this machine; ours come from `train`'s
# `seconds_by_model`. Usage: scripts/bench/compare-ml-predict.sh [DATASETS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
data="$datasets/itsm_incidents"
work=target/compare-ml-predict
mkdir -p "$work"
python=$(scripts/bench/sklearn-venv.sh)
cargo build --release --quiet --bin support-ml-predict
tool=target/release/support-ml-predict
"$tool" train --data "$data/train.csv" --out "$work/itsm.model" > "$work/train.json"
"$tool" evaluate --data "$data/dev.csv" --model "$work/itsm.model" > "$work/dev.json"

"$python" - "$data" "$work" <<'PY'
import csv, json, sys, time, warnings
from datetime import datetime
import numpy as np
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

data, work = sys.argv[1:]
# LogisticRegression keeps its default 100 iterations, as ours; it warns on agents.
warnings.filterwarnings("ignore")
ours_train = json.load(open(f"{work}/train.json"))
ours_dev = json.load(open(f"{work}/dev.json"))
FIELDS = ["contact_type", "location", "category", "subcategory", "u_symptom",
          "impact", "urgency", "priority"]
MIN_COUNT = 5  # as training.min_count

def read(name):
    rows = list(csv.DictReader(open(f"{data}/{name}", newline="", encoding="utf-8")))
    minute = lambda s: int(datetime.strptime(s, "%Y-%m-%d %H:%M").timestamp()) // 60 if s else None
    opened = [minute(r["opened_at"]) for r in rows]
    resolved = [o + int(r["resolution_minutes"]) if r["resolution_minutes"] else None
                for o, r in zip(opened, rows)]
    # The load as support-ml-predict counts it: open at that moment, opened in
    # the day before, each over its average in this file.
    starts, ends = np.sort(opened), np.sort([e for e in resolved if e is not None])
    t = np.array(opened)
    before = np.searchsorted(starts, t, "left")
    open_now = before - np.searchsorted(ends, t, "right")
    last_day = before - np.searchsorted(starts, t - 1440, "left")
    load = np.column_stack([open_now / open_now.mean(), last_day / last_day.mean()])
    for r, o in zip(rows, opened):
        when = datetime.strptime(r["opened_at"], "%Y-%m-%d %H:%M")
        r["hour"], r["weekday"] = str(when.hour), str(when.weekday())
    return rows, load

train, train_load = read("train.csv")
dev, dev_load = read("dev.csv")
columns = FIELDS + ["hour", "weekday"]
vocab = []
for c in columns:
    counts = {}
    for r in train:
        counts[r[c]] = counts.get(r[c], 0) + 1
    vocab.append({v: i for i, v in enumerate(sorted(v for v, n in counts.items() if n >= MIN_COUNT))})
edges = [np.unique(np.round(np.quantile(train_load[:, k], np.arange(1, 16) / 16), 3)) for k in range(2)]

def matrix(rows, load):
    codes = [[vocab[j].get(r[c], len(vocab[j])) for j, c in enumerate(columns)] for r in rows]
    bands = np.column_stack([np.searchsorted(edges[k], load[:, k], "right") for k in range(2)])
    return np.column_stack([np.array(codes), bands])

X, Xd = matrix(train, train_load), matrix(dev, dev_load)
categorical = [True] * X.shape[1]
y = np.array([float(r["resolution_minutes"]) if r["resolution_minutes"] else np.nan for r in train])
yd = np.array([float(r["resolution_minutes"]) if r["resolution_minutes"] else np.nan for r in dev])
timed, timed_dev = ~np.isnan(y), ~np.isnan(yd)

def clock(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start

def regressor(alpha):
    return HistGradientBoostingRegressor(loss="quantile", quantile=alpha, categorical_features=categorical,
                                         max_iter=300, random_state=0)
quantiles, resolution_s = {}, 0.0
for alpha in (0.5, 0.1, 0.9):
    quantiles[alpha], s = clock(lambda: regressor(alpha).fit(X[timed], np.log1p(y[timed])))
    resolution_s += s
median = np.expm1(quantiles[0.5].predict(Xd[timed_dev]))
low, high = (np.expm1(quantiles[a].predict(Xd[timed_dev])) for a in (0.1, 0.9))
truth = yd[timed_dev]
baseline_mae = ours_dev["resolution_minutes"]["baseline"]["mae"]
sk_mae = np.abs(median - truth).mean()
sk_coverage = ((low <= truth) & (truth <= high)).mean()

breached = np.array([r["made_sla"] != "true" for r in train])
breached_dev = np.array([r["made_sla"] != "true" for r in dev])
classifier, sla_s = clock(lambda: HistGradientBoostingClassifier(
    categorical_features=categorical, max_iter=300, random_state=0).fit(X, breached))
sk_auc = roc_auc_score(breached_dev, classifier.predict_proba(Xd)[:, 1])

def onehot(codes):
    offsets = np.cumsum([0] + [len(v) + 1 for v in vocab] + [len(e) + 1 for e in edges])[:-1]
    n, k = codes.shape
    return sparse.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), (codes + offsets).ravel())),
                             shape=(n, offsets[-1] + len(edges[-1]) + 1))

def top3(field):
    labelled = np.array([bool(r[field]) for r in train])
    labels = np.array([r[field] for r in train])[labelled]
    model, seconds = clock(lambda: LogisticRegression(max_iter=100).fit(onehot(X[labelled]), labels))
    wanted = np.array([bool(r[field]) for r in dev])
    p = model.predict_proba(onehot(Xd[wanted]))
    best = model.classes_[np.argsort(-p, axis=1)[:, :3]]
    truth = np.array([r[field] for r in dev])[wanted]
    return (best == truth[:, None]).any(axis=1).mean(), seconds

group_top3, group_s = top3("assignment_group")
agent_top3, agent_s = top3("assigned_to")

ours_s = ours_train["seconds_by_model"]
r, s = ours_dev["resolution_minutes"], ours_dev["sla_breach"]
rows = [
    ("resolution: MAE below the baseline", f"{r['mae_improvement']:.1%}", f"{1 - sk_mae / baseline_mae:.1%}"),
    ("resolution: 80% interval holds", f"{r['interval_coverage']:.1%}", f"{sk_coverage:.1%}"),
    ("resolution: training s (3 quantiles)", f"{ours_s['resolution_minutes']:.2f}", f"{resolution_s:.2f}"),
    ("SLA breach: AUC", f"{s['model']['auc']:.3f}", f"{sk_auc:.3f}"),
    ("SLA breach: training s", f"{ours_s['sla_breach']:.2f}", f"{sla_s:.2f}"),
    ("group: top-3", f"{ours_dev['group']['top3']:.3f}", f"{group_top3:.3f}"),
    ("group: training s", f"{ours_s['group']:.2f}", f"{group_s:.2f}"),
    ("agent: top-3", f"{ours_dev['agent']['top3']:.3f}", f"{agent_top3:.3f}"),
    ("agent: training s", f"{ours_s['agent']:.2f}", f"{agent_s:.2f}"),
]
print(f"{'itsm_incidents dev part':<40} {'support-ml-predict':>18} {'scikit-learn':>13}")
for name, a, b in rows:
    print(f"{name:<40} {a:>18} {b:>13}")
boosted_ours = ours_s["resolution_minutes"] + ours_s["sla_breach"]
boosted_sk = resolution_s + sla_s
print(f"boosted trees, training: {boosted_ours:.2f} s against HistGradientBoosting's {boosted_sk:.2f} s "
      f"({boosted_ours / boosted_sk:.2f}x)")
every_sk = boosted_sk + group_s + agent_s
print(f"every model: our whole `train` (reading the CSV included) {ours_train['seconds']:.2f} s against "
      f"scikit-learn's four fits {every_sk:.2f} s ({ours_train['seconds'] / every_sk:.2f}x)")
PY
