#!/usr/bin/env python3
"""Nothing lost under hostile input, measured on a large stream.

Builds a stream of tickets from distinct real texts in ../shared/datasets
(Spanish and English), spoils 1% of the lines with the mutations users meet
(truncated JSON, wrong types, invalid UTF-8, lone surrogates, 1e999, NUL,
duplicate keys, deep nesting, an error record from an earlier tool), and runs
support-triage over it: lines in, lines out, error records, exit code, time
and peak memory. Then the same tickets as one JSON array, which is streamed
element by element, and one large ticket (15 MiB unless --big-mib says
otherwise). --lines 0 measures the large ticket alone.

Usage: scripts/bench/bench-hostile.py [--lines 1000000] [--big-mib 15] [--bin target/release]
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time

# The categorizer's lexical path: hostile streams of millions of records
# test the runner, not the embeddings.
os.environ["SUPPORT_LEXICAL"] = "1"

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "datasets")
NOW = "2026-11-24T09:00:00Z"
SOURCES = [  # (folder, text column, language)
    ("banking77", "text", "en"),
    ("bitext_cs_20k", "text", "en"),
    ("clinc150", "text", "en"),
    ("airline_sentiment_en", "text", "en"),
    ("airline_sentiment_es", "text", "es"),
    ("emoevent_es", "text", "es"),
    ("umsab_sentiment_es", "text", "es"),
]
CHANNELS = ["email", "web", "chat", "whatsapp", "phone", "api"]
TIERS = ["vip", "premium", "standard", "free"]


def real_texts():
    texts = []
    for folder, column, language in SOURCES:
        for part in ("train.csv", "dev.csv"):
            path = os.path.join(DATA, folder, part)
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8", newline="") as f:
                texts += [(row[column], language) for row in csv.DictReader(f) if row.get(column)]
    if not texts:
        sys.exit(f"no texts found under {DATA}")
    return texts


def mutate(line, rng):
    """One spoiled line (bytes) from a good ticket line (str)."""
    kind = rng.randrange(9)
    if kind == 0:
        return line[: rng.randrange(1, len(line))].encode()
    if kind == 1:
        return line.replace('"subject":', '"subject":7,"x":', 1).encode()
    if kind == 2:
        return line.encode()[:-5] + b"\xff\xfe" + line.encode()[-5:]
    if kind == 3:
        return line.replace('"channel":', '"meta":"\\ud800","channel":', 1).encode()
    if kind == 4:
        return line.replace('"channel":', '"n":1e999,"channel":', 1).encode()
    if kind == 5:
        return line.replace('"channel":', '"note":"a\\u0000b","channel":', 1).encode()
    if kind == 6:
        return line.replace('"tier":', '"tier":"x","tier":', 1).encode()
    if kind == 7:
        return ('{"deep":' + "[" * 200 + "]" * 200 + "," + line[1:]).encode()
    return b'{"error":{"kind":"invalid_json","message":"EOF while parsing","line":3,"id":"earlier"}}'


def make_stream(path, count, garbage, seed=7):
    rng = random.Random(seed)
    texts = real_texts()
    spoiled = 0
    with open(path, "wb") as out:
        for i in range(count):
            text, language = texts[i % len(texts)]
            ticket = {
                "id": f"H-{i}",
                "subject": text[:80],
                "description": text,
                "channel": CHANNELS[i % len(CHANNELS)],
                "customer": {"id": f"c-{i % 5000}", "tier": TIERS[i % len(TIERS)]},
                "language": language,
                "created_at": "2026-11-23T%02d:%02d:00Z" % (i % 24, i % 60),
            }
            line = json.dumps(ticket, ensure_ascii=False)
            if rng.random() < garbage:
                out.write(mutate(line, rng) + b"\n")
                spoiled += 1
            else:
                out.write(line.encode() + b"\n")
    return len(texts), spoiled


def run(cmd, stdin_path, stdout_path):
    with open(stdin_path, "rb") as stdin, open(stdout_path, "wb") as stdout:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    return os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss / 1024


def count_output(path):
    lines = errors = 0
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            errors += line.startswith(b'{"error":')
    return lines, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--garbage", type=float, default=0.01)
    ap.add_argument("--big-mib", type=int, default=15)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    args = ap.parse_args()
    triage = [os.path.join(args.bin, "support-triage"), "--now", NOW, "--agents", os.path.join(ROOT, "examples", "agents.yaml")]

    tmp = tempfile.mkdtemp(prefix="support-hostile-")
    stream, out = os.path.join(tmp, "stream.jsonl"), os.path.join(tmp, "out.jsonl")
    if args.lines:
        distinct, spoiled = make_stream(stream, args.lines, args.garbage)
        size_mb = os.path.getsize(stream) / 1e6
        print(f"stream: {args.lines:,} lines ({size_mb:.0f} MB) from {distinct:,} distinct real texts, {spoiled:,} spoiled")
        code, elapsed, rss = run(triage, stream, out)
        lines, errors = count_output(out)
        print(f"support-triage, JSON Lines: exit {code}, {lines:,} lines out ({errors:,} error records), "
              f"{args.lines / elapsed:,.0f} lines/s, peak {rss:.0f} MiB")
        if lines != args.lines:
            sys.exit(f"LOST RECORDS: {args.lines} in, {lines} out")

        array = os.path.join(tmp, "stream.json")
        with open(stream, "rb") as src, open(array, "wb") as dst:
            dst.write(b"[")
            first = True
            for line in src:
                try:
                    json.loads(line)
                except ValueError:
                    continue  # an array holds valid elements only; a broken one ends it
                dst.write((b"" if first else b",\n") + line.rstrip(b"\n"))
                first = False
            dst.write(b"]\n")
        code, elapsed, rss = run(triage, array, out)
        print(f"support-triage, one JSON array of {os.path.getsize(array) / 1e6:.0f} MB: exit {code}, "
              f"{elapsed:.1f} s, peak {rss:.0f} MiB")

    big = os.path.join(tmp, "big.json")
    texts = real_texts()
    body, size = [], 0
    while size < args.big_mib << 20:
        body.append(texts[len(body) % len(texts)][0])
        size += len(body[-1]) + 1
    with open(big, "w", encoding="utf-8") as f:
        json.dump({"id": "big", "subject": "Long ticket", "description": "\n".join(body)}, f, ensure_ascii=False)
    code, elapsed, rss = run(triage + ["--max-record-bytes", str(2 * args.big_mib << 20)], big, out)
    print(f"support-triage, one {os.path.getsize(big) / (1 << 20):.1f} MiB ticket: exit {code}, {elapsed:.1f} s, peak {rss:.0f} MiB")


if __name__ == "__main__":
    main()
