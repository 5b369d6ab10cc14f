#!/usr/bin/env bash
# Builds (when stale) and runs the weights' reference engine through
# scripts/dev/e5-reference.c, with the model scripts/setup-models.sh installed:
#   scripts/dev/e5-reference.sh query|passage vectors|time < texts
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
model_dir="$("$root/scripts/setup-models.sh" 2>/dev/null)"
bin="$root/target/e5-reference"
if [ ! -x "$bin" ] || [ "$root/scripts/dev/e5-reference.c" -nt "$bin" ]; then
  mkdir -p "$root/target"
  gcc -O3 -march=native -fopenmp -I"$model_dir/reference" \
    "$root/scripts/dev/e5-reference.c" "$model_dir/reference/e5.c" -lm -o "$bin"
fi
exec "$bin" "$model_dir/e5-small-q4.bin" "$@"
