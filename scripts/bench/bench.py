#!/usr/bin/env python3
"""Benchmark of the tools as users run them: whole processes, real pipes, real texts.

Input: a JSON Lines stream of N tickets whose texts are all different real
customer messages, written by scripts/data/distinct-tickets.py from
../shared/datasets (repeating a handful of example tickets would flatter the
caches). About 56,000 distinct texts exist, so N is capped at 56,000 (with a
notice on stderr and in the output).

1. For each stream tool (the six rule tools, support-triage and
   support-ml-predict with a model trained on examples/history.jsonl and
   examples/feedback.jsonl): single-ticket process time (spawn to exit, median
   of --runs runs, on the first ticket of the stream), throughput on the whole
   stream (tickets/s, MB/s) and peak memory (max RSS from wait4).
2. The six tools piped (sentiment | categorize | tags | priority | route |
   escalate) against support-triage, which runs the same chain in one
   process, on the same stream. The pipe is timed as one unit (start every
   process, wait for all) with the sum of their peak RSS. Pipe and triage
   runs alternate (pipe, triage, pipe, triage, ...) --repeat times so machine
   noise hits both; the medians are reported, with triage_time / pipe_time.

Prints Markdown tables (to paste into the README) on stdout, progress on
stderr, and with --json writes every figure, the input description included.
Needs release binaries (cargo build --release) or another directory via --bin.

Usage: scripts/bench/bench.py [--tickets 50000] [--runs 30] [--repeat 3]
                        [--bin target/release] [--json out.json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# The categorizer's lexical path (model and rules): this measures the tools at
# stream scale; scripts/bench/bench-categorize.sh measures its embedding path.
os.environ["SUPPORT_LEXICAL"] = "1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = os.path.join(ROOT, "scripts", "data", "distinct-tickets.py")
# Distinct texts in ../shared/datasets (56,273 when this was written); more would repeat texts.
MAX_DISTINCT = 56_000
TOOLS = ["support-sentiment", "support-categorize", "support-tags", "support-priority", "support-route", "support-escalate", "support-triage", "support-ml-predict"]
# The tools a shell pipes, in order; support-triage runs the same chain in one process;
# support-ml-predict (with a model trained on examples/history.jsonl) is not in the chain.
PIPED = TOOLS[:6]
TRIAGE = "support-triage"
NOW = "2026-11-24T09:00:00Z"


def tool_args(tool, model):
    args = ["--now", NOW]
    if tool in ("support-route", "support-triage", "support-ml-predict"):
        args += ["--agents", os.path.join(ROOT, "examples", "agents.yaml")]
    if tool == "support-ml-predict":
        args += ["--model", model]
    return args


def progress(message):
    print(message, file=sys.stderr, flush=True)


def check_binaries(bin_dir):
    missing = [t for t in TOOLS if not os.access(os.path.join(bin_dir, t), os.X_OK)]
    if missing:
        sys.exit(f"bench.py: missing in {bin_dir}: {', '.join(missing)}\n"
                 f"build with: cargo build --release (or pass --bin DIR)")


def make_stream(path, count):
    """Writes `count` tickets with distinct real texts (scripts/data/distinct-tickets.py)."""
    with open(path, "wb") as out:
        done = subprocess.run([sys.executable, GENERATOR, "--count", str(count)], stdout=out, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.exit(f"bench.py: {os.path.relpath(GENERATOR, ROOT)} failed: {done.stderr.decode(errors='replace').strip()}")


def failure(name, status, err_file):
    with open(err_file, "rb") as f:
        message = f.read().decode(errors="replace").strip()
    code = os.waitstatus_to_exitcode(status)
    how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
    return f"bench.py: {name} failed ({how}): {message[-2000:]}"


def run_measured(cmd, stdin_path, err_file):
    """Runs cmd with stdin from a file, stdout discarded; returns (seconds, max RSS in MiB)."""
    with open(stdin_path, "rb") as stdin, open(err_file, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(failure(os.path.basename(cmd[0]), status, err_file))
    return elapsed, usage.ru_maxrss / 1024


def run_pipeline(cmds, stdin_path, err_dir):
    """Runs cmds connected by pipes, stdin from a file, last stdout discarded.

    Returns (seconds from the first spawn until every process has exited, sum of max RSS in MiB).
    """
    procs, errs = [], []
    with open(stdin_path, "rb") as stdin:
        start = time.perf_counter()
        upstream = stdin
        for i, cmd in enumerate(cmds):
            err = open(os.path.join(err_dir, f"pipe-{i}.err"), "wb")
            errs.append(err)
            last = i == len(cmds) - 1
            proc = subprocess.Popen(cmd, stdin=upstream, stdout=subprocess.DEVNULL if last else subprocess.PIPE, stderr=err)
            if upstream is not stdin:
                upstream.close()  # the child holds its own copy; EOF and SIGPIPE need ours closed
            upstream = proc.stdout
            procs.append(proc)
        statuses, rss = [], 0.0
        for proc in procs:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            statuses.append(status)
            rss += usage.ru_maxrss / 1024
        elapsed = time.perf_counter() - start
    for err in errs:
        err.close()
    failed = [failure(f"{os.path.basename(cmd[0])} (in the pipe)", status, err.name)
              for cmd, status, err in zip(cmds, statuses, errs) if os.waitstatus_to_exitcode(status) != 0]
    if failed:  # all of them: a tool upstream of the one that failed may only have met a closed pipe
        sys.exit("\n".join(failed))
    return elapsed, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=50_000, help=f"stream length, at most {MAX_DISTINCT:,} (default 50,000)")
    ap.add_argument("--runs", type=int, default=30, help="single-ticket runs per tool (default 30)")
    ap.add_argument("--repeat", type=int, default=3, help="pipe and triage runs, alternated (default 3)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"), help="directory of the binaries")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.tickets < 1 or args.runs < 1 or args.repeat < 1:
        ap.error("--tickets, --runs and --repeat must be at least 1")
    check_binaries(args.bin)

    requested = args.tickets
    count = min(requested, MAX_DISTINCT)
    if count < requested:
        progress(f"bench.py: only about {MAX_DISTINCT:,} distinct texts exist; using {count:,} tickets instead of {requested:,}")

    tmp = tempfile.mkdtemp(prefix="support-bench-")
    try:
        run(args, tmp, requested, count)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp, requested, count):
    stream = os.path.join(tmp, "stream.jsonl")
    single = os.path.join(tmp, "one.jsonl")
    model = os.path.join(tmp, "history.model")
    err_file = os.path.join(tmp, "tool.err")

    progress(f"generating {count:,} tickets with distinct texts ...")
    make_stream(stream, count)
    with open(stream, "rb") as src, open(single, "wb") as dst:
        dst.write(src.readline())
    examples = os.path.join(ROOT, "examples")
    progress("training the support-ml-predict model on examples/history.jsonl ...")
    subprocess.run([os.path.join(args.bin, "support-ml-predict"), "train", "--data", os.path.join(examples, "history.jsonl"),
                    "--feedback", os.path.join(examples, "feedback.jsonl"), "--out", model], check=True, stdout=subprocess.DEVNULL)
    size_mb = os.path.getsize(stream) / 1e6

    source = "distinct texts (scripts/data/distinct-tickets.py over ../shared/datasets)"
    results = {
        "cores": os.cpu_count(),
        "input": {"count": count, "requested": requested, "capped": count < requested, "max_distinct": MAX_DISTINCT,
                  "source": source, "mb": round(size_mb, 1)},
        "runs": args.runs,
        "repeat": args.repeat,
        "bin": os.path.abspath(args.bin),
        "tools": {},
    }

    rows = []
    for tool in TOOLS:
        progress(f"{tool}: {args.runs} single-ticket runs, then the stream ...")
        cmd = [os.path.join(args.bin, tool)] + tool_args(tool, model)
        run_measured(cmd, single, err_file)  # warm the page cache
        singles = [run_measured(cmd, single, err_file)[0] * 1000 for _ in range(args.runs)]
        elapsed, rss = run_measured(cmd, stream, err_file)
        median = statistics.median(singles)
        results["tools"][tool] = {
            "single_ms_median": round(median, 2),
            "stream_s": round(elapsed, 3),
            "tickets_per_s": round(count / elapsed),
            "mb_per_s": round(size_mb / elapsed, 1),
            "peak_rss_mib": round(rss, 1),
        }
        rows.append(f"| {tool} | {median:.2f} | {count / elapsed:,.0f} | {size_mb / elapsed:.1f} | {rss:.1f} |")

    pipe_cmds = [[os.path.join(args.bin, t)] + tool_args(t, model) for t in PIPED]
    triage_cmd = [os.path.join(args.bin, TRIAGE)] + tool_args(TRIAGE, model)
    pipe_runs, triage_runs = [], []
    for i in range(args.repeat):
        progress(f"round {i + 1}/{args.repeat}: six tools piped, then support-triage ...")
        pipe_runs.append(run_pipeline(pipe_cmds, stream, tmp))
        triage_runs.append(run_measured(triage_cmd, stream, err_file))
    pipe_s = statistics.median(t for t, _ in pipe_runs)
    pipe_rss = statistics.median(r for _, r in pipe_runs)
    triage_s = statistics.median(t for t, _ in triage_runs)
    triage_rss = statistics.median(r for _, r in triage_runs)
    ratio = triage_s / pipe_s
    results["pipe_vs_triage"] = {
        "pipe": {
            "tools": PIPED,
            "wall_s_median": round(pipe_s, 3),
            "wall_s_runs": [round(t, 3) for t, _ in pipe_runs],
            "tickets_per_s": round(count / pipe_s),
            "peak_rss_sum_mib_median": round(pipe_rss, 1),
            "peak_rss_sum_mib_runs": [round(r, 1) for _, r in pipe_runs],
        },
        "triage": {
            "wall_s_median": round(triage_s, 3),
            "wall_s_runs": [round(t, 3) for t, _ in triage_runs],
            "tickets_per_s": round(count / triage_s),
            "peak_rss_mib_median": round(triage_rss, 1),
            "peak_rss_mib_runs": [round(r, 1) for _, r in triage_runs],
        },
        "triage_over_pipe_time": round(ratio, 3),
    }

    capped = f" (capped from {requested:,}: only about {MAX_DISTINCT:,} distinct texts exist)" if count < requested else ""
    print(f"Input: {count:,} tickets{capped}, {size_mb:.1f} MB of JSON Lines, every text distinct "
          f"(scripts/data/distinct-tickets.py over ../shared/datasets). Cores: {os.cpu_count()}. "
          f"Single-ticket runs: {args.runs}. Pipe/triage rounds: {args.repeat} (alternated, medians).")
    print()
    print("| tool | single ms (median) | tickets/s | MB/s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print()
    print("| same stream | wall s (median) | tickets/s | MB/s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    print(f"| six tools piped | {pipe_s:.3f} | {count / pipe_s:,.0f} | {size_mb / pipe_s:.1f} | {pipe_rss:.1f} (sum of 6) |")
    print(f"| support-triage | {triage_s:.3f} | {count / triage_s:,.0f} | {size_mb / triage_s:.1f} | {triage_rss:.1f} |")
    print()
    print(f"support-triage time / pipe time: {ratio:.2f} "
          f"(pipe runs {', '.join(f'{t:.3f}' for t, _ in pipe_runs)} s; "
          f"triage runs {', '.join(f'{t:.3f}' for t, _ in triage_runs)} s)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
