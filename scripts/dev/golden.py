#!/usr/bin/env python3
"""Captures and compares the outputs of the stream tools, for refactors.

`capture` runs every stream tool alone, the six tools piped, and
support-triage on the example tickets and on a stream of distinct real
texts (scripts/data/distinct-tickets.py), writing one file per run.
`compare` reports, per run, how many records differ between two captures
and shows the first differing fields, so a refactor that should change
nothing can show that it changed nothing, and a deliberate fix shows
exactly what it changed.

  git stash; cargo build --release; scripts/dev/golden.py capture before; git stash pop
  cargo build --release; scripts/dev/golden.py capture after
  scripts/dev/golden.py compare before after
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOW = "2026-11-24T09:00:00Z"
AGENTS = os.path.join(ROOT, "examples", "agents.yaml")
CHAIN = ["support-sentiment", "support-categorize", "support-tags", "support-priority", "support-route", "support-escalate"]


def args_of(tool):
    args = ["--now", NOW]
    if tool in ("support-route", "support-triage"):
        args += ["--agents", AGENTS]
    return args


def runs():
    """(name, list of commands piped) for every capture."""
    out = [(tool.removeprefix("support-"), [[tool] + args_of(tool)]) for tool in CHAIN]
    out.append(("pipe", [[tool] + args_of(tool) for tool in CHAIN]))
    out.append(("triage", [["support-triage"] + args_of("support-triage")]))
    return out


def run_piped(bin_dir, commands, stdin_path, out_path):
    with open(stdin_path, "rb") as stdin, open(out_path, "wb") as out:
        procs = []
        source = stdin
        for i, command in enumerate(commands):
            last = i == len(commands) - 1
            proc = subprocess.Popen(
                [os.path.join(bin_dir, command[0])] + command[1:],
                stdin=source,
                stdout=out if last else subprocess.PIPE,
            )
            if source is not stdin:
                source.close()
            source = proc.stdout
            procs.append(proc)
        codes = [p.wait() for p in procs]
    if any(code not in (0, 1) for code in codes):
        sys.exit(f"{' | '.join(c[0] for c in commands)} exited {codes}")


def capture(args):
    os.makedirs(args.dir, exist_ok=True)
    stream = os.path.join(args.dir, "input-distinct.jsonl")
    with open(stream, "w", encoding="utf-8") as f:
        subprocess.run(
            [sys.executable, os.path.join(ROOT, "scripts", "data", "distinct-tickets.py"), "--count", str(args.count)],
            stdout=f,
            check=True,
        )
    inputs = {"examples": os.path.join(ROOT, "examples", "tickets.jsonl"), "distinct": stream}
    for input_name, path in inputs.items():
        for name, commands in runs():
            run_piped(args.bin, commands, path, os.path.join(args.dir, f"{input_name}.{name}.jsonl"))
    print(f"captured {len(runs()) * len(inputs)} runs in {args.dir}")


def first_difference(a, b, path=""):
    if type(a) is not type(b):
        return path or "/", a, b
    if isinstance(a, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}/{key}", a.get(key), b.get(key)
            found = first_difference(a[key], b[key], f"{path}/{key}")
            if found:
                return found
        if list(a) != list(b):
            return f"{path} (key order)", list(a), list(b)
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}/{i}")
            if found:
                return found
        return None if len(a) == len(b) else (f"{path} (length)", len(a), len(b))
    return None if a == b else (path or "/", a, b)


def compare(args):
    names = sorted(n for n in os.listdir(args.before) if n.endswith(".jsonl") and not n.startswith("input-"))
    changed = 0
    for name in names:
        with open(os.path.join(args.before, name), encoding="utf-8") as f:
            before = [json.loads(line) for line in f if line.strip()]
        after_path = os.path.join(args.after, name)
        if not os.path.exists(after_path):
            print(f"{name}: missing in {args.after}")
            changed += 1
            continue
        with open(after_path, encoding="utf-8") as f:
            after = [json.loads(line) for line in f if line.strip()]
        diffs = [(i, first_difference(x, y)) for i, (x, y) in enumerate(zip(before, after))]
        diffs = [(i, d) for i, d in diffs if d]
        status = "identical" if not diffs and len(before) == len(after) else f"{len(diffs)} of {len(before)} records differ"
        if len(before) != len(after):
            status += f" ({len(before)} lines before, {len(after)} after)"
        print(f"{name}: {status}")
        for i, (where, x, y) in diffs[: args.show]:
            print(f"  line {i + 1} {where}: {json.dumps(x, ensure_ascii=False)[:200]} -> {json.dumps(y, ensure_ascii=False)[:200]}")
        changed += bool(diffs) or len(before) != len(after)
    sys.exit(1 if changed else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture", help="run the tools and keep their outputs in DIR")
    cap.add_argument("dir")
    cap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    cap.add_argument("--count", type=int, default=10000, help="distinct tickets in the stream")
    cmp = sub.add_parser("compare", help="show what differs between two captures")
    cmp.add_argument("before")
    cmp.add_argument("after")
    cmp.add_argument("--show", type=int, default=3, help="differences shown per run")
    args = parser.parse_args()
    capture(args) if args.command == "capture" else compare(args)


if __name__ == "__main__":
    main()
