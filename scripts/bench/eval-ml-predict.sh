#!/bin/sh
# Trains support-ml-predict on the train part of the UCI incident log and
# prints its evaluation on the dev part, next to the naive baselines: MAE,
# median absolute error and R² of the resolution time beside the median per
# category and priority; AUC, Brier score and calibration of the SLA-breach
# risk; top-1/top-3 of the assignment group (from open-time fields only).
# Twice: the team's load counted within the dev part alone, then over the
# train part too (--load-context), as the store counts it.
# DATASETS defaults to ../shared/datasets; the model and the JSON report go
# to target/ml-predict/.
set -eu
cd "$(dirname "$0")/../.."
DATASETS="${DATASETS:-../shared/datasets}"
DATA="$DATASETS/itsm_incidents"
OUT=target/ml-predict
mkdir -p "$OUT"
cargo build --release --quiet --bin support-ml-predict
B=target/release/support-ml-predict
echo "== train on $DATA/train.csv"
"$B" train --data "$DATA/train.csv" --out "$OUT/itsm.model" | tee "$OUT/train.json"
echo "== evaluate on $DATA/dev.csv"
"$B" evaluate --data "$DATA/dev.csv" --model "$OUT/itsm.model" > "$OUT/dev-evaluation.json"
"$B" evaluate --data "$DATA/dev.csv" --model "$OUT/itsm.model" --format table
echo "== evaluate on $DATA/dev.csv, the load counted over the train part too (as the store counts it)"
"$B" evaluate --data "$DATA/dev.csv" --model "$OUT/itsm.model" --load-context "$DATA/train.csv" \
    > "$OUT/dev-evaluation-store-load.json"
"$B" evaluate --data "$DATA/dev.csv" --model "$OUT/itsm.model" --load-context "$DATA/train.csv" --format table
echo "(JSON: $OUT/dev-evaluation.json)"

echo "== speed with this model: the dev and train incidents as JSON Lines, and one incident in a fresh process"
python3 - "$B" "$DATA" "$OUT" <<'PY'
import csv, json, statistics, subprocess, sys, time
binary, data, out = sys.argv[1:]
# What is known when an incident opens: the outcome columns stay out
# (and their local times are not RFC 3339, which tickets must use).
OUTCOME = {"resolved_at", "closed_at", "resolution_minutes", "made_sla", "assignment_group",
           "assigned_to", "reassignment_count", "reopen_count", "sys_mod_count", "closed_code", "resolved_by"}
def stream(part):
    with open(f"{data}/{part}.csv", newline="", encoding="utf-8") as f:
        rows = [{k: v for k, v in row.items() if v and k not in OUTCOME} for row in csv.DictReader(f)]
    with open(f"{out}/{part}.jsonl", "w", encoding="utf-8") as s:
        for row in rows:
            s.write(json.dumps(row) + "\n")
    return rows
cmd = [binary, "--model", f"{out}/itsm.model"]
def seconds(path):
    with open(path, "rb") as stdin:
        start = time.perf_counter()
        subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start
model = json.load(open(f"{out}/itsm.model"))
trees = {k: len(model["resolution"][k]["trees"]) for k in ("median", "low", "high")}
print(f"trees an incident walks: resolution {trees}, SLA breach {len(model['sla_breach']['trees'])}")
for part in ("dev", "train"):
    rows = stream(part)
    runs = sorted(seconds(f"{out}/{part}.jsonl") for _ in range(5))
    print(f"{part}: {len(rows):,} incidents in {runs[2]:.2f} s, {len(rows) / runs[2]:,.0f} incidents/s "
          "(median of 5 runs, model load included)")
with open(f"{out}/one.json", "w", encoding="utf-8") as s:
    json.dump(rows[0], s)
one = statistics.median(seconds(f"{out}/one.json") for _ in range(21))
print(f"one incident: {one * 1000:.1f} ms (median of 21 fresh processes)")
PY
