#!/usr/bin/env bash
# Benchmark of the embedding layer and support-answer, on distinct real texts
# (never a few examples repeated), in one run:
#   - the encoder alone, texts/s: candle (support-embed) beside the weights'
#     reference C engine (e5.c, scripts/dev/e5-reference.sh), same texts,
#     queries of Banking77 dev (short) and ticket bodies of
#     support_tickets_synth dev (long);
#   - support-answer indexing Banking77 (77 articles, 8,989 questions), and
#     a knowledge base of long articles: support_tickets_synth train's
#     4,223 tickets (at most 10,000), the ticket's text and the agent's
#     answer as the body, about 1 KB each, indexed with the default passage_tokens and with 512; each
#     index is then asked the tickets' subjects (kept out of the articles)
#     for what the cap costs in recall;
#   - the tokenizer: start-up against Hugging Face `tokenizers`, and the texts
#     the two split differently;
#   - support-answer on a stream of real tickets, tickets/s and peak memory,
#     beside the same stream with candle's own threads on every core as
#     well, which support_embed::one_thread_per_call avoids;
#   - one ticket in a fresh process, model and index loaded.
#
#   scripts/bench/bench-answer.sh      # BENCH_TEXTS=500 texts per encoder run
set -euo pipefail
cd "$(dirname "$0")/../.."
texts=${BENCH_TEXTS:-500}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

scripts/setup-models.sh >/dev/null
cargo build --release -q -p support-embed --example embed --example tokenizer-check
cargo build --release -q --bin support-answer
B=target/release
data=../shared/datasets

python3 - "$data" "$work" "$texts" <<'PY'
import csv, json, sys
data, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(f"{data}/banking77/dev.csv", encoding="utf-8") as f:
    short = [r["text"].replace("\n", " ") for r in csv.DictReader(f)][:n]
tickets = []
with open(f"{data}/support_tickets_synth/dev.csv", encoding="utf-8") as f:
    for i, r in enumerate(csv.DictReader(f)):
        if r["language"] in ("es", "en"):
            tickets.append({"id": i, "subject": r["subject"], "description": r["body"], "language": r["language"]})
open(f"{work}/short.txt", "w", encoding="utf-8").write("\n".join(short) + "\n")
open(f"{work}/long.txt", "w", encoding="utf-8").write(
    "\n".join((t["subject"] + ". " + t["description"]).replace("\n", " ") for t in tickets[:n]) + "\n")
with open(f"{work}/tickets.jsonl", "w", encoding="utf-8") as f:
    for t in tickets:
        f.write(json.dumps(t, ensure_ascii=False) + "\n")
PY

echo "== encoder alone (texts/s), same texts, same run"
for kind in short long; do
  echo "-- $kind texts ($(wc -l < "$work/$kind.txt"))"
  "$B/examples/embed" query time < "$work/$kind.txt"
  scripts/dev/e5-reference.sh query time < "$work/$kind.txt"
done

echo "== tokenizer: this crate's against Hugging Face tokenizers, on the short and long texts"
cat "$work/short.txt" "$work/long.txt" | "$B/examples/tokenizer-check"

echo "== support-answer index: Banking77 (77 articles, their train utterances as questions)"
scripts/data/banking77-kb.py "$work/b77" 2>/dev/null
/usr/bin/time -f '{"peak_rss_kb": %M}' "$B/support-answer" index --kb "$work/b77/articles.jsonl" --out "$work/b77.index" 2>&1

echo "== support-answer index: long articles (support_tickets_synth train's tickets with their answers)"
python3 - "$data" "$work" <<'PY'
import csv, json, sys
data, work = sys.argv[1], sys.argv[2]
seen, articles, subjects = set(), [], {}
with open(f"{data}/support_tickets_synth/train.csv", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        body = f"{r['body'].strip()}\n\n{r['answer'].strip()}"
        if r["answer"].strip() and body not in seen and len(articles) < 10_000:
            seen.add(body)
            articles.append({"id": f"a{len(articles)}", "title": "", "body": body, "language": r["language"]})
            subjects.setdefault(r["subject"].strip(), []).append(articles[-1]["id"])
with open(f"{work}/articles.jsonl", "w", encoding="utf-8") as out:
    for a in articles:
        out.write(json.dumps(a, ensure_ascii=False) + "\n")
# A subject shared by several tickets has no one right article.
with open(f"{work}/subjects.csv", "w", encoding="utf-8", newline="") as out:
    w = csv.writer(out)
    w.writerow(["text", "article_id"])
    w.writerows([s, ids[0]] for s, ids in subjects.items() if s and len(ids) == 1)
print(f"{len(articles)} articles, {sum(len(a['body']) for a in articles) // len(articles)} bytes each on average")
PY
printf 'passage_tokens: 512\n' > "$work/whole.yaml"
for config in default whole; do
  echo "-- passage_tokens: $config"
  args=()
  [ "$config" = default ] || args=(--config "$work/$config.yaml")
  /usr/bin/time -f '{"peak_rss_kb": %M}' "$B/support-answer" index --kb "$work/articles.jsonl" --out "$work/$config.index" "${args[@]}" 2>&1
  "$B/support-answer" evaluate --index "$work/$config.index" --data "$work/subjects.csv" \
    | python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps({k: r[k] for k in ("examples", "recall_at_1", "recall_at_5", "mrr")}))'
done

echo "== support-answer on a stream of $(wc -l < "$work/tickets.jsonl") real tickets (example KB)"
"$B/support-answer" index --kb examples/kb/articles.jsonl --out "$work/kb.index" >/dev/null
python3 - "$B/support-answer" "$work" <<'PY'
import json, os, resource, subprocess, sys, time
binary, work = sys.argv[1], sys.argv[2]
lines = open(f"{work}/tickets.jsonl", "rb").read()
n = lines.count(b"\n")
start = time.perf_counter()
out = subprocess.run([binary, "--index", f"{work}/kb.index"], input=lines, capture_output=True, check=True).stdout
secs = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
assert out.count(b"\n") == n
# The same stream, a record worker per core as above, with candle's own
# threads on every core too (one_thread_per_call keeps a value the user
# set): what one_thread_per_call avoids.
env = dict(os.environ, CANDLE_NUM_THREADS=str(os.cpu_count()), RAYON_NUM_THREADS=str(os.cpu_count()))
start = time.perf_counter()
subprocess.run([binary, "--index", f"{work}/kb.index"], input=lines, capture_output=True, check=True, env=env)
spread = time.perf_counter() - start
one = open(f"{work}/tickets.jsonl", "rb").readline()
times = []
for _ in range(5):
    start = time.perf_counter()
    subprocess.run([binary, "--index", f"{work}/kb.index"], input=one, capture_output=True, check=True)
    times.append(time.perf_counter() - start)
print(json.dumps({"tickets": n, "seconds": round(secs, 2), "tickets_per_s": round(n / secs, 1),
                  "with_candle_threads_seconds": round(spread, 2),
                  "peak_rss_mb": round(peak), "one_ticket_fresh_process_ms": round(1000 * min(times))}))
PY
