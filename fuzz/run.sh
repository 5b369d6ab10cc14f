#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets, each for a bounded time, from the
# committed seeds in fuzz/corpus/<target>/ (what a run finds goes to a
# temporary corpus, not into the repository).
#
#   fuzz/run.sh                  every target, 60 s each (what scripts/test.sh runs)
#   fuzz/run.sh 3600 runner      one target for an hour
#   FUZZ_CORPUS=~/fuzz-corpus fuzz/run.sh 600    keep what runs find, to resume later
#
# A crash stops that target: its input is saved under fuzz/artifacts/<target>/
# and the tail of libFuzzer's log (the panic and its stack) is printed; the
# other targets still run, and the script exits 1. Reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none <target> fuzz/artifacts/<target>/crash-...
#
# cargo-fuzz needs nightly flags; this works on the stable toolchain through
# RUSTC_BOOTSTRAP=1. No AddressSanitizer: the code is safe Rust, and the
# sanitizer build costs minutes of the CI budget; what the fuzzers look for is
# panics, aborts, hangs and OOM.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(record runner config embed kb ml_model)
fi

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
export RUSTC_BOOTSTRAP=1
flags=(--sanitizer none)
if [ ${#targets[@]} -eq 1 ]; then
    cargo fuzz build "${flags[@]}" "${targets[0]}"
else
    cargo fuzz build "${flags[@]}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for target in "${targets[@]}"; do
    corpus=${FUZZ_CORPUS:-$work}/$target
    mkdir -p "$corpus"
    options=(-max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=4096)
    case $target in
        record | runner) options+=(-dict="$PWD/fuzz/dict/json.dict") ;;
    esac
    log=$work/$target.log
    echo "-- $target: ${seconds} s"
    if cargo fuzz run "${flags[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- "${options[@]}" >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" | sed "s/^/   $target /" || true
        grep -E '^#[0-9]+ *DONE' "$log" | tail -1 | sed "s/^/   $target /" || true
    else
        failed+=("$target")
        echo "!! $target failed; the end of its log:"
        tail -n 80 "$log"
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}: reproducers under fuzz/artifacts/" >&2
    exit 1
fi
