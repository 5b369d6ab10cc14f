#!/bin/sh
# The model life cycle on the example history, by hand (the retrain DAG does
# the same on a schedule): four fifths of examples/history.jsonl go into a
# fresh store, one fifth is held out; support-ml-predict learns from the
# store, is evaluated on the held-out fifth and promoted over the baseline of
# its report; the same retrain is then not promoted again (nothing better);
# support-triage and support-ml-predict run the promoted model with
# --store-models; a rollback returns them to the embedded priors.
# Uses the database support_models_example on 127.0.0.1:5432 (dropped first,
# kept afterwards to look at), the binaries in $SUPPORT_BIN_DIR (default: a
# release build), and target/models-example/ for its files.
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${SUPPORT_BIN_DIR:-}" ]; then
    cargo build --release --quiet --bins
    SUPPORT_BIN_DIR=target/release
fi
B=$SUPPORT_BIN_DIR
OUT=target/models-example
mkdir -p "$OUT"
scripts/start-postgres.sh >/dev/null
psql -q -h 127.0.0.1 -U postgres -d postgres -c 'DROP DATABASE IF EXISTS support_models_example WITH (FORCE)' \
    -c 'CREATE DATABASE support_models_example'
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/support_models_example
export XDG_CACHE_HOME="$PWD/$OUT/cache"
"$B/support-store" migrate >/dev/null

# The split by ticket id, as tests/engines/test_airflow.py makes it.
python3 - <<'EOF'
import hashlib, json
out = "target/models-example"
with open(f"{out}/store.jsonl", "w") as store, open(f"{out}/held-out.jsonl", "w") as held:
    for line in open("examples/history.jsonl", encoding="utf-8"):
        ticket_id = json.loads(line)["id"]
        (held if int(hashlib.md5(ticket_id.encode()).hexdigest(), 16) % 5 == 0 else store).write(line)
EOF
"$B/support-store" ingest --input "$OUT/store.jsonl" 2>/dev/null
echo "== train on the store's closed tickets"
"$B/support-ml-predict" train --db --out "$OUT/ml-predict.model" | tee "$OUT/train.json"
"$B/support-ml-predict" evaluate --model "$OUT/ml-predict.model" --data "$OUT/held-out.jsonl" > "$OUT/candidate.json"
echo "== promote (no model is active: the candidate must beat its report's baseline)"
"$B/support-store" models promote --tool ml-predict --file "$OUT/ml-predict.model" \
    --report "$OUT/candidate.json" --against-baseline --eval-data "$OUT/held-out.jsonl" \
    --training-data "examples/history.jsonl, four fifths"
echo "== the same retrain again, against the active model on the same data"
active=$("$B/support-store" models path --tool ml-predict)
"$B/support-ml-predict" evaluate --model "$active" --data "$OUT/held-out.jsonl" > "$OUT/active.json"
"$B/support-store" models promote --tool ml-predict --file "$OUT/ml-predict.model" \
    --report "$OUT/candidate.json" --active-report "$OUT/active.json"
echo "== list"
"$B/support-store" models list
echo "== the pipeline with --store-models: the model of the first ticket's predictions"
"$B/support-triage" --store-models --lexical < examples/tickets.jsonl \
    | "$B/support-ml-predict" --store-models | head -1 \
    | python3 -c 'import json, sys; p = json.load(sys.stdin)["predictions"]; print(p["source"], p["model"])'
echo "== rollback: back to the embedded priors"
"$B/support-store" models rollback --tool ml-predict
"$B/support-ml-predict" --store-models < examples/ticket.json \
    | python3 -c 'import json, sys; p = json.load(sys.stdin)["predictions"]; print(p["source"], p["model"])'
