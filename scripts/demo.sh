#!/bin/sh
# Builds the tools and runs the whole triage pipeline (the six tools, piped)
# on the bilingual example tickets with the embedded defaults. The examples
# are dated 2026-11-24, so the clock is fixed there; set NOW to another
# RFC 3339 time to see ageing.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=target/release
NOW="${NOW:-2026-11-24T09:00:00Z}"
"$B/support-sentiment" --now "$NOW" < examples/tickets.jsonl \
  | "$B/support-categorize" --now "$NOW" \
  | "$B/support-tags" --now "$NOW" \
  | "$B/support-priority" --now "$NOW" \
  | "$B/support-route" --now "$NOW" --agents examples/agents.yaml \
  | "$B/support-escalate" --now "$NOW"
