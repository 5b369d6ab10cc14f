#!/usr/bin/env bash
# The one test command: formatting, lints, then unit and integration tests of
# every crate (the integration tests run the real binaries), then the engine
# tests (scripts/test-engines.sh). CI runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all --check

echo "== lint"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== build the binaries the integration tests run"
cargo build --workspace --bins

echo "== unit and integration tests (PostgreSQL ones on 127.0.0.1:5432)"
scripts/start-postgres.sh
cargo test --workspace

echo "== engine tests: Airflow and n8n for real, Kestra flows through their commands"
scripts/test-engines.sh
