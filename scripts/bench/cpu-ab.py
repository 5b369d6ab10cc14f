#!/usr/bin/env python3
"""CPU and wall time of two or more builds of a tool on the same stream, alternated.

Usage: python3 scripts/bench/cpu-ab.py [--rounds 12] [--input FILE] BINARY...
           [-- TOOL ARGS]

Runs each BINARY in turn, round after round, on the same input (default: the
bench stream of 50,000 distinct real tickets, written by
scripts/data/distinct-tickets.py to target/bench/cpu-ab.jsonl), and prints
the minimum, first quartile and median of each one's CPU time (user + system,
from wait4), then the minimum and median of its wall time. Alternating
spreads a shared machine's drift over every build; CPU time, unlike wall
time, leaves out the waits for a busy core, and wall time, unlike CPU time,
shows what the threads gain together. Tool arguments default to
`--threads 1 --now 2026-11-24T09:00:00Z`; the categorizer's lexical path is
pinned (SUPPORT_LEXICAL=1) as in bench.py; stdout is discarded.

Example, the binaries of two commits copied to folders of their own:
  python3 scripts/bench/cpu-ab.py /tmp/before/support-triage /tmp/after/support-triage
One ticket in a fresh process, as bench.py's single-ticket column (times
below 100 ms are printed to a hundredth of a millisecond):
  head -1 target/bench/cpu-ab.jsonl > one.jsonl
  python3 scripts/bench/cpu-ab.py --rounds 300 --input one.jsonl BEFORE AFTER -- \
      --now 2026-11-24T09:00:00Z --agents examples/agents.yaml
Both cores, as bench.py runs support-triage:
  python3 scripts/bench/cpu-ab.py --rounds 10 BEFORE AFTER -- --threads 2 \
      --now 2026-11-24T09:00:00Z --agents examples/agents.yaml
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the bench stream, its clock, and the lexical path pinned)

DEFAULT_ARGS = ["--threads", "1", "--now", bench.NOW]


def bench_stream():
    path = os.path.join(bench.ROOT, "target", "bench", "cpu-ab.jsonl")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        bench.make_stream(path + ".part", 50_000)
        os.replace(path + ".part", path)
    return path


def seconds(binary, args, input_path):
    """(user + system seconds from wait4, wall seconds) of one run."""
    with open(input_path, "rb") as stdin:
        started = time.perf_counter()
        process = subprocess.Popen([binary] + args, stdin=stdin,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{binary} exited with {os.waitstatus_to_exitcode(status)}; run it by hand to see why")
    return usage.ru_utime + usage.ru_stime, wall


def main():
    argv = sys.argv[1:]
    tool_args = DEFAULT_ARGS
    if "--" in argv:
        at = argv.index("--")
        argv, tool_args = argv[:at], argv[at + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=12, help="runs of each binary, alternated (default 12)")
    ap.add_argument("--input", help="JSON Lines to feed every run (default: the bench stream)")
    ap.add_argument("binaries", nargs="+", metavar="BINARY")
    args = ap.parse_args(argv)
    input_path = args.input or bench_stream()
    times = {binary: [] for binary in args.binaries}
    for round_number in range(args.rounds):
        print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr)
        for binary in args.binaries:
            times[binary].append(seconds(binary, tool_args, input_path))
    print(f"CPU time (user + system) and wall time, {args.rounds} alternated runs each, of: "
          f"{' '.join(tool_args)} < {input_path}")
    print("| binary | CPU min ms | CPU first quartile ms | CPU median ms | wall min ms | wall median ms |")
    print("|---|---:|---:|---:|---:|---:|")
    # Runs of a few milliseconds (one ticket) differ below the millisecond.
    shortest = min(statistics.median(w for _, w in runs) for runs in times.values())
    decimals = 2 if shortest < 0.1 else 0
    for binary, runs in times.items():
        cpu = sorted(c for c, _ in runs)
        wall = sorted(w for _, w in runs)
        figures = [cpu[0], cpu[len(cpu) // 4], statistics.median(cpu), wall[0], statistics.median(wall)]
        print(f"| {binary} | " + " | ".join(f"{f * 1000:,.{decimals}f}" for f in figures) + " |")


if __name__ == "__main__":
    main()
