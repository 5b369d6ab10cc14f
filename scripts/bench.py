#!/usr/bin/env python3
"""Benchmark of the tools as users run them: whole processes, real pipes.

For each tool: single-ticket process time (spawn to exit, median of N runs),
JSON Lines throughput on a generated stream, and peak memory (max RSS from
wait4). Then the five tools piped together. Prints a table and writes JSON.

Usage: scripts/bench.py [--tickets 100000] [--runs 30] [--bin target/release] [--json out.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = ["support-sentiment", "support-categorize", "support-tags", "support-priority", "support-route", "support-escalate", "support-triage", "support-ml-predict"]
# The tools a shell pipes; support-triage runs the same chain in one process;
# support-ml-predict (with a model trained on examples/history.jsonl) is not in the chain.
PIPED = TOOLS[:6]
NOW = "2026-11-24T09:00:00Z"
ML_MODEL = os.path.join(tempfile.gettempdir(), f"support-bench-{os.getpid()}-history.model")


def tool_args(tool):
    args = ["--now", NOW]
    if tool in ("support-route", "support-triage", "support-ml-predict"):
        args += ["--agents", os.path.join(ROOT, "examples", "agents.yaml")]
    if tool == "support-ml-predict":
        args += ["--model", ML_MODEL]
    return args


def make_stream(path, count):
    """Repeats the example tickets with fresh ids up to `count` lines."""
    with open(os.path.join(ROOT, "examples", "tickets.jsonl"), encoding="utf-8") as f:
        examples = [json.loads(line) for line in f if line.strip()]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            ticket = dict(examples[i % len(examples)])
            ticket["id"] = f"B-{i}"
            out.write(json.dumps(ticket, ensure_ascii=False) + "\n")


def run_measured(cmd, stdin_path):
    """Runs cmd with stdin from a file, stdout discarded; returns (seconds, max RSS in MiB)."""
    with open(stdin_path, "rb") as stdin:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {proc.stderr.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="support-bench-")
    single = os.path.join(tmp, "one.json")
    stream = os.path.join(tmp, "stream.jsonl")
    with open(os.path.join(ROOT, "examples", "ticket.json"), "rb") as src, open(single, "wb") as dst:
        dst.write(src.read())
    make_stream(stream, args.tickets)
    examples = os.path.join(ROOT, "examples")
    subprocess.run([os.path.join(args.bin, "support-ml-predict"), "train", "--data", os.path.join(examples, "history.jsonl"),
                    "--feedback", os.path.join(examples, "feedback.jsonl"), "--out", ML_MODEL], check=True, stdout=subprocess.DEVNULL)
    size_mb = os.path.getsize(stream) / 1e6

    print(f"cores: {os.cpu_count()}  stream: {args.tickets} tickets, {size_mb:.1f} MB  single-ticket runs: {args.runs}")
    print(f"{'tool':<20} {'single ms (median)':>19} {'tickets/s':>12} {'MB/s':>8} {'peak MiB':>9}")
    results = {"tickets": args.tickets, "stream_mb": round(size_mb, 1), "tools": {}}
    for tool in TOOLS:
        cmd = [os.path.join(args.bin, tool)] + tool_args(tool)
        run_measured(cmd, single)  # warm the page cache
        singles = [run_measured(cmd, single)[0] * 1000 for _ in range(args.runs)]
        elapsed, rss = run_measured(cmd, stream)
        median = statistics.median(singles)
        rate = args.tickets / elapsed
        results["tools"][tool] = {
            "single_ms_median": round(median, 2),
            "tickets_per_s": round(rate),
            "peak_rss_mib": round(rss, 1),
        }
        print(f"{tool:<20} {median:>19.2f} {rate:>12,.0f} {size_mb / elapsed:>8.1f} {rss:>9.1f}")

    for label, tools in (("six tools piped", PIPED), ("five piped (issue 3)", [t for t in PIPED if t != "support-categorize"])):
        chain = " | ".join(" ".join([os.path.join(args.bin, t)] + tool_args(t)) for t in tools)
        start = time.perf_counter()
        subprocess.run(f"set -o pipefail; {chain} < {stream} > /dev/null", shell=True, check=True, executable="/bin/bash")
        elapsed = time.perf_counter() - start
        results[label] = {"tickets_per_s": round(args.tickets / elapsed)}
        print(f"{label:<20} {'':>19} {args.tickets / elapsed:>12,.0f} {size_mb / elapsed:>8.1f}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
