#!/usr/bin/env python3
"""Writes a JSON Lines stream of tickets with distinct real texts.

Benchmarks and golden comparisons need input that does not flatter caches:
every ticket's text is a different real customer message from the public
datasets in ../shared/datasets (Bitext customer service and Banking77 in
English, airline tweets in Spanish and English, Spanish general tweets, and
the multilingual helpdesk tickets with subject and body). Channel, tier,
open time and status vary with the ticket number; the output is the same
for the same arguments.

Usage: scripts/data/distinct-tickets.py [--count 10000] [--datasets DIR] > stream.jsonl
"""
import argparse
import csv
import hashlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# (folder, text column, subject column or None); train and dev parts only.
SOURCES = [
    ("bitext_cs_20k", "text", None),
    ("banking77", "text", None),
    ("airline_sentiment_es", "text", None),
    ("airline_sentiment_en", "text", None),
    ("support_tickets_synth", "body", "subject"),
    ("umsab_sentiment_es", "text", None),
]
CHANNELS = ["email", "web", "chat", "whatsapp", "api", "phone"]
TIERS = ["standard", "premium", "vip", "free", None]
STATUSES = ["open", "open", "open", "pending", "new"]
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def rows(datasets, folder, text_col, subject_col):
    for part in ("train", "dev"):
        path = os.path.join(datasets, folder, f"{part}.csv")
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                text = (row.get(text_col) or "").strip()
                subject = (row.get(subject_col) or "").strip() if subject_col else ""
                if text:
                    yield subject, text


def distinct_texts(datasets, count):
    """Round-robin over the sources, skipping any text seen before."""
    seen = set()
    iterators = [rows(datasets, *source) for source in SOURCES]
    out = []
    while len(out) < count and iterators:
        for it in list(iterators):
            try:
                subject, text = next(it)
            except StopIteration:
                iterators.remove(it)
                continue
            key = hashlib.sha1((subject + "\n" + text).encode()).digest()
            if key in seen:
                continue
            seen.add(key)
            out.append((subject, text))
            if len(out) == count:
                break
    if len(out) < count:
        sys.exit(f"only {len(out)} distinct texts in {datasets}; ask for fewer")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    args = parser.parse_args()
    out = sys.stdout
    for i, (subject, text) in enumerate(distinct_texts(args.datasets, args.count)):
        ticket = {"id": f"D-{i}"}
        if subject:
            ticket["subject"] = subject
        ticket["description"] = text
        ticket["channel"] = CHANNELS[i % len(CHANNELS)]
        tier = TIERS[(i // 7) % len(TIERS)]
        ticket["customer"] = {"id": f"C-{i % 997}"}
        if tier:
            ticket["customer"]["tier"] = tier
        opened = NOW - timedelta(minutes=(i * 37) % (6 * 24 * 60))
        ticket["created_at"] = opened.strftime("%Y-%m-%dT%H:%M:%SZ")
        ticket["status"] = STATUSES[i % len(STATUSES)]
        out.write(json.dumps(ticket, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
