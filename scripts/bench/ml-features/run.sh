#!/usr/bin/env bash
# How far open-time features can take the resolution-time estimate on the
# itsm_incidents dev split: scikit-learn's HistGradientBoostingRegressor at
# the median on today's features (those of compare-ml-predict.sh) and on
# each added block (feats.py: time trend, past resolutions of similar
# incidents, load per key, throughput, target statistics, the previous
# similar incident, ...), iterations chosen by 5-fold cross-validation on
# train, MAE on dev against the per-(category, priority) median, with a
# bootstrap interval for the best set. One core, about 9 minutes.
#   scripts/bench/ml-features/run.sh [DATASETS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../../.."
export DATASETS=$(realpath "${1:-../shared/datasets}")
python=$(scripts/bench/sklearn-venv.sh)
OMP_NUM_THREADS=1 "$python" scripts/bench/ml-features/run.py
