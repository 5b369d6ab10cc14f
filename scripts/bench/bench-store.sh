#!/usr/bin/env bash
# Benchmark of support-store ingest next to psql \copy of the same table, in
# the same run, on the same server.
#
#   scripts/bench/bench-store.sh            # 1,000,000 tickets
#   BENCH_TICKETS=50000 scripts/bench/bench-store.sh
#
# The tickets are the 24 examples triaged by support-triage (every tool's
# result, about 4.5 KB a ticket), repeated under new ids and customers with
# their times shifted. Prints rows per second for:
#   - support-store ingest into an empty store (tickets, messages, one row per
#     tool result, escalations; one transaction per --batch-size records),
#   - the same ingest again (every ticket unchanged: the idempotent re-run),
#   - psql \copy of the tickets table out to a file, and back into a fresh
#     table with the same indexes.
# Needs PostgreSQL (DATABASE_URL's server, by default postgres@127.0.0.1:5432),
# psql, python3, and a few GB of disk. The benchmark database is dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

tickets=${BENCH_TICKETS:-1000000}
batch=${BENCH_BATCH:-2000}
server=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="support_bench_$$"
url="${server%/*}/$db"
work=$(mktemp -d)
trap 'psql "$server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cargo build --release -q --bin support-store --bin support-export
[ -x target/release/support-triage ] || cargo build --release -q --bin support-triage
# The stored tickets need not be categorized by embeddings to measure the store.
export SUPPORT_LEXICAL=1
store=target/release/support-store

echo "triaging the examples and generating $tickets tickets ..." >&2
target/release/support-triage --agents examples/agents.yaml --now 2026-11-24T09:00:00Z \
  < examples/tickets.jsonl > "$work/templates.jsonl"
python3 - "$work/templates.jsonl" "$tickets" > "$work/tickets.jsonl" <<'EOF'
import json, sys
from datetime import datetime, timedelta, timezone

templates = [json.loads(line) for line in open(sys.argv[1])]
count = int(sys.argv[2])
base = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
fmt = "%Y-%m-%dT%H:%M:%SZ"
# Each template is serialized once, with placeholders for what varies.
shapes = []
for t in templates:
    t = dict(t)
    t["id"] = "@ID@"
    t["customer"] = dict(t["customer"], id="@CUSTOMER@")
    t["created_at"] = "@CREATED@"
    shapes.append(json.dumps(t, ensure_ascii=False))
out = sys.stdout
for i in range(count):
    created = (base - timedelta(minutes=i % 43200)).strftime(fmt)
    line = shapes[i % len(shapes)]
    out.write(line.replace("@ID@", f"B-{i:07d}", 1)
                  .replace("@CUSTOMER@", f"C-{i % 50000:05d}", 1)
                  .replace("@CREATED@", created, 1))
    out.write("\n")
EOF
bytes=$(wc -c < "$work/tickets.jsonl")
echo "input: $tickets tickets, $((bytes / 1048576)) MiB" >&2

psql "$server" -qc "CREATE DATABASE $db"
DATABASE_URL=$url $store migrate >/dev/null

rate() { python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print(f'{n / s:,.0f} rows/s ({n:,} rows in {s:.1f} s)')" "$1" "$2"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }

run_ingest() {
  local start end
  start=$(now)
  /usr/bin/env time -f "%M" -o "$work/rss" \
    env DATABASE_URL="$url" $store ingest --input "$work/tickets.jsonl" --batch-size "$batch" \
    --errors "$work/errors.jsonl" 2> "$work/ingest.log" || { cat "$work/ingest.log" >&2; exit 1; }
  end=$(now)
  elapsed "$start" "$end"
}

echo "support-store ingest (empty store, --batch-size $batch) ..." >&2
first=$(run_ingest)
first_rss=$(tail -1 "$work/rss")
echo "support-store ingest again (all unchanged) ..." >&2
second=$(run_ingest)

rows=$(psql "$url" -Atc "SELECT count(*) FROM tickets")
[ "$rows" = "$tickets" ] || { echo "error: $rows tickets stored, expected $tickets" >&2; exit 1; }
sizes=$(psql "$url" -Atc "SELECT pg_size_pretty(pg_total_relation_size('tickets')) || ' tickets, '
  || pg_size_pretty(pg_total_relation_size('triage_results')) || ' triage_results, '
  || pg_size_pretty(pg_total_relation_size('messages')) || ' messages'")

echo "psql \\copy tickets out and back in ..." >&2
start=$(now)
psql "$url" -qc "\\copy tickets TO '$work/tickets.copy'"
copy_out=$(elapsed "$start" "$(now)")
psql "$url" -qc "CREATE TABLE tickets_copy (LIKE tickets INCLUDING ALL)"
start=$(now)
psql "$url" -qc "\\copy tickets_copy FROM '$work/tickets.copy'"
copy_in=$(elapsed "$start" "$(now)")

# support-export reads through binary COPY and writes with the same code as
# its file source; psql \copy writes the same columns in the same order.
export_bin=target/release/support-export
echo "support-export tickets, dashboard; psql \\copy of the same columns ..." >&2
start=$(now)
/usr/bin/env time -f "%M" -o "$work/export.rss" \
  $export_bin tickets --db "$url" --format csv --output "$work/export.csv"
export_csv=$(elapsed "$start" "$(now)")
export_rss=$(tail -1 "$work/export.rss")
start=$(now)
$export_bin tickets --db "$url" --format jsonl --output "$work/export.jsonl"
export_jsonl=$(elapsed "$start" "$(now)")
exported=$(wc -l < "$work/export.jsonl")
[ "$exported" = "$tickets" ] || { echo "error: $exported tickets exported, expected $tickets" >&2; exit 1; }
columns=$(head -1 "$work/export.csv")
start=$(now)
psql "$url" -qc "\\copy (SELECT $columns FROM tickets ORDER BY created_at, id) TO '$work/psql.csv' WITH (FORMAT csv, HEADER)"
psql_csv=$(elapsed "$start" "$(now)")
start=$(now)
/usr/bin/env time -f "%M" -o "$work/dashboard.rss" \
  $export_bin dashboard --db "$url" --now 2026-11-24T09:00:00Z --period 30d > "$work/dashboard.json"
dashboard=$(elapsed "$start" "$(now)")
dashboard_rss=$(tail -1 "$work/dashboard.rss")

cat <<REPORT
support-store benchmark: $tickets tickets ($((bytes / 1048576)) MiB of JSON Lines), batch $batch, $(nproc) cores
  ingest, empty store      $(rate "$tickets" "$first")  max RSS $((first_rss / 1024)) MiB
  ingest again, unchanged  $(rate "$tickets" "$second")
  psql \\copy tickets out   $(rate "$tickets" "$copy_out")
  psql \\copy tickets in    $(rate "$tickets" "$copy_in")  (fresh table, same indexes)
  support-export tickets, CSV    $(rate "$tickets" "$export_csv")  max RSS $((export_rss / 1024)) MiB
  support-export tickets, JSONL  $(rate "$tickets" "$export_jsonl")
  psql \\copy same columns, CSV  $(rate "$tickets" "$psql_csv")
  support-export dashboard 30d   $(rate "$tickets" "$dashboard")  max RSS $((dashboard_rss / 1024)) MiB
  stored: $sizes
REPORT
