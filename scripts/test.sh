#!/usr/bin/env bash
# The one test command: formatting, lints, then unit and integration tests of
# every crate (the integration tests run the real binaries), then a bounded
# fuzzing run of each cargo-fuzz target (fuzz/run.sh), then the engine
# tests (scripts/test-engines.sh). CI runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_FEATURES=support-core/testing,support-store/testing,support-remote/test-server

echo "== format"
cargo fmt --all --check

echo "== lint"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== build the binaries the integration tests run"
# With the test helpers' features on, as `cargo test` turns them on, so the
# test build reuses these crates instead of compiling them a second time.
cargo build --workspace --bins --features "$TEST_FEATURES"

echo "== unit and integration tests (PostgreSQL ones on 127.0.0.1:5432, embedding ones with the model)"
scripts/start-postgres.sh
scripts/setup-models.sh >/dev/null
cargo test --workspace

echo "== fuzz: each cargo-fuzz target (record, runner, config, embed, kb, ml_model) for ${FUZZ_SECONDS:-60} s from its seeds"
# Its own package and target dir (fuzz/), built by cargo-fuzz on the stable
# toolchain (RUSTC_BOOTSTRAP=1); installs the pinned cargo-fuzz if missing.
# A crash fails the step; its reproducer is in fuzz/artifacts/<target>/.
fuzz/run.sh "${FUZZ_SECONDS:-60}"

echo "== engine tests: Airflow and n8n for real, Kestra flows through their commands"
scripts/test-engines.sh
