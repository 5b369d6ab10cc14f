#!/usr/bin/env bash
# Benchmark of support-categorize's two paths on distinct real tickets
# (support_tickets_synth dev, Spanish and English; never a few examples
# repeated), in one run:
#   - the stream, tickets/s and peak memory: the embedding path (the default
#     with the model installed) beside the lexical path (--lexical);
#   - one ticket in a fresh process: the embedding path with the taxonomy's
#     examples cached (every start after the first), without the cache (the
#     first start: 117 examples embedded), and the lexical path;
#   - support-triage --index: categorize and answer share one embedding per
#     ticket, so the embedding path should cost little over --lexical.
#
#   scripts/bench/bench-categorize.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

model=$(scripts/setup-models.sh | tail -1)
cargo build --release -q --bin support-categorize --bin support-triage --bin support-answer
B=target/release

python3 - ../shared/datasets "$work" <<'PY'
import csv, json, sys
data, work = sys.argv[1], sys.argv[2]
with open(f"{work}/tickets.jsonl", "w", encoding="utf-8") as out, \
        open(f"{data}/support_tickets_synth/dev.csv", encoding="utf-8") as f:
    for i, r in enumerate(csv.DictReader(f)):
        if r["language"] in ("es", "en"):
            out.write(json.dumps({"id": i, "subject": r["subject"], "description": r["body"]},
                                 ensure_ascii=False) + "\n")
PY
"$B/support-answer" index --kb examples/kb/articles.jsonl --out "$work/kb.index" >/dev/null

python3 - "$B" "$work" "$model" <<'PY'
import os, subprocess, sys, time
bin_dir, work, model = sys.argv[1:4]
lines = open(f"{work}/tickets.jsonl", "rb").read()
n = lines.count(b"\n")
env = dict(os.environ, SUPPORT_EMBEDDER=model)
env.pop("SUPPORT_LEXICAL", None)

def stream(args):
    start = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-f", "%M", *args], input=lines, capture_output=True, check=True, env=env)
    secs = time.perf_counter() - start
    assert run.stdout.count(b"\n") == n
    peak_kb = int(run.stderr.decode().strip().splitlines()[-1])
    return secs, peak_kb / 1024

def fresh(args, runs=7, setup=lambda: None):
    one = lines.split(b"\n", 1)[0] + b"\n"
    times = []
    for _ in range(runs):
        setup()
        start = time.perf_counter()
        subprocess.run(args, input=one, capture_output=True, check=True, env=env)
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]

print(f"== {n} distinct tickets (support_tickets_synth dev, es and en); the lexical path's stream")
print("   speed is start-up bound at this size: scripts/bench/bench.py measures it on 50,000")
print("| | tickets/s | peak MiB |")
print("|---|---:|---:|")
categorize = f"{bin_dir}/support-categorize"
for name, args in [("support-categorize, embedding path", [categorize]),
                   ("support-categorize --lexical", [categorize, "--lexical"]),
                   ("support-triage --index (categorize and answer share each embedding)",
                    [f"{bin_dir}/support-triage", "--index", f"{work}/kb.index"]),
                   ("support-triage --index --lexical (only answer embeds)",
                    [f"{bin_dir}/support-triage", "--index", f"{work}/kb.index", "--lexical"])]:
    secs, peak = stream(args)
    print(f"| {name} | {n / secs:,.1f} | {peak:.0f} |")

cold_cache = f"{work}/cold-cache"
def empty_cache():
    subprocess.run(["rm", "-rf", cold_cache], check=True)
fresh([categorize])  # the examples' embeddings cached for the warm runs
print("\n== one ticket in a fresh process, median of 7 (ms)")
print(f"embedding path, examples cached: {fresh([categorize]):.0f}")
env_cold = dict(env, XDG_CACHE_HOME=cold_cache)
saved = env
env = env_cold
print(f"embedding path, first start (117 examples embedded): {fresh([categorize], setup=empty_cache):.0f}")
env = saved
print(f"lexical path: {fresh([categorize, '--lexical']):.1f}")
PY
